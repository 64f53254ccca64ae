"""Attaching, listing, serving and removing files (docs/attachments.md).

- Who may do what is the object's business, decided by the Scope: seeing an object's files
  needs reading the object (its read permission, the caller's organization and row scope);
  attaching and deleting need changing it (its update permission). An object the caller
  cannot see looks missing.
- ``attach``: checks the object and the file (size, and the type its bytes show) and reports
  every problem at once; copies the bytes to storage piece by piece; then, in ONE transaction,
  the record, the object's audit entry and the ``attachment.created`` event. If that
  transaction fails, the stored bytes are removed again.
- ``delete``: marks the record deleted (with its audit entry and event) in one transaction,
  then removes the bytes; if storage fails then, the cleanup job (``jobs.py``) removes them later.
  Deleting the object itself removes its files the same way (``jobs.py``, on its event).
- Links: ``/files/<id>.<expires>.<signature>``, signed like exports' links
  (``server/core/signing.py``), valid ``ATTACHMENT_LINK_SECONDS``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import IO
from uuid import UUID

from anyio import to_thread
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from server.attachments import files, storage
from server.attachments.models import Attachment
from server.audit import service as audit
from server.auth.scope import Scope
from server.config import Settings
from server.core import signing
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.outbox import emit
from server.graphql import ids
from server.i18n import _

log = logging.getLogger("crm.attachments")

PURPOSE = "attachment"
CLEAN_BATCH = 100


def object_models() -> dict[str, type]:
    """The types files can be attached to, by their GraphQL (global ID) name."""
    from server.accounts.models import Account
    from server.conversations.models import ConversationMessage
    from server.deals.models import Deal
    from server.orders.models import Order
    from server.tickets.models import Ticket

    return {m.__name__: m for m in (Account, Order, Deal, Ticket, ConversationMessage)}


def _object_not_found() -> UserInputError:
    return UserInputError(ErrorCode.NOT_FOUND, _("There is no such object, or you may not change it."), "objectId")


def _attachment_not_found() -> UserInputError:
    return UserInputError(ErrorCode.NOT_FOUND, _("Attachment not found."), "id")


async def _object(scope: Scope, type_name: str, object_id: UUID, action: str, *, lock: bool = False):
    model = object_models()[type_name]
    qs = scope.queryset(model, action)
    if lock:
        qs = qs.select_for_update()
    found = await qs.get_or_none(id=object_id)
    if found is None:
        raise _object_not_found()
    return found


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.3g}"


class _Hashing:
    """A file read through: counts the bytes and hashes them as storage copies them."""

    def __init__(self, source: IO[bytes]):
        self.source, self.size, self.digest = source, 0, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        chunk = self.source.read(n)
        self.size += len(chunk)
        self.digest.update(chunk)
        return chunk


async def _head_and_size(upload) -> tuple[bytes, int]:
    await upload.seek(0)
    head = await upload.read(files.SNIFF_BYTES)
    size = upload.size
    if size is None:
        size = await to_thread.run_sync(upload.file.seek, 0, 2)
    await upload.seek(0)
    return head, size


async def attach(scope: Scope, settings: Settings, object_global_id: str, upload) -> Attachment:
    """Attach ``upload`` (a Starlette UploadFile, as strawberry's ``Upload`` gives it)."""
    problems = Problems()
    type_name = object_id = None
    with problems:
        type_name, object_id = ids.decode(object_global_id, field="objectId")
        if type_name not in object_models():
            raise UserInputError(
                ErrorCode.INVALID,
                _("Files can be attached to accounts, orders, deals, tickets and conversation messages."),
                "objectId",
            )
    with problems:
        if type_name in object_models():
            await _object(scope, type_name, object_id, "update")
    head, size = await _head_and_size(upload)
    content_type = files.sniff(head)
    if size == 0:
        problems.add(ErrorCode.INVALID, _("The file is empty."), "file")
    elif size > settings.attachment_max_bytes:
        problems.add(
            ErrorCode.TOO_LARGE,
            _("The file is larger than %(mb)s MB.", mb=_megabytes(settings.attachment_max_bytes)),
            "file",
        )
    elif content_type is None:
        problems.add(ErrorCode.UNSUPPORTED_TYPE, _("This type of file is not accepted."), "file")
    elif content_type not in settings.attachment_types:
        problems.add(
            ErrorCode.UNSUPPORTED_TYPE, _("Files of type %(type)s are not accepted.", type=content_type), "file"
        )
    problems.raise_if_any()

    target = storage.configured(settings)
    attachment_id = uuid.uuid4()
    key = f"{scope.organization_id}/{attachment_id}"
    reader = _Hashing(upload.file)
    await target.save(key, reader)
    try:
        async with in_transaction():
            parent = await _object(scope, type_name, object_id, "update", lock=True)  # still there, still ours
            attachment = await Attachment.create(
                id=attachment_id,
                organization_id=scope.organization_id,
                object_type=type_name,
                object_id=object_id,
                name=files.clean_name(upload.filename),
                content_type=content_type,
                size_bytes=reader.size,
                sha256=reader.digest.hexdigest(),
                storage=target.name,
                storage_key=key,
                uploaded_by_id=scope.user_id if scope.principal.kind == "user" else None,
            )
            await audit.record(scope, "attachment.add", parent, {"attachments": [None, _described(attachment)]})
            await emit(scope.organization_id, "attachment.created", _event(attachment))
    except BaseException:
        with contextlib.suppress(Exception):
            await target.delete(key)
        raise
    return attachment


def _described(attachment: Attachment) -> dict:
    return {
        "id": ids.encode("Attachment", attachment.id),
        "name": attachment.name,
        "size": attachment.size_bytes,
        "contentType": attachment.content_type,
    }


def _event(attachment: Attachment) -> dict:
    return {
        "attachment_id": attachment.id,
        "object_type": attachment.object_type,
        "object_id": attachment.object_id,
        "name": attachment.name,
        "size": attachment.size_bytes,
        "content_type": attachment.content_type,
    }


async def delete(scope: Scope, settings: Settings, attachment_global_id: str) -> UUID:
    attachment_id = ids.decode(attachment_global_id, "Attachment")[1]
    async with in_transaction():
        attachment = (
            await Attachment.filter(id=attachment_id, organization_id=scope.organization_id, deleted_at=None)
            .select_for_update()
            .first()
        )
        if attachment is None:
            raise _attachment_not_found()
        try:
            parent = await _object(scope, attachment.object_type, attachment.object_id, "update")
        except UserInputError:
            raise _attachment_not_found() from None
        await Attachment.filter(id=attachment.id).update(deleted_at=datetime.now(UTC))
        await audit.record(scope, "attachment.delete", parent, {"attachments": [_described(attachment), None]})
        await emit(scope.organization_id, "attachment.deleted", _event(attachment))
    await purge(settings, [attachment])
    return attachment.id


# -- reading -----------------------------------------------------------------------------------


async def of_objects(scope: Scope, type_name: str, object_ids: list[UUID]) -> dict[UUID, list[Attachment]]:
    """The files of the objects the caller may read, oldest first; nothing for the others."""
    model = object_models()[type_name]
    if not scope.can(f"{model.resource}:read"):
        return {}
    visible = scope.queryset(model).filter(id__in=list(set(object_ids))).values("id")
    rows = await Attachment.filter(
        organization_id=scope.organization_id, object_type=type_name, object_id__in=Subquery(visible), deleted_at=None
    ).order_by("created_at", "id")
    found: dict[UUID, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row.object_id, []).append(row)
    return found


def signed_path(settings: Settings, attachment: Attachment, now: datetime | None = None) -> tuple[str, datetime]:
    """A link to the file a browser can open without headers, and when it stops working."""
    now = now or datetime.now(UTC)
    expires = int((now + timedelta(seconds=settings.attachment_link_seconds)).timestamp())
    signature = signing.sign(settings, PURPOSE, attachment.id, expires)
    return f"/files/{ids.encode('Attachment', attachment.id)}.{expires}.{signature}", datetime.fromtimestamp(
        expires, UTC
    )


async def by_link(settings: Settings, token: str, now: datetime | None = None) -> Attachment | None:
    """The attachment a link stands for, while the link is valid and the file and its object
    still exist; None for anything else (expired, altered, deleted)."""
    now = now or datetime.now(UTC)
    encoded, _dot, rest = token.partition(".")
    expires, _dot, signature = rest.partition(".")
    try:
        attachment_id = ids.decode(encoded, "Attachment")[1]
    except UserInputError:
        return None
    if not signing.check(settings, PURPOSE, attachment_id, expires, signature, now):
        return None
    attachment = await Attachment.get_or_none(id=attachment_id, deleted_at=None)
    if attachment is None or not await _parent_exists(attachment):
        return None
    return attachment


async def _parent_exists(attachment: Attachment) -> bool:
    model = object_models()[attachment.object_type]
    qs = model.filter(id=attachment.object_id, organization_id=attachment.organization_id)
    if "deleted_at" in model._meta.fields_map:
        qs = qs.filter(deleted_at=None)
    return await qs.exists()


def content(settings: Settings, attachment: Attachment):
    return storage.named(settings, attachment.storage).open(attachment.storage_key)


# -- removing bytes --------------------------------------------------------------------------


async def purge(settings: Settings, attachments: list[Attachment]) -> int:
    """Remove the bytes of deleted attachments, then their records. A file storage cannot
    remove now keeps its record (marked deleted), for the next cleanup run."""
    removed = 0
    for attachment in attachments:
        try:
            await storage.named(settings, attachment.storage).delete(attachment.storage_key)
        except Exception:
            log.warning("attachment %s: removing the stored file failed; retried later", attachment.id, exc_info=True)
            continue
        await Attachment.filter(id=attachment.id).delete()
        removed += 1
    return removed


async def forget_object(settings: Settings, organization_id: UUID, type_name: str, object_id: UUID) -> int:
    """The object was deleted: its files go too."""
    await Attachment.filter(
        organization_id=organization_id, object_type=type_name, object_id=object_id, deleted_at=None
    ).update(deleted_at=datetime.now(UTC))
    marked = await Attachment.filter(
        organization_id=organization_id, object_type=type_name, object_id=object_id
    ).exclude(deleted_at=None)
    return await purge(settings, marked)


async def move(organization_id: UUID, type_name: str, from_id: UUID, to_id: UUID) -> int:
    """Two records became one (merged accounts): the files follow the one kept."""
    return await Attachment.filter(
        organization_id=organization_id, object_type=type_name, object_id=from_id, deleted_at=None
    ).update(object_id=to_id)


async def cleanup(settings: Settings, batch: int = CLEAN_BATCH) -> dict[str, int]:
    """The periodic sweep: files of objects that no longer exist (deleted without an event, or
    with the whole conversation) are marked deleted; the bytes of every marked file removed."""
    orphaned = 0
    now = datetime.now(UTC)
    for type_name, model in object_models().items():
        orphaned += await Attachment.filter(
            object_type=type_name,
            deleted_at=None,
            object_id__not_in=Subquery(model.all().values("id")),
        ).update(deleted_at=now)
    removed = 0
    while True:
        marked = await Attachment.exclude(deleted_at=None).order_by("deleted_at").limit(batch)
        if not marked:
            break
        done = await purge(settings, marked)
        removed += done
        if done < len(marked):  # storage is failing: try again next run
            break
    return {"orphaned": orphaned, "removed": removed}
