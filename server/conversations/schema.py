"""GraphQL for the agents' inbox: conversations, their messages, replies and the agent's moves."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from server.attachments.schema import attachments_field
from server.conversations import service
from server.conversations.models import Conversation, ConversationMessage
from server.core.errors import ErrorCode, UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import ChangedSince, IDFilter, Lookup, build_q
from server.graphql.loaders import load_by_id
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type
from server.i18n import _

if TYPE_CHECKING:
    from server.accounts.schema import AccountType
    from server.deals.schema import DealType
    from server.tickets.schema import TicketType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyTicketType = Annotated["TicketType", strawberry.lazy("server.tickets.schema")]
LazyDealType = Annotated["DealType", strawberry.lazy("server.deals.schema")]

MESSAGES_MAX = 200


@strawberry.enum(description="Where the customer writes from.")
class ConversationChannel(Enum):
    TELEGRAM = "telegram"
    VIBER = "viber"
    EMAIL = "email"
    WEB = "web"
    SMS = "sms"


@strawberry.enum(
    description="OPEN: in the inbox. SNOOZED: hidden until `snoozedUntil` or the customer's next message. "
    "CLOSED: done; the customer's next message reopens it."
)
class ConversationStatus(Enum):
    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


@strawberry.enum(description="IN: from the customer. OUT: an agent's reply.")
class MessageDirection(Enum):
    IN = "in"
    OUT = "out"


@strawberry.enum(
    description="RECEIVED (from the customer); a reply: QUEUED → SENDING → SENT, then DELIVERED and READ when "
    "the channel reports them (Viber does, Telegram does not), or FAILED with `error`."
)
class MessageState(Enum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@strawberry.enum(
    description="The self-service bot's part in a conversation. ACTIVE: it answers the customer (when the "
    "organization turned it on). HANDED_OVER: it gave the conversation to the agents, waiting for one. AGENT: an "
    "agent answers; the bot keeps quiet until the conversation is closed or given back (`giveConversationToBot`)."
)
class BotState(Enum):
    ACTIVE = "active"
    HANDED_OVER = "handed_over"
    AGENT = "agent"


@strawberry.type(description="An image or a file of a message, as a link.")
class MessageAttachment:
    url: str = strawberry.field(description="Where the file is (an http(s) link).")
    name: str = strawberry.field(description="The file name, when the channel gave one.")
    mime_type: str = strawberry.field(description="e.g. image/jpeg, when known.")


async def _load_user(info: Info, user_id) -> UserType | None:
    from server.auth.schema import load_member

    return await load_member(info.context, user_id) if user_id else None


@model_type(ConversationMessage, description="One message of a conversation.")
class ConversationMessageType:
    files = attachments_field(
        "ConversationMessage", "Files members attached to it in the CRM (attachFile), oldest first."
    )
    kind: str = strawberry.field(description="text, image, file, contact, sticker, location or other.")
    text: str = strawberry.field(description="The text (a caption for images and files; the number for a contact).")
    error: str = strawberry.field(description="Why a reply FAILED (the provider's words).")
    created_at: datetime = strawberry.field(description="When the CRM received or queued it.")
    sent_at: datetime | None = strawberry.field(description="When the channel took the reply.")
    delivered_at: datetime | None = strawberry.field(description="When the channel reported it delivered.")
    read_at: datetime | None = strawberry.field(description="When the channel reported it read.")
    bot: bool = strawberry.field(description="Written by the self-service bot, not an agent.")
    buttons: list[str] = strawberry.field(
        description="Quick-reply buttons the reply offered (tapping one sends its text back)."
    )

    @strawberry.field(description="Opaque ID of the message (not fetchable with `node`).")
    def id(self) -> strawberry.ID:
        return ids.encode("ConversationMessage", self.id)  # type: ignore[attr-defined]

    @strawberry.field
    def direction(self) -> MessageDirection:
        return MessageDirection(self.direction)  # type: ignore[attr-defined]

    @strawberry.field
    def state(self) -> MessageState:
        return MessageState(self.state)  # type: ignore[attr-defined]

    @strawberry.field(description="Images and files, as links.")
    def attachments(self) -> list[MessageAttachment]:
        return [
            MessageAttachment(url=a.get("url", ""), name=a.get("name", ""), mime_type=a.get("mimeType", ""))
            for a in self.attachments  # type: ignore[attr-defined]
        ]

    @strawberry.field(description="The agent who wrote a reply (null for the customer's messages).")
    async def author(self, info: Info) -> UserType | None:
        return await _load_user(info, self.author_id)  # type: ignore[attr-defined]


@model_type(
    Conversation, description="A customer on one channel (a Telegram chat, a Viber user...) and their messages."
)
class ConversationType(Node):
    address: str = strawberry.field(description="The customer's id on the channel (a Telegram chat id).")
    display_name: str = strawberry.field(description="The customer's name as the channel shows it.")
    phone: str | None = strawberry.field(description="E.164, when the channel or the customer gave it.")
    unread_count: int = strawberry.field(description="The customer's messages no agent has read yet.")
    last_message_at: datetime = strawberry.field(description="The latest message, either way (the inbox's order).")
    last_message_text: str = strawberry.field(description="The start of the latest message, for the list.")
    snoozed_until: datetime | None = strawberry.field(description="When a SNOOZED conversation comes back.")
    first_response_due_at: datetime | None = strawberry.field(
        description="SLA: the first reply to the customer's question is due (the ticket SLA's NORMAL first response)."
    )
    first_response_at: datetime | None = strawberry.field(description="When an agent first replied to it.")
    version: int = strawberry.field(description="Pass it back to change the conversation (optimistic concurrency).")
    handed_over_at: datetime | None = strawberry.field(
        description="When the self-service bot handed the conversation over to the agents (null while it answers)."
    )
    account_confirmed: bool = strawberry.field(
        description="The account is the customer's for sure: matched by the phone the channel vouches for "
        "(Telegram's own contact) or linked by an agent. The self-service bot tells about orders only then."
    )
    created_at: datetime = strawberry.field(description="When the customer first wrote.")
    updated_at: datetime = strawberry.field(description="Last changed (a message, an agent's move).")

    @strawberry.field
    def channel(self) -> ConversationChannel:
        return ConversationChannel(self.channel)  # type: ignore[attr-defined]

    @strawberry.field
    def status(self) -> ConversationStatus:
        return ConversationStatus(self.status)  # type: ignore[attr-defined]

    @strawberry.field(description="Whether the self-service bot answers, handed it over, or an agent has it.")
    def bot_state(self) -> BotState:
        return BotState(self.bot_state)  # type: ignore[attr-defined]

    @strawberry.field(description="The first reply is overdue now, or came late.")
    def sla_breached(self) -> bool:
        due = self.first_response_due_at  # type: ignore[attr-defined]
        if due is None:
            return False
        return (self.first_response_at or datetime.now(UTC)) > due  # type: ignore[attr-defined]

    @strawberry.field(description="The customer's account; null if none or you may not see it.")
    async def account(self, info: Info) -> LazyAccountType | None:
        from server.accounts.models import Account

        if self.account_id is None or not info.context.scope.can("accounts:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field(description="The agent working on it; null while it waits in the queue.")
    async def assignee(self, info: Info) -> UserType | None:
        return await _load_user(info, self.assignee_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The ticket made from it; null if none or you may not see it.")
    async def ticket(self, info: Info) -> LazyTicketType | None:
        from server.tickets.models import Ticket

        if self.ticket_id is None or not info.context.scope.can("tickets:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Ticket, self.ticket_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The deal made from it; null if none or you may not see it.")
    async def deal(self, info: Info) -> LazyDealType | None:
        from server.deals.models import Deal

        if self.deal_id is None or not info.context.scope.can("deals:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Deal, self.deal_id)  # type: ignore[attr-defined]

    @strawberry.field(description=f"The latest `last` messages (at most {MESSAGES_MAX}), oldest first.")
    async def messages(self, info: Info, last: int = 50) -> list[ConversationMessageType]:
        if not 1 <= last <= MESSAGES_MAX:
            raise UserInputError(
                ErrorCode.INVALID, _("last must be between 1 and %(messages_max)s.", messages_max=MESSAGES_MAX), "last"
            )
        qs = info.context.scope.queryset(ConversationMessage).filter(conversation_id=self.id)  # type: ignore[attr-defined]
        rows = await qs.order_by("-created_at", "-id").limit(last)
        return list(reversed(rows))  # type: ignore[return-value]


ConversationConnection = connection_of(ConversationType, "ConversationConnection")


@strawberry.input(description="A status equal to, or one of.")
class ConversationStatusFilter:
    eq: ConversationStatus | None = None
    in_: list[ConversationStatus] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="A channel equal to, or one of.")
class ConversationChannelFilter:
    eq: ConversationChannel | None = None
    in_: list[ConversationChannel] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="A bot state equal to, or one of.")
class BotStateFilter:
    eq: BotState | None = None
    in_: list[BotState] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="Filters for the inbox; all given conditions must hold (use OR for any).")
class ConversationWhere(ChangedSince):
    and_: list[ConversationWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[ConversationWhere] | None = strawberry.field(default=None, name="OR")
    status: ConversationStatusFilter | None = None
    channel: ConversationChannelFilter | None = None
    assignee: IDFilter | None = strawberry.field(default=None, description="User IDs.")
    account: IDFilter | None = None
    assigned_to_me: bool | None = strawberry.field(
        default=None, description="true: assigned to the caller; false: to someone else or nobody."
    )
    unassigned: bool | None = strawberry.field(default=None, description="true: nobody's yet; false: assigned.")
    unread: bool | None = strawberry.field(default=None, description="true: with messages no agent has read.")
    bot_state: BotStateFilter | None = strawberry.field(
        default=None, description="HANDED_OVER: the ones the self-service bot gave to the agents."
    )


def _lookups(info: Info) -> dict[str, Lookup]:
    me = info.context.scope.user_id

    def mine(value: bool) -> Q:
        return Q(assignee_id=me) if value else Q(Q(assignee_id__isnull=True), ~Q(assignee_id=me), join_type="OR")

    return {
        "status": Lookup("status", convert=lambda v: v.value),
        "channel": Lookup("channel", convert=lambda v: v.value),
        "assignee": Lookup("assignee_id", convert=lambda v: ids.decode(v, "User", "where.assignee")[1]),
        "account": Lookup("account_id", convert=lambda v: ids.decode(v, "Account", "where.account")[1]),
        "assigned_to_me": Lookup("assignee_id", build=mine),
        "unassigned": Lookup("assignee_id", build=lambda v: Q(assignee_id__isnull=v)),
        "unread": Lookup("unread_count", build=lambda v: Q(unread_count__gt=0) if v else Q(unread_count=0)),
        "bot_state": Lookup("bot_state", convert=lambda v: v.value),
    }


@strawberry.enum(description="What to sort the inbox by.")
class ConversationOrderField(Enum):
    LAST_MESSAGE_AT = "last_message_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input(description="The inbox's order: latest message first by default.")
class ConversationOrder:
    field: ConversationOrderField = ConversationOrderField.LAST_MESSAGE_AT
    direction: Direction = Direction.DESC


@strawberry.type(description="Counts for the inbox's badges, within what the caller may see.")
class InboxSummary:
    open: int = strawberry.field(description="Open conversations.")
    mine: int = strawberry.field(description="Open conversations assigned to the caller.")
    unassigned: int = strawberry.field(description="Open conversations nobody took yet.")
    unread: int = strawberry.field(description="Open conversations with unread messages.")
    unread_messages: int = strawberry.field(description="Unread customer messages in open conversations.")
    sla_breached: int = strawberry.field(description="Open conversations whose first reply is overdue.")


@strawberry.type
class ConversationQueries:
    @strawberry.field(description="The inbox: conversations the caller may see, latest message first by default.")
    async def conversations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: ConversationWhere | None = None,
        order_by: ConversationOrder | None = None,
    ) -> ConversationConnection:
        ctx = info.context
        order_by = order_by or ConversationOrder()
        qs = ctx.scope.queryset(Conversation).filter(build_q(where, _lookups(info)))
        sort = Sort(order_by.field.value, datetime, order_by.direction)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(ConversationConnection, qs, first=first, after=after, sort=sort)

    @strawberry.field(description="One conversation with its messages, or null if not found.")
    async def conversation(self, info: Info, id: strawberry.ID) -> ConversationType | None:
        return await load_by_id(info.context, Conversation, ids.decode(id, "Conversation")[1])

    @strawberry.field(description="Counts for the inbox's badges.")
    async def inbox_summary(self, info: Info) -> InboxSummary:
        scope = info.context.scope
        opened = scope.queryset(Conversation).filter(status="open")
        rows = await opened.values("assignee_id", "unread_count", "first_response_due_at", "first_response_at")
        now = datetime.now(UTC)
        return InboxSummary(
            open=len(rows),
            mine=sum(1 for r in rows if r["assignee_id"] == scope.user_id and scope.user_id is not None),
            unassigned=sum(1 for r in rows if r["assignee_id"] is None),
            unread=sum(1 for r in rows if r["unread_count"] > 0),
            unread_messages=sum(r["unread_count"] for r in rows),
            sla_breached=sum(
                1
                for r in rows
                if r["first_response_due_at"] is not None
                and (r["first_response_at"] or now) > r["first_response_due_at"]
            ),
        )


# -- mutations -----------------------------------------------------------------


@strawberry.input(description="An image or file to send, as a link.")
class AttachmentInput:
    url: str = strawberry.field(description="http(s) link to the file.")
    name: str = ""
    mime_type: str = ""


@strawberry.input(description="An agent's reply to the customer.")
class ReplyToConversationInput:
    conversation_id: strawberry.ID
    text: str = strawberry.field(default="", description="Up to 4096 characters; may be empty with attachments.")
    attachments: list[AttachmentInput] = strawberry.field(
        default_factory=list, description="Up to 10 links, sent after the text."
    )
    ask_for_phone: bool = strawberry.field(
        default=False,
        description="Add the channel's \"share my phone number\" button (Telegram, Viber): the customer's answer "
        "links the conversation to the account with that phone.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first reply (sent once)."
    )


@strawberry.input(description="Who works on the conversation.")
class AssignConversationInput:
    id: strawberry.ID
    version: int
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A member's user ID, or null to put it back in the queue."
    )


@strawberry.input(description="Hide a conversation until a time.")
class SnoozeConversationInput:
    id: strawberry.ID
    version: int
    until: datetime = strawberry.field(description="When it comes back (ISO 8601 with a time zone), within a year.")


@strawberry.input(description="A conversation and the version you read.")
class ConversationVersionInput:
    id: strawberry.ID
    version: int


@strawberry.input(description="The conversation whose messages the agent read.")
class MarkConversationReadInput:
    id: strawberry.ID


@strawberry.input(description="The account a conversation belongs to.")
class LinkConversationInput:
    id: strawberry.ID
    version: int
    account_id: strawberry.ID


@strawberry.input(description="A ticket from a conversation.")
class ConvertConversationToTicketInput:
    id: strawberry.ID
    version: int
    subject: str | None = strawberry.field(default=None, description="Defaults to the latest message's start.")


@strawberry.input(description="A deal from a conversation.")
class ConvertConversationToDealInput:
    id: strawberry.ID
    version: int
    title: str | None = strawberry.field(default=None, description="Defaults to the latest message's start.")


@strawberry.type(description="The conversation after the change, or what was wrong.")
class ConversationPayload:
    conversation: ConversationType | None = None
    errors: list[UserError]


@strawberry.type(description="The queued reply and its conversation, or what was wrong.")
class ReplyPayload:
    message: ConversationMessageType | None = None
    conversation: ConversationType | None = None
    errors: list[UserError]


def _pk(gid: str, field: str = "id"):
    return ids.decode(gid, "Conversation", field)[1]


@strawberry.type
class ConversationMutations:
    @strawberry.mutation(
        description="Reply to the customer on the conversation's channel. The reply is QUEUED and sent once by "
        "the worker; its `state` shows SENT or FAILED. The first reply meets the first-reply SLA."
    )
    async def reply_to_conversation(self, info: Info, input: ReplyToConversationInput) -> ReplyPayload:
        scope = info.context.scope

        async def act():
            pk = _pk(input.conversation_id, "conversationId")
            attachments = [{"url": a.url, "name": a.name, "mimeType": a.mime_type} for a in input.attachments]
            message = await service.reply(
                scope,
                pk,
                input.text,
                attachments=attachments,
                ask_phone=input.ask_for_phone,
                idempotency_key=input.idempotency_key,
            )
            return {"message": message, "conversation": await scope.get(Conversation, message.conversation_id)}

        return await run_mutation(ReplyPayload, act)

    @strawberry.mutation(description="Give a conversation to an agent, or back to the queue with `assigneeId: null`.")
    async def assign_conversation(self, info: Info, input: AssignConversationInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            if input.assignee_id is strawberry.UNSET:
                raise UserInputError(ErrorCode.REQUIRED, _("Give assigneeId (null to unassign)."), "assigneeId")
            assignee = ids.decode_pk(input.assignee_id, "User", "assigneeId")
            return {"conversation": await service.assign(scope, _pk(input.id), input.version, assignee)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="Hide a conversation until a time (or the customer's next message).")
    async def snooze_conversation(self, info: Info, input: SnoozeConversationInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            return {"conversation": await service.snooze(scope, _pk(input.id), input.version, input.until)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="Close a conversation; the customer's next message reopens it.")
    async def close_conversation(self, info: Info, input: ConversationVersionInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            return {"conversation": await service.close(scope, _pk(input.id), input.version)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="Open a snoozed or closed conversation again.")
    async def reopen_conversation(self, info: Info, input: ConversationVersionInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            return {"conversation": await service.reopen(scope, _pk(input.id), input.version)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="The agent read the customer's messages: `unreadCount` becomes 0.")
    async def mark_conversation_read(self, info: Info, input: MarkConversationReadInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            return {"conversation": await service.mark_read(scope, _pk(input.id))}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(
        description="Link a conversation to the customer's account (the agent recognized them); later messages "
        "land on that account's timeline."
    )
    async def link_conversation_to_account(self, info: Info, input: LinkConversationInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            account = ids.decode_pk(input.account_id, "Account", "accountId")
            return {"conversation": await service.link_account(scope, _pk(input.id), input.version, account)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(
        description="The agent is done: the self-service bot answers the customer's next questions again "
        "(closing the conversation does the same)."
    )
    async def give_conversation_to_bot(self, info: Info, input: ConversationVersionInput) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            return {"conversation": await service.give_to_bot(scope, _pk(input.id), input.version)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="Open a ticket from a conversation (its messages as the description).")
    async def convert_conversation_to_ticket(
        self, info: Info, input: ConvertConversationToTicketInput
    ) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            pk = _pk(input.id)
            return {"conversation": await service.convert_to_ticket(scope, pk, input.version, input.subject)}

        return await run_mutation(ConversationPayload, act)

    @strawberry.mutation(description="Open a deal for the conversation's account in the default pipeline.")
    async def convert_conversation_to_deal(
        self, info: Info, input: ConvertConversationToDealInput
    ) -> ConversationPayload:
        scope = info.context.scope

        async def act():
            pk = _pk(input.id)
            return {"conversation": await service.convert_to_deal(scope, pk, input.version, input.title)}

        return await run_mutation(ConversationPayload, act)
