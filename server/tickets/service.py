"""Support tickets: numbering, SLA due dates, the status machine, assignment and comments.

Every change writes its audit entry and its outbox event (and, for tickets of an account, its
timeline item) in the same transaction as the change itself.

SLA clock: due dates are wall-clock minutes after the ticket was created, taken from the
organization's policy for the ticket's priority (``SlaPolicy``; a missing row falls back to
``DEFAULT_SLA``). Changing the priority recomputes them from ``created_at``; changing a policy
applies to tickets created or re-prioritized afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.models import Account, Contact
from server.activities import service as activities
from server.audit import service as audit
from server.auth.roles import RowScope
from server.auth.scope import Scope
from server.core import idempotency, outbox, sequences
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.serialize import snapshot
from server.core.text import limited_text, one_of, required_text
from server.core.versioning import update_versioned
from server.customfields import service as customfields
from server.i18n import _
from server.organizations.defaults import SLA as DEFAULT_SLA
from server.search import index as search_index
from server.tickets.models import CHANNELS, PRIORITIES, STATUSES, SlaPolicy, Ticket, TicketComment

SUBJECT_MAX = 300
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
SLA_MAX_MINUTES = 365 * 24 * 60

TICKET_FIELDS = [
    "number",
    "subject",
    "description",
    "channel",
    "priority",
    "status",
    "account_id",
    "contact_id",
    "assignee_id",
    "first_response_due_at",
    "resolution_due_at",
    "tags",
]

# Where a ticket may go from each status. RESOLVED and CLOSED count as done: entering one of
# them from a status that is not done sets ``resolved_at``; going back to OPEN (reopening)
# clears it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "pending", "resolved", "closed"),
    "open": ("pending", "resolved", "closed"),
    "pending": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}
DONE = ("resolved", "closed")


# -- SLA -------------------------------------------------------------------------------


async def sla_minutes(organization_id: UUID, priority: str) -> tuple[int, int]:
    """(first response, resolution) minutes for a priority: the policy, or the default."""
    row = await SlaPolicy.get_or_none(organization_id=organization_id, priority=priority)
    if row is not None:
        return row.first_response_minutes, row.resolution_minutes
    return DEFAULT_SLA[priority]


async def _due_dates(organization_id: UUID, priority: str, created_at: datetime) -> dict:
    first, resolution = await sla_minutes(organization_id, priority)
    return {
        "first_response_due_at": created_at + timedelta(minutes=first),
        "resolution_due_at": created_at + timedelta(minutes=resolution),
    }


def sla_breached(ticket: Ticket, now: datetime) -> bool:
    """A target is missed when it is overdue now, or was met late.

    The first-response clock stops at the first public staff reply, or at resolution when
    the ticket was resolved without one. The resolution clock stops at resolution."""
    done_at = ticket.resolved_at
    if ticket.first_response_due_at is not None:
        responded = ticket.first_response_at or done_at or now
        if responded > ticket.first_response_due_at:
            return True
    if ticket.resolution_due_at is not None:
        if (done_at or now) > ticket.resolution_due_at:
            return True
    return False


async def list_sla_policies(scope: Scope) -> list[SlaPolicy]:
    """The SLA targets per priority (urgent first). Everyone who works tickets may read them,
    though only ``settings:write`` may change them."""
    scope.require("tickets:read")
    rows = {p.priority: p for p in await SlaPolicy.filter(organization_id=scope.organization_id)}
    out = []
    for priority in reversed(PRIORITIES):
        row = rows.get(priority)
        if row is None:
            first, resolution = DEFAULT_SLA[priority]
            row = SlaPolicy(
                organization_id=scope.organization_id,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )
        out.append(row)
    return out


def _check_minutes(value: int, field: str) -> int:
    if not 1 <= value <= SLA_MAX_MINUTES:
        raise UserInputError(
            ErrorCode.INVALID,
            _(
                "%(field)s must be between 1 and %(sla_max_minutes)s minutes.",
                field=field,
                sla_max_minutes=SLA_MAX_MINUTES,
            ),
            field,
        )
    return value


async def update_sla_policy(
    scope: Scope, priority: str, first_response_minutes: int, resolution_minutes: int
) -> SlaPolicy:
    """Set the targets of one priority (owners and admins). Existing tickets keep their due dates."""
    scope.require("settings:write")
    priority = one_of(priority, PRIORITIES, "priority")
    first = _check_minutes(first_response_minutes, "firstResponseMinutes")
    resolution = _check_minutes(resolution_minutes, "resolutionMinutes")
    if first > resolution:
        raise UserInputError(
            ErrorCode.INVALID, _("The first response cannot be due after the resolution."), "firstResponseMinutes"
        )
    async with in_transaction():
        policy = await scope.queryset(SlaPolicy, "write").get_or_none(priority=priority)
        if policy is None:
            policy = await SlaPolicy.create(
                organization_id=scope.organization_id,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )
            changes = {"first_response_minutes": [None, first], "resolution_minutes": [None, resolution]}
        else:
            before = snapshot(policy, ["first_response_minutes", "resolution_minutes"])
            policy.first_response_minutes, policy.resolution_minutes = first, resolution
            await policy.save(update_fields=["first_response_minutes", "resolution_minutes", "updated_at"])
            after = snapshot(policy, ["first_response_minutes", "resolution_minutes"])
            changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if changes:
            await audit.record(scope, "sla_policy.update", policy, {"priority": [priority, priority], **changes})
            await outbox.emit(
                scope.organization_id,
                "sla_policy.updated",
                {"priority": priority, "first_response_minutes": first, "resolution_minutes": resolution},
            )
    return policy


# -- validation ----------------------------------------------------------------------


def _clean(data: dict, problems: Problems) -> dict:
    """The values to store; every invalid field goes to ``problems``."""
    values: dict = {}
    with problems:
        if "subject" in data:
            values["subject"] = required_text(data["subject"], "subject", SUBJECT_MAX)
    with problems:
        if "description" in data:
            values["description"] = limited_text(data["description"], "description", DESCRIPTION_MAX) or ""
    for name, allowed in (("channel", CHANNELS), ("priority", PRIORITIES)):
        if name not in data:
            continue
        if data[name] is None:
            problems.add(ErrorCode.REQUIRED, _("%(name)s cannot be cleared.", name=name), name)
        else:
            with problems:
                values[name] = one_of(data[name], allowed, name)
    if data.get("tags") is not None:
        values["tags"] = customfields.clean_tags(data["tags"], problems)
    return values


async def _links(scope: Scope, data: dict, ticket: Ticket | None = None) -> dict:
    """The account and contact after this write, each visible to the caller.

    The contact must be a person at the ticket's account. Giving only a contact takes the
    account from it."""
    values: dict = {}
    account_given = "account_id" in data
    if not account_given and "contact_id" not in data:
        return values
    account_id = data.get("account_id") if account_given else (ticket.account_id if ticket else None)
    if account_given and account_id is not None:
        account_id = (await scope.get(Account, account_id, field="accountId")).id
    if account_given:
        values["account_id"] = account_id
    contact_given = "contact_id" in data
    contact_id = data.get("contact_id") if contact_given else (ticket.contact_id if ticket else None)
    if contact_id is None:
        if contact_given:
            values["contact_id"] = None
        return values
    if contact_given:
        contact = await scope.get(Contact, contact_id, field="contactId")
        contact_account = contact.account_id
        values["contact_id"] = contact.id
    else:
        # The existing contact stays: it must still belong to the (new) account.
        contact_account = await Contact.filter(id=contact_id).first().values_list("account_id", flat=True)
    if account_id is None and not account_given:
        values["account_id"] = (await scope.get(Account, contact_account, field="contactId")).id
    elif contact_account != account_id:
        raise UserInputError(
            ErrorCode.INVALID,
            "The contact belongs to another account; change or clear contactId too."
            if not contact_given
            else "The contact does not belong to the ticket's account.",
            "contactId",
        )
    return values


async def _check_assignee(scope: Scope, assignee_id: UUID | None) -> None:
    from server.auth.service import is_member  # the auth domain owns memberships

    if assignee_id is not None and not await is_member(scope.organization_id, assignee_id, "tickets:read"):
        raise UserInputError(
            ErrorCode.NOT_FOUND, _("Assignee is not an active member who works on tickets."), "assigneeId"
        )
    scope.check_owner(assignee_id, "assigneeId")


async def _timeline(scope: Scope, kind: str, ticket: Ticket, subject: str, data: dict, body: str = "") -> None:
    if ticket.account_id is not None:
        await activities.log(
            scope, kind, account_id=ticket.account_id, ticket_id=ticket.id, subject=subject, body=body, data=data
        )


# -- writes --------------------------------------------------------------------------


async def create_ticket(
    scope: Scope,
    data: dict,
    idempotency_key: str | None = None,
    *,
    status: str = "new",
    created_at: datetime | None = None,
) -> Ticket:
    """A NEW ticket with the next number and the due dates of its priority's SLA.

    ``status`` and ``created_at``: an imported ticket keeps the status and date it had in the
    system it comes from (a resolved or closed one is resolved at its creation time).

    Without ``assignee_id`` it waits unassigned in the queue, except for callers who see only
    their team's or their own tickets: it is theirs, so they still see it."""
    scope.require("tickets:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values = {"channel": "web", "priority": "normal", "description": "", **_clean(data, problems)}
    if "subject" not in data:
        problems.add(ErrorCode.REQUIRED, _("subject is required."), "subject")
    if "assignee_id" in data:
        assignee_id = data["assignee_id"]
    else:
        assignee_id = None if scope.row_scope() is RowScope.ALL else scope.user_id
    with problems:
        await _check_assignee(scope, assignee_id)
    typed = await customfields.clean(scope, "ticket", data, problems, creating=True)
    problems.raise_if_any()

    async def create() -> Ticket:
        links = await _links(scope, data)
        now = created_at or datetime.now(UTC)
        ticket = await Ticket.create(
            organization_id=scope.organization_id,
            number=await sequences.next_value(scope.organization_id, "ticket"),
            status=status,
            resolved_at=now if status in DONE else None,
            assignee_id=assignee_id,
            created_at=now,
            **links,
            **values,
            **await _due_dates(scope.organization_id, values["priority"], now),
        )
        await customfields.sync_tags(ticket, "ticket")
        typed_changes = await customfields.save(typed, ticket.id)
        await search_index.index(ticket)
        await _timeline(
            scope,
            "ticket",
            ticket,
            f"Ticket #{ticket.number}: {ticket.subject}",
            {"number": ticket.number, "priority": ticket.priority, "channel": ticket.channel},
        )
        await audit.record(
            scope,
            "ticket.create",
            ticket,
            {**{k: [None, v] for k, v in snapshot(ticket, TICKET_FIELDS).items()}, **typed_changes},
        )
        await outbox.emit(
            scope.organization_id,
            "ticket.created",
            {
                "ticket_id": ticket.id,
                "number": ticket.number,
                "priority": ticket.priority,
                "channel": ticket.channel,
                "account_id": ticket.account_id,
                "assignee_id": ticket.assignee_id,
            },
        )
        return ticket

    return await idempotency.create_once(
        scope.organization_id, "createTicket", idempotency_key, create, lambda pk: scope.get(Ticket, pk), request=data
    )


async def update_ticket(scope: Scope, ticket_id: UUID, version: int, data: dict) -> Ticket:
    """Change subject, description, channel, priority (due dates follow) or account/contact."""
    scope.require("tickets:update")  # before validating: a read-only role learns nothing from its input
    problems = Problems()
    values = _clean(data, problems)
    typed = await customfields.clean(scope, "ticket", data, problems, creating=False)
    problems.raise_if_any()
    extra = [k for k in ("account_id", "contact_id") if k in data]
    extra += ["custom_field_values"] if data.get("custom_field_values") is not None else []
    scope.check_writable("tickets", [*values, *extra])
    async with in_transaction():
        ticket = await scope.get(Ticket, ticket_id, "update", field="id")
        if ticket.version != version:
            raise version_conflict()
        values.update(await _links(scope, data, ticket))
        if values.get("priority", ticket.priority) != ticket.priority:
            values.update(await _due_dates(scope.organization_id, values["priority"], ticket.created_at))
        changes = await update_versioned(ticket, version, values)
        if "tags" in changes:
            await customfields.sync_tags(ticket, "ticket")
        changes.update(await customfields.save(typed, ticket.id))
        if "subject" in changes:
            await search_index.index(ticket)
        if changes:
            await audit.record(scope, "ticket.update", ticket, changes)
            await outbox.emit(
                scope.organization_id, "ticket.updated", {"ticket_id": ticket.id, "fields": sorted(changes)}
            )
    return ticket


async def _move(scope: Scope, ticket: Ticket, target: str, extra: dict | None = None, reason: str = "") -> dict:
    """Apply a status change the caller already checked; returns the audit diff."""
    current = ticket.status
    values = {"status": target, **(extra or {})}
    if target in DONE and current not in DONE:
        values["resolved_at"] = datetime.now(UTC)
    elif target not in DONE and current in DONE:
        values["resolved_at"] = None
    changes = await update_versioned(ticket, ticket.version, values)
    await _timeline(
        scope,
        "status_change",
        ticket,
        f"Ticket #{ticket.number}: {current} → {target}",
        {"from": current, "to": target},
        body=reason,
    )
    await outbox.emit(
        scope.organization_id,
        "ticket.status_changed",
        {"ticket_id": ticket.id, "number": ticket.number, "from": current, "to": target},
    )
    return changes


async def change_status(scope: Scope, ticket_id: UUID, version: int, status: str) -> Ticket:
    """Move a ticket along ``TRANSITIONS``; anything else is a FORBIDDEN_TRANSITION."""
    scope.require("tickets:update")
    target = one_of(status, STATUSES, "status")
    async with in_transaction():
        ticket = await scope.get(Ticket, ticket_id, "update", field="id")
        if ticket.version != version:
            raise version_conflict()
        if target not in TRANSITIONS[ticket.status]:
            allowed = ", ".join(TRANSITIONS[ticket.status])
            raise UserInputError(
                ErrorCode.FORBIDDEN_TRANSITION,
                _(
                    "A ticket cannot go from '%(status)s' to '%(target)s' (allowed: %(allowed)s).",
                    status=ticket.status,
                    target=target,
                    allowed=allowed,
                ),
                "status",
            )
        changes = await _move(scope, ticket, target)
        await audit.record(scope, "ticket.status", ticket, changes)
    return ticket


async def assign_ticket(scope: Scope, ticket_id: UUID, version: int, assignee_id: UUID | None) -> Ticket:
    """Give the ticket to an active member within the caller's row scope, or to nobody."""
    scope.require("tickets:update")
    await _check_assignee(scope, assignee_id)
    async with in_transaction():
        ticket = await scope.get(Ticket, ticket_id, "update", field="id")
        previous = ticket.assignee_id
        changes = await update_versioned(ticket, version, {"assignee_id": assignee_id})
        await audit.record(scope, "ticket.assign", ticket, changes)
        await outbox.emit(
            scope.organization_id,
            "ticket.assigned",
            {"ticket_id": ticket.id, "number": ticket.number, "from": previous, "to": assignee_id},
        )
    return ticket


async def comment_on_ticket(scope: Scope, ticket_id: UUID, body: str, is_public: bool) -> tuple[TicketComment, Ticket]:
    """Add a reply (public: meant for the customer) or an internal note.

    The first public reply by a member is the ticket's first response: it sets
    ``first_response_at`` and moves a NEW ticket to OPEN."""
    scope.require("tickets:update")
    body = required_text(body, "body", COMMENT_MAX)
    async with in_transaction():
        ticket = await scope.get(Ticket, ticket_id, "update", field="ticketId", for_update=True)
        comment = await TicketComment.create(
            organization_id=scope.organization_id,
            ticket_id=ticket.id,
            author_id=scope.user_id,
            body=body,
            is_public=is_public,
        )
        changes: dict = {}
        if is_public and scope.user_id is not None and ticket.first_response_at is None:
            first_response = {"first_response_at": comment.created_at}
            if ticket.status == "new":
                changes = await _move(scope, ticket, "open", first_response)
            else:
                changes = await update_versioned(ticket, ticket.version, first_response)
        else:
            # Still activity on the ticket: the queue sorted by updatedAt shows it.
            await Ticket.filter(id=ticket.id).update(updated_at=comment.created_at)
            ticket.updated_at = comment.created_at
        await audit.record(
            scope,
            "ticket.comment",
            ticket,
            {**changes, "comment": [None, {"id": comment.id, "is_public": is_public, "body": body}]},
        )
        payload = {"ticket_id": ticket.id, "number": ticket.number, "comment_id": comment.id, "is_public": is_public}
        if is_public:
            payload["body"] = body  # a public reply may be relayed to the customer
        await outbox.emit(scope.organization_id, "ticket.commented", payload)
    return comment, ticket


async def delete_ticket(scope: Scope, ticket_id: UUID, version: int) -> UUID:
    """Delete a ticket and its comments for good; the audit entry keeps what it was."""
    scope.require("tickets:delete")
    async with in_transaction():
        ticket = await scope.get(Ticket, ticket_id, "delete", field="id")
        if ticket.version != version or not await Ticket.filter(id=ticket.id, version=version).delete():
            raise version_conflict()
        await search_index.unindex(scope.organization_id, "ticket", [ticket.id])
        await customfields.delete_values("ticket", [ticket.id])
        await audit.record(
            scope, "ticket.delete", ticket, {k: [v, None] for k, v in snapshot(ticket, TICKET_FIELDS).items()}
        )
        await outbox.emit(scope.organization_id, "ticket.deleted", {"ticket_id": ticket.id, "number": ticket.number})
    return ticket.id
