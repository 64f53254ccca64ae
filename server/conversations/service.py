"""The agents' inbox: filing customers' messages, replying, assigning, snoozing, closing,
linking to an account, and turning a conversation into a ticket or a deal.

One road in for incoming messages: ``receive_message``, called with an ``InboundMessage``
that a channel plugin's ``crm_webhook`` returned (server/plugins/webhooks.py applies it in the
webhook delivery's transaction). It finds or starts the conversation of the channel address,
files the message once per provider message id, links the customer by phone (E.164) or makes
them a lead, puts the message on the account's timeline and starts the first-reply SLA.

Agents' replies are written ``queued`` with a ``conversation.reply_queued`` outbox event in the
same transaction; the job in jobs.py sends each one through the channel's plugin exactly once.

Every write checks ``Scope`` (``conversations:read`` / ``conversations:update``), and writes its
audit entry and outbox event in one transaction with the change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.accounts.models import Account
from server.activities import service as activities
from server.audit import service as audit
from server.auth.scope import Scope
from server.conversations.models import CHANNELS, KINDS, Conversation, ConversationMessage
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.phones import try_e164
from server.core.text import limited_text, required_text
from server.i18n import N_, _, gettext_in
from server.plugins.types import InboundMessage
from server.tickets import service as tickets

TEXT_MAX = 4096  # Telegram's limit for one message; Viber's is larger
MAX_ATTACHMENTS = 10
URL_MAX = 2000
SNOOZE_MAX = timedelta(days=365)
CHANNEL_TITLES = {"telegram": "Telegram", "viber": "Viber", "email": N_("E-mail"), "web": N_("Web chat"), "sms": "SMS"}

# The web chat is the CRM's own channel: a reply is sent the moment it is stored (the visitor's
# page fetches it); every other channel sends through its plugin's job.
OWN_CHANNEL = "web"

IN_SUBJECT = N_("%(channel)s message from %(name)s")
OUT_SUBJECT = N_("%(channel)s reply to %(name)s")


def _now() -> datetime:
    return datetime.now(UTC)


async def _locale(scope: Scope) -> str:
    locale = scope.organization.locale
    return locale if locale in ("uk", "en") else "uk"


async def _timeline(scope: Scope, conversation: Conversation, message: ConversationMessage, subject: str) -> None:
    """Every message is on the account's timeline, as a ``message`` entry pointing back to it."""
    if conversation.account_id is None:
        return
    name = conversation.display_name or conversation.address
    await activities.log(
        scope,
        "message",
        account_id=conversation.account_id,
        subject=gettext_in(
            locale := await _locale(scope),
            subject,
            channel=gettext_in(locale, CHANNEL_TITLES[conversation.channel]),
            name=name,
        ),
        body=message.text or "\n".join(a.get("url", "") for a in message.attachments),
        data={
            "conversation_id": str(conversation.id),
            "message_id": str(message.id),
            "direction": message.direction,
            "channel": conversation.channel,
        },
        ticket_id=conversation.ticket_id,
        deal_id=conversation.deal_id,
    )


async def _sla_due(organization_id: UUID, start: datetime) -> datetime:
    """The first-reply target: the ticket SLA's first response for a NORMAL ticket (slaPolicies)."""
    first, _resolution = await tickets.sla_minutes(organization_id, "normal")
    return start + timedelta(minutes=first)


# -- incoming ----------------------------------------------------------------------------


def _check_inbound(message: InboundMessage) -> None:
    problems = Problems()
    if message.channel not in CHANNELS:
        problems.add(ErrorCode.INVALID, _("Unknown channel '%(channel)s'.", channel=message.channel), "channel")
    if not str(message.address or "").strip() or len(str(message.address)) > 128:
        problems.add(ErrorCode.INVALID, _("The sender's address must be 1 to 128 characters."), "address")
    if not str(message.provider_message_id or "").strip() or len(str(message.provider_message_id)) > 64:
        problems.add(ErrorCode.INVALID, _("The provider's message id must be 1 to 64 characters."), "providerMessageId")
    if message.kind not in KINDS:
        problems.add(ErrorCode.INVALID, _("Unknown message kind '%(kind)s'.", kind=message.kind), "kind")
    problems.raise_if_any()


async def _lead(
    scope: Scope, conversation: Conversation, name: str, phone: str | None, source: str, email: str = ""
) -> Account:
    """An unknown sender becomes a lead account, named as the channel shows them."""
    data = {"name": (name or f"{CHANNEL_TITLES[conversation.channel]} {conversation.address}")[:200], "tags": ["lead"]}
    data["source"] = source[:64]
    if phone:
        data["phones"] = [phone]
    if email and accounts.EMAIL_RE.match(email.strip().lower()) and len(email) <= 254:
        data["emails"] = [email.strip().lower()]
    return await accounts.create_account(scope, data)


async def _link_by_phone(scope: Scope, conversation: Conversation, phone: str, name: str, source: str) -> str:
    """Link the conversation to the account with this phone; what happened, for the record
    (``matched_contact``: a company with a contact person of that number)."""
    found, via_contact = await accounts.match_phone(scope, phone)
    if found:
        if conversation.account_id == found[0].id:
            return "already_linked_contact" if via_contact else "already_linked"
        conversation.account_id = found[0].id
        return "matched_contact" if via_contact else "matched"
    if conversation.account_id is not None:
        account = await Account.get_or_none(id=conversation.account_id, deleted_at=None)
        if account is not None and not account.phones:
            # The lead made for this chat learns its number.
            await accounts.update_account(scope, account.id, account.version, {"phones": [phone]})
            return "phone_added"
    account = await _lead(scope, conversation, name, phone, source)
    conversation.account_id = account.id
    return "lead_created"


async def receive_message(scope: Scope, installation_id: UUID | None, source: str, message: InboundMessage) -> dict:
    """File one incoming message (in the caller's transaction). Idempotent on the conversation
    and ``message.provider_message_id``: a second delivery changes nothing."""
    scope.require("conversations:update")
    _check_inbound(message)
    now = _now()
    address = str(message.address).strip()
    conversation = await Conversation.get_or_none(
        organization_id=scope.organization_id, channel=message.channel, installation_id=installation_id, address=address
    )
    if conversation is None:
        conversation = await Conversation.create(
            organization_id=scope.organization_id,
            channel=message.channel,
            installation_id=installation_id,
            address=address,
            display_name=(message.sender_name or "")[:200],
            last_message_at=now,
        )
        await outbox.emit(scope.organization_id, "conversation.created", {"conversation_id": conversation.id})
    provider_id = str(message.provider_message_id)
    existing = await ConversationMessage.get_or_none(
        conversation_id=conversation.id, direction="in", provider_message_id=provider_id
    )
    if existing is not None:
        return {"type": "message", "conversation_id": str(conversation.id), "duplicate": True}
    phone = try_e164(message.phone) if message.phone else None
    linked = ""
    if phone is not None:
        conversation.phone = phone
        linked = await _link_by_phone(scope, conversation, phone, message.sender_name, source)
        # A number the channel vouches for (not a Viber contact card) proves the account, but not
        # a company's: a contact person's number may be stale or shared by several companies.
        if not linked.endswith("_contact"):
            conversation.account_confirmed = True
    elif conversation.account_id is None:
        found = await accounts.find_by_email(scope, message.email) if message.email else []
        if found:
            conversation.account_id, linked = found[0].id, "matched"
        else:
            lead = await _lead(scope, conversation, message.sender_name, None, source, message.email)
            conversation.account_id, linked = lead.id, "lead_created"
    # The customer's text is kept as written (cut to a sane length), never refused.
    text = (message.text or "")[:20_000].replace("\x00", "")
    row = await ConversationMessage.create(
        organization_id=scope.organization_id,
        conversation_id=conversation.id,
        direction="in",
        kind=message.kind,
        text=text,
        attachments=_clean_attachments(message.attachments or [], "attachments", lenient=True),
        state="received",
        provider_message_id=provider_id,
    )
    reopened = conversation.status != "open"
    # An auto-reply ("I am on holiday") is on record, but nobody has to act on it.
    if not message.automated and (reopened or conversation.first_response_due_at is None):
        # A new question (or the first one): the first-reply clock starts now.
        conversation.first_response_at = None
        conversation.first_response_due_at = await _sla_due(scope.organization_id, now)
    if not message.automated:
        conversation.status, conversation.snoozed_until = "open", None
        conversation.unread_count += 1
    if message.sender_name:
        conversation.display_name = message.sender_name[:200]
    conversation.last_message_at = now
    conversation.last_message_text = (text or message.kind)[:200]
    conversation.version += 1
    await conversation.save()
    await _timeline(scope, conversation, row, IN_SUBJECT)
    if message.automated:
        return {"type": "message", "conversation_id": str(conversation.id), "message_id": str(row.id), "linked": linked}
    await outbox.emit(
        scope.organization_id,
        "conversation.message_received",
        {
            "conversation_id": conversation.id,
            "message_id": row.id,
            "channel": conversation.channel,
            "account_id": conversation.account_id,
            "linked": linked,
        },
    )
    return {
        "type": "message",
        "conversation_id": str(conversation.id),
        "message_id": str(row.id),
        "account_id": str(conversation.account_id) if conversation.account_id else None,
        "linked": linked,
    }


async def apply_status(installation_id, provider_message_id: str, status: str, error: str = "") -> bool:
    """A delivery report for an agent's reply (Viber ``delivered``/``seen``/``failed``):
    states only move forward (sent -> delivered -> read); a repeat changes nothing."""
    rank = {"sent": 1, "delivered": 2, "read": 3}
    message = await ConversationMessage.filter(
        conversation__installation_id=installation_id, direction="out", provider_message_id=provider_message_id
    ).first()
    if message is None:
        return False
    now = _now()
    if status in ("failed", "undelivered"):
        if message.state in ("sent", "queued", "sending"):
            await ConversationMessage.filter(id=message.id).update(state="failed", error=error or status)
            return True
        return False
    if status not in rank or rank.get(message.state, 0) >= rank[status]:
        return False
    values: dict = {"state": status}
    if status == "delivered":
        values["delivered_at"] = now
    if status == "read":
        values["read_at"] = now
        if message.delivered_at is None:
            values["delivered_at"] = now
    await ConversationMessage.filter(id=message.id, state=message.state).update(**values)
    return True


# -- agents' writes ----------------------------------------------------------------------


def _clean_attachments(raw: list, field: str, lenient: bool = False) -> list[dict]:
    """Links only (http/https). Inbound (``lenient``) keeps what parses and drops the rest."""
    out: list[dict] = []
    problems = Problems()
    if len(raw) > MAX_ATTACHMENTS and not lenient:
        problems.add(
            ErrorCode.INVALID, _("At most %(max_attachments)s attachments.", max_attachments=MAX_ATTACHMENTS), field
        )
    for i, item in enumerate(raw[:MAX_ATTACHMENTS]):
        url = str((item or {}).get("url") or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > URL_MAX:
            if not lenient:
                problems.add(ErrorCode.INVALID, _("An attachment must be an http(s) link."), f"{field}.{i}.url")
            continue
        out.append(
            {
                "url": url,
                "name": str(item.get("name") or "")[:200],
                "mimeType": str(item.get("mimeType") or item.get("mime_type") or "")[:100],
            }
        )
    problems.raise_if_any()
    return out


async def _changed(
    scope: Scope, action: str, conversation: Conversation, version: int | None, values: dict, changes: dict
) -> Conversation:
    if version is not None and conversation.version != version:
        raise version_conflict()
    values = {**values, "version": conversation.version + 1, "updated_at": _now()}
    await Conversation.filter(id=conversation.id).update(**values)
    for name, value in values.items():
        setattr(conversation, name, value)
    await audit.record(scope, f"conversation.{action}", conversation, changes)
    await outbox.emit(
        scope.organization_id, f"conversation.{action}", {"conversation_id": conversation.id, "fields": list(changes)}
    )
    return conversation


async def _get(scope: Scope, conversation_id: UUID) -> Conversation:
    return await scope.get(Conversation, conversation_id, "update", field="id", for_update=True)


async def reply(
    scope: Scope,
    conversation_id: UUID,
    text: str,
    *,
    attachments: list[dict] | None = None,
    ask_phone: bool = False,
    idempotency_key: str | None = None,
) -> ConversationMessage:
    """An agent's reply, queued for the channel (sent by the ``conversations.send_reply`` job).
    The first reply after a customer's question meets the first-reply SLA."""
    scope.require("conversations:update")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    clean_text = ""
    with problems:
        clean_text = limited_text(text, "text", TEXT_MAX) or ""
    links: list[dict] = []
    with problems:
        links = _clean_attachments(attachments or [], "attachments")
    if not clean_text and not links and not problems.errors:
        problems.add(ErrorCode.REQUIRED, _("Write a text or attach a link."), "text")
    problems.raise_if_any()

    async def create() -> ConversationMessage:
        conversation = await _get(scope, conversation_id)
        own_channel = conversation.channel == OWN_CHANNEL
        if conversation.installation_id is None and not own_channel:
            raise UserInputError(ErrorCode.INVALID, _("This conversation has no channel to reply through."), "id")
        message = await _send_out(
            scope,
            conversation,
            answered=True,
            values={"bot_state": "agent"} if conversation.bot_state != "agent" else {},  # the bot keeps quiet now
            payload={},
            kind="text" if clean_text or not links else "file",
            text=clean_text,
            attachments=links,
            author_id=scope.user_id,
            ask_phone=ask_phone,
        )
        await audit.record(scope, "conversation.reply", conversation, {"message": [None, str(message.id)]})
        return message

    return await idempotency.create_once(
        scope.organization_id,
        "replyToConversation",
        idempotency_key,
        create,
        lambda pk: scope.get(ConversationMessage, pk),
        request={"conversation": str(conversation_id), "text": text, "attachments": attachments, "ask": ask_phone},
    )


async def assign(scope: Scope, conversation_id: UUID, version: int, assignee_id: UUID | None) -> Conversation:
    from server.auth.service import is_member  # the auth domain owns memberships

    scope.require("conversations:update")
    if assignee_id is not None and not await is_member(scope.organization_id, assignee_id, "conversations:read"):
        raise UserInputError(
            ErrorCode.NOT_FOUND, _("Assignee is not an active member who works in the inbox."), "assigneeId"
        )
    scope.check_owner(assignee_id, "assigneeId")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        before = conversation.assignee_id
        changes = {"assignee_id": [str(before) if before else None, str(assignee_id) if assignee_id else None]}
        return await _changed(scope, "assigned", conversation, version, {"assignee_id": assignee_id}, changes)


async def snooze(scope: Scope, conversation_id: UUID, version: int, until: datetime) -> Conversation:
    """Out of the open list until ``until``; it comes back then, or earlier when the customer writes."""
    scope.require("conversations:update")
    now = _now()
    if until.tzinfo is None or until.utcoffset() is None:
        raise UserInputError(ErrorCode.INVALID, _("Give the time with its time zone (ISO 8601)."), "until")
    if until <= now:
        raise UserInputError(ErrorCode.INVALID, _("Snooze until a time in the future."), "until")
    if until - now > SNOOZE_MAX:
        raise UserInputError(ErrorCode.INVALID, _("Snooze for at most a year."), "until")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.status == "closed":
            raise UserInputError(ErrorCode.FORBIDDEN_TRANSITION, _("Reopen a closed conversation first."), "id")
        changes = {"status": [conversation.status, "snoozed"], "snoozed_until": [None, until.isoformat()]}
        values = {"status": "snoozed", "snoozed_until": until.astimezone(UTC)}
        return await _changed(scope, "snoozed", conversation, version, values, changes)


async def close(scope: Scope, conversation_id: UUID, version: int) -> Conversation:
    scope.require("conversations:update")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.status == "closed":
            raise UserInputError(ErrorCode.FORBIDDEN_TRANSITION, _("The conversation is already closed."), "id")
        changes = {"status": [conversation.status, "closed"]}
        # Done: the customer's next question is the self-service bot's again.
        values = {"status": "closed", "snoozed_until": None, "unread_count": 0, "bot_state": "active"}
        values["handed_over_at"] = None
        return await _changed(scope, "closed", conversation, version, values, changes)


async def reopen(scope: Scope, conversation_id: UUID, version: int) -> Conversation:
    scope.require("conversations:update")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.status == "open":
            raise UserInputError(ErrorCode.FORBIDDEN_TRANSITION, _("The conversation is already open."), "id")
        changes = {"status": [conversation.status, "open"]}
        return await _changed(
            scope, "reopened", conversation, version, {"status": "open", "snoozed_until": None}, changes
        )


async def mark_read(scope: Scope, conversation_id: UUID) -> Conversation:
    """The agent has seen the customer's messages: the unread count goes back to 0."""
    scope.require("conversations:read")
    async with in_transaction():
        conversation = await scope.get(Conversation, conversation_id, "read", field="id", for_update=True)
        if conversation.unread_count:
            await Conversation.filter(id=conversation.id).update(unread_count=0)
            conversation.unread_count = 0
    return conversation


async def link_account(scope: Scope, conversation_id: UUID, version: int, account_id: UUID) -> Conversation:
    """An agent recognized the customer: later messages land on this account's timeline."""
    scope.require("conversations:update")
    async with in_transaction():
        account = await scope.get(Account, account_id, field="accountId")
        conversation = await _get(scope, conversation_id)
        before = conversation.account_id
        changes = {"account_id": [str(before) if before else None, str(account.id)]}
        values = {"account_id": account.id, "account_confirmed": True}  # an agent vouches for it
        return await _changed(scope, "linked", conversation, version, values, changes)


# -- the self-service bot's writes (server/selfservice decides, this files) ------------------


async def lock_for_bot(organization_id: UUID, conversation_id: UUID) -> Conversation | None:
    """The conversation, locked for the bot's turn (in the caller's transaction)."""
    return await Conversation.filter(organization_id=organization_id, id=conversation_id).select_for_update().first()


async def bot_reply(
    scope: Scope,
    conversation: Conversation,
    text: str,
    *,
    buttons: list[str] | None = None,
    ask_phone: bool = False,
    answered: bool = True,
) -> ConversationMessage:
    """The bot's answer, queued like an agent's reply (``conversation.reply_queued``: the same
    job sends it exactly once), in the caller's transaction. ``answered``: the customer got what
    they asked for, so the conversation is read and its first reply is made."""
    scope.require("conversations:update")
    return await _send_out(
        scope,
        conversation,
        answered=answered,
        values={},
        payload={"bot": True},
        kind="text",
        text=text[:TEXT_MAX],
        ask_phone=ask_phone,
        buttons=list(buttons or []),
        bot=True,
    )


async def _send_out(
    scope: Scope, conversation: Conversation, *, answered: bool, values: dict, payload: dict, **fields
) -> ConversationMessage:
    """An outgoing message (an agent's or the bot's): sent at once in the CRM's own web chat,
    else queued for the channel (the ``conversations.send_reply`` job sends it exactly once).
    The conversation's last message moves on; ``answered``: it is read and its first reply made."""
    now = _now()
    own_channel = conversation.channel == OWN_CHANNEL
    message = await ConversationMessage.create(
        organization_id=scope.organization_id,
        conversation_id=conversation.id,
        direction="out",
        state="sent" if own_channel else "queued",
        sent_at=now if own_channel else None,
        **fields,
    )
    values = {"last_message_at": now, "last_message_text": (fields.get("text") or "…")[:200], **values}
    if answered:
        values["unread_count"] = 0
        if conversation.first_response_at is None and conversation.first_response_due_at is not None:
            values["first_response_at"] = now
    await Conversation.filter(id=conversation.id).update(**values, version=F("version") + 1, updated_at=now)
    for name, value in values.items():
        setattr(conversation, name, value)
    conversation.version += 1
    await _timeline(scope, conversation, message, OUT_SUBJECT)
    await outbox.emit(
        scope.organization_id,
        "conversation.reply_sent" if own_channel else "conversation.reply_queued",
        {"conversation_id": conversation.id, "message_id": message.id, **payload},
    )
    return message


async def hand_over(scope: Scope, conversation: Conversation, reason: str) -> Conversation:
    """The bot gives the conversation to the agents (in the caller's transaction): it waits in
    the inbox as needing an agent, and the bot keeps quiet until it is closed or given back."""
    scope.require("conversations:update")
    changes = {"bot_state": [conversation.bot_state, "handed_over"], "reason": [None, reason]}
    values = {"bot_state": "handed_over", "handed_over_at": _now()}
    conversation = await _changed(scope, "handed_over", conversation, None, values, changes)
    return conversation


async def give_to_bot(scope: Scope, conversation_id: UUID, version: int) -> Conversation:
    """An agent is done: the self-service bot answers the customer's next questions again."""
    scope.require("conversations:update")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.bot_state == "active":
            raise UserInputError(ErrorCode.FORBIDDEN_TRANSITION, _("The bot already answers this conversation."), "id")
        changes = {"bot_state": [conversation.bot_state, "active"]}
        values = {"bot_state": "active", "handed_over_at": None}
        return await _changed(scope, "given_to_bot", conversation, version, values, changes)


def _title(conversation: Conversation, given: str | None, field: str) -> str:
    if given is not None:
        return required_text(given, field, 300)
    return (conversation.last_message_text or CHANNEL_TITLES[conversation.channel])[:300]


async def _transcript(conversation: Conversation) -> str:
    rows = await ConversationMessage.filter(conversation_id=conversation.id).order_by("created_at", "id").limit(50)
    lines = [
        f"{'>' if m.direction == 'in' else '<'} {m.text or ' '.join(a['url'] for a in m.attachments)}" for m in rows
    ]
    return "\n".join(lines)[:20_000]


async def convert_to_ticket(scope: Scope, conversation_id: UUID, version: int, subject: str | None) -> Conversation:
    """A ticket from the conversation: the customer's messages as its description, assigned like the
    conversation; the conversation keeps a link to it."""
    scope.require("conversations:update")
    scope.require("tickets:create")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.version != version:
            raise version_conflict()
        if conversation.ticket_id is not None:
            raise UserInputError(ErrorCode.INVALID, _("The conversation already has a ticket."), "id")
        data = {
            "subject": _title(conversation, subject, "subject"),
            "description": await _transcript(conversation),
            "channel": "messenger" if conversation.channel in ("telegram", "viber") else "chat",
            "account_id": conversation.account_id,
        }
        if conversation.channel in ("email", "web"):
            data["channel"] = conversation.channel
        if conversation.assignee_id is not None:
            data["assignee_id"] = conversation.assignee_id
        ticket = await tickets.create_ticket(scope, data)
        changes = {"ticket_id": [None, str(ticket.id)]}
        return await _changed(scope, "converted", conversation, version, {"ticket_id": ticket.id}, changes)


async def convert_to_deal(scope: Scope, conversation_id: UUID, version: int, title: str | None) -> Conversation:
    """A deal for the conversation's account in the default pipeline (owner: the caller)."""
    scope.require("conversations:update")
    scope.require("deals:create")
    async with in_transaction():
        conversation = await _get(scope, conversation_id)
        if conversation.version != version:
            raise version_conflict()
        if conversation.deal_id is not None:
            raise UserInputError(ErrorCode.INVALID, _("The conversation already has a deal."), "id")
        if conversation.account_id is None:
            raise UserInputError(ErrorCode.REQUIRED, _("Link the conversation to an account first."), "id")
        from server.deals import service as deals

        deal = await deals.create_deal(
            scope,
            {
                "title": _title(conversation, title, "title"),
                "account_id": conversation.account_id,
                "source": conversation.channel,
            },
        )
        changes = {"deal_id": [None, str(deal.id)]}
        return await _changed(scope, "converted", conversation, version, {"deal_id": deal.id}, changes)


async def wake_snoozed(now: datetime | None = None) -> int:
    """Snoozed conversations whose time came are open again (a periodic job)."""
    now = now or _now()
    return await Conversation.filter(status="snoozed", snoozed_until__lte=now).update(
        status="open", snoozed_until=None, version=F("version") + 1, updated_at=now
    )


async def chat_of(account_id: UUID, channel: str) -> Conversation | None:
    """The account's latest conversation on a chat channel with a working installation: where a
    notification to that channel goes (server/notifications)."""
    return (
        await Conversation.filter(account_id=account_id, channel=channel, installation_id__isnull=False)
        .order_by("-last_message_at")
        .first()
    )
