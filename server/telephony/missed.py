"""A missed incoming call becomes a call-back task, once per call.

Whichever telephony plugin reported the call (Binotel, Ringostat, Asterisk...), the task is
written by ``server/plugins/webhooks.apply_call`` in the same transaction as the call's
timeline entry, so there is never one without the other. It is assigned (``actor``) to:

1. the member whose phone extension the call rang (``Membership.phone_extension``), so the
   person who missed it calls back;
2. else the account's owner (who looks after the customer);
3. else nobody: an unassigned open task, in everyone's ``activities(where: {kind: {eq: TASK},
   done: false})`` list.

Providers repeat events and several events may report the same end of a call: the task is
remembered under an idempotency key derived from the installation and the call id, so the
second report finds the first task instead of writing another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.accounts.models import Account
from server.activities.models import Activity
from server.auth.models import Membership
from server.core import idempotency, outbox
from server.i18n import N_, gettext_in
from server.organizations.models import Organization
from server.plugins.types import CallEvent

# Dispositions of an inbound call nobody talked to (a voicemail still needs an answer).
MISSED = frozenset({"no_answer", "busy", "cancelled", "failed", "voicemail"})
CALL_BACK_WITHIN = timedelta(hours=1)
OPERATION = "missedCallTask"


def is_missed(event: CallEvent) -> bool:
    return event.state == "ended" and event.direction == "inbound" and event.disposition in MISSED


async def _assignee(organization_id: UUID, extension: str, account: Account) -> UUID | None:
    if extension:
        user_id = (
            await Membership.filter(organization_id=organization_id, phone_extension=extension, is_active=True)
            .first()
            .values_list("user_id", flat=True)
        )
        if user_id:
            return user_id
    return account.owner_id  # type: ignore[attr-defined]


async def call_back_task(
    organization_id: UUID, call_key: str, event: CallEvent, phone: str, account: Account, call_activity: Activity
) -> tuple[Activity, bool]:
    """The call-back task of a missed call (written now, or found from an earlier report) and
    whether it was written now. Runs inside the caller's transaction."""
    existing = await idempotency.find(organization_id, OPERATION, call_key)
    if existing:
        return await Activity.get(id=existing, organization_id=organization_id), False
    organization = await Organization.get(id=organization_id)
    now = datetime.now(UTC)
    subject = gettext_in(organization.locale, N_("Call back %(phone)s: missed call"), phone=phone)
    task = await Activity.create(
        organization_id=organization_id,
        kind="task",
        account_id=account.id,
        actor_id=await _assignee(organization_id, event.extension, account),
        subject=subject[:300],
        data={
            "missed_call_id": event.call_id,
            "call_activity_id": str(call_activity.id),
            "disposition": event.disposition,
            "extension": event.extension,
        },
        occurred_at=now,
        due_at=now + CALL_BACK_WITHIN,
    )
    await idempotency.remember(organization_id, OPERATION, call_key, task.id)
    await outbox.emit(
        organization_id,
        "activity.created",
        {"activity_id": task.id, "kind": "task", "account_id": account.id, "missed_call_id": event.call_id},
    )
    return task, True
