"""GraphQL for exports: `startExport` (a list with its where/orderBy, as CSV or XLSX),
`startOrganizationExport` (owners: everything as JSON lines in a zip) and `exports` (the
caller's own, newest first, with status, progress and the download link when ready)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from server.accounts.schema import AccountOrder, AccountWhere, ContactOrder, ContactWhere
from server.core.errors import ErrorCode, Problems
from server.deals.schema import DealOrder, DealWhere
from server.exports import service
from server.exports.models import Export
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import model_type
from server.i18n import _
from server.orders.schema import OrderOrder, OrderWhere
from server.tickets.schema import TicketOrder, TicketWhere


@strawberry.enum(description="Which list an export holds; ORGANIZATION is the full export.")
class ExportList(Enum):
    ORDERS = "orders"
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    DEALS = "deals"
    TICKETS = "tickets"
    ORGANIZATION = "organization"


@strawberry.enum(description="The file format: CSV (UTF-8), XLSX, or JSONL (JSON lines in a zip, the full export).")
class ExportFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


@strawberry.enum(description="Where an export stands.")
class ExportStatus(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


@model_type(Export, name="Export", description="A file being built or ready to download, made by a member.")
class ExportType:
    @strawberry.field(description="Opaque global ID.")
    def id(self) -> strawberry.ID:
        return ids.encode("Export", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Which list (or the whole organization).")
    def list(self) -> ExportList:
        return ExportList(self.list_name)  # type: ignore[attr-defined]

    @strawberry.field(description="The file format.")
    def format(self) -> ExportFormat:
        return ExportFormat(self.format)  # type: ignore[attr-defined]

    @strawberry.field(description="QUEUED, RUNNING, DONE (download it), FAILED (see `error`) or EXPIRED.")
    def status(self) -> ExportStatus:
        return ExportStatus(self.status)  # type: ignore[attr-defined]

    rows_done: int = strawberry.field(description="Rows written so far (progress: rowsDone / rowsTotal).")
    rows_total: int | None = strawberry.field(description="Rows the list matched when the job started.")
    row_count: int | None = strawberry.field(description="Rows in the finished file (header not counted).")
    error: str | None = strawberry.field(description="Why it failed, in the requester's language.")
    file_name: str | None = strawberry.field(description="The file's name, once done.")
    size_bytes: int | None = strawberry.field(description="The file's size, once done.")
    created_at: datetime = strawberry.field(description="When it was asked for.")
    finished_at: datetime | None = strawberry.field(description="When the file was ready (or the export failed).")
    expires_at: datetime | None = strawberry.field(description="The file and its links stop working then.")

    @strawberry.field(description="The list's filters as they were given (snake_case JSON): `where` and `order_by`.")
    def filters(self) -> strawberry.scalars.JSON:
        return self.filters  # type: ignore[attr-defined]

    @strawberry.field(
        description="A signed link to the file for a browser (no headers needed), while it is DONE and not "
        "expired; null otherwise. Relative to the API's origin."
    )
    def download_url(self, info: Info) -> str | None:
        if not service.is_ready(self):  # type: ignore[arg-type]
            return None
        return service.signed_path(info.context.settings, self)  # type: ignore[arg-type]

    @strawberry.field(
        description="`GET` it with the same `Authorization` and `X-Organization` headers as the API, while "
        "DONE and not expired; null otherwise."
    )
    def download_path(self) -> str | None:
        if not service.is_ready(self):  # type: ignore[arg-type]
            return None
        return f"/exports/{ids.encode('Export', self.id)}/download"  # type: ignore[attr-defined]


ExportConnection = connection_of(ExportType, "ExportConnection")


@strawberry.input(description="A list's `where` and `orderBy`, exactly as the list takes them.")
class OrdersExportInput:
    where: OrderWhere | None = None
    order_by: OrderOrder | None = None


@strawberry.input(description="A list's `where` and `orderBy`, exactly as the list takes them.")
class AccountsExportInput:
    where: AccountWhere | None = None
    order_by: AccountOrder | None = None


@strawberry.input(description="A list's `where` and `orderBy`, exactly as the list takes them.")
class ContactsExportInput:
    where: ContactWhere | None = None
    order_by: ContactOrder | None = None


@strawberry.input(description="A list's `where` and `orderBy`, exactly as the list takes them.")
class DealsExportInput:
    where: DealWhere | None = None
    order_by: DealOrder | None = None


@strawberry.input(description="A list's `where` and `orderBy`, exactly as the list takes them.")
class TicketsExportInput:
    where: TicketWhere | None = None
    order_by: TicketOrder | None = None


LIST_INPUTS = ("orders", "accounts", "contacts", "deals", "tickets")


@strawberry.input(
    description="Export one list with the filters it shows now. Give the filters under the list's own "
    "field (e.g. `list: ORDERS, orders: {where: {...}, orderBy: {...}}`); none: the whole list."
)
class StartExportInput:
    list: ExportList
    format: ExportFormat = ExportFormat.CSV
    orders: OrdersExportInput | None = None
    accounts: AccountsExportInput | None = None
    contacts: ContactsExportInput | None = None
    deals: DealsExportInput | None = None
    tickets: TicketsExportInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first export instead of starting another."
    )


@strawberry.input(description="Export everything of the organization (owners only).")
class StartOrganizationExportInput:
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first export instead of starting another."
    )


@strawberry.type(description="The export started (or the reasons it was not).")
class ExportPayload:
    export: ExportType | None = None
    errors: list[UserError]


def _checked(input: StartExportInput):
    """(list name, format, where, orderBy), every problem of the input reported at once."""
    problems = Problems()
    name = input.list.value
    if input.list is ExportList.ORGANIZATION:
        problems.add(ErrorCode.INVALID, _("Use startOrganizationExport for the full export."), "list")
    if input.format not in (ExportFormat.CSV, ExportFormat.XLSX):
        problems.add(ErrorCode.INVALID, _("A list exports as CSV or XLSX."), "format")
    for other in LIST_INPUTS:
        if other != name and getattr(input, other) is not None:
            problems.add(
                ErrorCode.INVALID, _("Filters of %(other)s do not apply to %(list)s.", other=other, list=name), other
            )
    problems.raise_if_any()
    given = getattr(input, name)
    return name, input.format.value, given.where if given else None, given.order_by if given else None


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="Start exporting a list with its filters (CSV or XLSX); a background job builds the file. "
        "Poll `exports` for progress and the download link."
    )
    async def start_export(self, info: Info, input: StartExportInput) -> ExportPayload:
        scope = info.context.scope

        async def act():
            name, fmt, where, order_by = _checked(input)
            export = await service.start_export(scope, name, fmt, where, order_by, input.idempotency_key)
            return {"export": export}

        return await run_mutation(ExportPayload, act)

    @strawberry.mutation(
        description="Start the full export: every table of the organization as JSON lines in a zip, without "
        "secrets (owners only)."
    )
    async def start_organization_export(
        self, info: Info, input: StartOrganizationExportInput | None = None
    ) -> ExportPayload:
        scope = info.context.scope
        key = input.idempotency_key if input else None

        async def act():
            export = await service.start_export(scope, service.ORGANIZATION, "jsonl", idempotency_key=key)
            return {"export": export}

        return await run_mutation(ExportPayload, act)


@strawberry.type
class ExportQueries:
    @strawberry.field(description="Your exports, newest first.")
    async def exports(self, info: Info, first: int | None = None, after: str | None = None) -> ExportConnection:
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        sort = Sort("created_at", datetime, Direction.DESC)
        return await paginate(ExportConnection, service.visible_exports(ctx.scope), first=first, after=after, sort=sort)
