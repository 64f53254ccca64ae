from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

CHANNELS = ("phone", "email", "chat", "messenger", "web")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "resolved", "closed")


class Ticket(TenantModel):
    number = fields.IntField()
    subject = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    account = fields.ForeignKeyField("crm.Account", related_name="tickets", null=True, on_delete=fields.SET_NULL)
    contact = fields.ForeignKeyField("crm.Contact", related_name=False, null=True, on_delete=fields.SET_NULL)
    channel = fields.CharField(max_length=16, default="web")
    priority = fields.CharField(max_length=8, default="normal")
    status = fields.CharField(max_length=16, default="new", db_index=True)
    assignee = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    first_response_due_at = fields.DatetimeField(null=True)
    resolution_due_at = fields.DatetimeField(null=True)
    first_response_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    tags = fields.JSONField(default=list, db_default=[])  # lower case, sorted; indexed in customfields.ObjectTag
    version = fields.IntField(default=1)

    resource = "tickets"
    owner_path = "assignee_id"

    class Meta:
        table = "ticket"
        unique_together = (("organization", "number"),)
        indexes = (("account_id", "created_at"), ("organization_id", "updated_at"))


class TicketComment(TenantModel):
    ticket = fields.ForeignKeyField("crm.Ticket", related_name="comments", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    body = fields.TextField()
    is_public = fields.BooleanField(default=False)

    resource = "tickets"
    owner_path = "ticket__assignee_id"

    class Meta:
        table = "ticket_comment"
        indexes = (("ticket_id", "created_at"),)


class SlaPolicy(TenantModel):
    """Per-priority targets, in minutes. Missing rows fall back to DEFAULT_SLA in the service."""

    priority = fields.CharField(max_length=8)
    first_response_minutes = fields.IntField()
    resolution_minutes = fields.IntField()

    resource = "settings"

    class Meta:
        table = "sla_policy"
        unique_together = (("organization", "priority"),)
