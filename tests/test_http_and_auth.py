"""GraphQL over HTTP conventions and sign-in."""

from datetime import UTC, datetime, timedelta

import httpx

from server.auth.models import AuthToken
from server.auth.tokens import hash_token
from tests.helpers import LOGIN, PASSWORD


async def test_get_runs_queries_and_post_returns_json(api, tenants, http):
    t = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug}
    r = await http.get("/graphql", params={"query": "{ me { email } }"}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["data"]["me"]["email"] == t.owner.email


async def test_get_refuses_mutations(http):
    r = await http.get(
        "/graphql",
        params={"query": 'mutation { login(input: {email: "a@b.c", password: "x"}) { token } }'},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code in (400, 405)
    assert "mutations are not allowed" in r.text.lower()


async def test_browser_get_serves_graphiql(http):
    r = await http.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()


async def test_malformed_requests_get_400(http):
    r = await http.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = await http.post("/graphql", json={"variables": {}})
    assert r.status_code == 400


async def test_syntax_error_is_reported(api):
    body = await api.execute("{ me { email ")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_anonymous_callers_get_unauthenticated(api):
    body = await api.execute("{ orders { edges { cursor } } }")
    assert body["data"] == {"orders": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.data("{ me { email } }"))["me"] is None


async def test_wrong_password_and_unknown_email_look_the_same(api, tenants):
    t = await tenants.create(("owner",))
    wrong = await api.data(LOGIN, {"e": t.owner.email, "p": "not the password"})
    unknown = await api.data(LOGIN, {"e": "nobody@example.com", "p": PASSWORD})
    assert wrong["login"] == unknown["login"] == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}


async def test_login_is_case_insensitive_on_email(api, tenants):
    t = await tenants.create(("owner",))
    data = await api.data(LOGIN, {"e": t.owner.email.upper(), "p": PASSWORD})
    assert data["login"]["token"]


async def test_logout_revokes_the_token(api, tenants):
    t = await tenants.create(("owner",))
    member = await tenants.login(t.owner.email, t.slug)
    assert (await member.data(api, "mutation { logout { ok } }"))["logout"]["ok"] is True
    body = await member.execute(api, "{ orders { edges { cursor } } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The other session of the same user is untouched.
    assert (await t.owner.data(api, "{ me { email } }"))["me"]["email"] == t.owner.email


async def test_expired_tokens_are_refused(api, tenants):
    t = await tenants.create(("owner",))
    member = await tenants.login(t.owner.email, t.slug)
    await AuthToken.filter(token_hash=hash_token(member.token)).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await member.data(api, "{ me { email } }"))["me"] is None


async def test_tokens_are_stored_hashed(tenants):
    t = await tenants.create(("owner",))
    assert not await AuthToken.filter(token_hash=t.owner.token).exists()
    assert await AuthToken.filter(token_hash=hash_token(t.owner.token)).exists()


async def test_member_of_two_organizations_chooses_with_header(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(())
    from server.auth.models import User
    from server.auth.service import add_member
    from server.organizations.models import Organization

    user = await User.get(email=a.owner.email)
    await add_member(await Organization.get(slug=b.slug), user, "analyst")

    me = await api.data("{ me { email role organizations { slug } } }", token=a.owner.token)
    assert me["me"]["role"] is None
    assert sorted(o["slug"] for o in me["me"]["organizations"]) == sorted([a.slug, b.slug])
    body = await api.execute("{ orders { edges { cursor } } }", token=a.owner.token)
    assert body["errors"][0]["extensions"]["code"] == "ORGANIZATION_REQUIRED"
    me_b = await api.data("{ me { role organization { slug } } }", token=a.owner.token, org=b.slug)
    assert me_b["me"] == {"role": "analyst", "organization": {"slug": b.slug}}


async def test_foreign_organization_header_is_forbidden(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    body = await api.execute("{ me { email } }", token=a.owner.token, org=b.slug)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    nonexistent = await api.execute("{ me { email } }", token=a.owner.token, org="no-such-org")
    assert nonexistent["errors"][0]["message"].replace("no-such-org", b.slug) == body["errors"][0]["message"]


async def test_a_client_gone_before_its_body_arrived_is_not_a_server_error(database, caplog):
    """wrk, browsers and proxies drop connections mid-request; that must not log tracebacks."""
    from server.app import create_app

    app = create_app(database, manage_db=False)
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"40")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "app": app,
    }
    with caplog.at_level("ERROR"):
        await app(scope, receive, send)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert not any(m.get("status", 200) >= 500 for m in sent if m["type"] == "http.response.start")


async def test_the_api_starts_and_serves_while_redis_is_unreachable(database, caplog):
    """Jobs wait in the outbox until Redis is back; the API must not refuse to start."""
    import socket

    from server.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings = database.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port}/0"})
    app = create_app(settings, manage_db=False, run_jobs=True)
    with caplog.at_level("ERROR"):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                assert (await client.get("/health")).json()["status"] == "ok"
    assert any("jobs wait in the outbox" in r.getMessage() for r in caplog.records)
