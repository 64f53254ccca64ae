"""Some URLs carry a secret token: webhooks (/hooks/<plugin>/<token>/...), a customer's survey
link (/s/<token>), unsubscribe links (/u/<token>, /e/<token>), tracked link in a message (/c/<token>)
and the signature of an export's download link (``?signature=``). Access log lines show it as *** so
logs never hold a credential that lets anyone post events, answer for a customer, add clicks to a
message or download an export.

Providers that put a credential in the URL path (Telegram's ``/bot<token>/``) are called through
httpx, which logs every request at INFO: its loggers are kept at WARNING (``quiet_http_clients``)."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(/hooks/[^/\s]+/|/[suce]/)[^/\s?]+")
_SIGNATURE = re.compile(r"([?&]signature=)[^&\s]+")
_BOT_TOKEN = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    return _BOT_TOKEN.sub(r"\1***", _SIGNATURE.sub(r"\1***", _TOKEN.sub(r"\1***", text)))


def quiet_http_clients() -> None:
    """httpx and httpcore log each request's URL at INFO; some URLs hold a bot token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class RedactWebhookTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """On uvicorn's access logger (idempotent); and the HTTP clients quiet."""
    quiet_http_clients()
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactWebhookTokens) for f in logger.filters):
        logger.addFilter(RedactWebhookTokens())
