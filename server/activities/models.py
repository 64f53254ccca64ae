from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

# Kinds people add by hand, and kinds the services write so the timeline shows every touchpoint.
MANUAL_KINDS = ("note", "call", "sms", "email", "message", "task")
SYSTEM_KINDS = ("status_change", "order", "deal", "ticket", "survey", "rfm_group")


class Activity(TenantModel):
    """A timeline item of an account, optionally about a deal, an order or a ticket."""

    kind = fields.CharField(max_length=16)
    account = fields.ForeignKeyField("crm.Account", related_name="activities", null=True, on_delete=fields.CASCADE)
    deal = fields.ForeignKeyField("crm.Deal", related_name=False, null=True, on_delete=fields.SET_NULL)
    order = fields.ForeignKeyField("crm.Order", related_name=False, null=True, on_delete=fields.SET_NULL)
    ticket = fields.ForeignKeyField("crm.Ticket", related_name=False, null=True, on_delete=fields.SET_NULL)
    actor = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    subject = fields.CharField(max_length=300, default="")
    body = fields.TextField(default="")
    data = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField(db_index=True)
    due_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    resource = "activities"
    owner_path = "account__owner_id"

    class Meta:
        table = "activity"
        indexes = (
            ("order_id",),
            ("organization_id", "account_id", "occurred_at"),
            ("organization_id", "updated_at"),
        )
