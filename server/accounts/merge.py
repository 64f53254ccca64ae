"""What moves when two accounts merge: each domain's rows that point at an account."""

from __future__ import annotations

from uuid import UUID

from server.accounts.models import Contact
from server.activities.models import Activity
from server.deals.models import Deal
from server.orders.models import Order
from server.tickets.models import Ticket


def _mover(model):
    async def move(organization_id: UUID, from_id: UUID, to_id: UUID) -> int:
        return await model.filter(organization_id=organization_id, account_id=from_id).update(account_id=to_id)

    return move


MOVERS = {
    "contacts": _mover(Contact),
    "deals": _mover(Deal),
    "orders": _mover(Order),
    "tickets": _mover(Ticket),
    "activities": _mover(Activity),
}
