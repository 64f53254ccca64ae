"""Base models shared by every domain, plus the cross-cutting tables
(per-organization sequences, idempotency keys, the event outbox)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class BaseModel(Model):
    id = fields.UUIDField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantModel(BaseModel):
    """A row that belongs to one organization. Reads go through ``Scope.queryset``.

    ``resource`` names the permission domain (``accounts:read``...), ``owner_path`` the
    field that decides row scope for the team/own roles (None: the resource has no owner).
    """

    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)

    resource: str = ""
    owner_path: str | None = None

    class Meta:
        abstract = True


class Sequence(Model):
    """Human-facing counters per organization: order numbers, ticket numbers."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=32)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "sequence"
        unique_together = (("organization", "name"),)


class IdempotencyKey(Model):
    """Remembers which object a creating mutation made for an idempotency key."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)
    operation = fields.CharField(max_length=64)
    key = fields.CharField(max_length=128)
    entity_id = fields.UUIDField()
    # SHA-256 of the input the key was first used with (null for keys older than this column).
    request_hash = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("organization", "operation", "key"),)


class OutboxEvent(Model):
    """Domain events written in the same transaction as the change they describe.

    A relay (arq, or the in-process worker) hands them on, ``dispatched_at`` marks delivery.
    """

    id = fields.UUIDField(primary_key=True)
    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)
    topic = fields.CharField(max_length=64, db_index=True)
    payload = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    # No index of its own: migration 0042's partial index holds the undispatched events in the
    # relay's order. No model declares it: a migration that rebuilds this table on SQLite
    # must create it again (tests/test_jobs.py checks it is there).
    dispatched_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)

    class Meta:
        table = "outbox_event"
