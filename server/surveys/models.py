"""Customer surveys: NPS after an order is delivered, CSAT and CES after a ticket is resolved,
answered once on a small public page through a single-use link (docs/surveys.md)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

KINDS = ("nps", "support")  # nps: about an order; support: about a ticket (CSAT + CES)


class SurveySettings(TenantModel):
    """When surveys go out, per organization. No row: the defaults below."""

    resource = "settings"

    nps_enabled = fields.BooleanField(default=True)
    nps_status = fields.CharField(max_length=48, default="delivered")  # the order status that starts it
    nps_delay_days = fields.IntField(default=3)
    support_enabled = fields.BooleanField(default=True)
    support_delay_minutes = fields.IntField(default=0)  # after the ticket is resolved
    link_days = fields.IntField(default=30)  # a link works this long after it was sent

    class Meta:
        table = "survey_settings"
        unique_together = (("organization",),)


class Survey(TenantModel):
    """One survey of one order or one ticket (the unique constraints make a second one
    impossible, whatever the number of job runs or workers), from pending to answered."""

    # Whoever may see the customer sees their answers.
    resource = "accounts"
    owner_path = "account__owner_id"

    kind = fields.CharField(max_length=8)
    account = fields.ForeignKeyField("crm.Account", related_name=False, null=True, on_delete=fields.SET_NULL)
    order = fields.ForeignKeyField("crm.Order", related_name=False, null=True, on_delete=fields.CASCADE)
    ticket = fields.ForeignKeyField("crm.Ticket", related_name=False, null=True, on_delete=fields.CASCADE)
    due_at = fields.DatetimeField()  # when the message goes out (quiet hours may move it later)
    # The link: only the SHA-256 of its random token is kept, set when a message carries it.
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    channel = fields.CharField(max_length=16, default="")  # the channel the link went out on
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    nps = fields.IntField(null=True)  # 0-10, "how likely to recommend us"
    csat = fields.IntField(null=True)  # 1-5, "how satisfied"
    ces = fields.IntField(null=True)  # 1-5, "how easy was it" (5: very easy)
    comment = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True, db_index=True)
    # The answer's date in the organization's time zone: figures by day, week or month group on it.
    answered_on = fields.DateField(null=True)
    locale = fields.CharField(max_length=8, default="")  # the language it was answered in
    detractor = fields.BooleanField(default=False)
    follow_up = fields.ForeignKeyField("crm.Activity", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "survey"
        unique_together = (("order",), ("ticket",))
        indexes = (("organization_id", "answered_at"),)
