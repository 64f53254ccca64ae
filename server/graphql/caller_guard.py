# ruff: noqa: S608 - composes statements of our own SQL (caller_sql, sqljson); values are parameters
"""The lean lane's remembered callers, checked by the database in the same statement as the page.

Reading the caller (token, membership, organization, custom role, team) was a round trip of
its own on every request: about a fifth of an order page's CPU in the server. The lane now keeps
the caller it built from that row, with a fingerprint of the row (SHA-256 of its text, computed
by PostgreSQL), and on the next request from the same token sends the page's statement wrapped
in a check: the same caller row is read again *inside* that statement and its fingerprint
compared. Only when it is still exactly the row the remembered caller was built from does the
statement return the page; otherwise it says so (``ok`` false, no page), the lane forgets the
caller, and the stock path answers (a revoked token, a changed role, a member who left: the same answer as
before, at once).

So nothing is trusted from memory: each answer is still vouched for by the database in the
statement that reads it. What is saved is a round trip, not a check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache

from server.auth.principal import Principal
from server.graphql.fastpath.plan import Fallback
from server.graphql.fastpath.sqljson import fetch_row

CALLERS_KEPT = 1024  # tokens remembered per process; a forgotten one costs one more round trip


class StaleCaller(Fallback):
    """The remembered caller is not the one in the database any more."""


@dataclass(frozen=True)
class KnownCaller:
    principal: Principal  # read only: lane requests never change it
    fingerprint: str
    expires_at: datetime


class KnownCallers:
    def __init__(self) -> None:
        self._kept: LRUCache = LRUCache(maxsize=CALLERS_KEPT)

    def get(self, key: tuple, now: datetime) -> KnownCaller | None:
        known = self._kept.get(key)
        if known is not None and known.expires_at <= now:
            self._kept.pop(key, None)
            return None
        return known

    def keep(self, key: tuple, known: KnownCaller) -> None:
        self._kept[key] = known

    def forget(self, key: tuple) -> None:
        self._kept.pop(key, None)


# SHA-256, not md5: nobody should be able to make a changed row look unchanged.
_FINGERPRINT = "encode(sha256(convert_to(x::text, 'UTF8')), 'hex')"


@functools.cache
def fingerprinted(caller_sql: str) -> str:
    """The caller statement with the fingerprint of its row as the column "fp"."""
    return f'SELECT x.*, {_FINGERPRINT} AS "fp" FROM ({caller_sql}) x'


class CallerGuard:
    """One request's check that the remembered caller still holds: put into its first statement
    (``wrap``), or run alone (``verify``) when the request reads nothing with such a statement."""

    def __init__(self, caller_sql, db, token_hash: str, hint: str | None, fingerprint: str):
        self._caller_sql = caller_sql  # (n1, n2) -> the caller statement with $n1 (token), $n2 (slug)
        self._db = db
        self._values = [token_hash, hint, fingerprint]
        self.pending = True  # not yet checked in this request
        self.stale = False

    def wrap(self, sql: str, params: list) -> tuple[str, list]:
        """``sql`` (one row, one column "j") as a statement that answers (ok, j): j only when ok."""
        condition = _condition(self._caller_sql, len(params))
        wrapped = f"SELECT g.ok, CASE WHEN g.ok THEN ({sql}) END AS j FROM ({condition}) g"
        return wrapped, [*params, *self._values]

    def accept(self, ok: bool | None) -> None:
        self.pending = False
        if not ok:
            self.stale = True
            raise StaleCaller("the remembered caller changed")

    async def verify(self) -> None:
        row = await fetch_row(self._db, _condition(self._caller_sql, 0), self._values)
        self.accept(row["ok"] if row is not None else None)


@functools.lru_cache(maxsize=256)  # one per number of parameters the pages before it take
def _condition(caller_sql, offset: int) -> str:
    n = offset + 1
    caller = caller_sql(n, n + 1)
    return f"SELECT count(*) = 1 AND bool_and({_FINGERPRINT} = ${n + 2}::text) AS ok FROM ({caller}) x"
