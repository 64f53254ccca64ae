"""Creating mutations take an idempotency key: the same key returns the same object.

The same key with different input is a client bug (a key reused for a new object): it gets
``IDEMPOTENCY_MISMATCH`` instead of silently returning the first object. The input is compared
by a SHA-256 of its canonical JSON, stored with the key.

The key row is written in the creating transaction and is unique per organization and
operation, so two concurrent retries cannot both create: the loser's transaction fails on
the unique index and ``find`` then returns the winner's object."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core.errors import ErrorCode, UserInputError
from server.core.models import IdempotencyKey
from server.core.serialize import jsonable
from server.i18n import _

T = TypeVar("T")

MAX_KEY_LENGTH = 128


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise UserInputError(
            ErrorCode.INVALID, _("Idempotency key must be 1 to %(n)s characters.", n=MAX_KEY_LENGTH), "idempotencyKey"
        )
    return key


def request_hash(request: Any) -> str | None:
    """A stable digest of a mutation's input (None when the caller passes none)."""
    if request is None:
        return None
    canonical = json.dumps(jsonable(request), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find(organization_id: UUID, operation: str, key: str | None, request: Any = None) -> UUID | None:
    """The object first created with ``key``; ``IDEMPOTENCY_MISMATCH`` if ``request`` differs
    from the input that created it."""
    if key is None:
        return None
    row = await IdempotencyKey.get_or_none(organization_id=organization_id, operation=operation, key=key)
    if row is None:
        return None
    digest = request_hash(request)
    if digest is not None and row.request_hash is not None and digest != row.request_hash:
        raise UserInputError(
            ErrorCode.IDEMPOTENCY_MISMATCH,
            _("This idempotency key was already used with different input. Use a new key for a new object."),
            "idempotencyKey",
        )
    return row.entity_id


async def remember(
    organization_id: UUID, operation: str, key: str | None, entity_id: UUID, request: Any = None
) -> None:
    if key is not None:
        await IdempotencyKey.create(
            organization_id=organization_id,
            operation=operation,
            key=key,
            entity_id=entity_id,
            request_hash=request_hash(request),
        )


async def create_once(
    organization_id: UUID,
    operation: str,
    key: str | None,
    create: Callable[[], Awaitable[T]],
    fetch: Callable[[UUID], Awaitable[T]],
    request: Any = None,
) -> T:
    """Run ``create`` in one transaction and remember its result under ``key`` (with a
    digest of ``request``, the mutation's input, to refuse the key's reuse for other input).

    A retry with the same key returns ``fetch(first id)``. When two retries race, both may pass
    the first lookup, but only one can insert the key row: the other transaction rolls back
    whole on the unique index, and then finds and returns the winner's object."""
    key = check_key(key)
    request = jsonable(request)  # a copy: ``create`` may change the caller's dicts
    existing = await find(organization_id, operation, key, request)
    if existing is not None:
        return await fetch(existing)
    try:
        async with in_transaction():
            obj = await create()
            await remember(organization_id, operation, key, obj.id, request)  # type: ignore[attr-defined]
        return obj
    except IntegrityError:
        existing = await find(organization_id, operation, key, request)
        if existing is None:
            raise
        return await fetch(existing)
