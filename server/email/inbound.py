"""Inbound e-mail: customers' mail becomes conversations (channel ``email``) in the inbox.

The shop's support mailbox forwards (redirects) its mail to the CRM's own address for an e-mail
plugin installation, ``in+<token>@<MAIL_IN_DOMAIN>``; ``crm mail-in`` (server/email/receiver.py)
accepts mail for such addresses only and hands each message to ``receive``:

- the address's token (only its SHA-256 is kept) names the installation, and so the organization:
  nothing in the message itself (From, References...) can move it into another organization;
- a delivery status report (RFC 3464) is a bounce, applied exactly as one piped to the plugin's
  ``/hooks/email/<token>/bounce`` (the plugin's ``crm_webhook``): never a conversation;
- anything else is parsed with the standard library's ``email`` package (``policy.default``):
  the sender, the subject, the text (text/plain, else the HTML part as text), attachments noted
  by name and size (not stored), the Message-ID (a message delivered again is filed once) and the
  thread (``In-Reply-To``/``References``), and filed through ``conversations.receive_message`` like
  a Telegram message: the customer is found by the e-mail address of an account or contact, an
  unknown sender becomes a lead. Auto-replies (``Auto-Submitted``, ``Precedence: bulk``...) are
  filed without reopening anything or starting the first-reply clock.

Agents' replies go out through the same installation (conversations/jobs.py) with ``reply_headers``:
"Re: <subject>", ``In-Reply-To`` and ``References``, so the customer's mail client threads them."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from uuid import UUID

from bs4 import BeautifulSoup
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.config import Settings
from server.conversations.models import Conversation, ConversationMessage
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.email.models import EmailThreadMessage, InboundMailbox
from server.i18n import N_, _, gettext_in
from server.organizations.models import Organization
from server.plugins.models import PluginInstallation
from server.plugins.types import InboundMessage, WebhookRequest

log = logging.getLogger("crm.email.inbound")

PLUGIN = "email"
LOCAL_PREFIX = "in+"
TOKEN_BYTES = 20  # 40 lower-case hex characters (160 bits): safe in any mail system's local part
_TOKEN = re.compile(r"^[0-9a-f]{40}$")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_REFERENCES = 20  # the thread's latest ids a reply carries in References
TEXT_MAX = 20_000
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|ha|відп|отв)\s*:", re.IGNORECASE)
ATTACHMENT_NOTE = N_("Attachment not kept: %(name)s (%(size)s)")
NO_SUBJECT = N_("Your message")


# -- the address --------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def address_of(settings: Settings, token: str) -> str:
    return f"{LOCAL_PREFIX}{token}@{settings.mail_in_domain.strip().lower()}"


async def issue_address(scope: Scope, settings: Settings, installation_id: UUID) -> tuple[InboundMailbox, str]:
    """A new inbound address for an e-mail plugin installation (plugins:admin); the previous one
    stops accepting mail at once. The address carries the token: it is shown this once."""
    scope.require("plugins:admin")
    if not settings.mail_in_domain.strip():
        raise UserInputError(
            ErrorCode.INVALID,
            _(
                "Inbound e-mail is not set up on this server: its administrator sets MAIL_IN_DOMAIN and runs "
                "`crm mail-in` (docs/conversations.md)."
            ),
            "installationId",
        )
    token = secrets.token_hex(TOKEN_BYTES)
    async with in_transaction():
        installation = await scope.get(PluginInstallation, installation_id, field="installationId", for_update=True)
        if installation.plugin != PLUGIN:
            raise UserInputError(
                ErrorCode.INVALID, _("Only an e-mail plugin installation receives e-mail."), "installationId"
            )
        now = datetime.now(UTC)
        mailbox = await InboundMailbox.get_or_none(installation_id=installation.id)
        if mailbox is None:
            mailbox = await InboundMailbox.create(
                organization_id=scope.organization_id,
                installation_id=installation.id,
                token_hash=token_hash(token),
                issued_at=now,
            )
        else:
            await InboundMailbox.filter(id=mailbox.id).update(token_hash=token_hash(token), issued_at=now)
            mailbox.issued_at = now
        await audit.record(scope, "plugin.inbound_address_issued", installation, {"inbound_address": [None, "issued"]})
        await outbox.emit(scope.organization_id, "email.inbound_address_issued", {"installation_id": installation.id})
    return mailbox, address_of(settings, token)


async def mailbox_for(settings: Settings, address: str) -> InboundMailbox | None:
    """The mailbox of an envelope recipient ``in+<token>@<MAIL_IN_DOMAIN>`` whose installation is
    enabled; None for any other address (refused at RCPT)."""
    local, _at, domain = (address or "").strip().lower().rpartition("@")
    expected = settings.mail_in_domain.strip().lower()
    if not expected or domain != expected or not local.startswith(LOCAL_PREFIX):
        return None
    token = local[len(LOCAL_PREFIX) :]
    if not _TOKEN.match(token):
        return None
    mailbox = await InboundMailbox.get_or_none(token_hash=token_hash(token))
    if mailbox is None:
        return None
    if not await PluginInstallation.filter(id=mailbox.installation_id, plugin=PLUGIN, enabled=True).exists():
        return None
    return mailbox


# -- reading a message --------------------------------------------------------------------------


@dataclass
class ParsedMail:
    sender: str  # the From address, lower case ('' when there is none)
    sender_name: str
    subject: str
    message_id: str  # with angle brackets, '' when missing
    references: list[str]  # the thread, oldest first (References, then In-Reply-To)
    text: str
    attachments: list[dict] = field(default_factory=list)  # [{"name", "size", "mimeType"}]
    automated: bool = False
    report: bool = False  # a delivery status notification (RFC 3464)


def _header(mail: EmailMessage, name: str) -> str:
    try:
        value = mail.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the parser cannot model
        value = mail.get_all(name, [""])[0] if hasattr(mail, "get_all") else ""
    return " ".join(str(value or "").split())


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def html_to_text(markup: str) -> str:
    """The readable text of an HTML mail part: scripts, styles and head dropped, tags removed, one
    line per block (nothing of the markup is kept or ever rendered)."""
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "head", "title", "noscript", "template"]):
        tag.decompose()
    # The earlier message the customer's client quoted (Gmail, Apple Mail, Thunderbird).
    for tag in soup.select("div.gmail_quote, blockquote[type=cite], blockquote.gmail_quote"):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


# The line a mail client puts above the quoted message: "On Sun, 6 Dec 2026, Olena <o@x.ua> wrote:",
# "Олена <o@x.ua> пише:", "6 груд. 2026 р. о 10:00 Olena написав(-ла):".
_ATTRIBUTION = re.compile(
    r"(wrote|пише|написав|написала|написал|писал|schrieb|a écrit)[^:\n]{0,12}:\s*$", re.IGNORECASE
)
_WRAPPED = re.compile(r"^(On |\d{1,2}[ .]|.*<[^<>\s]+@[^<>\s]+>\s*$)")  # the first half of a wrapped attribution


def strip_quoted(text: str) -> str:
    """The customer's answer without the earlier message their client quoted below it (lines
    starting with ``>`` at the end, and the "… wrote:" line above them). The agents have that
    message in the conversation already. A mail that is nothing but a quote is kept whole."""
    lines = text.split("\n")
    end = len(lines)
    quoted = 0
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        quoted += lines[end - 1].lstrip().startswith(">")
        end -= 1
    if not quoted:
        return text
    if end and _ATTRIBUTION.search(lines[end - 1]):
        end -= 1
        if end and _WRAPPED.match(lines[end - 1].strip()) and not _ATTRIBUTION.search(lines[end - 1]):
            end -= 1  # "On Sun, 6 Dec 2026 at 10:00, Olena <o@x.ua>" / "wrote:"
    kept = "\n".join(lines[:end]).rstrip()
    return kept or text


def _content(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError, AssertionError):  # an unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)


def _body(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _content(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return strip_quoted(text.replace("\r\n", "\n").replace("\x00", "")).strip()


def _attachments(mail: EmailMessage, body: EmailMessage | None) -> list[dict]:
    found = []
    for part in mail.walk():
        if part is body or part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = part.get_filename()
        if not name and not part.is_attachment():
            if part.get_content_maintype() == "text":
                continue  # the other alternative of the body
        payload = part.get_payload(decode=True) or b""
        found.append(
            {
                "name": str(name or part.get_content_type())[:200],
                "size": len(payload),
                "mimeType": part.get_content_type(),
            }
        )
    return found[:50]


def _automated(mail: EmailMessage, envelope_sender: str | None) -> bool:
    """RFC 3834 auto-replies and bulk mail: filed, but they start nothing."""
    auto = _header(mail, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(mail, "Precedence").lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if _header(mail, "X-Autoreply") or _header(mail, "X-Autorespond"):
        return True
    # A null envelope sender (MAIL FROM:<>) is what mail systems use for automatic messages.
    return envelope_sender is not None and envelope_sender.strip() in ("", "<>")


def _is_report(mail: EmailMessage) -> bool:
    return mail.get_content_type() == "multipart/report" and (
        str(mail.get_param("report-type", "")).lower() == "delivery-status"
    )


def parse(raw: bytes, envelope_sender: str | None = None) -> ParsedMail:
    mail: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    if _is_report(mail):
        return ParsedMail("", "", "", _header(mail, "Message-ID"), [], "", report=True)
    name, sender = "", ""
    for found_name, found_address in getaddresses([_header(mail, "From")]):
        if "@" in found_address:
            name, sender = found_name, found_address.strip().lower()
            break
    references = _ids(_header(mail, "References"))
    for parent in _ids(_header(mail, "In-Reply-To")):
        if parent not in references:
            references.append(parent)
    try:
        body_part = mail.get_body(preferencelist=("plain", "html"))
        text = _body(mail)
    except (LookupError, UnicodeError, ValueError):
        body_part, text = None, ""
    ids = _ids(_header(mail, "Message-ID"))
    return ParsedMail(
        sender=sender,
        sender_name=" ".join(name.split())[:200],
        subject=_header(mail, "Subject")[:300],
        message_id=ids[0] if ids else "",
        references=references[-MAX_REFERENCES:],
        text=text,
        attachments=_attachments(mail, body_part),
        automated=_automated(mail, envelope_sender),
    )


# -- filing -------------------------------------------------------------------------------------


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _provider_id(parsed: ParsedMail, raw: bytes) -> str:
    """The conversation message's provider id (64 characters at most): the Message-ID's SHA-256,
    or the whole message's for a mail without one (a byte-identical redelivery is still one)."""
    return hashlib.sha256(parsed.message_id.encode() if parsed.message_id else raw).hexdigest()


def _text(parsed: ParsedMail, locale: str) -> str:
    parts = [parsed.subject] if parsed.subject else []
    if parsed.text:
        parts.append(parsed.text)
    notes = [gettext_in(locale, ATTACHMENT_NOTE, name=a["name"], size=_size(a["size"])) for a in parsed.attachments]
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts)[:TEXT_MAX]


async def _bounce(settings: Settings, installation: PluginInstallation, raw: bytes) -> dict:
    """A DSN that reached the inbound address: applied like one piped to the bounce webhook."""
    from server.plugins import service as plugins
    from server.plugins.webhooks import record_and_apply

    request = WebhookRequest(method="POST", url="smtp://mail-in/bounce", path="bounce", headers={}, query={}, body=raw)
    result = await plugins.call(settings, installation, "crm_webhook", request=request)
    if not result.events:
        return {"type": "ignored"}
    key = result.dedupe_key or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    return {"type": "bounce", "outcome": await record_and_apply(installation, key, "bounce", result.events)}


async def receive(settings: Settings, mailbox: InboundMailbox, raw: bytes, envelope_sender: str | None = None) -> dict:
    """File one message delivered to ``mailbox`` (idempotent on its Message-ID)."""
    from server.plugins.webhooks import system_scope

    installation = await PluginInstallation.get(id=mailbox.installation_id)
    parsed = parse(raw, envelope_sender)
    if parsed.report:
        return await _bounce(settings, installation, raw)
    own = str((installation.config or {}).get("from_address") or "").strip().lower()
    if not parsed.sender or (own and parsed.sender == own):
        # No sender to answer, or our own mail coming back through the forward (a loop).
        return {"type": "ignored"}
    if len(parsed.sender) > 128:
        return {"type": "ignored", "reason": "sender address too long"}
    organization = await Organization.get(id=mailbox.organization_id)  # type: ignore[attr-defined]
    scope = system_scope(installation, organization)
    locale = organization.locale if organization.locale in ("uk", "en") else "uk"
    message = InboundMessage(
        channel="email",
        address=parsed.sender,
        provider_message_id=_provider_id(parsed, raw),
        text=_text(parsed, locale),
        kind="text" if parsed.text or parsed.subject or not parsed.attachments else "file",
        sender_name=parsed.sender_name or parsed.sender,
        email=parsed.sender,
        automated=parsed.automated,
    )
    for attempt in (1, 2):
        try:
            return await _file(scope, installation, organization.id, message, parsed)
        except IntegrityError:
            # A concurrent delivery created the conversation or filed this very message a moment
            # ago: the second attempt finds them (and files nothing twice).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _file(scope: Scope, installation, organization_id, message: InboundMessage, parsed: ParsedMail) -> dict:
    from server.conversations import service as conversations

    async with in_transaction():
        result = await conversations.receive_message(scope, installation.id, PLUGIN, message)
        if result.get("duplicate"):
            return result
        await EmailThreadMessage.create(
            organization_id=organization_id,
            conversation_id=result["conversation_id"],
            conversation_message_id=result["message_id"],
            direction="in",
            message_id_header=parsed.message_id[:255],
            subject=parsed.subject[:300],
            thread_ids=" ".join(parsed.references),
            automated=parsed.automated,
            attachments=parsed.attachments,
        )
    return result


# -- replying -----------------------------------------------------------------------------------


def _re(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


async def reply_headers(conversation: Conversation, locale: str) -> tuple[str, dict[str, str]]:
    """Subject and threading headers of an agent's reply in an e-mail conversation: "Re:" the
    customer's latest subject, ``In-Reply-To`` their latest message, ``References`` the thread."""
    latest = (
        await EmailThreadMessage.filter(conversation_id=conversation.id, direction="in")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None:
        return gettext_in(locale, NO_SUBJECT), {}
    subject = _re(latest.subject) if latest.subject else gettext_in(locale, NO_SUBJECT)
    if not latest.message_id_header:
        return subject, {}
    thread = [r for r in latest.thread_ids.split() if r != latest.message_id_header]
    thread = [*thread, latest.message_id_header][-MAX_REFERENCES:]
    return subject, {"In-Reply-To": latest.message_id_header, "References": " ".join(thread)}


async def reply_sent(message: ConversationMessage, message_id: str, subject: str, headers: dict[str, str]) -> None:
    """Remember a sent reply's Message-ID, so the customer's answer to it is part of the thread."""
    await EmailThreadMessage.create(
        organization_id=message.organization_id,  # type: ignore[attr-defined]
        conversation_id=message.conversation_id,  # type: ignore[attr-defined]
        conversation_message_id=message.id,
        direction="out",
        message_id_header=message_id[:255],
        subject=subject[:300],
        thread_ids=headers.get("References", ""),
    )
