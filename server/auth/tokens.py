"""Opaque bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from server.auth.models import AuthToken, User
from server.core.prepared import once, placeholder_text

PREFIX = "crm_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(user: User, ttl_hours: int) -> tuple[str, AuthToken]:
    token = PREFIX + secrets.token_urlsafe(32)
    row = await AuthToken.create(
        token_hash=hash_token(token),
        user=user,
        expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
    )
    return token, row


def _user_for_query():
    token_hash = placeholder_text()
    query = AuthToken.filter(token_hash=token_hash, revoked_at=None, user__is_active=True).select_related("user")
    return query.limit(1), [token_hash]


async def user_for(token: str) -> User | None:
    """The active user of a token that is neither revoked nor expired: checked on every request
    (a prepared statement, server/core/prepared.py; nothing about it is cached)."""
    rows = await once("auth.user_for", AuthToken, _user_for_query).fetch(hash_token(token))
    # The expiry is compared here rather than in SQL, where "now" would be a value of the
    # statement; token_hash is unique, so this is the same row as ``expires_at > now`` in SQL.
    if not rows or rows[0].expires_at <= datetime.now(UTC):
        return None
    return rows[0].user


async def revoke(token: str) -> bool:
    updated = await AuthToken.filter(token_hash=hash_token(token), revoked_at=None).update(revoked_at=datetime.now(UTC))
    return bool(updated)
