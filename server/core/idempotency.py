"""Creating mutations take an idempotency key: the same key returns the same object.

The key row is written in the creating transaction and is unique per organization and
operation, so two concurrent retries cannot both create: the loser's transaction fails on
the unique index and ``find`` then returns the winner's object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core.errors import ErrorCode, UserInputError
from server.core.models import IdempotencyKey

T = TypeVar("T")

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


async def create_once(
    organization_id: UUID,
    operation: str,
    key: str | None,
    create: Callable[[], Awaitable[T]],
    fetch: Callable[[UUID], Awaitable[T]],
) -> T:
    """Run ``create`` in one transaction and remember its result under ``key``.

    A retry with the same key returns ``fetch(first id)``. When two retries race, both may pass
    the first lookup, but only one can insert the key row: the other transaction rolls back
    whole on the unique index, and then finds and returns the winner's object."""
    key = check_key(key)
    existing = await find(organization_id, operation, key)
    if existing is not None:
        return await fetch(existing)
    try:
        async with in_transaction():
            obj = await create()
            await remember(organization_id, operation, key, obj.id)  # type: ignore[attr-defined]
        return obj
    except IntegrityError:
        existing = await find(organization_id, operation, key)
        if existing is None:
            raise
        return await fetch(existing)
