"""The ``crm`` command: run the server, migrate the database, create organizations and users,
load demo data, export the GraphQL schema. See docs/cli.md.

Settings come from settings/*.toml, ``CRM_PROFILE`` and environment variables (``DATABASE_URL``...)
exactly as for the server. Expected failures (unknown organization, bad role, duplicate e-mail...)
print one line on stderr and exit with code 1, without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from server.auth.roles import ROLES
from server.config import InsecureSettings, Settings
from server.core.errors import UserInputError

DEMO_DB_FILE = "crm-demo.sqlite3"

app = typer.Typer(
    name="crm",
    help="CRM backend: run the GraphQL server, migrate the database, manage organizations and users, "
    "load demo data. Settings come from settings/*.toml, CRM_PROFILE and environment variables such as "
    "DATABASE_URL.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True, rich_markup_mode="markdown")
user_app = typer.Typer(
    help="Users and their membership in an organization.", no_args_is_help=True, rich_markup_mode="markdown"
)
schema_app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True, rich_markup_mode="markdown")
plugins_app = typer.Typer(
    help="Plugins installed on this server (the `crm.plugins` entry point group).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(schema_app, name="schema")
app.add_typer(plugins_app, name="plugins")
jobs_app = typer.Typer(
    help="Background jobs that failed for good: list, run again, forget.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(jobs_app, name="jobs")
analytics_app = typer.Typer(help="Customer figures and RFM groups.", no_args_is_help=True, rich_markup_mode="markdown")
app.add_typer(analytics_app, name="analytics")
search_app = typer.Typer(help="The search index (docs/search.md).", no_args_is_help=True, rich_markup_mode="markdown")
app.add_typer(search_app, name="search")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

T = TypeVar("T")


class CLIError(Exception):
    """An expected failure: printed as one line, exit code 1."""


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Error:[/bold red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code=1)


def display_url(url: str) -> str:
    """The database URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def run_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with Tortoise initialised for ``settings``; turn expected errors into messages."""
    from tortoise.exceptions import BaseORMException, DBConnectionError

    from server.db import close_db, init_db
    from server.i18n import use_locale

    async def main() -> T:
        await init_db(settings)
        try:
            # The command's own texts are English (docs/i18n.md), so the services' messages it
            # prints are English too, not the API's Ukrainian default.
            with use_locale("en"):
                return await work()
        finally:
            await close_db()

    try:
        return asyncio.run(main())
    except UserInputError as exc:
        raise fail(exc.message) from None
    except CLIError as exc:
        raise fail(str(exc)) from None
    except (DBConnectionError, ConnectionError, OSError) as exc:
        raise fail(f"Cannot connect to the database {display_url(settings.database_url)}: {exc}") from None
    except BaseORMException as exc:
        hint = ""
        text = str(exc).lower()
        if "no such table" in text or "does not exist" in text:
            hint = " Is the database migrated? Run `crm migrate`."
        raise fail(f"Database error: {str(exc).rstrip('.')}.{hint}") from None


# -- serve -----------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help=f"Try it out: use the SQLite file ./{DEMO_DB_FILE}, migrate it, load the demo organization "
            "once and print the demo logins. No Redis needed.",
        ),
    ] = False,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto are believed "
            "('*' for any, '' for none). Default: the TRUSTED_PROXIES setting (127.0.0.1 and ::1).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port (uvicorn workers). More than 1 needs REDIS_URL "
            "(jobs then run in `crm worker`, limits are counted in Redis); not with --demo.",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log a line per request (uvicorn's access log). Behind a proxy that logs requests "
            "already, --no-access-log saves about 5% of the server's CPU per request.",
        ),
    ] = True,
) -> None:
    """Run the GraphQL server (uvicorn): POST /graphql, GraphiQL in a browser at /graphql, GET /health.

    Without --demo it serves DATABASE_URL as it is: run `crm migrate` first."""
    import uvicorn

    from server.app import create_app

    # Before anything else: a second `crm serve --demo` on a busy port must not migrate, seed,
    # start simulators or re-point the running demo's plugin installations at them.
    _check_port_free(host, port)
    settings = Settings()
    if workers > 1:
        _check_workers(settings, demo)
    simulators = {}
    if demo:
        from server.demo.integrations import start_simulators

        path = Path.cwd() / DEMO_DB_FILE
        from server.http.cors import DEMO_ORIGIN_REGEX

        # The demo's provider simulators listen on 127.0.0.1 without TLS; an SPA dev server on
        # http://localhost:<any port> may call the API (CORS) unless CORS is configured otherwise.
        settings = Settings(
            database_url=f"sqlite://{path}",
            redis_url=None,
            demo=True,
            allow_local_providers=True,
            cors_allowed_origin_regex=settings.cors_allowed_origin_regex or DEMO_ORIGIN_REGEX,
        )
        simulators = start_simulators()
        result = run_db(settings, lambda: _prepare_demo(settings, simulators))
        _print_demo_banner(result, host, port, path)
    else:
        out.print(f"Database: {display_url(settings.database_url)}")
        pending = run_db(settings, lambda: _pending_migrations(settings))
        if pending:
            err.print(
                f"[yellow]Warning:[/yellow] {len(pending)} migration(s) not applied to this database "
                f"({', '.join(pending)}): run `crm migrate`.",
                soft_wrap=True,
            )
        out.print(f"GraphQL:  {_base_url(host, port)}/graphql")
    sys.stdout.flush()
    proxies = settings.trusted_proxies
    if trusted_proxies is not None:
        proxies = [p.strip() for p in trusted_proxies.split(",") if p.strip()]
    try:
        if workers > 1:
            settings.require_secret_key()
            # Each worker process builds its own app from the environment (the same settings).
            application = "server.app:app_from_environment"
        else:
            application = create_app(settings)
    except InsecureSettings as exc:
        raise fail(str(exc)) from None
    try:
        # The client address (webhook IP allow-lists, login throttling) comes from
        # X-Forwarded-For only when the peer is one of these proxies.
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
            proxy_headers=bool(proxies),
            forwarded_allow_ips=list(proxies) or None,
            workers=workers if workers > 1 else None,
            factory=workers > 1,
        )
    finally:
        for sim in simulators.values():
            sim.stop()


def _check_workers(settings: Settings, demo: bool) -> None:
    """Several processes share nothing in memory: jobs and counters must live in Redis.

    Without REDIS_URL every process would run its own in-process job loop and count logins on
    its own, so we refuse rather than run jobs in a process picked at random."""
    if demo:
        raise fail("--demo runs one process; leave out --workers (or serve a real database with REDIS_URL).")
    if not settings.redis_url:
        raise fail(
            "--workers above 1 needs REDIS_URL: background jobs then run in `crm worker` and login limits "
            "are shared. Set REDIS_URL (and start `crm worker`), or serve with one process."
        )


def _check_port_free(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will (SO_REUSEADDR, so only a listening server is in the way)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise fail(f"Cannot listen on {host}: {exc.strerror}.") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise fail(
                f"Port {port} on {host} is already in use ({exc.strerror}); is another `crm serve` running? "
                f"Stop it, or choose another port: crm serve --port {port + 1}."
            ) from None


async def _pending_migrations(settings: Settings) -> list[str]:
    from tortoise.connection import get_connection
    from tortoise.migrations.executor import MigrationExecutor

    from server.db import tortoise_config

    executor = MigrationExecutor(get_connection("default"), tortoise_config(settings)["apps"])
    return [step.migration.name for step in await executor.plan() if not step.backward]


async def _prepare_demo(settings: Settings, simulators: dict):
    from server.db import migrate
    from server.demo import DEMO_SLUG, seed_demo
    from server.demo.integrations import connect_demo_integrations
    from server.demo.seed import demo_email

    await migrate(settings)
    result = await seed_demo(postgres=settings.is_postgres)
    result.integrations = await connect_demo_integrations(settings, simulators, demo_email("owner"), DEMO_SLUG)
    return result


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _print_demo_banner(result, host: str, port: int, path: Path) -> None:
    from server.demo import DEMO_PASSWORD, DEMO_SLUG

    url = f"{_base_url(host, port)}/graphql"
    if result.created:
        data = result.data
        out.print(
            f"Loaded the demo organization '{DEMO_SLUG}': {data.accounts} accounts, {data.orders} orders, "
            f"{result.deals} deals, {result.tickets} tickets, {result.surveys} surveys."
        )
    else:
        out.print(f"The demo organization '{DEMO_SLUG}' exists in {path.name}; not loading it again.")
    out.print(f"Database: {path} (delete it to start over)")
    out.print(f"GraphQL:  {url}  (open it in a browser for GraphiQL)")
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})", title_justify="left")
    table.add_column("role")
    table.add_column("e-mail")
    table.add_column("name")
    for role, email, name in result.logins:
        table.add_row(role, email, name)
    out.print(table)
    sims = Table(title="Provider simulators (test accounts, nothing real is called)", title_justify="left")
    sims.add_column("plugin")
    sims.add_column("simulator URL")
    sims.add_column("installed for the demo")
    for item in result.integrations:
        sims.add_row(item.plugin, item.url, "yes (label 'demo')" if item.installed else "no: plugin not found")
    out.print(sims)
    out.print(
        'Sign in: mutation { login(input: {email: "owner@demo.example", password: "'
        + DEMO_PASSWORD
        + '"}) { token } }, then send the header "Authorization: Bearer <token>".'
    )


# -- migrate ---------------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Apply the database migrations to DATABASE_URL: creates the schema on an empty database,
    upgrades an existing one, does nothing when it is up to date."""
    settings = Settings()

    async def work() -> tuple[list[str], int]:
        from tortoise.connection import get_connection
        from tortoise.migrations.recorder import MigrationRecorder

        from server.db import migrate as apply

        recorder = MigrationRecorder(get_connection("default"))
        before = set(await recorder.applied_migrations())
        await apply(settings)
        after = await recorder.applied_migrations()
        return [f"{key.app_label}.{key.name}" for key in after if key not in before], len(after)

    out.print(f"Database: {display_url(settings.database_url)}")
    applied, total = run_db(settings, work)
    for name in applied:
        out.print(f"  applied {name}")
    if applied:
        out.print(f"Applied {len(applied)} migration(s); the database is up to date.")
    else:
        out.print(f"Nothing to apply: the database is up to date ({total} migration(s) applied earlier).")


# -- organizations ---------------------------------------------------------------------------


@org_app.command("create")
def org_create(
    slug: Annotated[str, typer.Argument(help="Short name used in the X-Organization header, e.g. 'my-shop'.")],
    name: Annotated[str, typer.Option("--name", help="Display name, e.g. 'Мій магазин'.")],
    currency: Annotated[str, typer.Option(help="Default ISO 4217 currency of orders and deals.")] = "UAH",
    locale: Annotated[str, typer.Option(help="Language of the organization: uk or en.")] = "uk",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Kyiv",
) -> None:
    """Create an organization with the default sales pipeline, order statuses and SLA targets."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from server.organizations.service import LOCALES, create_organization

    if locale not in LOCALES:
        raise fail(f"Locale must be one of: {', '.join(LOCALES)}.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"Unknown time zone '{timezone}'.") from None
    org = run_db(Settings(), lambda: create_organization(slug, name, currency, locale, timezone))
    out.print(f"Created organization '{org.slug}' ({org.name}, {org.currency}).")
    out.print(f"Add people with: crm user create --org {org.slug} --email ... --role owner")


@org_app.command("list")
def org_list() -> None:
    """List the organizations with their member counts."""

    async def work():
        from collections import Counter

        from server.auth.models import Membership
        from server.organizations.models import Organization

        orgs = await Organization.all().order_by("slug")
        counts = Counter(await Membership.filter(is_active=True).values_list("organization_id", flat=True))
        return [(o.slug, o.name, o.currency, counts.get(o.id, 0)) for o in orgs]

    rows = run_db(Settings(), work)
    if not rows:
        out.print("No organizations yet. Create one with: crm org create SLUG --name NAME")
        return
    table = Table("slug", "name", "currency", "members")
    for slug, name, currency, members in rows:
        table.add_row(slug, name, currency, str(members))
    out.print(table)


# -- users -----------------------------------------------------------------------------------


def _read_password() -> str:
    """Hidden and confirmed from a terminal; otherwise the first line of stdin (for scripts)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise fail("No password: type it at the prompt, or pipe it on the first line of stdin.")
    return password


@user_app.command("create")
def user_create(
    org: Annotated[str, typer.Option("--org", help="Slug of the organization the user joins.")],
    email: Annotated[str, typer.Option("--email", help="E-mail, used to sign in.")],
    role: Annotated[
        str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}, or a custom role of the organization.")
    ],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    team: Annotated[str | None, typer.Option("--team", help="Team to join (created if missing).")] = None,
) -> None:
    """Create a user and make them a member of an organization with a role.

    The password is asked for twice (hidden) in a terminal, or read from the first line of stdin
    in scripts: `echo "$PASSWORD" | crm user create --org my-shop --email anna@shop.ua --role owner`"""
    from server.accounts.service import normalize_email
    from server.auth.passwords import MIN_LENGTH
    from server.i18n import use_locale

    try:
        with use_locale("en"):  # the command speaks English (see run_db)
            email = normalize_email(email)
    except UserInputError as exc:
        raise fail(exc.message) from None
    settings = Settings()

    async def check() -> None:
        from server.auth.models import User
        from server.organizations.models import Organization

        if not await Organization.filter(slug=org).exists():
            raise CLIError(f"Organization '{org}' not found. Create it with: crm org create {org} --name NAME")
        if await User.filter(email=email).exists():
            raise CLIError(f"A user with e-mail {email} already exists.")
        if role not in ROLES:
            from server.roles.models import CustomRole

            custom = await CustomRole.filter(organization__slug=org).order_by("name").values_list("name", flat=True)
            if role not in custom:
                raise CLIError(f"Unknown role '{role}'. Role must be one of: {', '.join([*ROLES, *custom])}.")

    # Check before asking for a password, so nobody types one only to learn the e-mail is taken.
    run_db(settings, check)
    password = _read_password()
    if len(password) < MIN_LENGTH:
        raise fail(f"Password must have at least {MIN_LENGTH} characters.")

    async def create():
        from tortoise.transactions import in_transaction

        from server.auth.service import add_member, create_user
        from server.organizations.models import Organization

        async with in_transaction():
            organization = await Organization.get(slug=org)
            user = await create_user(email, password, name)
            membership = await add_member(organization, user, role, team)
        return user, membership

    user, _ = run_db(settings, create)
    team_text = f", team '{team}'" if team else ""
    out.print(f"Created user {user.email} as {role} of '{org}'{team_text}.")


# -- demo data -------------------------------------------------------------------------------


@app.command("demo-data")
def demo_data(
    org: Annotated[str, typer.Option("--org", help="Slug of the organization to fill.")],
    accounts: Annotated[int, typer.Option(min=0, help="Customers to add (0: use the existing ones).")] = 100,
    orders: Annotated[int, typer.Option(min=0, help="Orders to add.")] = 1000,
    deals: Annotated[
        int, typer.Option(min=0, help="Deals to add, moving through the pipelines with their stage history.")
    ] = 0,
    tickets: Annotated[
        int, typer.Option(min=0, help="Support tickets to add, with first responses, resolutions and SLA due dates.")
    ] = 0,
    seed: Annotated[
        int | None, typer.Option(help="Random seed: the same seed gives the same data. Default: a new one.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, hidden=True, help="Rows per insert batch.")] = 2000,
    now: Annotated[
        datetime | None,
        typer.Option(
            hidden=True,
            formats=["%Y-%m-%dT%H:%M:%S%z"],
            help="The moment the history ends (default: now). Two loads with the same seed and moment "
            "hold the same data (the analytics bench compares SQLite with PostgreSQL this way).",
        ),
    ] = None,
) -> None:
    """Add realistic Ukrainian customers, orders, deals and tickets to an organization, fast.

    Names, +380 mobile phones (E.164), e-mails, cities and Nova Poshta branches; orders with items,
    totals, statuses along the allowed transitions with their history, and timeline entries, over
    the last 180 days; with --deals and --tickets also deals moving through the pipelines (stage
    history) and support tickets (first responses, resolutions, SLA due dates). 100,000 orders
    take well under a minute on PostgreSQL. All or nothing: one transaction. No audit entries or
    notifications are written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from server.demo import load_demo_data
    from server.organizations.models import Organization

    settings = Settings()
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 1_000_000)

    with Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        tasks = {}
        if accounts:
            tasks["accounts"] = progress.add_task("accounts", total=accounts)
        if orders:
            tasks["orders"] = progress.add_task("orders", total=orders)
        if deals:
            tasks["deals"] = progress.add_task("deals", total=deals)
        if tickets:
            tasks["tickets"] = progress.add_task("tickets", total=tickets)

        def advance(task: str, n: int) -> None:
            if task in tasks:
                progress.advance(tasks[task], n)

        async def work():
            organization = await Organization.get_or_none(slug=org)
            if organization is None:
                raise CLIError(f"Organization '{org}' not found. Create it with: crm org create {org} --name NAME")
            try:
                return await load_demo_data(
                    organization,
                    accounts,
                    orders,
                    seed,
                    postgres=settings.is_postgres,
                    progress=advance,
                    batch_size=batch_size,
                    deals=deals,
                    tickets=tickets,
                    now=now,
                )
            except ValueError as exc:
                raise CLIError(str(exc)) from None

        try:
            result = run_db(settings, work)
        except KeyboardInterrupt:
            raise fail("Interrupted: the load was rolled back, nothing was added.") from None

    numbers = f" #{result.first_number}–#{result.last_number}" if result.orders else ""
    out.print(
        f"Added {result.accounts} accounts ({result.contacts} contacts) and {result.orders} orders{numbers} "
        f"({result.items} items, {result.status_changes} status changes, {result.activities} timeline entries), "
        f"{result.deals} deals ({result.deal_stage_changes} stage changes) and {result.tickets} tickets "
        f"to '{org}' in {result.seconds:.1f} s. Seed {result.seed}: the same --seed gives the same data."
    )


# -- schema ----------------------------------------------------------------------------------


@schema_app.command("export")
def schema_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the GraphQL schema (SDL) the server serves; schema.graphql in the repository is this output."""
    from server.graphql.schema import build_schema, sdl

    text = sdl(build_schema(Settings()))
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"Wrote {output} ({len(text.splitlines())} lines).")


# -- worker ----------------------------------------------------------------------------------


worker_app = typer.Typer(
    help="Run background jobs from Redis (REDIS_URL), or ask a running worker whether it is healthy.",
    invoke_without_command=True,
    rich_markup_mode="markdown",
)
app.add_typer(worker_app, name="worker")

from server.imports.cli import import_command  # noqa: E402 - registered with the others

app.command("import")(import_command)

HealthFile = Annotated[
    Path | None,
    typer.Option(
        "--health-file",
        help="The worker's heartbeat file (rewritten every second; `crm worker health` reads it). "
        "Default: WORKER_HEALTH_FILE; none when unset.",
    ),
]


def _health_file(settings: Settings, given: Path | None) -> Path | None:
    if given is not None:
        return given
    return Path(settings.worker_health_file) if settings.worker_health_file else None


@worker_app.callback()
def worker(
    ctx: typer.Context,
    burst: Annotated[bool, typer.Option("--burst", help="Stop when the queue is empty (for scripts).")] = False,
    health_file: HealthFile = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            "--health-port",
            help="Answer GET /health (200 healthy, 503 not) and GET /live on this port. Default: WORKER_HEALTH_PORT.",
        ),
    ] = None,
    health_host: Annotated[
        str | None,
        typer.Option(
            "--health-host",
            help="Address for --health-port (default WORKER_HEALTH_HOST, 127.0.0.1; 0.0.0.0 for Kubernetes).",
        ),
    ] = None,
) -> None:
    """Run background jobs from Redis (REDIS_URL): relay the outbox, send notifications, sync
    marketplaces, track shipments. Run as many as you like; nothing is done twice. The worker
    outlives Redis or the database going away (it reconnects by itself and reports itself
    unhealthy meanwhile). See docs/jobs.md."""
    if ctx.invoked_subcommand is not None:
        return
    import logging

    from server.jobs.supervisor import run

    settings = Settings()
    if not settings.redis_url:
        raise fail("`crm worker` needs REDIS_URL. Without Redis, `crm serve` runs the jobs in process.")
    try:
        settings.require_secret_key()
    except InsecureSettings as exc:
        raise fail(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from server.logging_redaction import quiet_http_clients

    quiet_http_clients()  # request URLs may hold a bot token (Telegram)
    out.print(
        f"Worker on {display_url(settings.redis_url)} queue {settings.arq_queue_name}; "
        f"database {display_url(settings.database_url)}"
    )
    sys.stdout.flush()
    run(
        settings,
        health_file=_health_file(settings, health_file),
        health_port=settings.worker_health_port if health_port is None else health_port,
        health_host=health_host or settings.worker_health_host,
        burst=burst,
    )


@worker_app.command("health")
def worker_health(
    health_file: HealthFile = None,
    live: Annotated[
        bool,
        typer.Option("--live", help="Only ask whether the worker runs (also while it waits for Redis)."),
    ] = False,
) -> None:
    """Exit 0 if the worker writing the health file is healthy (it reaches Redis and the
    database), 1 if not, or if it is dead or hung. Needs neither Redis nor the database: for
    systemd, Docker HEALTHCHECK and Kubernetes probes."""
    from server.jobs.health import read_health_file

    path = _health_file(Settings(), health_file)
    if path is None:
        raise fail("Name the worker's health file: --health-file (or WORKER_HEALTH_FILE), as given to `crm worker`.")
    healthy, why = read_health_file(path, live_only=live)
    if not healthy:
        raise fail(why)
    out.print(why)


# -- inbound e-mail --------------------------------------------------------------------------


@app.command("mail-in")
def mail_in(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default MAIL_IN_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default MAIL_IN_PORT, 2525).")] = None,
) -> None:
    """Receive customers' e-mail over SMTP and file it in the inbox: mail for the addresses
    `in+<token>@MAIL_IN_DOMAIN` that organizations issued (`issueInboundEmailAddress`); any
    other recipient is refused. See docs/conversations.md#e-mail."""
    import logging

    from server.email import receiver

    settings = Settings()
    if not settings.mail_in_domain.strip():
        raise fail("Set MAIL_IN_DOMAIN (the domain whose MX record points at this receiver) first.")
    try:
        settings.require_secret_key()
    except InsecureSettings as exc:
        raise fail(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    listen_host = host or settings.mail_in_host
    listen_port = settings.mail_in_port if port is None else port

    async def work() -> None:
        server = await receiver.start(settings, listen_host, listen_port)
        out.print(
            f"Receiving mail for in+<token>@{settings.mail_in_domain} on {listen_host}:{listen_port}; "
            f"database {display_url(settings.database_url)}"
        )
        sys.stdout.flush()
        async with server:
            await server.serve_forever()

    try:
        run_db(settings, work)
    except KeyboardInterrupt:
        pass


# -- plugins ---------------------------------------------------------------------------------


@plugins_app.command("list")
def plugins_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """The plugins this server found, their capabilities, and the ones that failed to load (and why)."""
    from server.plugins.manager import list_plugins

    rows = list_plugins()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("name", "title", "version", "API", "capabilities", "channels", "from", "problem")
    for row in rows:
        table.add_row(
            row["name"],
            row["title"],
            row["version"],
            row["api_version"],
            ", ".join(row["capabilities"]),
            ", ".join(row["channels"]),
            row["source"],
            escape(row["error"] or ""),
        )
    out.print(table)
    broken = sum(1 for row in rows if row["error"])
    out.print(f"{len(rows) - broken} plugin(s) loaded" + (f", {broken} failed to load." if broken else "."))


@plugins_app.command("rotate-secrets")
def plugins_rotate_secrets() -> None:
    """Re-encrypt every installation's and webhook endpoint's secrets with the current SECRET_KEY.

    Rotate like this: set the new SECRET_KEY, put the old one in OLD_SECRET_KEYS, restart, run this,
    then remove OLD_SECRET_KEYS."""
    from server.plugins.service import rotate_all_secrets
    from server.webhooks.secrets import rotate_all as rotate_webhook_secrets

    settings = Settings()
    try:
        settings.require_secret_key()
    except InsecureSettings as exc:
        raise fail(str(exc)) from None

    async def rotate() -> tuple[int, int]:
        return await rotate_all_secrets(settings), await rotate_webhook_secrets(settings)

    count, endpoints = run_db(settings, rotate)
    out.print(
        f"Re-encrypted the secrets of {count} installation(s) and {endpoints} webhook endpoint(s) "
        "with the current SECRET_KEY."
    )


# -- jobs ------------------------------------------------------------------------------------


JobIds = Annotated[list[str] | None, typer.Argument(help="Job ids, as `crm jobs failed` shows them.")]
EveryFailed = Annotated[bool, typer.Option("--all", help="Every failed job.")]


@jobs_app.command("failed")
def jobs_failed(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, the latest first.")] = 100,
) -> None:
    """Jobs that failed after their last try (or were refused for good), with their error."""
    from server.jobs.admin import failed_jobs

    settings = Settings()
    rows = run_db(settings, lambda: failed_jobs(limit))
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if not rows:
        out.print("No failed jobs.")
        return
    table = Table("job id", "job", "tries", "failed at", "error")
    for row in rows:
        table.add_row(row["job_id"], row["name"], str(row["attempts"]), row["failed_at"] or "", row["error"][:200])
    out.print(table)


@jobs_app.command("retry")
def jobs_retry(job_ids: JobIds = None, every: EveryFailed = False) -> None:
    """Run failed jobs again (jobs are idempotent: nothing already done is done twice)."""
    from server.jobs.admin import retry_failed

    settings = Settings()
    queued = run_db(settings, lambda: retry_failed(settings, job_ids or [], every=every))
    where = "arq on REDIS_URL" if settings.redis_url else "the in-process queue (`crm serve` runs it)"
    out.print(f"Queued {len(queued)} job(s) again on {where}.")
    for job_id in queued:
        out.print(f"  {job_id}")


@jobs_app.command("forget")
def jobs_forget(job_ids: JobIds = None, every: EveryFailed = False) -> None:
    """Delete failure records you have dealt with."""
    from server.jobs.admin import forget_failed

    settings = Settings()
    count = run_db(settings, lambda: forget_failed(job_ids or [], every=every))
    out.print(f"Forgot {count} failed job(s).")


# -- analytics -------------------------------------------------------------------------------


@analytics_app.command("rebuild")
def analytics_rebuild(
    org: Annotated[
        str | None, typer.Option("--org", help="Slug of one organization (default: every organization).")
    ] = None,
) -> None:
    """Recompute every customer's figures (orders, revenue, first and last order) and RFM group.

    Run it once after upgrading to the version that added customer figures, and after loading
    orders outside the API. Safe to run any time: it only makes the figures right again."""
    from server.analytics.service import rebuild_figures
    from server.organizations.models import Organization

    async def work() -> list[tuple[str, int]]:
        qs = Organization.all().order_by("slug")
        if org is not None:
            qs = qs.filter(slug=org)
            if not await qs.exists():
                raise CLIError(f"Organization '{org}' not found.")
        return [(o.slug, await rebuild_figures(o)) for o in await qs]

    for slug, count in run_db(Settings(), work):
        out.print(f"{slug}: recomputed the figures of {count} account(s).")


@search_app.command("reindex")
def search_reindex(
    org: Annotated[
        str | None, typer.Option("--org", help="Slug of one organization (default: every organization).")
    ] = None,
) -> None:
    """Rebuild the search index from the records.

    The services keep it current; run it after loading records outside the API or restoring
    a table by hand. Safe to run any time: it only makes the index match the records again."""
    from server.organizations.models import Organization
    from server.search.index import reindex_organization

    async def work() -> list[tuple[str, int]]:
        qs = Organization.all().order_by("slug")
        if org is not None:
            qs = qs.filter(slug=org)
            if not await qs.exists():
                raise CLIError(f"Organization '{org}' not found.")
        return [(o.slug, await reindex_organization(o.id)) for o in await qs]

    for slug, count in run_db(Settings(), work):
        out.print(f"{slug}: indexed {count} searchable value(s).")


if __name__ == "__main__":
    app()
