"""Timeline items. Other domains call ``log`` so every touchpoint lands on the account's
timeline; people add notes, calls, messages and tasks through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.activities.models import Activity
from server.auth.scope import Scope


async def log(
    scope: Scope,
    kind: str,
    *,
    account_id: UUID | None,
    subject: str = "",
    body: str = "",
    data: dict | None = None,
    deal_id: UUID | None = None,
    order_id: UUID | None = None,
    ticket_id: UUID | None = None,
) -> Activity:
    """A system timeline entry, written in the caller's transaction (no permission check:
    the calling service already checked the write that caused it)."""
    return await Activity.create(
        organization_id=scope.organization_id,
        kind=kind,
        account_id=account_id,
        deal_id=deal_id,
        order_id=order_id,
        ticket_id=ticket_id,
        actor_id=scope.user_id,
        subject=subject[:300],
        body=body,
        data=data or {},
        occurred_at=datetime.now(UTC),
    )
