"""Plugin secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from SECRET_KEY.

- The encryption key is derived from ``settings.secret_key`` with HKDF-SHA256 (a purpose
  label keeps it distinct from any other key the CRM derives from the same secret).
- Rotation: put the previous secret keys in ``OLD_SECRET_KEYS`` (comma separated, or the
  ``old_secret_keys`` list in a settings file). Reading tries the current key then the old
  ones (``MultiFernet``); writing always uses the current key. ``rotate_all`` re-encrypts
  every installation with the current key, after which the old keys can be dropped.
- The ciphertext carries the installation id, checked on decryption, so a blob copied from
  one installation (or organization) into another row does not decrypt there.
"""

from __future__ import annotations

import base64
import json
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.i18n import _

log = logging.getLogger("crm.plugins")

PURPOSE = b"crm plugin secrets v1"


class SecretsUnreadable(Exception):
    """The stored secrets do not decrypt with any configured key (wrong SECRET_KEY, or the
    old key was dropped before ``rotate_all``)."""


def secret_keys(settings) -> list[str]:
    """The current secret key first, then the old ones still accepted for reading."""
    keys = [settings.secret_key, *[k for k in settings.old_secret_keys if k]]
    return list(dict.fromkeys(keys))


@lru_cache(maxsize=16)
def _fernet(secret: str) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode())))


@lru_cache(maxsize=16)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(k) for k in keys])


def cipher(settings) -> MultiFernet:
    settings.require_secret_key()  # never encrypt with the public placeholder
    return _multi_fernet(tuple(secret_keys(settings)))  # built once: every provider call decrypts


def encrypt(settings, installation_id: str, secrets: dict) -> str:
    if not secrets:
        return ""
    plain = json.dumps({"i": str(installation_id), "s": secrets}, ensure_ascii=False, separators=(",", ":"))
    return cipher(settings).encrypt(plain.encode()).decode()


def decrypt(settings, installation_id: str, token: str) -> dict:
    if not token:
        return {}
    try:
        envelope = json.loads(cipher(settings).decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretsUnreadable(
            _("The plugin's secrets do not decrypt with SECRET_KEY (nor OLD_SECRET_KEYS).")
        ) from exc
    if envelope.get("i") != str(installation_id):
        raise SecretsUnreadable(_("The stored secrets belong to another installation."))
    return envelope["s"]


def rotate(settings, token: str) -> str:
    """The same secrets encrypted with the current key (a no-op for an empty value)."""
    if not token:
        return ""
    try:
        return cipher(settings).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsUnreadable("The plugin's secrets do not decrypt with any configured key.") from exc
