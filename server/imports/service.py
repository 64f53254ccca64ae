"""Imports: a file is checked and stored in one transaction with its outbox event; a background
job then reads it row by row through the usual services (acting as the member who started it,
with their rights as they are when it runs), and an import can be undone as a batch.
See docs/import-export.md."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.accounts.models import Account
from server.analytics import figures
from server.audit import service as audit
from server.auth import principal as principals
from server.auth.models import User
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import ErrorCode, Forbidden, Problems, PublicError, UserInputError, not_found, problems_of
from server.deals import service as deals
from server.deals.models import Deal
from server.i18n import _
from server.imports import mapping as mappings
from server.imports import reading, rows
from server.imports.models import ImportBatch, ImportRecord
from server.orders import service as orders
from server.orders.models import Order, OrderStatus
from server.tickets import service as tickets
from server.tickets.models import Ticket

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = reading.MAX_ROWS
MAX_PROBLEMS = 1_000  # kept per batch; the counts cover them all
PROGRESS_EVERY = 100  # accounts or orders per transaction (and progress write)
SLICE_SECONDS = 60  # one job's share of a big file, well inside the worker's job time limit
REQUESTED, UNDO_REQUESTED = "import.requested", "import.undo_requested"


async def start(
    scope: Scope,
    *,
    kind: str,
    file_name: str,
    content: bytes,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    queue: bool = True,
) -> ImportBatch:
    """Check the file and its mapping (every problem at once) and queue the import (``queue=False``:
    the caller runs it, as ``crm import`` does)."""
    scope.require("data:import")
    if kind in CREATE_RIGHT:
        scope.require(CREATE_RIGHT[kind])
    if scope.user_id is None:  # the job acts as a member, with their rights when it runs
        raise Forbidden(_("Only a member can import (not an API key or a partner's app)."))
    problems = Problems()
    fmt = header = data = chosen = None
    if len(content) > MAX_FILE_BYTES:
        problems.add(
            ErrorCode.INVALID, _("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // 1024 // 1024), "file"
        )
    with problems:
        fmt = reading.file_format(file_name)
    if fmt and not problems:
        with problems:
            # Parsing a large file takes a while: off the event loop, so other requests go on.
            header, data = await asyncio.to_thread(reading.read_table, content, fmt)
    if header is not None:
        with problems:
            chosen = mappings.resolve(kind, header, preset, mapping)
        if len(data) > MAX_ROWS:
            problems.add(ErrorCode.INVALID, _("A file may have at most %(n)s rows.", n=MAX_ROWS), "file")
    problems.raise_if_any()
    async with in_transaction():
        batch = await ImportBatch.create(
            organization_id=scope.organization_id,
            kind=kind,
            system=preset or "spreadsheet",
            file_name=file_name[:255],
            file_format=fmt,
            content=content,
            mapping=chosen,
            dry_run=dry_run,
            rows_total=len(data),
            requested_by_id=scope.user_id,
        )
        await audit.record(
            scope, "import.start", batch, {"kind": [None, kind], "file": [None, file_name], "dryRun": [None, dry_run]}
        )
        if queue:
            await outbox.emit(scope.organization_id, REQUESTED, {"batch_id": batch.id, "start_at": 0})
    return batch


async def member_scope(batch: ImportBatch, user_id: UUID | None = None) -> Scope:
    """The scope of the member who started the batch (or ``user_id``: who asked for its undo), as
    it is now (a member who left, or lost the right, stops their import)."""
    await batch.fetch_related("organization")
    user_id = user_id or batch.requested_by_id
    user = await User.get_or_none(id=user_id, is_active=True) if user_id else None
    if user is None:
        raise Forbidden(_("The member who started this import is no longer active."))
    scope = Scope(await principals.for_user(user, batch.organization.slug))
    scope.require("data:import")
    return scope


def _row_key(values: dict[str, list[str]]) -> str:
    # A row without the source system's id is known by its content: the same row imported twice
    # is found again, a different one is not.
    return "sha256:" + hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# The file parsed by the last slice: the next slice usually runs in the same worker, and
# reading 100,000 rows again each minute would cost seconds. One entry, so memory stays bounded.
_parsed: dict[UUID, list[tuple[int, str, list[dict[str, list[str]]]]]] = {}


def _groups(batch: ImportBatch) -> list[tuple[int, str, list[dict[str, list[str]]]]]:
    groups = _parsed.get(batch.id)  # runs in a thread: another import's slice may swap the entry
    if groups is None:
        groups = _read_groups(batch)
        _parsed.clear()
        _parsed[batch.id] = groups
    return groups


def _read_groups(batch: ImportBatch) -> list[tuple[int, str, list[dict[str, list[str]]]]]:
    """(first row number, key, rows): an account, deal or ticket per row; an order per external
    id (its lines)."""
    header, data = reading.read_table(batch.content, batch.file_format)
    groups: dict[str, tuple[int, str, list]] = {}
    for number, row in enumerate(data, start=2):  # row 1 is the header, as a spreadsheet shows it
        values = mappings.values_of(header, batch.mapping, row)
        key = (values.get("external_id") or [""])[0][:128]
        if batch.kind == "accounts":
            if not key:
                values["external_id"] = [_row_key(values)]
            groups[f"{number}"] = (number, values["external_id"][0], [values])
        elif batch.kind in ("deals", "tickets"):  # a deal or a ticket per row
            groups[f"{number}"] = (number, key or _row_key(values), [values])
        else:
            entry = groups.setdefault(key or f"row {number}", (number, key, []))
            entry[2].append(values)
    return list(groups.values())


def _problem_rows(number: int, exc: UserInputError | PublicError) -> list[dict]:
    found = problems_of(exc) if isinstance(exc, UserInputError) else [exc]
    return [
        {
            "row": number,
            "field": getattr(p, "field", None),
            "code": getattr(p.code, "value", p.code),
            "message": p.message,
        }
        for p in found
    ]


class _DryRun(Exception):
    """Raised at the end of a dry run's slice: everything it wrote is rolled back."""


async def run(
    batch_id: UUID, start_at: int | None = None, *, slice_seconds: float = SLICE_SECONDS, queue_rest: bool = True
) -> ImportBatch | None:
    """The job: at most ``SLICE_SECONDS`` of rows, then it queues itself to go on (so no job runs
    into the worker's time limit). Idempotent: a finished batch, or an event for a slice already
    done, is left alone; a slice cut short runs again, and rows it had already imported are found
    by their records, not made twice."""
    batch = await ImportBatch.get_or_none(id=batch_id)
    if batch is None or batch.status not in ("queued", "running"):
        return batch
    if start_at is not None and start_at != batch.next_group:
        return batch
    try:
        scope = await member_scope(batch)
    except (UserInputError, PublicError) as exc:
        await ImportBatch.filter(id=batch.id).update(status="failed", error=exc.message, finished_at=datetime.now(UTC))
        return await ImportBatch.get(id=batch.id)
    statuses = await OrderStatus.filter(organization_id=scope.organization_id).order_by("position")
    pipelines = await rows.Pipelines.load(scope) if batch.kind == "deals" else None
    groups = await asyncio.to_thread(_groups, batch)
    progress = {"next": batch.next_group, "rows": batch.rows_done, "ok": batch.ok_count, "failed": batch.failed_count}
    problems: list[dict] = list(batch.problems)
    deadline = time.monotonic() + slice_seconds
    touched: set[UUID] = set()  # customers whose figures to refresh at the end of the chunk

    async def one(number: int, key: str, group: list) -> None:
        try:
            async with in_transaction():  # a savepoint in the chunk's transaction: a bad row leaves nothing
                if batch.kind == "accounts":
                    await rows.account_row(scope, batch, group[0])
                elif batch.kind == "deals":
                    await rows.deal_row(scope, batch, pipelines, key, group[0])
                elif batch.kind == "tickets":
                    await rows.ticket_row(scope, batch, key, group[0])
                else:
                    if not key:
                        raise UserInputError(ErrorCode.REQUIRED, _("The row has no order id."), "externalId")
                    await rows.order_rows(scope, batch, statuses, key, group, touched)
            progress["ok"] += 1
        except (UserInputError, PublicError) as exc:
            progress["failed"] += 1
            if len(problems) < MAX_PROBLEMS:
                problems.extend(_problem_rows(number, exc)[: MAX_PROBLEMS - len(problems)])
        progress["next"] += 1
        progress["rows"] += len(group)

    async def save(**extra) -> None:
        await ImportBatch.filter(id=batch.id).update(
            status="running",
            next_group=progress["next"],
            rows_done=progress["rows"],
            ok_count=progress["ok"],
            failed_count=progress["failed"],
            problems=problems,
            **extra,
        )

    async def refresh_figures() -> None:
        for account_id in sorted(touched):  # one lock order for every chunk
            await figures.refresh_account(scope.organization_id, account_id, scope.organization.currency)
        touched.clear()

    if batch.dry_run:
        try:
            async with in_transaction():
                while progress["next"] < len(groups) and time.monotonic() < deadline:
                    await one(*groups[progress["next"]])
                created = await _created(batch)
                raise _DryRun
        except _DryRun:
            pass
        # A dry run counts what each slice would have made; its records went with the rollback.
        created += batch.created_count
        await save(created_count=created)
    else:
        # Chunks of rows, each one transaction with its place in the file: a worker killed
        # mid-chunk leaves nothing of it, and the next job starts where the last chunk ended.
        while progress["next"] < len(groups) and time.monotonic() < deadline:
            async with in_transaction():
                end = min(progress["next"] + PROGRESS_EVERY, len(groups))
                while progress["next"] < end:
                    await one(*groups[progress["next"]])
                await refresh_figures()
                await save(created_count=await _created(batch))
        created = await _created(batch)
    if progress["next"] < len(groups):
        if queue_rest:
            await outbox.emit(scope.organization_id, REQUESTED, {"batch_id": batch.id, "start_at": progress["next"]})
        return await ImportBatch.get(id=batch.id)
    _parsed.pop(batch.id, None)
    await ImportBatch.filter(id=batch.id).update(
        status="done",
        matched_count=progress["ok"] - created,
        finished_at=datetime.now(UTC),
    )
    return await ImportBatch.get(id=batch.id)


RECORD_KIND = {"accounts": "account", "orders": "order", "deals": "deal", "tickets": "ticket"}
# What a member needs besides data:import to import a kind (accounts and orders: checked per row).
CREATE_RIGHT = {"deals": "deals:create", "tickets": "tickets:create"}


async def _created(batch: ImportBatch) -> int:
    kind = RECORD_KIND[batch.kind]
    return await ImportRecord.filter(batch_id=batch.id, kind=kind, created=True).count()


async def find(scope: Scope, batch_id: UUID) -> ImportBatch | None:
    """A batch of the caller's organization (imports are the organization's, seen by whoever may import)."""
    scope.require("data:import")
    return await ImportBatch.get_or_none(id=batch_id, organization_id=scope.organization_id)


async def visible(scope: Scope, batch_id: UUID) -> ImportBatch:
    batch = await find(scope, batch_id)
    if batch is None:
        raise not_found("Import", "id")
    return batch


async def recent(scope: Scope, limit: int) -> list[ImportBatch]:
    scope.require("data:import")
    return await ImportBatch.filter(organization_id=scope.organization_id).order_by("-created_at").limit(limit)


async def request_undo(scope: Scope, batch_id: UUID) -> ImportBatch:
    scope.require("data:import")
    if scope.user_id is None:
        raise Forbidden(_("Only a member can undo an import."))
    async with in_transaction():
        batch = await visible(scope, batch_id)
        if batch.dry_run or batch.status != "done":
            raise UserInputError(ErrorCode.INVALID, _("Only a finished import (not a dry run) can be undone."), "id")
        await ImportBatch.filter(id=batch.id).update(status="undoing")
        batch.status = "undoing"
        await audit.record(scope, "import.undo", batch, {"status": ["done", "undoing"]})
        # The undo deletes with the rights of whoever asks for it, not of whoever imported.
        await outbox.emit(scope.organization_id, UNDO_REQUESTED, {"batch_id": batch.id, "by": scope.user_id})
    return batch


async def _undo_one(scope: Scope, record: ImportRecord, remove: Callable) -> bool:
    """Remove one created object, unless someone changed it since (then it stays, and is said)."""
    try:
        async with in_transaction():
            await remove(record.object_id)
            await record.delete()
        return True
    except (UserInputError, PublicError):
        return False


async def undo(batch_id: UUID, by: UUID | None = None) -> None:
    """The undo job: orders, deals and tickets first (they hold their accounts), then accounts; what was changed
    after the import (its version moved on) is kept and listed; idempotent."""
    batch = await ImportBatch.get_or_none(id=batch_id)
    if batch is None or batch.status != "undoing":
        return
    try:
        scope = await member_scope(batch, by)
    except (UserInputError, PublicError) as exc:
        await ImportBatch.filter(id=batch.id).update(status="done", error=exc.message)
        return

    async def remove_order(object_id: UUID) -> None:
        order = await scope.get(Order, object_id, "delete")
        if order.version != 1:
            raise UserInputError(ErrorCode.CONFLICT, _("Changed after the import: kept."), "id")
        await orders.delete_order(scope, order.id, 1)
        # The source's id is freed, so the same order can be imported again later.
        await Order.filter(id=order.id).update(external_id=None)

    async def remove_deal(object_id: UUID) -> None:
        deal = await scope.get(Deal, object_id, "delete")
        if deal.version != 1:
            raise UserInputError(ErrorCode.CONFLICT, _("Changed after the import: kept."), "id")
        await deals.delete_deal(scope, deal.id, 1)

    async def remove_ticket(object_id: UUID) -> None:
        ticket = await scope.get(Ticket, object_id, "delete")
        if ticket.version != 1:
            raise UserInputError(ErrorCode.CONFLICT, _("Changed after the import: kept."), "id")
        await tickets.delete_ticket(scope, ticket.id, 1)

    async def remove_account(object_id: UUID) -> None:
        account = await scope.get(Account, object_id, "delete")
        if (
            account.version != 1
            or await Order.filter(account_id=account.id, deleted_at=None).exists()
            or await Deal.filter(account_id=account.id, deleted_at=None).exists()
            or await Ticket.filter(account_id=account.id).exists()
        ):
            raise UserInputError(ErrorCode.CONFLICT, _("Changed after the import: kept."), "id")
        await accounts.delete_account(scope, account.id, 1)

    kept: list[dict] = []
    removers = (("order", remove_order), ("deal", remove_deal), ("ticket", remove_ticket), ("account", remove_account))
    for kind, remove in removers:
        for record in await ImportRecord.filter(batch_id=batch.id, kind=kind, created=True).order_by("created_at"):
            if not await _undo_one(scope, record, remove):
                kept.append({"row": None, "field": kind, "code": "KEPT", "message": str(record.object_id)})
    await ImportRecord.filter(batch_id=batch.id, created=False).delete()
    await ImportBatch.filter(id=batch.id).update(
        status="undone", undone_at=datetime.now(UTC), problems=kept[:MAX_PROBLEMS]
    )
