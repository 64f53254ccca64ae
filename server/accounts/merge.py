"""What moves when two accounts merge: each domain's rows that point at an account."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.accounts.models import Contact
from server.activities.models import Activity
from server.deals.models import Deal
from server.orders.models import Order
from server.tickets.models import Ticket


def _mover(model):
    async def move(organization_id: UUID, from_id: UUID, to_id: UUID) -> int:
        # A bulk UPDATE skips auto_now: bump updated_at so a syncing client sees the move.
        moved = model.filter(organization_id=organization_id, account_id=from_id)
        return await moved.update(account_id=to_id, updated_at=datetime.now(UTC))

    return move


MOVERS = {
    "contacts": _mover(Contact),
    "deals": _mover(Deal),
    "orders": _mover(Order),
    "tickets": _mover(Ticket),
    "activities": _mover(Activity),
}
