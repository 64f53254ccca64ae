"""Bulk actions: change status, assign, tag or delete many orders, deals, tickets or accounts.

``start`` checks the request, records a ``BulkJob`` with one ``BulkJobItem`` per target and
queues the job; ``run`` (server/bulk/jobs.py) applies each item through the same service
function as the single change (``ACTIONS``), acting as the person who asked, so permissions,
row scope, field rules, validation, audit, timeline and outbox events are those of one change.

Each item is claimed and applied in one transaction: the item's state moves from ``pending``
to ``succeeded`` together with the change, so a job run again (a retry, a second worker)
skips it. A refusal rolls the change back and records why (code, message, field).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.accounts.models import Account
from server.audit import service as audit
from server.auth.roles import RowScope
from server.auth.scope import Scope
from server.bulk.models import BulkJob, BulkJobItem
from server.core import idempotency
from server.core.errors import ErrorCode, Problems, PublicError, UserInputError, not_found
from server.deals import service as deals
from server.deals.models import Deal
from server.i18n import _, current_locale
from server.jobs.registry import enqueue
from server.orders import service as orders
from server.orders.models import Order
from server.tickets import service as tickets
from server.tickets.models import Ticket

# The most targets one bulk action takes (a selection, or what a filter matches): larger
# changes are split by the caller (docs/bulk.md). Keeps one job within a few minutes.
MAX_ITEMS = 1000
PROGRESS_EVERY = 25  # items between two progress updates of the job row

MODELS: dict[str, type] = {"orders": Order, "deals": Deal, "tickets": Ticket, "accounts": Account}

Apply = Callable[[Scope, UUID, int, dict], Awaitable[object]]


async def _account_tags(scope: Scope, pk: UUID, version: int, params: dict, add: bool) -> object:
    account = await scope.get(Account, pk, "update", field="id")
    tags = set(account.tags)
    tags = tags | set(params["tags"]) if add else tags - set(params["tags"])
    return await accounts.update_account(scope, pk, version, {"tags": sorted(tags)})


def _tags_of(model: type, update: Callable) -> tuple[Apply, Apply]:
    """Add and remove tags of an order, deal or ticket through its update (like accounts)."""

    async def change(scope: Scope, pk: UUID, version: int, params: dict, add: bool) -> object:
        obj = await scope.get(model, pk, "update", field="id")
        tags = set(obj.tags) | set(params["tags"]) if add else set(obj.tags) - set(params["tags"])
        return await update(scope, pk, version, {"tags": sorted(tags)})

    return (
        lambda s, pk, v, p: change(s, pk, v, p, add=True),
        lambda s, pk, v, p: change(s, pk, v, p, add=False),
    )


_ORDER_TAGS = _tags_of(Order, orders.update_order)
_DEAL_TAGS = _tags_of(Deal, deals.update_deal)
_TICKET_TAGS = _tags_of(Ticket, tickets.update_ticket)

# object type -> action -> the single-change service call of one item.
ACTIONS: dict[str, dict[str, Apply]] = {
    "orders": {
        "status": lambda s, pk, v, p: orders.change_status(s, pk, v, p["status"], p.get("reason")),
        "assign": lambda s, pk, v, p: orders.update_order(s, pk, v, {"manager_id": p["user_id"]}),
        "add_tags": _ORDER_TAGS[0],
        "remove_tags": _ORDER_TAGS[1],
        "delete": lambda s, pk, v, p: orders.delete_order(s, pk, v),
    },
    "deals": {
        "status": lambda s, pk, v, p: deals.move_stage(s, pk, v, p["stage_id"], p.get("reason")),
        "assign": lambda s, pk, v, p: deals.update_deal(s, pk, v, {"owner_id": p["user_id"]}),
        "add_tags": _DEAL_TAGS[0],
        "remove_tags": _DEAL_TAGS[1],
        "delete": lambda s, pk, v, p: deals.delete_deal(s, pk, v),
    },
    "tickets": {
        "status": lambda s, pk, v, p: tickets.change_status(s, pk, v, p["status"]),
        "assign": lambda s, pk, v, p: tickets.assign_ticket(s, pk, v, p["user_id"]),
        "add_tags": _TICKET_TAGS[0],
        "remove_tags": _TICKET_TAGS[1],
        "delete": lambda s, pk, v, p: tickets.delete_ticket(s, pk, v),
    },
    "accounts": {
        "assign": lambda s, pk, v, p: accounts.update_account(s, pk, v, {"owner_id": p["user_id"]}),
        "add_tags": lambda s, pk, v, p: _account_tags(s, pk, v, p, add=True),
        "remove_tags": lambda s, pk, v, p: _account_tags(s, pk, v, p, add=False),
        "delete": lambda s, pk, v, p: accounts.delete_account(s, pk, v),
    },
}
# The permission a role needs for the action at all: without it nothing is queued.
NEEDS = {"status": "update", "assign": "update", "add_tags": "update", "remove_tags": "update", "delete": "delete"}


@dataclass
class Target:
    id: UUID
    version: int | None = None


def _check_params(object_type: str, action: str, params: dict, problems: Problems) -> dict:
    """The action's arguments, checked before anything is queued (all problems at once)."""
    out: dict = {}
    if action not in ACTIONS[object_type]:
        problems.add(
            ErrorCode.INVALID,
            _("%(action)s is not a bulk action for %(type)s.", action=action, type=object_type),
            "action",
        )
        return out
    if action == "status":
        if object_type == "deals":
            if params.get("stage_id") is None:
                problems.add(ErrorCode.REQUIRED, _("Give the stage to move the deals to."), "stageId")
            out["stage_id"] = str(params.get("stage_id"))
        else:
            if not params.get("status"):
                problems.add(ErrorCode.REQUIRED, _("Give the status to set."), "status")
            out["status"] = params.get("status")
        if params.get("reason"):
            out["reason"] = str(params["reason"])[:2000]
    elif action == "assign":
        out["user_id"] = str(params["user_id"]) if params.get("user_id") else None
        if out["user_id"] is None and object_type != "tickets":
            problems.add(ErrorCode.REQUIRED, _("Give the member to assign."), "userId")
    elif action in ("add_tags", "remove_tags"):
        tags = sorted({t.strip().lower() for t in params.get("tags") or [] if t and t.strip()})
        if not tags:
            problems.add(ErrorCode.REQUIRED, _("Give at least one tag."), "tags")
        if any(len(t) > 64 for t in tags):
            problems.add(ErrorCode.INVALID, _("A tag is at most 64 characters."), "tags")
        out["tags"] = tags
    return out


async def start(
    scope: Scope,
    object_type: str,
    action: str,
    params: dict,
    targets: list[Target],
    idempotency_key: str | None = None,
) -> BulkJob:
    """Record and queue a bulk job over ``targets`` (a selection, or what a filter matched,
    both already resolved by the caller). Refused whole only for a bad request: each item's own
    problems (row scope, version, transition) are its result."""
    if object_type not in MODELS:
        raise UserInputError(ErrorCode.INVALID, _("Unknown object type."), "objectType")
    model = MODELS[object_type]
    scope.require(f"{model.resource}:read")
    if action in NEEDS:
        scope.require(f"{model.resource}:{NEEDS[action]}")
    if scope.principal.kind != "user":
        # A job acts later as the person who asked (their role read again when it runs);
        # API keys and OAuth apps make their changes one by one.
        raise UserInputError(ErrorCode.FORBIDDEN, _("Bulk actions are started by signed-in members."), "objectType")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    clean = _check_params(object_type, action, params, problems)
    unique = list({t.id: t for t in targets}.values())
    if not unique:
        problems.add(ErrorCode.REQUIRED, _("Select at least one record, or a filter that matches some."), "ids")
    if len(unique) > MAX_ITEMS:
        problems.add(
            ErrorCode.INVALID,
            _(
                "A bulk action takes at most %(max)d records (%(count)d given): narrow the selection.",
                max=MAX_ITEMS,
                count=len(unique),
            ),
            "ids",
        )
    problems.raise_if_any()

    async def create() -> BulkJob:
        job = await BulkJob.create(
            organization_id=scope.organization_id,
            object_type=object_type,
            action=action,
            params=clean,
            total=len(unique),
            requested_by_id=scope.user_id,
            locale=current_locale(),
        )
        await BulkJobItem.bulk_create(
            [
                BulkJobItem(
                    organization_id=scope.organization_id,
                    job_id=job.id,
                    position=i,
                    target_id=t.id,
                    expected_version=t.version,
                )
                for i, t in enumerate(unique)
            ]
        )
        await audit.record(
            scope,
            "bulk.start",
            job,
            {
                "object_type": [None, object_type],
                "action": [None, action],
                "params": [None, clean],
                "total": [None, len(unique)],
            },
        )
        return job

    job = await idempotency.create_once(
        scope.organization_id,
        "bulkAction",
        idempotency_key,
        create,
        lambda pk: BulkJob.get(id=pk, organization_id=scope.organization_id),
        request={
            "object_type": object_type,
            "action": action,
            "params": clean,
            "targets": [[str(t.id), t.version] for t in unique],
        },
    )
    # After the commit: the worker must find the job. The same job id twice queues it once.
    await enqueue("bulk.run", job_id=f"bulk:{job.id}", bulk_job_id=str(job.id))
    return job


# -- running -----------------------------------------------------------------------


class _AlreadyDone(Exception):
    """The item was applied (or refused) by an earlier run: roll back and skip."""


async def _current_version(model: type, organization_id: UUID, pk: UUID) -> int:
    found = await model.filter(organization_id=organization_id, id=pk).values_list("version", flat=True)
    return found[0] if found else 0  # missing: the service call answers NOT_FOUND


async def apply_item(scope: Scope, job: BulkJob, item: BulkJobItem) -> None:
    """Apply one item in one transaction with its result; record a refusal if it is refused."""
    model = MODELS[job.object_type]
    act = ACTIONS[job.object_type][job.action]
    params = dict(job.params)
    for key in ("user_id", "stage_id"):
        if params.get(key):
            params[key] = UUID(params[key])
    try:
        async with in_transaction():
            claimed = await BulkJobItem.filter(id=item.id, state="pending").update(
                state="succeeded", updated_at=datetime.now(UTC)
            )
            if not claimed:
                raise _AlreadyDone
            version = item.expected_version
            if version is None:
                version = await _current_version(model, scope.organization_id, item.target_id)
            await act(scope, item.target_id, version, params)
        item.state = "succeeded"
    except _AlreadyDone:
        return
    except UserInputError as exc:
        await refuse(item, exc.code.value, exc.message, exc.field)
    except PublicError as exc:  # Forbidden: the role may not do this at all (any more)
        await refuse(item, exc.code, str(exc), None)


async def refuse(item: BulkJobItem, code: str, message: str, field: str | None) -> None:
    await BulkJobItem.filter(id=item.id, state="pending").update(
        state="refused", code=code[:32], message=message[:2000], field=(field or None), updated_at=datetime.now(UTC)
    )
    item.state = "refused"


async def count_progress(job: BulkJob) -> None:
    """The job's counters from its items (idempotent: recounted, never incremented)."""
    rows = await BulkJobItem.filter(job_id=job.id).exclude(state="pending").values_list("state", flat=True)
    job.succeeded = sum(1 for s in rows if s == "succeeded")
    job.refused = sum(1 for s in rows if s == "refused")
    await BulkJob.filter(id=job.id).update(succeeded=job.succeeded, refused=job.refused, updated_at=datetime.now(UTC))


def refuse_all_message() -> str:
    return _("You are no longer a member of this organization.")


# -- reading -------------------------------------------------------------------------


def visible_jobs(scope: Scope):
    """The bulk jobs the caller may see: of object types they may read, started by them (own
    row scope), their team (team scope) or anyone (all)."""
    readable = [t for t, m in MODELS.items() if scope.can(f"{m.resource}:read")]
    qs = BulkJob.filter(organization_id=scope.organization_id, object_type__in=readable)
    row_scope = scope.row_scope()
    if row_scope is RowScope.OWN:
        qs = qs.filter(requested_by_id=scope.user_id)
    elif row_scope is RowScope.TEAM:
        qs = qs.filter(requested_by_id__in=scope.principal.team_member_ids)
    return qs


async def get_job(scope: Scope, pk: UUID) -> BulkJob:
    job = await visible_jobs(scope).get_or_none(id=pk)
    if job is None:
        raise not_found("BulkJob", "id")
    return job
