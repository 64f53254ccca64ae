"""schema.graphql is the frontend's contract: it must equal what the server serves."""

from pathlib import Path

from server.graphql.schema import build_schema, sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_matches_served_schema():
    served = sdl(build_schema())
    assert SCHEMA_FILE.read_text(encoding="utf-8") == served, (
        "schema.graphql is out of date: run `crm schema export --output schema.graphql`"
    )


async def test_introspection_matches_schema_file(api):
    body = await api.execute("{ __schema { queryType { fields { name } } } }")
    served_fields = {f["name"] for f in body["data"]["__schema"]["queryType"]["fields"]}
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    query_block = text[text.index("type Query {") :].split("\n}\n", 1)[0]
    for name in served_fields:
        assert f"\n  {name}" in query_block, name


def test_frontend_contract_names_exist():
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    for fragment in (
        "login(input: LoginInput!): LoginPayload!",
        "me: Me",
        "phone: String",
        "number: Int!",
        "unitPrice: Money!",
        "orders(",
    ):
        assert fragment in text, fragment
