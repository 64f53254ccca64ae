"""Optimistic concurrency: an update names the version it read and fails if it moved on."""

from __future__ import annotations

from datetime import UTC, datetime

from server.core.errors import version_conflict
from server.core.serialize import diff, snapshot


async def update_versioned(obj, version: int | None, values: dict) -> dict:
    """Apply ``values`` if the row is still at ``version``; returns the audit diff.

    The conditional UPDATE makes the check atomic: of two writers that read the same
    version, exactly one succeeds."""
    if version is None or obj.version != version:
        raise version_conflict()
    fields = list(values)
    before = snapshot(obj, fields)
    now = datetime.now(UTC)
    updated = await type(obj).filter(id=obj.id, version=version).update(**values, version=version + 1, updated_at=now)
    if not updated:
        raise version_conflict()
    for name, value in values.items():
        setattr(obj, name, value)
    obj.version = version + 1
    obj.updated_at = now
    return diff(before, snapshot(obj, fields))
