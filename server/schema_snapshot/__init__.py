"""An empty database gets the schema from one script instead of a replay of every migration.

Tortoise (1.1.9) rebuilds every model class of its replayed state after each operation of a
migration, so creating the schema from our 41 migrations took 30 to 45 s of CPU on SQLite and
PostgreSQL alike: before the first `crm serve --demo` answered, in every test process, in
every `crm migrate` of a new install (upstream: tortoise/tortoise-orm#2274, not released).

``postgres.sql`` and ``sqlite.sql`` hold the schema those migrations create, written by
``python -m server.schema_snapshot write`` from a real run of them, with the names of the
migrations they cover in their first line. On an empty database (no table at all) ``load``
runs the script and records those migrations as applied, in one transaction; Tortoise then
applies whatever newer migrations exist the usual way. Anything else (a database with tables,
a snapshot naming a migration that is not in the code, a PostgreSQL schema other than
``public``) leaves the work to the migrations, which stay the source of truth; so does a
snapshot that fails to load (rolled back, logged). ``python -m server.schema_snapshot check``
(run by tests/test_schema_snapshot.py) migrates one database each way and compares them."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db import migration_names

log = logging.getLogger("crm.migrations")

HERE = Path(__file__).resolve().parent
HEADER = "-- crm schema snapshot of migrations:"
APP = "crm"
RECORDER_TABLE = "tortoise_migrations"
_NAME = re.compile(r"^[0-9A-Za-z_]+$")
_LOCK = 7_413_202_612  # pg_advisory_xact_lock key: two processes creating one schema take turns


def path_of(dialect: str, folder: Path = HERE) -> Path:
    return folder / f"{dialect}.sql"


def read(dialect: str, folder: Path = HERE) -> tuple[list[str], str] | None:
    """The migrations a snapshot covers and its SQL; None when there is none."""
    path = path_of(dialect, folder)
    if not path.exists():
        return None
    first, _, sql = path.read_text(encoding="utf-8").partition("\n")
    if not first.startswith(HEADER):
        return None
    return first[len(HEADER) :].split(), sql


def usable(covered: list[str], known: list[str]) -> bool:
    """The snapshot covers the first migrations of the code, in order (the rest are applied after it)."""
    return bool(covered) and known[: len(covered)] == covered and all(_NAME.match(n) for n in covered)


async def load(connection: BaseDBAsyncClient, folder: Path = HERE) -> list[str]:
    """On an empty database: the snapshot's schema, its migrations recorded as applied; the
    names of those migrations, or an empty list when the migrations must do the work."""
    dialect = connection.capabilities.dialect
    if dialect not in ("sqlite", "postgres"):
        return []
    try:
        if await _has_tables(connection):  # every start of an existing install: the file is not read
            return []
    except Exception as exc:  # the migrations will say what is wrong with the database
        log.debug("the schema snapshot was not tried: %s", exc)
        return []
    found = read(dialect, folder)
    if found is None or not usable(found[0], migration_names()):
        return []
    covered, sql = found
    try:
        if dialect == "sqlite":
            await _load_sqlite(connection, covered, sql)
            return covered
        return covered if await _load_postgres(connection, covered, sql) else []
    except Exception as exc:  # the migrations can still do it, only slower
        if dialect == "sqlite" and await _has_tables(connection):
            # Another process created the schema meanwhile (SQLite has no lock to wait on
            # before the check): the migrations find it complete.
            log.debug("the schema snapshot did not load, another process made the schema: %s", exc)
        else:
            log.warning(
                "the schema snapshot did not load (%s: %s); applying the migrations instead", type(exc).__name__, exc
            )
        return []


def _applied_rows(covered: list[str]) -> list[tuple[str, str, datetime]]:
    now = datetime.now(UTC)
    return [(APP, name, now) for name in covered]


async def _has_tables(connection: BaseDBAsyncClient) -> bool:
    """Any table in the database (SQLite) or the current schema (PostgreSQL); the loaders ask
    again inside their transaction, where it counts."""
    if connection.capabilities.dialect == "sqlite":
        sql = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()"
    tables = await connection.execute_query_dict(sql)
    return bool(tables[0]["n"])


async def _load_sqlite(connection: BaseDBAsyncClient, covered: list[str], sql: str) -> None:
    # Emptiness was checked by ``load``; a process that creates the schema meanwhile makes the
    # script fail on its first CREATE, and ``load`` tells that case apart.
    # executescript commits whatever is open first, so the transaction is the script's own.
    inserts = "".join(
        f"INSERT INTO {RECORDER_TABLE} (app, name, applied_at) VALUES ('{app}', '{name}', '{moment}');\n"  # noqa: S608
        for app, name, moment in _applied_rows(covered)  # names checked by usable()
    )
    async with connection.acquire_connection() as raw:
        try:
            await raw.executescript(f"BEGIN IMMEDIATE;\n{sql}\n{inserts}COMMIT;\n")
        except BaseException:
            # Not a ROLLBACK statement: executescript would commit the half-made schema first.
            # Shielded: a cancelled caller must not leave the process's only connection in it.
            await asyncio.shield(raw.rollback())
            raise


async def _load_postgres(connection: BaseDBAsyncClient, covered: list[str], sql: str) -> bool:
    async with in_transaction(connection.connection_name) as tx:
        await tx.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK])
        rows = await tx.execute_query_dict(
            "SELECT current_schema() AS schema, "
            "(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()) AS tables"
        )
        # The script names its tables public.<table>, as pg_dump writes them.
        if rows[0]["schema"] != "public" or rows[0]["tables"]:
            return False
        await tx.execute_script(sql)
        await tx.execute_many(
            f"INSERT INTO public.{RECORDER_TABLE} (app, name, applied_at) VALUES ($1, $2, $3)",  # noqa: S608 - a constant
            [list(row) for row in _applied_rows(covered)],
        )
    return True
