"""A small GraphQL client and tenant factory for tests (and plugin authors' tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from server.auth.roles import ROLES
from server.auth.service import add_member, create_user
from server.organizations.service import create_organization

PASSWORD = "correct horse battery"


class GraphQLErrors(AssertionError):
    pass


class Client:
    def __init__(self, http: httpx.AsyncClient, language: str | None = None):
        self.http = http
        # Sent as Accept-Language when set (tests marked ``english``, see conftest.py); without
        # it the API answers in its default, Ukrainian.
        self.language = language

    async def raw(
        self, query: str, variables: dict | None = None, *, token: str | None = None, org: str | None = None
    ) -> httpx.Response:
        headers = {"Accept-Language": self.language} if self.language else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if org:
            headers["X-Organization"] = org
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def execute(self, query: str, variables: dict | None = None, **kw) -> dict:
        """The whole response body (data, errors, extensions)."""
        return (await self.raw(query, variables, **kw)).json()

    async def data(self, query: str, variables: dict | None = None, **kw) -> dict:
        """`data`, failing the test on any GraphQL error."""
        body = await self.execute(query, variables, **kw)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        return body["data"]


@dataclass
class Member:
    email: str
    role: str
    token: str
    user_id: str  # global ID
    org: str

    async def data(self, api: Client, query: str, variables: dict | None = None) -> dict:
        return await api.data(query, variables, token=self.token, org=self.org)

    async def execute(self, api: Client, query: str, variables: dict | None = None) -> dict:
        return await api.execute(query, variables, token=self.token, org=self.org)


@dataclass
class Tenant:
    slug: str
    members: dict[str, Member] = field(default_factory=dict)

    def __getattr__(self, role: str) -> Member:
        try:
            return self.members[role]
        except KeyError as exc:
            raise AttributeError(role) from exc


LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code } } }"
ME = "{ me { user { id } } }"


class TenantFactory:
    """Makes an organization with one signed-in member per built-in role (and extra ones)."""

    def __init__(self, api: Client):
        self.api = api

    async def login(self, email: str, org: str) -> Member:
        data = await self.api.data(LOGIN, {"e": email, "p": PASSWORD})
        token = data["login"]["token"]
        assert token, data
        me = await self.api.data(ME, token=token, org=org)
        return Member(email=email, role="", token=token, user_id=me["me"]["user"]["id"], org=org)

    async def add(self, tenant: Tenant, name: str, role: str, team: str | None = None) -> Member:
        from server.organizations.models import Organization

        org = await Organization.get(slug=tenant.slug)
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        user = await create_user(email, PASSWORD, name.title())
        await add_member(org, user, role, team)
        member = await self.login(email, tenant.slug)
        member.role = role
        tenant.members[name] = member
        return member

    async def create(self, roles: tuple[str, ...] = tuple(ROLES)) -> Tenant:
        slug = f"t-{uuid.uuid4().hex[:12]}"
        await create_organization(slug, f"Shop {slug}")
        tenant = Tenant(slug=slug)
        for role in roles:
            await self.add(tenant, role, role)
        return tenant


class QueryCounter:
    """Counts the SQL statements Tortoise sends while the block runs."""

    VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

    def __init__(self):
        import logging

        self.statements: list[str] = []
        self._logger = logging.getLogger("tortoise.db_client")
        self._handler = _ListHandler(self.statements, self.VERBS)

    def __enter__(self):
        import logging

        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc):
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._level)

    @property
    def count(self) -> int:
        return len(self.statements)


class _ListHandler:
    def __new__(cls, sink, verbs):
        import logging

        class Handler(logging.Handler):
            def emit(self, record):
                text = record.getMessage().lstrip()
                if text.upper().startswith(verbs):
                    sink.append(text)

        return Handler(level=logging.DEBUG)


@asynccontextmanager
async def app_client(settings, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second app on the same database, its settings changed by ``overrides``
    (e.g. ``fast_path=False``: the stock path, to compare answers with)."""
    from server.app import create_app

    app = create_app(settings.model_copy(update=overrides), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def graphql_view(http: httpx.AsyncClient):
    """The ``/graphql`` view of the app behind an in-process client (its fast path, lean lane, stats)."""
    return next(r for r in http._transport.app.routes if getattr(r, "path", "") == "/graphql").endpoint
