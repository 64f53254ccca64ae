"""Tortoise's SQLite backend, with transactions that take the write lock when they begin.

Tortoise opens a transaction with a plain (deferred) ``BEGIN``. In WAL mode such a transaction
reads from a snapshot, and if another process commits before its first write, that write
fails at once with "database is locked": SQLite cannot move the stale snapshot forward and
does not wait (the busy timeout does not apply). Two ``crm serve`` processes and a
``crm worker`` sharing one SQLite file hit this whenever a mutation reads before it writes.
``BEGIN IMMEDIATE`` takes the write lock up front, so writers queue on the busy timeout
instead of failing. Reads outside transactions are unaffected."""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

# Milliseconds a writer waits for another process's transaction; an API request or a job
# rather waits than fails with "database is locked" on a busy machine.
BUSY_TIMEOUT_MS = 30_000


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs) -> None:
        super().__init__(file_path, **kwargs)
        self.pragmas.setdefault("busy_timeout", BUSY_TIMEOUT_MS)

    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
