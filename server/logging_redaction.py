"""Some URLs carry a secret token: webhooks (/hooks/<plugin>/<token>/...), a customer's survey
link (/s/<token>), unsubscribe links (/u/<token>, /e/<token>) and tracked link in a message (/c/<token>).
Access log lines show it as *** so logs never hold a credential that lets anyone post events,
answer for a customer or add clicks to a message."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(/hooks/[^/\s]+/|/[suce]/)[^/\s?]+")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


class RedactWebhookTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """On uvicorn's access logger (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactWebhookTokens) for f in logger.filters):
        logger.addFilter(RedactWebhookTokens())
