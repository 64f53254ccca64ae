"""Marketplace sync: per installation cursor, the link of each imported order to its
marketplace order, and every status push to a marketplace with its outcome.

Written only by server/marketplace/service.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

PUSH_OUTCOMES = ("pending", "ok", "refused", "failed", "skipped")


class MarketplaceSyncState(TenantModel):
    """Where the order sync of one marketplace installation stands.

    The cursor advances only after a batch is committed. locked_until is a lease so that
    several workers never sync one installation at the same time."""

    installation = fields.OneToOneField("crm.PluginInstallation", related_name=False, on_delete=fields.CASCADE)
    cursor = fields.TextField(null=True)
    locked_until = fields.DatetimeField(null=True)
    last_started_at = fields.DatetimeField(null=True)
    last_finished_at = fields.DatetimeField(null=True)
    last_result = fields.JSONField(default=dict)

    resource = "settings"

    class Meta:
        table = "marketplace_sync_state"


class MarketplaceOrderLink(TenantModel):
    """An order imported from a marketplace installation and the marketplace status last seen
    or pushed (external_status), so a sync or a push knows what the marketplace already has."""

    order = fields.OneToOneField("crm.Order", related_name=False, on_delete=fields.CASCADE)
    installation = fields.ForeignKeyField("crm.PluginInstallation", related_name=False, on_delete=fields.CASCADE)
    external_id = fields.CharField(max_length=128)
    external_status = fields.CharField(max_length=64)
    external_changed_at = fields.DatetimeField(null=True)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "marketplace_order_link"
        unique_together = (("installation", "external_id"),)


class MarketplacePush(TenantModel):
    """One status change of an order told to its marketplace, unique per order and outbox
    event, so a rerun of the event never pushes twice. outcome is one of PUSH_OUTCOMES:
    skipped means the change came from the marketplace itself and was not sent back."""

    order = fields.ForeignKeyField("crm.Order", related_name=False, on_delete=fields.CASCADE)
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    plugin = fields.CharField(max_length=64)
    event_id = fields.UUIDField()
    crm_status = fields.CharField(max_length=48)
    marketplace_status = fields.CharField(max_length=64, null=True)
    outcome = fields.CharField(max_length=16, default="pending")
    error = fields.TextField(null=True)
    error_code = fields.CharField(max_length=64, null=True)
    attempts = fields.IntField(default=0)
    last_attempt_at = fields.DatetimeField(null=True)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "marketplace_push"
        unique_together = (("order", "event_id"),)
        indexes = (("organization_id", "created_at"),)
