"""Click tracking: rewriting a message's links into short tracked links when it is sent, and
counting a click when one is opened (docs/notifications.md, "Click tracking").

- Every ``http(s)://`` address in the text becomes ``<public URL>/c/<token>``, one token per
  distinct address of the message. Addresses of the CRM itself (the survey ``/s/`` and
  unsubscribe ``/u/`` links, anything under the public URL) stay as they are: they are not the
  shop's links, and opening an unsubscribe link is no sign of interest.
- The token is 11 url-safe characters (64 random bits): short for SMS, not guessable; only its
  SHA-256 is stored, as for survey links.
- A click is one UPDATE: the count goes up by one, the first click's time is set once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from server.analytics.metrics_sql import fetch
from server.clicks.models import TrackedLink
from server.config import Settings
from server.core.public_links import DEFAULT_PUBLIC_URL, digest

PREFIX = "c"
TOKEN_BYTES = 8  # 11 characters
MAX_TOKEN = 64  # longer is no token of ours: not looked up
# An address runs to the next space or character that cannot be part of one in a message.
_URL = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)
_HOST = re.compile(r"https?://\w", re.IGNORECASE)
# Punctuation that ends a sentence is not part of the address before it.
_TRAILING = ".,;:!?'\"»)]}"


@dataclass(frozen=True)
class Link:
    token: str
    url: str


def base_url(settings: Settings) -> str:
    return (settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a closing bracket of the address itself (Wikipedia-style paths)
        url = url[:-1]
    return url


def rewrite(text: str, base: str, new_token=lambda: secrets.token_urlsafe(TOKEN_BYTES)) -> tuple[str, list[Link]]:
    """The text with each foreign address replaced by a tracked link, and the links made."""
    own = base.rstrip("/").lower() + "/"
    made: dict[str, Link] = {}
    out, position = [], 0
    for match in _URL.finditer(text):
        url = _trim(match.group(0))
        end = match.start() + len(url)
        if url.lower().startswith(own) or not _HOST.match(url):
            continue
        link = made.get(url)
        if link is None:
            link = made[url] = Link(new_token(), url)
        out.append(text[position : match.start()])
        out.append(f"{base.rstrip('/')}/{PREFIX}/{link.token}")
        position = end
    out.append(text[position:])
    return "".join(out), list(made.values())


async def store(
    organization_id: UUID,
    notification_id: UUID,
    account_id: UUID | None,
    campaign_message_id: UUID | None,
    links: list[Link],
) -> None:
    """The rows of a message's links (called in the transaction that claims it for sending)."""
    await TrackedLink.bulk_create(
        [
            TrackedLink(
                organization_id=organization_id,
                notification_id=notification_id,
                account_id=account_id,
                campaign_message_id=campaign_message_id,
                token_hash=digest(link.token),
                url=link.url,
            )
            for link in links
        ]
    )


async def click(token: str, now: datetime | None = None) -> str | None:
    """Count a click of the link with ``token``; the address it leads to, None if unknown."""
    if not token or len(token) > MAX_TOKEN:
        return None
    rows = await fetch(
        """UPDATE tracked_link SET clicks = clicks + 1,
                  first_clicked_at = COALESCE(first_clicked_at, :now)
           WHERE token_hash = :token_hash RETURNING url""",
        {"now": now or datetime.now(UTC), "token_hash": digest(token)},
    )
    return rows[0]["url"] if rows else None


async def where_to(token: str) -> str | None:
    """The address of the link without counting a click (link previews)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    link = await TrackedLink.get_or_none(token_hash=digest(token))
    return link.url if link else None
