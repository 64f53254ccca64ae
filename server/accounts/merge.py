"""What moves when two accounts or two contacts merge: each domain's rows that point at them.

A new domain whose rows point at an account or a contact adds its mover here, so a merge can
never leave them behind. Conversations belong to the account (a contact has none of its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.accounts.models import Contact
from server.activities.models import Activity
from server.campaigns.models import CustomerMarketing
from server.conversations.models import Conversation
from server.deals.models import Deal
from server.email.models import EmailUnsubscribeLink
from server.notifications.models import ChannelConsent
from server.orders.models import Order
from server.tickets.models import Ticket


def _mover(model, column: str = "account_id"):
    async def move(organization_id: UUID, from_id: UUID, to_id: UUID) -> int:
        # A bulk UPDATE skips auto_now: bump updated_at so a syncing client sees the move.
        moved = model.filter(organization_id=organization_id, **{column: from_id})
        return await moved.update(**{column: to_id, "updated_at": datetime.now(UTC)})

    return move


async def _move_consents(organization_id: UUID, from_id: UUID, to_id: UUID) -> int:
    """The customer's choices follow the merge (an unsubscribe link in an old message then still
    reaches them). Where both accounts chose, "no" wins: an opt-out is never lost to a merge."""
    now = datetime.now(UTC)
    moved = 0
    kept = {c.channel: c for c in await ChannelConsent.filter(organization_id=organization_id, account_id=to_id)}
    for consent in await ChannelConsent.filter(organization_id=organization_id, account_id=from_id):
        mine = kept.get(consent.channel)
        if mine is None:
            moved += await ChannelConsent.filter(id=consent.id).update(account_id=to_id, updated_at=now)
            continue
        if not consent.opted_in and mine.opted_in:
            await ChannelConsent.filter(id=mine.id).update(opted_in=False, updated_at=now)
        await ChannelConsent.filter(id=consent.id).delete()
    theirs = await CustomerMarketing.get_or_none(organization_id=organization_id, account_id=from_id)
    if theirs is not None:
        mine = await CustomerMarketing.get_or_none(organization_id=organization_id, account_id=to_id)
        if mine is None:
            moved += await CustomerMarketing.filter(id=theirs.id).update(account_id=to_id, updated_at=now)
        elif theirs.opted_in is False and mine.opted_in is not False:
            await CustomerMarketing.filter(id=mine.id).update(
                opted_in=False, consent_changed_at=theirs.consent_changed_at, updated_at=now
            )
    return moved


MOVERS = {
    "contacts": _mover(Contact),
    "deals": _mover(Deal),
    "orders": _mover(Order),
    "tickets": _mover(Ticket),
    "activities": _mover(Activity),
    "conversations": _mover(Conversation),
    "consents": _move_consents,
    "email_unsubscribe_links": _mover(EmailUnsubscribeLink),
}

# The timeline (activities) belongs to the account, which both contacts share: nothing to move.
CONTACT_MOVERS = {
    "deals": _mover(Deal, "contact_id"),
    "tickets": _mover(Ticket, "contact_id"),
}
