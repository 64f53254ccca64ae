from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class BulkJob(TenantModel):
    """One bulk action (change status, assign, tag, delete) over many orders, deals, tickets or
    accounts, run in the background; every target is a ``BulkJobItem`` with its own result."""

    object_type = fields.CharField(max_length=16)  # orders | deals | tickets | accounts
    action = fields.CharField(max_length=16)  # status | assign | add_tags | remove_tags | delete
    params = fields.JSONField(default=dict)  # the action's arguments: status code, stage id, user id, tags
    state = fields.CharField(max_length=16, default="queued")  # queued | running | done
    total = fields.IntField(default=0)
    succeeded = fields.IntField(default=0)
    refused = fields.IntField(default=0)
    requested_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    # The language of the request that started it: per-item messages are written in it.
    locale = fields.CharField(max_length=8, default="uk")
    finished_at = fields.DatetimeField(null=True)

    resource = "bulk"
    owner_path = "requested_by_id"

    class Meta:
        table = "bulk_job"
        indexes = (("organization_id", "created_at"),)


class BulkJobItem(TenantModel):
    """One target of a bulk job and what happened to it. ``state`` changes in the same
    transaction as the target itself, so a job run again skips what is already done."""

    job = fields.ForeignKeyField("crm.BulkJob", related_name="items", on_delete=fields.CASCADE)
    position = fields.IntField()
    target_id = fields.UUIDField()
    # The version the caller saw (a selection may name one); null: whatever is current.
    expected_version = fields.IntField(null=True)
    state = fields.CharField(max_length=16, default="pending")  # pending | succeeded | refused
    code = fields.CharField(max_length=32, null=True)
    message = fields.TextField(default="")
    field = fields.CharField(max_length=64, null=True)

    resource = "bulk"

    class Meta:
        table = "bulk_job_item"
        unique_together = (("job", "position"),)
        indexes = (("job_id", "state"),)
