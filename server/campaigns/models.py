"""Retention campaigns (docs/campaigns.md): win-back, birthday and review-request steps sent
through the notification cascade to customers who accept marketing, each step once per customer
and occasion, with a frequency cap, an opt-out link, results and A/B variants."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

KINDS = ("winback", "birthday", "review")


class CampaignSettings(TenantModel):
    """Marketing rules of an organization. No row: the defaults below."""

    resource = "settings"

    # Without a recorded choice a customer does NOT get marketing (opt-in; docs/campaigns.md says why).
    marketing_default_opt_in = fields.BooleanField(default=False)
    frequency_cap_days = fields.IntField(default=7)  # at most one marketing message per this many days
    conversion_window_days = fields.IntField(default=7)  # an order this soon after a message converts

    class Meta:
        table = "campaign_settings"
        unique_together = (("organization",),)


class Campaign(TenantModel):
    """One kind of campaign of an organization, on or off, optionally only for a segment."""

    resource = "settings"

    kind = fields.CharField(max_length=16)
    enabled = fields.BooleanField(default=False)
    segment = fields.ForeignKeyField("crm.Segment", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "campaign"
        unique_together = (("organization", "kind"),)


class CampaignStep(TenantModel):
    """A message of a campaign. ``delay`` means, for winback: months after the last order, for
    birthday: days before the birthday, for review: days after the order was delivered.
    ``variants``: [{"key": "A", "texts": {"uk": ..., "en": ...}}, ...] (A/B when two or more)."""

    resource = "settings"

    campaign = fields.ForeignKeyField("crm.Campaign", related_name="steps", on_delete=fields.CASCADE)
    position = fields.IntField()
    enabled = fields.BooleanField(default=True)
    delay = fields.IntField()
    offer_days = fields.IntField(default=0)  # the offer is valid this many days after the message
    variants = fields.JSONField(default=list)

    class Meta:
        table = "campaign_step"
        unique_together = (("campaign", "position"),)


class CustomerMarketing(TenantModel):
    """A customer's marketing side: birthday, marketing consent (separate from the per-channel
    consent to order messages) and when they last got a marketing message (the frequency cap)."""

    resource = "accounts"
    owner_path = "account__owner_id"

    account = fields.OneToOneField("crm.Account", related_name=False, on_delete=fields.CASCADE)
    birthday = fields.DateField(null=True)
    opted_in = fields.BooleanField(null=True)  # None: the organization's default
    consent_changed_at = fields.DatetimeField(null=True)
    last_message_at = fields.DatetimeField(null=True)

    class Meta:
        table = "customer_marketing"


class CampaignMessage(TenantModel):
    """One step for one customer on one occasion (the last order's date, the birthday's year, the
    delivered order): unique, so no scheduler run or worker can send it twice."""

    resource = "accounts"
    owner_path = "account__owner_id"

    step = fields.ForeignKeyField("crm.CampaignStep", related_name=False, on_delete=fields.CASCADE)
    account = fields.ForeignKeyField("crm.Account", related_name=False, on_delete=fields.CASCADE)
    occurrence = fields.CharField(max_length=64)
    variant = fields.CharField(max_length=16, default="A")
    notified = fields.BooleanField(default=False)  # its notification was created
    token_hash = fields.CharField(max_length=64, null=True, unique=True)  # SHA-256 of the opt-out link's token
    sent_at = fields.DatetimeField(null=True)
    opted_out_at = fields.DatetimeField(null=True)

    class Meta:
        table = "campaign_message"
        unique_together = (("step", "account", "occurrence"),)
