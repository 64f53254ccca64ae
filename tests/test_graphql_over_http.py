"""GraphQL over HTTP (the spec at graphql.github.io/graphql-over-http): the graphql-http audit
against the live server, and the media types and status codes a client sees."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

AUDIT_PROJECT = Path(__file__).parent / "graphql_http_audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    # Not a skip: CI without node would silently stop checking the protocol.
    assert node and npm, "node and npm are needed for the graphql-http audit (Node 20+; .ci/run expects them)"
    return node, npm


def _install_audit() -> None:
    """`npm ci` from the committed package-lock.json, once (.ci/run does it too)."""
    _, npm = _node_tools()
    packages = ("graphql-http", "graphql-ws", "ws")
    if all((AUDIT_PROJECT / "node_modules" / name / "package.json").exists() for name in packages):
        return
    done = subprocess.run(  # noqa: S603 - npm, fixed arguments
        [npm, "ci", "--no-audit", "--no-fund"], cwd=AUDIT_PROJECT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


async def test_graphql_http_audit_passes_every_must_and_should(live_server, tenants):
    node, _ = _node_tools()
    _install_audit()
    tenant = await tenants.create(roles=("analyst",))
    # The server runs in this event loop: the audit must run as a child process we await.
    process = await asyncio.create_subprocess_exec(
        node,
        "audit.mjs",
        f"{live_server}/graphql",
        cwd=AUDIT_PROJECT,
        env={**os.environ, "AUDIT_AUTHORIZATION": f"Bearer {tenant.analyst.token}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    results = json.loads(stdout)
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    assert len([r for r in required if r["name"].startswith("MUST")]) >= 13
    assert len([r for r in required if r["name"].startswith("SHOULD")]) >= 23
    failures = [f"{r['id']} {r['name']}: {r['reason']}" for r in required if r["status"] != "ok"]
    assert failures == [], "\n".join(failures)


# -- media types and status codes ----------------------------------------------------------


async def _post(http, body: dict, accept: str | None = GRAPHQL_RESPONSE, **headers):
    if accept is not None:
        headers["Accept"] = accept
    return await http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"query": "{ me { email "}, 400),  # does not parse
        ({"query": "{ noSuchField }"}, 400),  # does not validate
        ({"query": "query($n: Int!) { __typename }", "variables": {"n": "not a number"}}, 400),  # variables
        ({"query": "query A { __typename } query B { __typename }", "operationName": "C"}, 400),
    ],
)
async def test_a_request_that_never_runs_gets_4xx_without_data_under_graphql_response_json(http, body, status):
    response = await _post(http, body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"] and all(error["extensions"]["code"] for error in payload["errors"])


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "text/html;q=0.9, */*;q=0.8"])
async def test_older_clients_get_200_and_application_json_for_the_same_failures(http, accept):
    response = await _post(http, {"query": "{ noSuchField }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None and response.json()["errors"]


async def test_the_client_preference_between_the_two_types_decides(http):
    prefers_json = "application/graphql-response+json;q=0.5, application/json"
    response = await _post(http, {"query": "{ __typename }"}, accept=prefers_json)
    assert response.headers["content-type"].startswith("application/json")
    graphiql = "application/graphql-response+json, application/json, multipart/mixed"
    response = await _post(http, {"query": "{ __typename }"}, accept=graphiql)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"] == {"__typename": "Query"}


async def test_once_execution_started_errors_keep_200_and_data(http):
    # Anonymous: `me` is null for nobody, `orders` needs a token: a field error with a path.
    response = await _post(http, {"query": "{ orders(first: 1) { totalCount } }"})
    assert response.status_code == 200
    payload = response.json()
    assert "data" in payload
    assert payload["errors"][0]["path"] == ["orders"]
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refused_credentials_get_403_under_graphql_response_json(http, tenants):
    tenant = await tenants.create(roles=("manager",))
    other = await tenants.create(roles=("owner",))
    headers = {"Authorization": f"Bearer {tenant.manager.token}", "X-Organization": other.slug}
    response = await _post(http, {"query": "{ me { email } }"}, **headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    legacy = await _post(http, {"query": "{ me { email } }"}, accept="application/json", **headers)
    assert legacy.status_code == 200 and legacy.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_http_level_refusals_come_in_the_error_shape(http, accept):
    wrong_type = await http.post(
        "/graphql", content=b"{ __typename }", headers={"Content-Type": "text/plain", "Accept": accept}
    )
    assert wrong_type.status_code == 400
    assert wrong_type.headers["content-type"].startswith(accept)
    assert wrong_type.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    mutation_by_get = await http.get(
        "/graphql", params={"query": "mutation { logout { ok } }"}, headers={"Accept": accept}
    )
    assert mutation_by_get.status_code == 405
    assert mutation_by_get.headers["allow"] == "POST"
    assert mutation_by_get.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;charset=utf-8", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),  # a tie: the new type
        ("application/graphql-response+json;q=0, application/json", "application/json"),
        ("application/graphql-response+json;q=0.5, */*", "application/json"),  # */* counts as q=1
        ("application/graphql-response+json;q=oops", "application/json"),
        ("application/*", "application/json"),
        ("text/plain", "application/json"),
        ("", "application/json"),
        (None, "application/json"),
    ],
)
def test_accept_negotiation(accept, chosen):
    from server.graphql.media import response_media_type

    assert response_media_type(accept) == chosen
