"""Tracked links (docs/notifications.md, "Click tracking"): each http(s) address in a message is
sent as a short ``/c/<token>`` link of the CRM, which counts the click and redirects to it."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class TrackedLink(TenantModel):
    """One address of one sent message: where it leads, when it was first opened, how often.

    Only the token's SHA-256 is kept (like a survey link's), so the table alone does not give
    working links; the redirect goes only to the ``url`` stored here at send time."""

    resource = "orders"

    notification = fields.ForeignKeyField(
        "crm.Notification", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    # Set for a campaign's message: its results count clicks per campaign message.
    campaign_message = fields.ForeignKeyField(
        "crm.CampaignMessage", related_name=False, null=True, on_delete=fields.CASCADE, db_index=True
    )
    account = fields.ForeignKeyField("crm.Account", related_name=False, null=True, on_delete=fields.SET_NULL)
    token_hash = fields.CharField(max_length=64, unique=True)
    url = fields.TextField()
    first_clicked_at = fields.DatetimeField(null=True)
    clicks = fields.IntField(default=0)

    class Meta:
        table = "tracked_link"
