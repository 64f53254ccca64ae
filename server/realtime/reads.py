"""Each live event's object read once per API process, for all its subscribers.

An event reaches every subscriber of its organization in the process at the same moment; each
used to read the object again through its own scope (one query per subscriber and event).
Here the first subscriber to ask reads the row for the organization (not deleted, any owner)
and the value its row scope depends on (``owner_path``); the others wait for that read and
share it. Each subscriber then checks the row against its own scope (``Scope.sees_row``:
organization, read permission, row scope) and gets a copy of it, which its field rules apply
to when it resolves, as in a query. Reads are kept for the last ``KEEP`` events."""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from uuid import UUID

from server.auth.scope import Scope, organization_rows
from server.core.models import TenantModel
from server.realtime.bus import LiveEvent

KEEP = 2000  # events whose reads are kept (all their subscribers ask within moments)

Read = tuple[TenantModel | None, UUID | None]  # the row, and its owner
_reads: dict[int, OrderedDict[tuple, asyncio.Future[Read]]] = {}  # per event loop


async def _read(model: type[TenantModel], organization_id: UUID, pk: UUID) -> Read:
    rows = organization_rows(model, organization_id)
    row = await rows.get_or_none(id=pk)
    if row is None or model.owner_path is None:
        return row, None
    if "__" not in model.owner_path:
        return row, getattr(row, model.owner_path)
    owner = await rows.filter(id=pk).values_list(model.owner_path, flat=True)
    return row, (owner[0] if owner else None)


async def shared_read(event: LiveEvent, model: type[TenantModel], pk: UUID) -> Read:
    """The row and its owner, read once per (event, model, id) in this process."""
    reads = _reads.setdefault(id(asyncio.get_running_loop()), OrderedDict())
    key = (event.id, model.__name__, pk)
    found = reads.get(key)
    if found is None:
        found = reads[key] = asyncio.get_running_loop().create_future()
        while len(reads) > KEEP:
            reads.popitem(last=False)
        try:
            found.set_result(await _read(model, UUID(event.organization_id), pk))
        except BaseException as exc:
            reads.pop(key, None)
            found.set_exception(exc)
            found.exception()  # retrieved: the waiters see it, nobody else must
            raise
    return await asyncio.shield(found)


async def visible(scope: Scope, event: LiveEvent, model: type[TenantModel], raw_id) -> TenantModel | None:
    """The event's object as ``scope`` may see it (a copy of the shared read), or None."""
    try:
        pk = UUID(str(raw_id))
    except ValueError:
        return None
    row, owner = await shared_read(event, model, pk)
    if row is None or not scope.sees_row(model, row.organization_id, owner):  # type: ignore[attr-defined]
        return None
    return copy.copy(row)
