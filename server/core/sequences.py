from __future__ import annotations

from uuid import UUID

from tortoise.expressions import F

from server.core.models import Sequence


async def next_value(organization_id: UUID, name: str) -> int:
    """The next human number (order 1, 2, 3...) for an organization, gap-free per commit.

    The UPDATE takes the row lock, so concurrent transactions queue here instead of
    reading the same value. Call it inside the creating transaction."""
    updated = await Sequence.filter(organization_id=organization_id, name=name).update(value=F("value") + 1)
    if not updated:
        await Sequence.get_or_create(organization_id=organization_id, name=name, defaults={"value": 0})
        await Sequence.filter(organization_id=organization_id, name=name).update(value=F("value") + 1)
    row = await Sequence.get(organization_id=organization_id, name=name)
    return row.value
