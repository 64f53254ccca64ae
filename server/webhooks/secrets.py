"""Signing secrets of webhook endpoints: made here, kept encrypted, used to sign.

A secret is Standard Webhooks' ``whsec_`` + base64 of 24 random bytes. The receiver needs it
to verify, so it is shown when made (``createWebhookEndpoint``, ``rotateWebhookSecret``) and
stored encrypted with the key plugin secrets use (server/plugins/crypto.py: Fernet with a key
derived from SECRET_KEY, bound to the endpoint's id, OLD_SECRET_KEYS for key rotation)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from server.plugins import crypto
from server.webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def seal(settings, endpoint_id, current: str, previous: str | None = None) -> str:
    values = {"current": current} | ({"previous": previous} if previous else {})
    return crypto.encrypt(settings, str(endpoint_id), values)


def signing_secrets(settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one while the rotation's overlap lasts: a
    request is signed with each, so receivers that still have the old one keep verifying."""
    values = crypto.decrypt(settings, str(endpoint.id), endpoint.secrets)
    result = [values["current"]]
    if values.get("previous") and endpoint.previous_expires_at and endpoint.previous_expires_at > now:
        result.append(values["previous"])
    return result


async def rotate_all(settings) -> int:
    """Re-encrypt every endpoint's secrets with the current SECRET_KEY (``crm plugins
    rotate-secrets`` does it with the plugins' secrets). Returns how many rows were rewritten."""
    count = 0
    for endpoint in await WebhookEndpoint.exclude(secrets=""):
        rotated = crypto.rotate(settings, endpoint.secrets)
        if rotated != endpoint.secrets:
            # Only if nobody rotated them meanwhile: never write back an old secret.
            count += await WebhookEndpoint.filter(id=endpoint.id, secrets=endpoint.secrets).update(secrets=rotated)
    return count
