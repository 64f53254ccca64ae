"""Partner webhooks: the endpoints an organization registered, one message per event and
endpoint, and every attempt to deliver it (docs/webhooks.md).

Written only by server/webhooks/service.py and server/webhooks/delivery.py."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.core.models import TenantModel

# A message's life: pending (a try is due at next_attempt_at, or waits for its endpoint to be
# enabled again), succeeded (a 2xx), failed (tries ran out; redeliver to send it again).
MESSAGE_STATES = ("pending", "succeeded", "failed")
RESPONSE_EXCERPT_CHARS = 1024


class WebhookEndpoint(TenantModel):
    """An HTTPS address that gets the organization's events it subscribed to.

    ``secrets`` is a Fernet token (server/plugins/crypto.py, bound to this row's id) of
    ``{"current": "whsec_...", "previous": "whsec_..."}``: the signing secret must be known to
    sign, so it is encrypted, never hashed. ``previous`` signs too until ``previous_expires_at``
    (the overlap of a rotation)."""

    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=300, default="")
    event_types = fields.JSONField(default=list)  # empty: every event type
    filters = fields.JSONField(default=dict)  # {"source": ["rozetka"]}: data field -> allowed values
    # Customers' phones, e-mails and addresses in full; masked otherwise (set only by pii:read).
    include_pii = fields.BooleanField(default=False)
    secrets = fields.TextField(default="")
    previous_expires_at = fields.DatetimeField(null=True)
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=300, default="")
    disabled_at = fields.DatetimeField(null=True)
    # Messages in a row whose tries ran out; a delivered message sets it back to 0.
    failure_streak = fields.IntField(default=0)
    version = fields.IntField(default=1)

    resource = "settings"

    class Meta:
        table = "webhook_endpoint"


class WebhookMessage(TenantModel):
    """One event for one endpoint. Unique per (endpoint, event): fanning an event out twice
    adds nothing. The ``event_id`` is the ``webhook-id`` header, the same on every try and
    redelivery, so receivers deduplicate by it."""

    endpoint = fields.ForeignKeyField("crm.WebhookEndpoint", related_name=False, on_delete=fields.CASCADE)
    event_id = fields.UUIDField()
    event_type = fields.CharField(max_length=64)
    payload = fields.JSONField()
    status = fields.CharField(max_length=12, default="pending")
    attempt_count = fields.IntField(default=0)
    # Tries of the current round (a redelivery starts a new round with the full schedule).
    round_attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)

    resource = "settings"

    class Meta:
        table = "webhook_message"
        unique_together = (("endpoint", "event_id"),)
        indexes = (("endpoint_id", "status", "created_at"), ("status", "next_attempt_at"))


class WebhookAttempt(Model):
    """One HTTP request of a message: when, the answer's status (null: no answer), how long
    it took, and the first KB of the answer or the error."""

    id = fields.BigIntField(primary_key=True)
    message = fields.ForeignKeyField("crm.WebhookMessage", related_name="attempts", on_delete=fields.CASCADE)
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField()
    response_excerpt = fields.TextField(default="")
    error = fields.CharField(max_length=300, default="")
    trigger = fields.CharField(max_length=12, default="scheduled")  # scheduled, redelivery, test

    class Meta:
        table = "webhook_attempt"
