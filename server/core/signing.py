"""Signed, expiring links: an HMAC-SHA256 of ``<purpose>:<id>:<expires>`` under SECRET_KEY.

Exports (``/exports/<id>/download?expires=&signature=``) and attachments (``/files/<token>``)
sign their links here. A link signed before a key rotation keeps working until it expires
(OLD_SECRET_KEYS); a changed id, purpose or expiry, or a link past its time, is refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from uuid import UUID

from server.config import Settings


def signature(key: str, purpose: str, object_id: UUID, expires: int) -> str:
    message = f"{purpose}:{object_id}:{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sign(settings: Settings, purpose: str, object_id: UUID, expires: int) -> str:
    return signature(settings.secret_key, purpose, object_id, expires)


def check(settings: Settings, purpose: str, object_id: UUID, expires: str | int, given: str, now: datetime) -> bool:
    """Whether ``given`` signs this purpose, id and expiry, and the expiry is still ahead."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    keys = [settings.secret_key, *settings.old_secret_keys]
    good = any(hmac.compare_digest(signature(key, purpose, object_id, expires_at), given) for key in keys)
    return good and expires_at > now.timestamp()
