"""Write or check the schema snapshots (server/schema_snapshot/__init__.py says why they exist).

    python -m server.schema_snapshot write [--postgres URL]   # after adding a migration
    python -m server.schema_snapshot check [--postgres URL]   # what tests/test_schema_snapshot.py runs

``write`` creates a new SQLite file (and, with ``--postgres``, a new database on that server),
applies every migration to it and writes ``sqlite.sql`` (``postgres.sql``). ``check`` creates
two new databases per dialect, one through every migration and one as ``crm migrate`` does
(the snapshot, then any newer migration), and compares their schemas; it prints the
differences and exits with 1 when they differ. ``--postgres`` takes a URL of a database to
connect to while creating and dropping the temporary ones (``pg_dump`` must be installed);
``--folder`` reads and writes the snapshots somewhere else."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from server import schema_snapshot
from server.config import Settings
from server.db import (
    close_db,
    create_scratch_postgres_database,
    drop_postgres_database,
    init_db,
    migrate,
    migration_names,
)


async def _migrate(url: str, *, snapshot: bool, folder: Path) -> list[str]:
    """Migrate a new database; the migrations the snapshot created (with ``snapshot``)."""
    settings = Settings(database_url=url)
    await init_db(settings)
    try:
        loaded = []
        if snapshot:
            from tortoise.connection import get_connection

            loaded = await schema_snapshot.load(get_connection("default"), folder)
            if not loaded:  # it did not load: nothing of it to compare
                return loaded
        await migrate(settings, snapshot=False)  # whatever the snapshot did not cover
        return loaded
    finally:
        await close_db()


def _applied(url: str) -> list[str]:
    async def read() -> list[str]:
        connection = await asyncpg.connect(url)
        try:
            return [r["name"] for r in await connection.fetch("SELECT name FROM tortoise_migrations ORDER BY id")]
        finally:
            await connection.close()

    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return [name for (name,) in db.execute("SELECT name FROM tortoise_migrations ORDER BY id")]
    return asyncio.run(read())


# -- SQLite -------------------------------------------------------------------------------------

_SQLITE_ORDER = {"table": 0, "index": 1, "trigger": 2, "view": 3}


def sqlite_schema(path: Path) -> str:
    """Every CREATE statement of the database (not SQLite's own tables, nor the tables a
    virtual table makes for itself), tables first; the script ``load`` runs."""
    with sqlite3.connect(path) as db:
        own = {name for (name,) in db.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'")}
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        filled = [
            name
            for (name,) in db.execute("SELECT name FROM pragma_table_list WHERE type = 'table' AND schema = 'main'")
            if name != schema_snapshot.RECORDER_TABLE
            and not name.startswith("sqlite_")
            and name not in own
            and db.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone()  # noqa: S608 - names from the catalog
        ]
    if filled:  # a migration that inserts rows: the snapshot would miss them
        raise SystemExit(f"tables with rows after migrating, which a schema snapshot cannot carry: {filled}")
    kept = [
        (type_, name, sql)
        for type_, name, sql in rows
        if not name.startswith("sqlite_") and name not in own and type_ in _SQLITE_ORDER
    ]
    kept.sort(key=lambda r: (_SQLITE_ORDER[r[0]], r[2].startswith("CREATE VIRTUAL"), r[1]))
    return "".join(f"{sql};\n" for _, _, sql in kept)


@contextmanager
def _sqlite_database() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="crm-snapshot-") as folder:
        path = Path(folder) / f"{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite://{path}", path


# -- PostgreSQL ---------------------------------------------------------------------------------

_SET = re.compile(r"^SET (\w+) = .*;$")
_SEARCH_PATH = "SELECT pg_catalog.set_config('search_path', '', false);"
# Of the session settings pg_dump starts with, those that matter to the script; newer pg_dump
# versions add others (transaction_timeout) that older servers refuse.
_KEPT_SETTINGS = {"statement_timeout", "lock_timeout", "client_min_messages", "check_function_bodies"}


def postgres_script(dump: str) -> str:
    """``pg_dump``'s output as a script for one transaction on a pooled connection: its
    one-line ``SET`` and ``search_path`` statements made local to the transaction, psql's
    commands and the extension's comment (only its owner may set it) left out."""
    lines = []
    preamble = True  # before the first CREATE
    for line in dump.splitlines():
        preamble = preamble and not line.startswith("CREATE")
        if line.startswith(("\\", "COMMENT ON EXTENSION")) or (preamble and line.startswith("-- Dumped")):
            continue
        if setting := _SET.match(line):
            if preamble and setting.group(1) not in _KEPT_SETTINGS:
                continue
            line = "SET LOCAL " + line.removeprefix("SET ")
        elif line == _SEARCH_PATH:
            line = _SEARCH_PATH.replace("false", "true")
        lines.append(line)
    return "\n".join(lines) + "\n"


def postgres_schema(url: str) -> str:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise SystemExit("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    flags = ["--schema-only", "--no-owner", "--no-privileges", "--no-tablespaces", "--no-publications"]
    dump = subprocess.run([pg_dump, *flags, url], check=True, capture_output=True, text=True).stdout  # noqa: S603
    return postgres_script(dump)


@contextmanager
def _postgres_database(admin_url: str) -> Iterator[tuple[str, str]]:
    url = asyncio.run(create_scratch_postgres_database(admin_url, "crm_snapshot"))
    try:
        yield url, url
    finally:
        asyncio.run(drop_postgres_database(url, via=admin_url))


# -- write and check ----------------------------------------------------------------------------


def _dialects(postgres: str | None):
    yield "sqlite", _sqlite_database, sqlite_schema
    if postgres:
        yield "postgres", lambda: _postgres_database(postgres), postgres_schema


def write(folder: Path, postgres: str | None) -> None:
    for dialect, database, schema in _dialects(postgres):
        with database() as (url, where):
            asyncio.run(_migrate(url, snapshot=False, folder=folder))
            applied = _applied(url)
            if applied != migration_names():
                raise SystemExit(f"{dialect}: the migrations applied {applied}, the code has {migration_names()}")
            text = f"{schema_snapshot.HEADER} {' '.join(applied)}\n{schema(where)}"
        schema_snapshot.path_of(dialect, folder).write_text(text, encoding="utf-8")
        print(f"wrote {schema_snapshot.path_of(dialect, folder)} ({len(applied)} migrations)")


def check(folder: Path, postgres: str | None) -> int:
    failed = 0
    for dialect, database, schema in _dialects(postgres):
        ok = True
        found = schema_snapshot.read(dialect, folder)
        covered = found[0] if found else []
        if covered != migration_names():
            print(
                f"{dialect}: the snapshot covers {len(covered)} of {len(migration_names())} migrations; "
                "run: python -m server.schema_snapshot write --postgres <url>"
            )
            ok = False
        with database() as (url, where):
            made = asyncio.run(_migrate(url, snapshot=True, folder=folder))
            if made != covered or not covered:
                print(f"{dialect}: the snapshot did not load (the log above says why)")
                failed = 1
                continue
            loaded, got = _applied(url), schema(where)
        with database() as (url, where):
            asyncio.run(_migrate(url, snapshot=False, folder=folder))
            migrated, expected = _applied(url), schema(where)
        if loaded != migrated:
            print(f"{dialect}: recorded as applied {loaded}, the migrations record {migrated}")
            ok = False
        if got != expected:
            diff = difflib.unified_diff(expected.splitlines(), got.splitlines(), "migrations", "snapshot", lineterm="")
            print(f"{dialect}: the schemas differ\n" + "\n".join(diff))
            ok = False
        failed |= not ok
        if ok:
            print(f"{dialect}: the snapshot's schema equals the migrations' ({len(migrated)} migrations)")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.schema_snapshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("--postgres", metavar="URL", help="also PostgreSQL, on the server of this database URL")
    parser.add_argument("--folder", type=Path, default=schema_snapshot.HERE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.action == "write":
        write(args.folder, args.postgres)
        return 0
    return check(args.folder, args.postgres)


if __name__ == "__main__":
    sys.exit(main())
