"""Automatic persisted queries (APQ), version 1, as Apollo Client, urql and graphql-request speak it.

A client sends ``extensions.persistedQuery.sha256Hash`` instead of the document. Unknown hash:
``PersistedQueryNotFound`` (HTTP 200, so clients retry), and the client sends the document with
its hash, which is checked and stored. Errors follow Apollo Server 4 word for word, because the
clients match on them; they are protocol tokens, not texts for people, so not translated.

Store: Redis when REDIS_URL is set, otherwise the ``persisted_query`` table, so every API
process (and machine) sees a document registered through any of them; a bounded LRU in each
process saves the round trip for the hot ones."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cachetools import LRUCache
from graphql import GraphQLError, parse
from redis.exceptions import RedisError
from tortoise.exceptions import IntegrityError

from server.config import Settings
from server.graphql.models import PersistedQuery

log = logging.getLogger("crm.graphql")

NOT_FOUND = "PersistedQueryNotFound"
REDIS_PREFIX = "apq:"


class PersistedQueryError(Exception):
    """Answered as ``{"errors": [{message, extensions: {code}}]}`` with ``status``."""

    def __init__(self, message: str, code: str, status: int):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status

    def body(self) -> dict:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def _bad_request(message: str) -> PersistedQueryError:
    return PersistedQueryError(message, "BAD_REQUEST", 400)


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.local: LRUCache[str, str] = LRUCache(maxsize=max(settings.persisted_queries_cache_size, 1))
        self._redis = None

    @property
    def redis(self):
        if self._redis is None and self.settings.redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self.settings.redis_url)
        return self._redis

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=self.settings.persisted_query_days)

    # -- the store -------------------------------------------------------------------------
    async def get(self, digest: str) -> str | None:
        query = self.local.get(digest)
        if query is not None:
            return query
        if self.redis is not None:
            try:
                raw = await self.redis.get(f"{self.settings.rate_limit_namespace}:{REDIS_PREFIX}{digest}")
            except (OSError, RedisError) as exc:  # a miss: the client sends the document again
                log.warning("persisted queries: Redis unavailable (%s)", exc)
                return None
            query = raw.decode() if raw is not None else None
        else:
            row = await PersistedQuery.get_or_none(sha256=digest)
            query = row.query if row is not None and row.created_at > datetime.now(UTC) - self.ttl else None
        if query is not None:
            self.local[digest] = query
        return query

    async def put(self, digest: str, query: str) -> None:
        self.local[digest] = query
        if self.redis is not None:
            key = f"{self.settings.rate_limit_namespace}:{REDIS_PREFIX}{digest}"
            try:
                await self.redis.set(key, query, ex=self.ttl)
            except (OSError, RedisError) as exc:
                log.warning("persisted queries: Redis unavailable (%s)", exc)
            return
        try:
            await PersistedQuery.create(sha256=digest, query=query)
        except IntegrityError:
            # Registered meanwhile (by another process), or an expired row: start its time again.
            await PersistedQuery.filter(sha256=digest).update(query=query, created_at=datetime.now(UTC))

    # -- the protocol ----------------------------------------------------------------------
    async def resolve(self, data, *, may_register: bool = True):
        """The request with its document filled in from the store (or stored from it).
        ``may_register``: whether this caller may add documents (signed-in callers only, so an
        anonymous client cannot fill the store; anyone may run what is registered)."""
        if isinstance(data, list):
            return [await self.resolve(item, may_register=may_register) for item in data]
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            return data
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise _bad_request("Unsupported persisted query version")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise _bad_request("persistedQuery.sha256Hash must be the 64-character hex SHA-256 of the query")
        digest = digest.lower()
        if data.query is None:
            query = await self.get(digest)
            if query is None:
                raise PersistedQueryError(NOT_FOUND, "PERSISTED_QUERY_NOT_FOUND", 200)
            return replace(data, query=query)
        if not hmac.compare_digest(sha256(data.query), digest):
            raise _bad_request("provided sha does not match query")
        if (
            may_register
            and len(data.query) <= self.settings.persisted_query_max_chars
            and self.local.get(digest) != data.query
            and _parses(data.query)
        ):
            await self.put(digest, data.query)
        return data


def _parses(query: str) -> bool:
    """Only documents that are GraphQL are kept (the request's own validation still runs)."""
    try:
        parse(query)
    except GraphQLError:
        return False
    return True


async def forget_expired(settings: Settings, now: datetime | None = None) -> int:
    """Delete the database's expired documents (Redis expires its own)."""
    now = now or datetime.now(UTC)
    return await PersistedQuery.filter(created_at__lt=now - timedelta(days=settings.persisted_query_days)).delete()
