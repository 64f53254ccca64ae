"""An empty database gets its schema from the snapshot (server/schema_snapshot): the same
schema, recorded migrations and all, as replaying every migration gives."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from server import schema_snapshot
from server.db import migration_names, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "server.schema_snapshot", "check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _admin_url(settings) -> str | None:
    # The session's temporary database is on the server to create the check's databases on.
    return settings.database_url if settings.is_postgres else None


def test_the_snapshots_cover_every_migration_in_order():
    for dialect in ("sqlite", "postgres"):
        covered, sql = schema_snapshot.read(dialect)
        assert covered == migration_names(), f"run: python -m server.schema_snapshot write --postgres <url> ({dialect})"
        assert sql.count("CREATE TABLE") >= 100


def test_a_new_database_from_the_snapshot_equals_one_from_every_migration(settings):
    postgres = _admin_url(settings)
    done = _check(*(["--postgres", postgres] if postgres else []))
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout.splitlines()
    expected = [f"sqlite: the snapshot's schema equals the migrations' ({len(migration_names())} migrations)"]
    if postgres:
        expected.append(f"postgres: the snapshot's schema equals the migrations' ({len(migration_names())} migrations)")
    assert said == expected


def test_a_snapshot_missing_an_index_is_caught(tmp_path: Path):
    for file in schema_snapshot.HERE.glob("*.sql"):
        shutil.copy(file, tmp_path / file.name)
    sqlite = tmp_path / "sqlite.sql"
    text = sqlite.read_text(encoding="utf-8")
    index = next(line for line in text.splitlines() if line.startswith('CREATE INDEX "idx_notificati'))
    sqlite.write_text(text.replace(index + "\n", ""), encoding="utf-8")

    done = _check("--folder", str(tmp_path))

    assert done.returncode == 1
    assert "sqlite: the schemas differ" in done.stdout
    assert f"\n-{index}\n" in done.stdout  # the migrations made it, the snapshot did not


def test_only_a_snapshot_of_the_first_migrations_in_order_is_used():
    known = migration_names()
    assert schema_snapshot.usable(known, known)
    assert schema_snapshot.usable(known[:-1], known)  # the newer ones are applied after it
    assert not schema_snapshot.usable(known[1:], known)
    assert not schema_snapshot.usable([*known, "0999_not_in_the_code"], known)
    assert not schema_snapshot.usable([], known)
    assert not schema_snapshot.usable(["0001_x'); DROP TABLE account; --"], ["0001_x'); DROP TABLE account; --"])


LOAD_TWICE = """
import asyncio, sys
from pathlib import Path
from tortoise.connection import get_connection
from server import schema_snapshot
from server.config import Settings
from server.db import close_db, init_db

async def main(url, broken):
    await init_db(Settings(database_url=url))
    client = get_connection("default")
    count = (
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'" if url.startswith("postgres")
        else "SELECT count(*) AS n FROM sqlite_master"
    )
    print(len(await schema_snapshot.load(client, Path(broken))), (await client.execute_query_dict(count))[0]["n"])
    print(len(await schema_snapshot.load(client)), (await client.execute_query_dict(count))[0]["n"] >= 100)
    await close_db()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_snapshot_that_fails_halfway_leaves_the_database_empty_for_the_migrations(settings, tmp_path):
    for file in schema_snapshot.HERE.glob("*.sql"):  # a typo after every statement of each
        (tmp_path / file.name).write_text(
            file.read_text(encoding="utf-8") + "CREATE TRIGGERX oops;\n", encoding="utf-8"
        )

    async def load_twice(url: str) -> subprocess.CompletedProcess:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", LOAD_TWICE, url, str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    if settings.is_postgres:
        async with scratch_postgres_database(settings.database_url, "crm_empty") as url:
            done = await load_twice(url)
    else:
        done = await load_twice(f"sqlite://{tmp_path / 'new.sqlite3'}")
    assert done.returncode == 0, done.stderr
    # The broken one loaded nothing and left nothing behind; the real one then loaded.
    assert done.stdout.splitlines() == ["0 0", f"{len(migration_names())} True"]
    assert "the schema snapshot did not load" in done.stderr and "TRIGGERX" in done.stderr


def test_a_snapshot_that_does_not_load_fails_the_check(tmp_path: Path):
    # load() falls back to the migrations quietly; the check must not.
    for file in schema_snapshot.HERE.glob("*.sql"):
        (tmp_path / file.name).write_text(
            file.read_text(encoding="utf-8") + "CREATE TRIGGERX oops;\n", encoding="utf-8"
        )

    done = _check("--folder", str(tmp_path))

    assert done.returncode == 1
    assert done.stdout.splitlines() == ["sqlite: the snapshot did not load (the log above says why)"]
    assert "TRIGGERX" in done.stderr
