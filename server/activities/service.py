"""Timeline items. Other domains call ``log`` so every touchpoint lands on the account's
timeline; people add notes, calls, messages and tasks through the API.

Manual kinds (``MANUAL_KINDS``) are written, edited and deleted by people. System kinds
(``SYSTEM_KINDS``) are history written by other services through ``log``: nobody edits or
deletes them. Every change writes its audit entry and its outbox event in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.activities.models import MANUAL_KINDS, SYSTEM_KINDS, Activity
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.serialize import snapshot
from server.core.text import limited_text
from server.core.versioning import update_versioned
from server.deals.models import Deal
from server.i18n import N_, _
from server.orders.models import Order
from server.tickets.models import Ticket

SUBJECT_MAX = 300
BODY_MAX = 20_000
DATA_MAX_BYTES = 16_384
ACTIVITY_FIELDS = [
    "kind",
    "account_id",
    "deal_id",
    "order_id",
    "ticket_id",
    "subject",
    "body",
    "data",
    "occurred_at",
    "due_at",
    "done_at",
]
# Records an activity may be about: input key -> (model, input field name).
LINKS = {"deal_id": (Deal, "dealId"), "order_id": (Order, "orderId"), "ticket_id": (Ticket, "ticketId")}
BELONGS_ELSEWHERE = {
    "Deal": N_("This deal belongs to another account."),
    "Order": N_("This order belongs to another account."),
    "Ticket": N_("This ticket belongs to another account."),
}


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


# -- validation ----------------------------------------------------------------------


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise UserInputError(
            ErrorCode.INVALID,
            _("%(field)s needs a time zone, e.g. 2025-05-01T10:00:00+03:00 or ...Z.", field=field),
            field,
        )
    return value.astimezone(UTC)


def _clean_data(value) -> dict:
    data = value if value is not None else {}
    if not isinstance(data, dict):
        raise UserInputError(ErrorCode.INVALID, _("data must be a JSON object."), "data")
    if len(json.dumps(data, ensure_ascii=False).encode()) > DATA_MAX_BYTES:
        raise UserInputError(
            ErrorCode.INVALID, _("data is larger than %(data_max_bytes)s bytes.", data_max_bytes=DATA_MAX_BYTES), "data"
        )
    return data


def _clean(data: dict, kind: str, problems: Problems) -> dict:
    """Values to store from the fields the caller sent (create: all of them, update: some);
    every invalid field goes to ``problems``."""
    values: dict = {}
    with problems:
        if "subject" in data:
            values["subject"] = limited_text(data["subject"], "subject", SUBJECT_MAX) or ""
    with problems:
        if "body" in data:
            values["body"] = limited_text(data["body"], "body", BODY_MAX) or ""
    with problems:
        if "occurred_at" in data:
            if data["occurred_at"] is None:
                raise UserInputError(ErrorCode.REQUIRED, _("occurredAt cannot be cleared."), "occurredAt")
            values["occurred_at"] = _utc(data["occurred_at"], "occurredAt")
    with problems:
        if "due_at" in data:
            if data["due_at"] is not None and kind != "task":
                raise UserInputError(ErrorCode.INVALID, _("Only tasks have a due date."), "dueAt")
            values["due_at"] = _utc(data["due_at"], "dueAt")
    with problems:
        if "data" in data:
            values["data"] = _clean_data(data["data"])
    return values


def _check_content(kind: str, subject: str, body: str, problems: Problems) -> None:
    if problems.has("subject") or problems.has("body"):
        return  # already said what is wrong with them
    if kind == "task" and not subject:
        problems.add(ErrorCode.REQUIRED, _("A task needs a subject: what is to be done."), "subject")
    elif not subject and not body:
        problems.add(ErrorCode.REQUIRED, _("Give a subject or a body."), "subject")


def _check_manual(activity: Activity, doing: str) -> None:
    if activity.kind not in MANUAL_KINDS:
        # "edited" or "deleted": whole sentences, so each reads right in every language.
        message = (
            N_("A %(kind)s entry is history written by the system; it cannot be edited.")
            if doing == "edited"
            else N_("A %(kind)s entry is history written by the system; it cannot be deleted.")
        )
        raise UserInputError(ErrorCode.FORBIDDEN, _(message, kind=activity.kind), "id")


async def _resolve_links(scope: Scope, data: dict) -> dict:
    """The account and the deal/order/ticket an activity is about, each visible to the caller.

    Linked records must belong to the activity's account. Without ``account_id`` the
    account is taken from the linked records; a timeline item always has an account."""
    account_id = data.get("account_id")
    if account_id is not None:
        account_id = (await scope.get(Account, account_id, field="accountId")).id
    links: dict = {}
    for key, (model, field) in LINKS.items():
        pk = data.get(key)
        if pk is None:
            continue
        if not scope.can(f"{model.resource}:read"):
            raise UserInputError(
                ErrorCode.FORBIDDEN, _("Your role may not see %(resource)s.", resource=model.resource), field
            )
        row = await scope.get(model, pk, field=field)
        row_account = row.account_id
        if account_id is None and row_account is not None:
            # The first linked record decides; the next ones are checked against it.
            account_id = (await scope.get(Account, row_account, field=field)).id
        elif row_account is not None and row_account != account_id:
            raise UserInputError(ErrorCode.INVALID, _(BELONGS_ELSEWHERE[model.__name__]), field)
        links[key] = row.id
    if account_id is None:
        raise UserInputError(
            ErrorCode.REQUIRED, _("Give accountId (or a deal, order or ticket of an account)."), "accountId"
        )
    return {"account_id": account_id, **links}


# -- writes --------------------------------------------------------------------------


async def create_activity(scope: Scope, data: dict, idempotency_key: str | None = None) -> Activity:
    """A manual timeline item: a note, call, SMS, e-mail, message or task."""
    scope.require("activities:create")
    problems = Problems()
    key = None
    with problems:
        key = idempotency.check_key(idempotency_key)
    kind = data.get("kind")
    if kind in SYSTEM_KINDS:
        problems.add(
            ErrorCode.INVALID,
            _("%(kind)s entries are written by the system, not through createActivity.", kind=kind),
            "kind",
        )
    elif kind not in MANUAL_KINDS:
        problems.add(
            ErrorCode.INVALID, _("kind must be one of: %(manual_kinds)s.", manual_kinds=", ".join(MANUAL_KINDS)), "kind"
        )
    values = _clean({**data, "occurred_at": data.get("occurred_at") or datetime.now(UTC)}, kind, problems)
    values.setdefault("subject", "")
    values.setdefault("body", "")
    values.setdefault("data", {})
    _check_content(kind, values["subject"], values["body"], problems)
    problems.raise_if_any()
    async with in_transaction():
        existing = await idempotency.find(scope.organization_id, "createActivity", key, data)
        if existing:
            return await scope.get(Activity, existing)
        links = await _resolve_links(scope, data)
        activity = await Activity.create(
            organization_id=scope.organization_id, kind=kind, actor_id=scope.user_id, **links, **values
        )
        await idempotency.remember(scope.organization_id, "createActivity", key, activity.id, data)
        await audit.record(
            scope,
            "activity.create",
            activity,
            {k: [None, v] for k, v in snapshot(activity, ACTIVITY_FIELDS).items() if v not in (None, "", {})},
        )
        await outbox.emit(
            scope.organization_id,
            "activity.created",
            {"activity_id": activity.id, "kind": kind, "account_id": activity.account_id},
        )
    return activity


async def update_activity(scope: Scope, activity_id: UUID, version: int, data: dict) -> Activity:
    """Change the text, times or details of a manual item (system entries are history)."""
    async with in_transaction():
        activity = await scope.get(Activity, activity_id, "update", field="id")
        _check_manual(activity, "edited")
        problems = Problems()
        values = _clean(data, activity.kind, problems)
        _check_content(
            activity.kind, values.get("subject", activity.subject), values.get("body", activity.body), problems
        )
        problems.raise_if_any()
        changes = await update_versioned(activity, version, values)
        if changes:
            await audit.record(scope, "activity.update", activity, changes)
            await outbox.emit(
                scope.organization_id,
                "activity.updated",
                {"activity_id": activity.id, "kind": activity.kind, "fields": sorted(changes)},
            )
    return activity


async def _set_done(scope: Scope, activity_id: UUID, version: int, done: bool) -> Activity:
    async with in_transaction():
        activity = await scope.get(Activity, activity_id, "update", field="id")
        if activity.kind != "task":
            raise UserInputError(ErrorCode.INVALID, _("Only tasks can be completed or reopened."), "id")
        if (activity.done_at is not None) == done:
            raise UserInputError(
                ErrorCode.FORBIDDEN_TRANSITION,
                "The task is already completed." if done else "The task is not completed.",
                "id",
            )
        changes = await update_versioned(activity, version, {"done_at": datetime.now(UTC) if done else None})
        action, topic = ("activity.complete", "task.completed") if done else ("activity.reopen", "task.reopened")
        await audit.record(scope, action, activity, changes)
        await outbox.emit(
            scope.organization_id,
            topic,
            {"activity_id": activity.id, "account_id": activity.account_id, "done_at": activity.done_at},
        )
    return activity


async def complete_task(scope: Scope, activity_id: UUID, version: int) -> Activity:
    return await _set_done(scope, activity_id, version, True)


async def reopen_task(scope: Scope, activity_id: UUID, version: int) -> Activity:
    return await _set_done(scope, activity_id, version, False)


async def delete_activity(scope: Scope, activity_id: UUID, version: int) -> Activity:
    """Delete a manual item for good; its audit entry keeps what it said."""
    async with in_transaction():
        activity = await scope.get(Activity, activity_id, "delete", field="id")
        _check_manual(activity, "deleted")
        if activity.version != version or not await Activity.filter(id=activity.id, version=version).delete():
            raise version_conflict()
        await audit.record(
            scope,
            "activity.delete",
            activity,
            {k: [v, None] for k, v in snapshot(activity, ACTIVITY_FIELDS).items() if v not in (None, "", {})},
        )
        await outbox.emit(
            scope.organization_id,
            "activity.deleted",
            {"activity_id": activity.id, "kind": activity.kind, "account_id": activity.account_id},
        )
    return activity
