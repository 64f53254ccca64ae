"""Creating mutations take an idempotency key: the same key returns the same object.

The key row is written in the creating transaction and is unique per organization and
operation, so two concurrent retries cannot both create: the loser's transaction fails on
the unique index and ``find`` then returns the winner's object."""

from __future__ import annotations

from uuid import UUID

from server.core.errors import ErrorCode, UserInputError
from server.core.models import IdempotencyKey

MAX_KEY_LENGTH = 128


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise UserInputError(
            ErrorCode.INVALID, f"Idempotency key must be 1 to {MAX_KEY_LENGTH} characters.", "idempotencyKey"
        )
    return key


async def find(organization_id: UUID, operation: str, key: str | None) -> UUID | None:
    if key is None:
        return None
    row = await IdempotencyKey.get_or_none(organization_id=organization_id, operation=operation, key=key)
    return row.entity_id if row else None


async def remember(organization_id: UUID, operation: str, key: str | None, entity_id: UUID) -> None:
    if key is not None:
        await IdempotencyKey.create(organization_id=organization_id, operation=operation, key=key, entity_id=entity_id)
