"""Single-use links a customer opens (a survey /s/<token>, an unsubscribe /u/<token>): a random
token in the message, only its SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets

from server.config import Settings

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def public_link(settings: Settings, prefix: str, token: str) -> str:
    return f"{(settings.public_url or DEFAULT_PUBLIC_URL).rstrip('/')}/{prefix}/{token}"
