"""Tortoise setup: one app ("crm") over every domain's models, migrations in server/migrations."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

from server.config import Settings

MODEL_MODULES = [
    "server.core.models",
    "server.organizations.models",
    "server.auth.models",
    "server.accounts.models",
    "server.deals.models",
    "server.orders.models",
    "server.tickets.models",
    "server.activities.models",
    "server.audit.models",
    "server.jobs.models",
    "server.plugins.models",
    "server.marketplace.models",
    "server.shipments.models",
    "server.notifications.models",
    "server.oauth.models",
    "server.surveys.models",
    "server.analytics.metrics_models",
    "server.analytics.models",
    "server.segments.models",
    "server.campaigns.models",
    "server.email.models",
    "server.clicks.models",
    "server.graphql.models",
    "server.apikeys.models",
    "server.webhooks.models",
    "server.roles.models",
    "server.imports.models",
    "server.exports.models",
    "server.bulk.models",
    "server.search.models",
    "server.conversations.models",
    "server.webchat.models",
    "server.selfservice.models",
    "server.attachments.models",
    "server.payments.models",
    "server.fiscal.models",
    "server.customfields.models",
    "server.catalog.models",
]


def _normalize_url(url: str) -> str:
    # Tortoise names the PostgreSQL driver "asyncpg"; users and libpq say "postgres(ql)".
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "asyncpg://" + url[len(prefix) :]
    return url


def tortoise_config(settings: Settings, modules: Iterable[str] = MODEL_MODULES) -> dict:
    return {
        "connections": {"default": _normalize_url(settings.database_url)},
        "apps": {
            "crm": {
                "models": list(modules),
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def _keep_session(_connection) -> None:
    """asyncpg's pool "resets" every connection it takes back: a round trip with
    ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` after each statement
    outside a transaction (6 of the 12 round trips of a planned page). We never change session
    state (no session advisory locks, LISTEN, SET or cursors outside a transaction), so there is
    nothing to reset; asyncpg still rolls back a transaction left open and drops listeners
    before calling this. Whoever adds session state must reset it here."""


def _connections(settings: Settings) -> dict:
    connection = expand_db_url(_normalize_url(settings.database_url))
    if connection["engine"] == "tortoise.backends.asyncpg":
        connection["credentials"]["reset"] = _keep_session  # passed on to asyncpg.create_pool
    elif connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = "server.core.sqlite_engine"  # see there: writers wait their turn
    return {"default": connection}


async def init_db(settings: Settings) -> None:
    config = tortoise_config(settings)
    config["connections"] = _connections(settings)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    if not settings.is_postgres:
        await _unicode_upper_for_sqlite()


def _upper(value):
    return value.upper() if isinstance(value, str) else value


async def _unicode_upper_for_sqlite() -> None:
    """SQLite's UPPER() folds only ASCII, so case-insensitive filters (`contains`) would miss
    "Оплата" when searching "оплата". Tortoise compares UPPER(column) LIKE UPPER(?), so a
    Unicode-aware UPPER makes SQLite search like PostgreSQL does."""
    client = get_connection("default")
    await client.execute_query("SELECT 1")  # opens the connection
    await client._connection.create_function("UPPER", 1, _upper, deterministic=True)


async def close_db() -> None:
    await Tortoise.close_connections()


def migration_names() -> list[str]:
    """The migrations in server/migrations, in the order they apply (their names sort so)."""
    folder = Path(__file__).resolve().parent / "migrations"
    return sorted(p.stem for p in folder.glob("[0-9]*.py"))


async def migrate(settings: Settings, *, snapshot: bool = True) -> None:
    """Apply every migration not yet applied (creates the schema on first run, upgrades an
    existing database after that). Tortoise must be initialised (``init_db``). An empty
    database first gets the schema snapshot of the migrations it covers
    (server/schema_snapshot); ``snapshot=False`` replays every migration instead."""
    connection = get_connection("default")
    if snapshot:
        from server import schema_snapshot  # it imports this module

        await schema_snapshot.load(connection)
    apps = tortoise_config(settings)["apps"]
    await MigrationExecutor(connection, apps).migrate()


# For Tortoise's own CLI, e.g. after changing a model:
#   tortoise -c server.db.TORTOISE_ORM makemigrations
TORTOISE_ORM = tortoise_config(Settings())


async def _postgres_admin(url: str, statement: str) -> None:
    import asyncpg  # only PostgreSQL tools need it

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _libpq_url(url: str) -> str:
    return url.replace("asyncpg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


async def create_scratch_postgres_database(url: str, prefix: str = "crm_scratch") -> str:
    """A new, empty PostgreSQL database on the server of ``url`` (which may name any database
    there; its query, e.g. ``?ssl=require``, is kept); its URL. ``drop_postgres_database``
    removes it. For tests and the snapshot tool."""
    admin = urlsplit(_libpq_url(url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _postgres_admin(admin.geturl(), f'CREATE DATABASE "{name}"')
    return admin._replace(path="/" + name).geturl()


async def drop_postgres_database(url: str, via: str) -> None:
    """Drop the database ``url`` names, whoever still holds connections to it, connected to
    the database ``via`` names (the URL a scratch database was made from)."""
    name = urlsplit(url).path.lstrip("/")
    await _postgres_admin(_libpq_url(via), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def scratch_postgres_database(url: str, prefix: str = "crm_scratch") -> AsyncIterator[str]:
    """``create_scratch_postgres_database``, dropped on the way out."""
    created = await create_scratch_postgres_database(url, prefix)
    try:
        yield created
    finally:
        await drop_postgres_database(created, via=url)
