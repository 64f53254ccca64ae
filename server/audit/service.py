"""Audit trail: every write records who, what, when and the before/after of changed fields.

Call ``record`` inside the writing transaction so the entry and the change land together."""

from __future__ import annotations

from server.audit.models import AuditEntry
from server.auth.scope import Scope
from server.core.serialize import jsonable


async def record(scope: Scope, action: str, entity, changes: dict | None = None) -> AuditEntry:
    kind, actor_id = scope.actor
    return await AuditEntry.create(
        organization_id=scope.organization_id,
        actor_kind=kind,
        actor_id=actor_id,
        actor_via=scope.principal.via,
        action=action,
        entity_type=type(entity).__name__,
        entity_id=entity.id,
        changes=jsonable(changes or {}),
    )
