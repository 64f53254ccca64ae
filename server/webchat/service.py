"""The web chat: the admins' widget settings, and what a visitor's browser may do: start a chat,
write, and read its own conversation (nothing else of the organization)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.conversations import service as conversations
from server.conversations.models import ConversationMessage
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.text import limited_text
from server.core.versioning import update_versioned
from server.i18n import _
from server.organizations.models import Organization
from server.plugins.types import InboundMessage
from server.webchat.models import WebChatVisitor, WebChatWidget

CHANNEL = "web"
TEXT_MAX = 4000
NAME_MAX = 120
MAX_ORIGINS = 20
HISTORY_MAX = 200
CLIENT_ID_MAX = 64


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- the admins' side ------------------------------------------------------------------------


async def widget(scope: Scope) -> WebChatWidget:
    """The organization's widget, made (switched off) the first time anyone asks."""
    scope.require("settings:read")
    found = await WebChatWidget.get_or_none(organization_id=scope.organization_id)
    if found is None:
        async with in_transaction():
            found = await WebChatWidget.get_or_none(organization_id=scope.organization_id)
            if found is None:
                found = await WebChatWidget.create(
                    organization_id=scope.organization_id, key=secrets.token_urlsafe(18)[:24]
                )
    return found


_HOST = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?")  # a host as a CSP source may name it (IDN as punycode)


def _origin(raw: str, field: str) -> str:
    parts = urlsplit(raw.strip())
    if (
        parts.scheme not in ("https", "http")
        or not _HOST.fullmatch(parts.netloc.lower())
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise UserInputError(
            ErrorCode.INVALID, _("'%(origin)s' is not a site address such as https://shop.example.", origin=raw), field
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


async def configure(
    scope: Scope,
    version: int,
    *,
    enabled: bool | None = None,
    title: str | None = None,
    greeting: str | None = None,
    allowed_origins: list[str] | None = None,
) -> WebChatWidget:
    scope.require("settings:write")
    found = await widget(scope)
    problems = Problems()
    values: dict = {}
    if enabled is not None:
        values["enabled"] = enabled
    with problems:
        if title is not None:
            values["title"] = limited_text(title, "title", 120) or ""
    with problems:
        if greeting is not None:
            values["greeting"] = limited_text(greeting, "greeting", 500) or ""
    if allowed_origins is not None:
        if len(allowed_origins) > MAX_ORIGINS:
            problems.add(ErrorCode.INVALID, _("At most %(n)s sites.", n=MAX_ORIGINS), "allowedOrigins")
        origins = []
        for i, raw in enumerate(allowed_origins[:MAX_ORIGINS]):
            with problems:
                origins.append(_origin(raw, f"allowedOrigins.{i}"))
        values["allowed_origins"] = list(dict.fromkeys(origins))
    problems.raise_if_any()
    async with in_transaction():
        changes = await update_versioned(found, version, values)
        await audit.record(scope, "webchat.configure", found, changes)
    return await WebChatWidget.get(id=found.id)


# -- the visitor's side (no sign-in: the widget key and the visitor's token) ----------------


class ChatUnavailable(Exception):
    """No enabled widget with this key, or a token that is not one of its visitors'."""


async def open_widget(key: str) -> tuple[WebChatWidget, Organization]:
    found = await WebChatWidget.get_or_none(key=key[:32], enabled=True).select_related("organization")
    if found is None:
        raise ChatUnavailable
    return found, found.organization


def _scope(organization: Organization) -> Scope:
    # A visitor's message is filed as the plugin webhooks file theirs: accounts, timeline, inbox.
    return Scope.for_app(organization, "webchat", "plugin-webhook")


async def start(key: str, name: str | None) -> tuple[str, WebChatVisitor]:
    """A new visitor: the token their browser keeps (shown once, only its hash is stored)."""
    found, _org = await open_widget(key)
    token = secrets.token_urlsafe(32)
    visitor = await WebChatVisitor.create(
        organization_id=found.organization_id,
        widget_id=found.id,
        token_hash=_token_hash(token),
        name=(name or "").strip()[:NAME_MAX].replace("\x00", ""),
    )
    return token, visitor


async def visitor_of(key: str, token: str) -> tuple[WebChatVisitor, WebChatWidget, Organization]:
    found, organization = await open_widget(key)
    visitor = await WebChatVisitor.get_or_none(token_hash=_token_hash(token or ""), widget_id=found.id)
    if visitor is None:
        raise ChatUnavailable
    return visitor, found, organization


async def write(key: str, token: str, text: str, client_id: str | None) -> ConversationMessage:
    """File the visitor's message in their conversation, once per ``client_id`` (the browser's
    id of the message, so a retried send after a lost answer is not doubled)."""
    visitor, _found, organization = await visitor_of(key, token)
    clean = (text or "").strip().replace("\x00", "")
    if not clean:
        raise UserInputError(ErrorCode.REQUIRED, _("Write a message."), "text")
    if len(clean) > TEXT_MAX:
        raise UserInputError(ErrorCode.INVALID, _("A message may have at most %(n)s characters.", n=TEXT_MAX), "text")
    message_id = (client_id or "").strip()[:CLIENT_ID_MAX] or uuid4().hex
    scope = _scope(organization)
    async with in_transaction():
        filed = await conversations.receive_message(
            scope,
            None,
            "webchat",
            InboundMessage(
                channel=CHANNEL,
                address=str(visitor.id),
                provider_message_id=message_id,
                text=clean,
                sender_name=visitor.name or _("Site visitor"),
            ),
        )
        if visitor.conversation_id is None:
            await WebChatVisitor.filter(id=visitor.id).update(conversation_id=UUID(filed["conversation_id"]))
    return await ConversationMessage.get(
        conversation_id=UUID(filed["conversation_id"]), direction="in", provider_message_id=message_id
    )


async def history(key: str, token: str) -> tuple[WebChatWidget, list[ConversationMessage]]:
    """The visitor's own conversation, oldest first (the latest ``HISTORY_MAX``). The agents'
    replies it shows are marked delivered."""
    visitor, found, _org = await visitor_of(key, token)
    if visitor.conversation_id is None:
        return found, []
    rows = (
        await ConversationMessage.filter(conversation_id=visitor.conversation_id)
        .order_by("-created_at")
        .limit(HISTORY_MAX)
        .select_related("author")
    )
    rows.reverse()
    fresh = [m.id for m in rows if m.direction == "out" and m.state == "sent"]
    if fresh:
        now = datetime.now(UTC)
        await ConversationMessage.filter(id__in=fresh, state="sent").update(state="delivered", delivered_at=now)
        for m in rows:
            if m.id in fresh:
                m.state, m.delivered_at = "delivered", now
    return found, rows
