"""What moves when two accounts or two contacts merge: each domain's rows that point at them.

A new domain whose rows point at an account or a contact adds its mover here, so a merge can
never leave them behind. Conversations belong to the account (a contact has none of its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.accounts.models import Contact
from server.activities.models import Activity
from server.conversations.models import Conversation
from server.deals.models import Deal
from server.orders.models import Order
from server.tickets.models import Ticket


def _mover(model, column: str = "account_id"):
    async def move(organization_id: UUID, from_id: UUID, to_id: UUID) -> int:
        # A bulk UPDATE skips auto_now: bump updated_at so a syncing client sees the move.
        moved = model.filter(organization_id=organization_id, **{column: from_id})
        return await moved.update(**{column: to_id, "updated_at": datetime.now(UTC)})

    return move


MOVERS = {
    "contacts": _mover(Contact),
    "deals": _mover(Deal),
    "orders": _mover(Order),
    "tickets": _mover(Ticket),
    "activities": _mover(Activity),
    "conversations": _mover(Conversation),
}

# The timeline (activities) belongs to the account, which both contacts share: nothing to move.
CONTACT_MOVERS = {
    "deals": _mover(Deal, "contact_id"),
    "tickets": _mover(Ticket, "contact_id"),
}
