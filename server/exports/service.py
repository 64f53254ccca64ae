"""Starting, building, storing and serving exports.

- ``start_export`` (the mutation): checks the caller may export the list with these filters,
  then in ONE transaction creates the export, its audit entry and the ``export.requested``
  outbox event; the relay turns the event into the build job.
- ``build_export`` (the job): acts as the requesting member AS OF NOW (still an active member,
  still allowed), writes the file to a temporary file page by page, then stores it in the
  database in chunks and marks the export done in one transaction. A retried job either finds
  the export done (nothing to do) or replaces whatever a failed try left: never two files,
  never doubled rows.
- Files expire after ``EXPORT_LINK_HOURS``; housekeeping deletes expired files in batches.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth import principal as principals
from server.auth.models import User
from server.auth.scope import Scope
from server.config import Settings
from server.core import idempotency, signing
from server.core.errors import ErrorCode, Forbidden, PublicError, UserInputError
from server.core.outbox import emit
from server.core.text import spreadsheet_safe
from server.customfields import service as customfields
from server.customfields import values as custom_values
from server.exports import filters as codec
from server.exports.lists import SHEET_TITLES, specs
from server.exports.models import Export, ExportChunk
from server.exports.writers import CONTENT_TYPES, writer_for
from server.graphql import ids
from server.graphql.pagination import cursor_of, page_queryset
from server.i18n import LOCALES, _, current_locale, use_locale

log = logging.getLogger("crm.exports")

TOPIC = "export.requested"
ORGANIZATION = "organization"  # the full export's list_name
LIST_FORMATS = ("csv", "xlsx")
PAGE_SIZE = 500  # rows read per statement
# Roles that may download any member's export of their organization (and only owners the full one).
ADMIN_ROLES = ("owner", "admin")


def _member_only(scope: Scope) -> None:
    """An export acts later as the member who asked, so API keys and partner apps cannot start one."""
    scope.organization  # noqa: B018 - refuses anonymous and organization-less callers
    if scope.principal.kind != "user" or scope.user_id is None:
        raise Forbidden(_("Only members of the organization can export data."))


def is_owner(scope: Scope) -> bool:
    role = scope.principal.role
    return role is not None and role.name == "owner"


def check_allowed(scope: Scope, list_name: str, where=None, order_by=None) -> None:
    """What a run re-checks too: exporting needs `data:export` and reading the list (the
    list's own checks: its read permission, the fields its `where` may use)."""
    _member_only(scope)
    scope.require("data:export")
    if list_name == ORGANIZATION:
        if not is_owner(scope):
            raise Forbidden(_("Only owners can export the whole organization."))
        return
    spec = specs()[list_name]
    spec.queryset(scope, where)  # raises for a missing read permission or a guarded filter
    spec.sort(order_by)
    if getattr(order_by, "custom_field", None):
        customfields.check_visible(scope, OBJECT_TYPES[list_name], order_by.custom_field)


async def start_export(
    scope: Scope, list_name: str, fmt: str, where=None, order_by=None, idempotency_key: str | None = None
) -> Export:
    check_allowed(scope, list_name, where, order_by)
    idempotency.check_key(idempotency_key)
    filters = {"where": codec.to_json(where), "order_by": codec.to_json(order_by)}
    request = {"list": list_name, "format": fmt, **filters}

    async def create() -> Export:
        export = await Export.create(
            organization_id=scope.organization_id,
            requested_by_id=scope.user_id,
            list_name=list_name,
            format=fmt,
            filters=filters,
            language=current_locale(),
        )
        await audit.record(
            scope,
            "export.start",
            export,
            {
                "list": [None, list_name],
                "format": [None, fmt],
                **{key: [None, value] for key, value in filters.items() if value},
            },
        )
        await emit(scope.organization_id, TOPIC, {"export_id": str(export.id)})
        return export

    return await idempotency.create_once(
        scope.organization_id, "startExport", idempotency_key, create, lambda pk: own_export(scope, pk), request=request
    )


# -- reading exports -------------------------------------------------------------------------


def visible_exports(scope: Scope):
    """The caller's own exports (`data:export` needed)."""
    _member_only(scope)
    return scope.queryset(Export, "export").filter(requested_by_id=scope.user_id)


async def own_export(scope: Scope, export_id: UUID) -> Export:
    found = await visible_exports(scope).get_or_none(id=export_id)
    if found is None:
        raise UserInputError(ErrorCode.NOT_FOUND, _("Export not found."), "id")
    return found


async def downloadable(scope: Scope, export_id: UUID) -> Export | None:
    """An export of the caller's organization they may download: their own, or any for owners
    and admins. None for anything else (another organization's looks the same as a missing one)."""
    _member_only(scope)
    scope.require("data:export")
    export = await Export.get_or_none(id=export_id, organization_id=scope.organization_id)
    if export is None:
        return None
    if export.list_name == ORGANIZATION and not is_owner(scope):
        return None  # the full export (unmasked, every table) is for owners only, as starting it
    role = scope.principal.role
    if export.requested_by_id != scope.user_id and (role is None or role.name not in ADMIN_ROLES):
        return None
    return export


def is_ready(export: Export, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return export.status == "done" and export.expires_at is not None and export.expires_at > now


async def chunks(export_id: UUID) -> AsyncIterator[bytes]:
    """The file, one stored chunk per statement (a big file never sits in memory)."""
    seq = 0
    while True:
        found = await ExportChunk.filter(export_id=export_id, seq=seq).values_list("data", flat=True)
        if not found:
            return
        yield bytes(found[0])
        seq += 1


# -- signed links ------------------------------------------------------------------------------


def signed_path(settings: Settings, export: Export) -> str:
    """A link a browser can open without headers, valid until the file expires."""
    expires = int(export.expires_at.timestamp())
    signature = signing.sign(settings, "export", export.id, expires)
    return f"/exports/{ids.encode('Export', export.id)}/download?expires={expires}&signature={signature}"


def check_signature(settings: Settings, export_id: UUID, expires: str, signature: str, now: datetime) -> bool:
    # Links signed before a key rotation keep working until they expire (OLD_SECRET_KEYS).
    return signing.check(settings, "export", export_id, expires, signature, now)


# -- the job -----------------------------------------------------------------------------------


class Refused(Exception):
    """The requester may no longer run this export (left, deactivated, role changed)."""


async def requester_scope(export: Export) -> Scope:
    """The requesting member as they are NOW: an active user with an active membership and a role."""
    user = await User.get_or_none(id=export.requested_by_id, is_active=True)
    if user is None:
        raise Refused(_("The member who asked for this export is no longer active."))
    organization = await export.organization
    try:
        principal = await principals.for_user(user, organization.slug)
    except PublicError as exc:
        raise Refused(_("The member who asked for this export is no longer a member of the organization.")) from exc
    if principal.role is None:
        raise Refused(_("The member who asked for this export no longer has a role."))
    return Scope(principal)


async def build_export(export_id: UUID, settings: Settings, *, now: datetime | None = None) -> dict:
    export = await Export.get_or_none(id=export_id)
    if export is None or export.status not in ("queued", "running"):
        return {"skipped": "Already finished." if export else "No such export."}
    await Export.filter(id=export.id, status__in=("queued", "running")).update(status="running", rows_done=0)
    with use_locale(export.language):
        try:
            scope = await requester_scope(export)
            where, order_by = _filters(export)
            check_allowed(scope, export.list_name, where, order_by)
        except (Refused, PublicError, UserInputError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            await Export.filter(id=export.id).update(status="failed", error=message, finished_at=datetime.now(UTC))
            log.info("export %s refused: %s", export.id, message)
            return {"failed": message}
        try:
            return await _build(scope, export, where, order_by, settings, now)
        except Exception:
            # Retried by the job machinery; the member sees why it is taking longer.
            await Export.filter(id=export.id).update(error=_("Building the file failed; it is tried again."))
            raise


async def _build(scope: Scope, export: Export, where, order_by, settings: Settings, now) -> dict:
    with tempfile.TemporaryFile() as target:
        if export.list_name == ORGANIZATION:
            from server.exports.full import write_organization

            rows = await write_organization(scope, export, target)
            content_type, file_name = CONTENT_TYPES["zip"], f"{scope.organization.slug}-full-export.zip"
        else:
            rows = await _write_list(scope, export, where, order_by, target)
            content_type = CONTENT_TYPES[export.format]
            file_name = f"{export.list_name}-{export.created_at:%Y%m%d-%H%M%S}.{export.format}"
        size = await _store(export, target, rows, content_type, file_name, settings, now)
    return {"rows": rows, "bytes": size}


def _filters(export: Export):
    if export.list_name == ORGANIZATION:
        return None, None
    spec = specs()[export.list_name]
    return (
        codec.from_json(spec.where_type, export.filters.get("where")),
        codec.from_json(spec.order_type, export.filters.get("order_by")),
    )


async def _write_list(scope: Scope, export: Export, where, order_by, target) -> int:
    spec = specs()[export.list_name]
    columns = spec.visible_columns(scope)
    sort = spec.sort(order_by)
    qs = spec.queryset(scope, where)
    if getattr(order_by, "custom_field", None):  # sorted as the list sorts it (its own keyset)
        qs, sort = await customfields.sort_by(
            scope, OBJECT_TYPES[spec.name], qs, order_by.custom_field, order_by.direction
        )
    plain, joined = spec.read_fields(columns, sort)
    total = await qs.count()
    await Export.filter(id=export.id).update(rows_total=total)
    writer = writer_for(export.format, target, _(SHEET_TITLES[spec.name]))
    extra = await custom_columns(scope, spec.name)
    writer.write([*spec.headers(columns), *(customfields.label(d) for d in extra)])
    after, done = None, 0
    while True:
        page = await page_queryset(qs, first=PAGE_SIZE - 1, after=after, sort=sort).values(*plain, **joined)
        typed = await customfields.current_values(OBJECT_TYPES[spec.name], [r["id"] for r in page]) if extra else {}
        for row in page:
            cells = [custom_cell(d, typed.get(row["id"], {}).get(d.key)) for d in extra]
            writer.write([*spec.render(scope, columns, row), *cells])
        done += len(page)
        await Export.filter(id=export.id).update(rows_done=done)
        if len(page) < PAGE_SIZE:
            break
        after = cursor_of(page[-1][sort.field], page[-1]["id"])
    writer.close()
    return done


# List -> the object type of its custom fields.
OBJECT_TYPES = {"orders": "order", "accounts": "account", "contacts": "contact", "deals": "deal", "tickets": "ticket"}


async def custom_columns(scope: Scope, list_name: str) -> list:
    """A column per (not archived) custom field of the list's records that the caller may see."""
    object_type = OBJECT_TYPES[list_name]
    definitions = await customfields.definitions_of(scope.organization_id, object_type)
    return [d for d in definitions if not d.archived and customfields.visible(scope, object_type, d.key)]


def custom_cell(definition, value):
    """A custom field's value as a cell: numbers as numbers, the rest as text an import reads back."""
    if value is None:
        return ""
    if definition.kind == "number":
        return Decimal(value)
    if definition.kind == "boolean":
        return bool(value)
    return spreadsheet_safe(custom_values.as_text(definition.kind, value))


async def _store(export: Export, target, rows: int, content_type: str, file_name: str, settings, now) -> int:
    """The file into the database and the export done, together: a crash before the commit
    leaves nothing for a retry to double; a retry after it finds the export done."""
    now = now or datetime.now(UTC)
    size = target.tell()
    target.seek(0)
    async with in_transaction():
        claimed = await Export.filter(id=export.id, status="running").select_for_update().first()
        if claimed is None:  # another try finished it meanwhile
            return 0
        await ExportChunk.filter(export_id=export.id).delete()
        seq = 0
        while data := target.read(settings.export_chunk_bytes):
            await ExportChunk.create(export_id=export.id, seq=seq, data=data)
            seq += 1
        await Export.filter(id=export.id).update(
            status="done",
            rows_done=rows,
            row_count=rows,
            size_bytes=size,
            content_type=content_type,
            file_name=file_name,
            finished_at=now,
            expires_at=now + timedelta(hours=settings.export_link_hours),
            error=None,
        )
    return size


# -- housekeeping ------------------------------------------------------------------------------

CLEAN_BATCH = 100


# An export still queued or running this long after it was asked for has used up its tries
# (the job machinery recorded the failure); say so instead of leaving it "running" forever.
STALE_AFTER = timedelta(hours=6)


async def fail_stale_exports(now: datetime) -> int:
    failed = 0
    for language in LOCALES:
        with use_locale(language):
            failed += await Export.filter(
                status__in=("queued", "running"), created_at__lt=now - STALE_AFTER, language=language
            ).update(status="failed", error=_("Building the file failed. Start a new export."), finished_at=now)
    return failed


async def forget_expired_exports(now: datetime, batch: int = CLEAN_BATCH) -> int:
    """Delete expired files, ``batch`` exports at a time (their rows stay, marked expired, so the
    list still says what was exported). Returns how many files were deleted."""
    deleted = 0
    while True:
        expired = await Export.filter(status="done", expires_at__lt=now).limit(batch).values_list("id", flat=True)
        if not expired:
            return deleted
        async with in_transaction():
            await ExportChunk.filter(export_id__in=expired).delete()
            await Export.filter(id__in=expired).update(status="expired")
        deleted += len(expired)
