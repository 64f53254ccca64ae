"""Two processes writing to one SQLite file (two `crm serve` and a `crm worker` do): a
transaction that reads, then writes after another process committed, must wait its turn
rather than fail with "database is locked"; and a transaction that gives up waiting (busy
timeout, or its job cancelled) must leave neither this process nor the others locked.

The other process is a second sqlite3 connection to the file. The client under test is built
directly, so these tests run (on their own file) whatever database the suite uses."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise.exceptions import TransactionManagementError

from server.config import Settings
from server.core import sqlite_engine
from server.core.sqlite_engine import ImmediateSqliteClient
from server.db import _connections


@pytest.fixture
async def client(database, tmp_path):
    """A client of the CRM's SQLite engine on a fresh file with a counter table; ``database``
    only provides the Tortoise context transactions register in."""
    made = ImmediateSqliteClient(str(tmp_path / "shared.sqlite3"), connection_name="writers", busy_timeout=300)
    await made.create_connection(with_db=True)
    await made.execute_script("CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER);")
    await made.execute_query("INSERT INTO counter VALUES ('orders', 0), ('calls', 0)")
    yield made
    await made.close()


def _other_process(client) -> sqlite3.Connection:
    return sqlite3.connect(client.filename, timeout=10, isolation_level=None)


async def _counters(client) -> dict[str, int]:
    _, rows = await client.execute_query("SELECT name, value FROM counter ORDER BY name")
    return {row["name"]: row["value"] for row in rows}


def test_the_crm_uses_this_engine_for_sqlite_urls():
    assert _connections(Settings(database_url="sqlite://crm.sqlite3"))["default"]["engine"] == sqlite_engine.__name__
    assert sqlite_engine.client_class is ImmediateSqliteClient


async def test_a_transaction_that_reads_then_writes_survives_another_processes_commit(client):
    def other_process_commits() -> None:
        # It waits (busy timeout) for the transaction below instead of slipping a commit in
        # under its snapshot, which would make the transaction's write fail.
        other = _other_process(client)
        other.execute("UPDATE counter SET value = value + 1 WHERE name = 'calls'")
        other.close()

    async with client._in_transaction() as transaction:
        _, rows = await transaction.execute_query("SELECT value FROM counter WHERE name = 'orders'")
        other = asyncio.create_task(asyncio.to_thread(other_process_commits))
        await asyncio.sleep(0.3)  # the other process tries to commit now
        await transaction.execute_query("UPDATE counter SET value = ? WHERE name = 'orders'", [rows[0]["value"] + 1])
    await other
    assert await _counters(client) == {"calls": 1, "orders": 1}


async def test_a_transaction_that_cannot_get_the_lock_fails_and_leaves_nothing_locked(client):
    other = _other_process(client)
    other.execute("BEGIN IMMEDIATE")  # the other process holds the write lock
    with pytest.raises(TransactionManagementError):
        async with client._in_transaction():
            pass
    other.execute("ROLLBACK")
    # This process goes on (its connection's lock was released) and so does the other one.
    async with asyncio.timeout(5):
        async with client._in_transaction() as transaction:
            await transaction.execute_query("UPDATE counter SET value = 5 WHERE name = 'orders'")
    other.execute("UPDATE counter SET value = 7 WHERE name = 'calls'")
    other.close()
    assert await _counters(client) == {"calls": 7, "orders": 5}


async def test_a_transaction_cancelled_while_waiting_leaves_nothing_locked(client):
    client.pragmas["busy_timeout"] = 2000
    await client.execute_query("PRAGMA busy_timeout=2000")
    other = _other_process(client)
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with client._in_transaction() as transaction:
            await transaction.execute_query("UPDATE counter SET value = 1 WHERE name = 'orders'")

    waiting = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    waiting.cancel()  # a job's time limit, a lost lease
    with pytest.raises(asyncio.CancelledError):
        await waiting
    other.execute("ROLLBACK")
    await asyncio.sleep(0.3)  # the abandoned BEGIN may complete now; its rollback follows it
    # The other process can write (nothing was left open here), and so can this one.
    checker = sqlite3.connect(client.filename, timeout=0.5, isolation_level=None)
    checker.execute("UPDATE counter SET value = 3 WHERE name = 'calls'")
    checker.close()
    other.close()
    async with asyncio.timeout(5):
        async with client._in_transaction() as transaction:
            await transaction.execute_query("UPDATE counter SET value = 2 WHERE name = 'orders'")
    assert await _counters(client) == {"calls": 3, "orders": 2}
