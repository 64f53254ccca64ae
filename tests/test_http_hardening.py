"""What an outside probe found at the HTTP layer, before any login: deep JSON, large bodies,
and a schema that anonymous callers of a production server could map."""

from __future__ import annotations

import httpx
import pytest

from server.app import create_app

DEEP = b"[" * 1000 + b"]" * 1000  # ~2 KB
EN = {"Accept-Language": "en"}


def _client(settings, **changes) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=changes), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def production(database):
    """The app as production runs it: not debug, not demo."""
    async with _client(database, debug=False, demo=False) as client:
        yield client


# -- deep JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_json_nested_a_thousand_levels_deep_gets_400_in_the_error_shape(http, accept):
    response = await http.post(
        "/graphql", content=DEEP, headers={"Content-Type": "application/json", "Accept": accept, **EN}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == "The JSON of the request is nested too deeply."
    assert "Traceback" not in response.text
    ukrainian = await http.post("/graphql", content=DEEP, headers={"Content-Type": "application/json"})
    assert ukrainian.json()["errors"][0]["message"] == "JSON запиту має забагато рівнів вкладеності."


async def test_deep_json_in_the_variables_of_a_get_gets_400(http):
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": DEEP.decode()})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_deep_json_in_variables_of_a_post_gets_400(http):
    body = b'{"query": "query($v: [String]) { __typename }", "variables": {"v": ' + DEEP + b"}}"
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_a_body_that_is_not_json_gets_400(http):
    for body in (b"{not json", b"\xff\xfe\x00"):
        response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json", **EN})
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "The request is not valid JSON."


async def test_the_token_endpoint_answers_deep_json_with_an_oauth_error(http):
    response = await http.post("/oauth/token", content=DEEP, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]


async def test_a_deep_cursor_is_a_bad_request_not_an_internal_error(api, tenants):
    import base64

    tenant = await tenants.create(roles=("owner",))
    cursor = base64.urlsafe_b64encode(DEEP).decode()
    body = await tenant.owner.execute(api, "query($c: String) { orders(first: 1, after: $c) { totalCount } }", {"c": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# -- the body cap ----------------------------------------------------------------------------


async def test_a_body_over_the_cap_gets_413_before_it_is_read(http, database):
    assert database.max_request_bytes == 1024 * 1024  # the default
    big = b'{"query": "' + b" " * (10 * 1024 * 1024) + b'{ __typename }"}'
    response = await http.post("/graphql", content=big, headers={"Content-Type": "application/json", **EN})
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert "1048576 bytes" in error["message"]


async def test_a_streamed_body_stops_being_read_at_the_cap(database):
    sent = 0

    async def chunks():
        nonlocal sent
        yield b'{"query": "'
        for _ in range(1000):  # 64 MB if it were all read
            sent += 1
            yield b" " * 65536

    async with _client(database, max_request_bytes=256 * 1024) as client:
        response = await client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert sent <= 6, f"{sent} chunks of 64 KB were read for a 256 KB cap"


async def test_a_body_under_the_cap_is_served(database):
    async with _client(database, max_request_bytes=2000) as client:
        padded = {"query": "{ __typename }" + " " * 1500}
        assert (await client.post("/graphql", json=padded)).json()["data"] == {"__typename": "Query"}
        too_big = {"query": "{ __typename }" + " " * 2500}
        assert (await client.post("/graphql", json=too_big)).status_code == 413


# -- introspection and suggestions -------------------------------------------------------------

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Order") { name } }'
TYPO = "{ ordrs(first: 1) { totalCount } }"
ENUM_TYPO = "query($d: Direction!) { orders(first: 1, orderBy: {field: CREATED_AT, direction: $d}) { totalCount } }"


async def _post(client, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()


async def test_anonymous_callers_of_production_cannot_introspect(production):
    for query in (SCHEMA, TYPE):
        body = await _post(production, query)
        assert body["data"] is None
        assert "introspection has been disabled" in body["errors"][0]["message"]
    assert (await _post(production, "{ __typename }"))["data"] == {"__typename": "Query"}


async def test_anonymous_callers_of_production_get_no_suggestions(production):
    body = await _post(production, TYPO)
    assert "Cannot query field 'ordrs'" in body["errors"][0]["message"]
    assert "Did you mean" not in str(body)
    body = await _post(production, ENUM_TYPO, {"d": "DES"})
    assert "DES" in body["errors"][0]["message"]
    assert "Did you mean" not in str(body)


async def test_signed_in_users_of_production_introspect_and_get_suggestions(production, tenants):
    token = (await tenants.create(roles=("sales",))).sales.token
    assert (await _post(production, SCHEMA, token=token))["data"]["__schema"]["queryType"]["name"] == "Query"
    assert (await _post(production, TYPE, token=token))["data"]["__type"]["name"] == "Order"
    assert "Did you mean 'orders'" in (await _post(production, TYPO, token=token))["errors"][0]["message"]
    enum = await _post(production, ENUM_TYPO, {"d": "DES"}, token=token)
    assert "Did you mean" in enum["errors"][0]["message"]


async def test_debug_and_demo_servers_keep_introspection_for_everyone(http, database):
    # The test settings are a debug run.
    assert database.debug
    assert (await _post(http, SCHEMA))["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean" in (await _post(http, TYPO))["errors"][0]["message"]
    async with _client(database, debug=False, demo=True) as demo:
        assert (await _post(demo, TYPE))["data"]["__type"]["name"] == "Order"
