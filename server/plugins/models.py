"""Plugin installations per organization and the inbound webhook deliveries they received.

Written only by server/plugins/service.py and server/plugins/webhooks.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class PluginInstallation(TenantModel):
    """A plugin an organization installed: its settings, encrypted secrets and webhook token.

    Secrets are a Fernet token (see server/plugins/crypto.py), never plain text. Only the
    SHA-256 of the webhook token is kept, so the webhook URL is shown once."""

    plugin = fields.CharField(max_length=64)
    label = fields.CharField(max_length=64, default="")
    enabled = fields.BooleanField(default=True)
    config = fields.JSONField(default=dict)
    secrets = fields.TextField(default="")
    secret_fields = fields.JSONField(default=list)
    webhook_token_hash = fields.CharField(max_length=64, unique=True)
    webhook_token_issued_at = fields.DatetimeField()
    allowed_ips = fields.JSONField(default=list)
    version = fields.IntField(default=1)

    resource = "settings"

    class Meta:
        table = "plugin_installation"
        unique_together = (("organization", "plugin", "label"),)


class WebhookDelivery(TenantModel):
    """One inbound webhook delivery, unique per installation and dedupe key.

    A provider redelivering the same request is answered without applying it twice."""

    installation = fields.ForeignKeyField("crm.PluginInstallation", related_name=False, on_delete=fields.CASCADE)
    dedupe_key = fields.CharField(max_length=200)
    path = fields.CharField(max_length=200, default="")
    event_count = fields.IntField(default=0)
    result = fields.JSONField(default=dict)
    attempts = fields.IntField(default=1)
    last_received_at = fields.DatetimeField()

    resource = "settings"

    class Meta:
        table = "plugin_webhook_delivery"
        unique_together = (("installation", "dedupe_key"),)
        indexes = (("organization_id", "created_at"),)
