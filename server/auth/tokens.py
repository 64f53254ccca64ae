"""Opaque bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from server.auth.models import AuthToken, User

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


async def user_for(token: str) -> User | None:
    row = (
        await AuthToken.filter(
            token_hash=hash_token(token),
            revoked_at=None,
            expires_at__gt=datetime.now(UTC),
            user__is_active=True,
        )
        .select_related("user")
        .first()
    )
    return row.user if row else None


async def revoke(token: str) -> bool:
    updated = await AuthToken.filter(token_hash=hash_token(token), revoked_at=None).update(revoked_at=datetime.now(UTC))
    return bool(updated)
