"""Two processes writing to one SQLite file (two `crm serve` and a `crm worker` do): a
transaction that reads, then writes after another process committed, must wait its turn
rather than fail with "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3

from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from server.config import Settings
from server.db import _connections, tortoise_config


async def test_a_transaction_that_reads_then_writes_survives_another_processes_commit(tmp_path):
    path = tmp_path / "shared.sqlite3"
    settings = Settings(database_url=f"sqlite://{path}")
    async with TortoiseContext() as context:
        await context.init(config={"connections": _connections(settings), "apps": tortoise_config(settings)["apps"]})
        await _read_then_write_while_another_process_commits(context.connections.get("default"), path)


async def _read_then_write_while_another_process_commits(client, path) -> None:
    await client.execute_script("CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER);")
    await client.execute_query("INSERT INTO counter VALUES ('orders', 0), ('calls', 0)")

    def other_process_commits() -> None:
        # A separate connection stands in for the other process: it waits (busy timeout) for
        # the transaction below instead of slipping a commit in under its snapshot.
        other = sqlite3.connect(path, timeout=10, isolation_level=None)
        other.execute("UPDATE counter SET value = value + 1 WHERE name = 'calls'")
        other.close()

    try:
        async with in_transaction("default") as transaction:
            _, rows = await transaction.execute_query("SELECT value FROM counter WHERE name = 'orders'")
            other = asyncio.create_task(asyncio.to_thread(other_process_commits))
            await asyncio.sleep(0.3)  # the other process tries to commit now
            await transaction.execute_query(
                "UPDATE counter SET value = ? WHERE name = 'orders'", [rows[0]["value"] + 1]
            )
        await other
        _, rows = await client.execute_query("SELECT name, value FROM counter ORDER BY name")
        assert {row["name"]: row["value"] for row in rows} == {"calls": 1, "orders": 1}
    finally:
        await client.close()
