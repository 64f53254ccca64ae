"""Tortoise's SQLite backend, with transactions that take the write lock when they begin.

Tortoise opens a transaction with a plain (deferred) ``BEGIN``. In WAL mode such a transaction
reads from a snapshot, and if another process commits before its first write, that write
fails at once with "database is locked": SQLite cannot move the stale snapshot forward and
does not wait (the busy timeout does not apply). Two ``crm serve`` processes and a
``crm worker`` sharing one SQLite file hit this whenever a mutation reads before it writes.
``BEGIN IMMEDIATE`` takes the write lock up front, so writers queue on the busy timeout
instead of failing. Reads outside transactions are unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

# Milliseconds a writer waits for another process's transaction; an API request or a job
# rather waits than fails with "database is locked" on a busy machine.
BUSY_TIMEOUT_MS = 30_000


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            # Waiting for the write lock may time out, or its caller be cancelled (a job's time
            # limit): the statement may still complete in aiosqlite's thread. A rollback queued
            # behind it leaves no transaction open to lock the other processes out.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._connection.rollback())
            if isinstance(exc, sqlite3.OperationalError):
                raise TransactionManagementError(exc) from exc
            raise


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        # Tortoise's keeps the connection's lock when BEGIN fails, and every later query of the
        # process would wait for it forever: a BEGIN that can wait can also fail.
        await self._trxlock.acquire()
        token = None
        try:
            await self.ensure_connection()
            token = get_connections().set(self.connection_name, self.connection)
            await self.connection.begin()
        except BaseException:
            get_connections().reset(token)
            self._trxlock.release()
            raise
        self.token = token
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs) -> None:
        super().__init__(file_path, **kwargs)
        self.pragmas.setdefault("busy_timeout", BUSY_TIMEOUT_MS)

    def _in_transaction(self) -> SqliteTransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
