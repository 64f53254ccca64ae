"""Helpers for testing a plugin inside a real CRM: a GraphQL client, an organization with a
signed-in owner, installing and configuring a plugin, calling its webhook.

The pytest fixtures built on these live in ``server.plugins.pytest_plugin`` (active in any
project that has the CRM installed, see docs/plugins.md). Everything here goes through the
public API (GraphQL and the webhook URL), exactly as a real organization would, so a test
that passes here exercises the same code paths as production.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

PASSWORD = "plugin kit password 1"  # noqa: S105 - test users only

LOGIN = (
    "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code message } } }"
)

INSTALLATION_FIELDS = """id pluginName label enabled version config secretsSet allowedIps webhookTokenIssuedAt
    plugin { name title version capabilities }"""
ERRORS = "errors { field code message }"

INSTALL = f"""mutation($i: InstallPluginInput!) {{ installPlugin(input: $i) {{
    installation {{ {INSTALLATION_FIELDS} }} webhookUrl webhookNote {ERRORS} }} }}"""
CONFIGURE = f"""mutation($i: ConfigurePluginInput!) {{ configurePlugin(input: $i) {{
    installation {{ {INSTALLATION_FIELDS} }} {ERRORS} }} }}"""
ENABLE = f"""mutation($i: PluginInstallationVersionInput!) {{ enablePlugin(input: $i) {{
    installation {{ {INSTALLATION_FIELDS} }} {ERRORS} }} }}"""
DISABLE = f"""mutation($i: PluginInstallationVersionInput!) {{ disablePlugin(input: $i) {{
    installation {{ {INSTALLATION_FIELDS} }} {ERRORS} }} }}"""
UNINSTALL = f"""mutation($i: PluginInstallationVersionInput!) {{ uninstallPlugin(input: $i) {{
    installation {{ id }} {ERRORS} }} }}"""
TEST_CONNECTION = f"""mutation($i: TestPluginConnectionInput!) {{ testPluginConnection(input: $i) {{
    ok message {ERRORS} }} }}"""
ROTATE = f"""mutation($i: PluginInstallationVersionInput!) {{ rotateWebhookToken(input: $i) {{
    installation {{ {INSTALLATION_FIELDS} }} webhookUrl webhookNote {ERRORS} }} }}"""
PLUGINS = """{ plugins { name title version description capabilities
    configSchema { name type required secret label help default choices } } }"""
INSTALLATIONS = f"{{ pluginInstallations {{ {INSTALLATION_FIELDS} }} }}"
ACCOUNTS_BY_PHONE = """query($p: String!) { accounts(first: 10, where: {phone: {eq: $p}}) {
    edges { node { id name phones tags source
        timeline(first: 20) { edges { node { id kind subject data occurredAt } } } } } } }"""


class GraphQLError(AssertionError):
    """The response had GraphQL errors (the test expected none)."""


class PluginUserErrors(AssertionError):
    """A mutation answered with ``errors`` (the test expected none)."""


@dataclass
class GraphQLClient:
    """Posts GraphQL to the app as one member of one organization."""

    http: httpx.AsyncClient
    token: str | None = None
    org: str | None = None

    async def execute(self, query: str, variables: dict | None = None) -> dict:
        """The whole response body (``data``, ``errors``)."""
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.org:
            headers["X-Organization"] = self.org
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()

    async def data(self, query: str, variables: dict | None = None) -> dict:
        """``data``, failing the test on any GraphQL error."""
        body = await self.execute(query, variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]

    async def mutate(self, query: str, variables: dict | None = None) -> dict:
        """The single mutation's payload, failing the test on GraphQL errors or user errors."""
        payload = next(iter((await self.data(query, variables)).values()))
        if payload.get("errors"):
            raise PluginUserErrors(payload["errors"])
        return payload


@dataclass
class Member:
    email: str
    role: str
    client: GraphQLClient


@dataclass
class Organization:
    """An organization made for a test, with its signed-in members by role."""

    slug: str
    http: httpx.AsyncClient
    members: dict[str, Member] = field(default_factory=dict)

    @property
    def owner(self) -> GraphQLClient:
        return self.members["owner"].client

    async def add_member(self, role: str, name: str | None = None) -> GraphQLClient:
        from server.auth.service import add_member, create_user
        from server.organizations.models import Organization as OrganizationModel

        name = name or role
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        org = await OrganizationModel.get(slug=self.slug)
        user = await create_user(email, PASSWORD, name.title())
        await add_member(org, user, role)
        body = await GraphQLClient(self.http).data(LOGIN, {"e": email, "p": PASSWORD})
        token = body["login"]["token"]
        assert token, body
        client = GraphQLClient(self.http, token=token, org=self.slug)
        self.members[name] = Member(email=email, role=role, client=client)
        return client

    async def accounts_by_phone(self, phone: str) -> list[dict]:
        """Accounts with this phone (E.164) and their timelines, as the owner sees them."""
        data = await self.owner.data(ACCOUNTS_BY_PHONE, {"p": phone})
        return [edge["node"] for edge in data["accounts"]["edges"]]

    async def outbox_events(self, topic: str | None = None) -> list[dict]:
        """The payloads of the organization's domain events (oldest first), e.g. the
        ``message.status`` events a delivery-report webhook produced."""
        from server.core.models import OutboxEvent
        from server.organizations.models import Organization as OrganizationModel

        org = await OrganizationModel.get(slug=self.slug)
        events = OutboxEvent.filter(organization_id=org.id).order_by("created_at")
        if topic:
            events = events.filter(topic=topic)
        return list(await events.values_list("payload", flat=True))


async def create_organization(http: httpx.AsyncClient, roles: tuple[str, ...] = ("owner",)) -> Organization:
    """A new organization (default order statuses, pipeline...) with one member per role."""
    from server.organizations.service import create_organization as create

    slug = f"plugin-test-{uuid.uuid4().hex[:10]}"
    await create(slug, f"Plugin test {slug}")
    org = Organization(slug=slug, http=http)
    for role in roles:
        await org.add_member(role)
    return org


@dataclass
class InstalledPlugin:
    """An installation made through ``installPlugin``, with the webhook URL shown once."""

    id: str
    version: int
    webhook_url: str | None
    http: httpx.AsyncClient
    client: GraphQLClient
    data: dict = field(default_factory=dict)

    @property
    def webhook_path(self) -> str:
        """The URL's path (what to post to through the test HTTP client)."""
        assert self.webhook_url, "no webhook URL: it is shown only by installPlugin and rotateWebhookToken"
        return urlsplit(self.webhook_url).path

    async def post_webhook(self, path: str = "", **kwargs: Any) -> httpx.Response:
        """POST to the installation's webhook URL (plus ``path``), as the provider would:
        ``data=`` for a form, ``json=``, ``content=`` for raw bytes, ``headers=``."""
        return await self.http.post(self.webhook_path + path.lstrip("/"), **kwargs)

    async def refresh(self) -> dict:
        data = await self.client.data(
            f"query($id: ID!) {{ pluginInstallation(id: $id) {{ {INSTALLATION_FIELDS} }} }}", {"id": self.id}
        )
        self.data = data["pluginInstallation"]
        self.version = self.data["version"]
        return self.data

    async def configure(self, **fields: Any) -> dict:
        """``configurePlugin`` with the current version: config=, secrets=, allowedIps=, label=."""
        payload = await self.client.mutate(CONFIGURE, {"i": {"id": self.id, "version": self.version, **fields}})
        self.data = payload["installation"]
        self.version = self.data["version"]
        return self.data

    async def set_enabled(self, enabled: bool) -> dict:
        payload = await self.client.mutate(
            ENABLE if enabled else DISABLE, {"i": {"id": self.id, "version": self.version}}
        )
        self.data = payload["installation"]
        self.version = self.data["version"]
        return self.data

    async def test_connection(self) -> dict:
        """``{"ok": ..., "message": ...}`` of ``testPluginConnection``."""
        return await self.client.mutate(TEST_CONNECTION, {"i": {"id": self.id}})

    async def rotate_webhook_token(self) -> str:
        payload = await self.client.mutate(ROTATE, {"i": {"id": self.id, "version": self.version}})
        self.data = payload["installation"]
        self.version = self.data["version"]
        self.webhook_url = payload["webhookUrl"]
        return self.webhook_url  # type: ignore[return-value]


async def install_plugin(
    client: GraphQLClient,
    plugin: str,
    *,
    config: dict | None = None,
    secrets: dict | None = None,
    **fields: Any,
) -> InstalledPlugin:
    """``installPlugin`` as ``client`` (an owner or admin), failing the test on errors."""
    payload = await client.mutate(
        INSTALL, {"i": {"plugin": plugin, "config": config or {}, "secrets": secrets or {}, **fields}}
    )
    inst = payload["installation"]
    return InstalledPlugin(
        id=inst["id"],
        version=inst["version"],
        webhook_url=payload["webhookUrl"],
        http=client.http,
        client=client,
        data=inst,
    )


# -- background jobs -------------------------------------------------------------------------


@dataclass
class FailedJob:
    name: str
    error: str
    attempts: int


class Jobs:
    """The CRM's background jobs for a test (the ``crm_jobs`` fixture). Nothing runs by itself
    in the kit: a mutation or a webhook queues jobs (a notification to send, a status to
    follow), and ``await crm_jobs.run()`` runs them, and the jobs they queue, until none is due,
    as ``crm serve`` would. A job that fails is retried with the CRM's backoff; pass
    ``later=timedelta(minutes=5)`` to run what is due by then (send delays, retries).
    The database lives for the whole session: jobs earlier tests queued and never ran run too,
    but ``failed()`` and ``queued()`` only list the jobs queued since this test began."""

    def __init__(self, settings, since: int = 0):
        self.settings = settings
        self.since = since  # the last job of earlier tests: failed() and queued() list later ones

    @classmethod
    async def start(cls, settings) -> Jobs:
        from server.jobs.models import JobRun

        last = await JobRun.all().order_by("-id").first()
        return cls(settings, last.id if last else 0)

    async def run(self, *, later: timedelta = timedelta(0)) -> int:
        from server.jobs.inprocess import run_until_idle

        return await run_until_idle(self.settings, now=datetime.now(UTC) + later)

    async def failed(self) -> list[FailedJob]:
        """Jobs that failed for good (no try left, or an error that must not be retried)."""
        from server.jobs.models import JobRun

        rows = await JobRun.filter(state="failed", id__gt=self.since).order_by("finished_at")
        return [FailedJob(r.name, r.last_error or "", r.attempts) for r in rows]

    async def queued(self) -> list[str]:
        """Names of the jobs waiting (later ones included)."""
        from server.jobs.models import JobRun

        return [r.name for r in await JobRun.filter(state="queued", id__gt=self.since).order_by("run_after")]


# -- sends must never be repeated -----------------------------------------------------------


@contextlib.contextmanager
def short_provider_timeout(seconds: float = 0.5):
    """``ProviderClient``'s default timeout shortened, so a simulator's delay can outlast it."""
    from server.plugins import http

    before = http.DEFAULT_TIMEOUT
    http.DEFAULT_TIMEOUT = httpx.Timeout(seconds)
    try:
        yield
    finally:
        http.DEFAULT_TIMEOUT = before


async def check_send_is_never_repeated(send, simulator, *, path: str | None = None) -> None:
    """The rule every sending hook keeps: when the provider may have acted (it answered 500
    after taking the request, or did not answer in time), the plugin raises
    ``PluginError(code="OUTCOME_UNKNOWN", retryable=False)`` and sent the request once, so
    neither it nor the CRM's job sends the customer's message twice.

    ``send`` is an async callable doing one send through your hook (e.g.
    ``lambda: plugin.crm_messaging_send(config, secrets, message)``); ``simulator`` is your
    provider's simulator (``server.plugins.simulator.SimulatorServer``); ``path`` limits the
    faults to the send's URL path. Raises ``AssertionError`` saying what went wrong."""
    from server.plugins.types import PluginError

    faults = {
        "a 500 after the request went out": lambda: simulator.fail(1, status=500, path=path),
        "no answer in time": lambda: simulator.delay(2.0, 1, path=path),
    }
    for what, inject in faults.items():
        simulator.clear_requests()
        inject()
        try:
            with short_provider_timeout(0.5):
                await send()
        except PluginError as exc:
            if (exc.code, exc.retryable) != ("OUTCOME_UNKNOWN", False):
                raise AssertionError(
                    f"after {what}, the send raised PluginError(code={exc.code!r}, retryable={exc.retryable}); "
                    "it must be code='OUTCOME_UNKNOWN', retryable=False, or the customer may get it twice"
                ) from exc
        else:
            raise AssertionError(f"after {what}, the send reported success: the CRM cannot know it was sent")
        finally:
            simulator.clear_faults()
        sent = [r for r in simulator.requests if path is None or r.path.startswith(path)]
        if len(sent) != 1:
            raise AssertionError(f"after {what}, the provider got {len(sent)} requests; a send goes out once")
