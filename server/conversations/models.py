"""The agents' inbox: one conversation per customer and channel address, and its messages.

Written only by server/conversations/service.py (and its jobs)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

CHANNELS = ("telegram", "viber", "email", "web", "sms")
STATUSES = ("open", "snoozed", "closed")
DIRECTIONS = ("in", "out")
# An inbound message is "received"; an agent's reply goes queued -> sending -> sent, then
# delivered / read when the channel reports it, or failed.
MESSAGE_STATES = ("received", "queued", "sending", "sent", "delivered", "read", "failed")
KINDS = ("text", "image", "file", "contact", "sticker", "location", "other")
# The self-service bot (server/selfservice): "active" answers; "handed_over" waits for an agent;
# "agent" is an agent's now. The bot is silent unless "active"; closing the conversation gives it back.
BOT_STATES = ("active", "handed_over", "agent")


class Conversation(TenantModel):
    """A customer on one channel: a Telegram chat, a Viber user, an e-mail address...

    ``address`` is the channel's own id of the customer (Telegram ``chat.id`` as text, a Viber
    user id): where replies go. ``installation`` is the plugin installation the customer wrote
    to (two Telegram bots of one organization are two conversations)."""

    channel = fields.CharField(max_length=16)
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    address = fields.CharField(max_length=128)
    display_name = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=20, null=True)  # E.164, when the channel or the customer gave it
    account = fields.ForeignKeyField("crm.Account", related_name=False, null=True, on_delete=fields.SET_NULL)
    status = fields.CharField(max_length=8, default="open", db_index=True)
    snoozed_until = fields.DatetimeField(null=True)
    assignee = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    unread_count = fields.IntField(default=0)
    last_message_at = fields.DatetimeField()  # sorts the inbox: the latest message, either way
    last_message_text = fields.CharField(max_length=200, default="")
    # First-reply SLA: due when a customer's message waits for an answer; met by the first reply.
    first_response_due_at = fields.DatetimeField(null=True)
    first_response_at = fields.DatetimeField(null=True)
    ticket = fields.ForeignKeyField("crm.Ticket", related_name=False, null=True, on_delete=fields.SET_NULL)
    deal = fields.ForeignKeyField("crm.Deal", related_name=False, null=True, on_delete=fields.SET_NULL)
    # The account is the customer's for sure: matched by a phone the channel vouches for (Telegram's
    # own contact) or linked by an agent. Only then does the self-service bot tell about orders.
    account_confirmed = fields.BooleanField(default=False, db_default=False)
    bot_state = fields.CharField(max_length=12, default="active", db_default="active")
    handed_over_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    resource = "conversations"
    owner_path = "assignee_id"

    class Meta:
        table = "conversation"
        unique_together = (("organization", "channel", "installation", "address"),)
        indexes = (("organization_id", "last_message_at"), ("account_id", "channel"))


class ConversationMessage(TenantModel):
    """One message of a conversation, from the customer (``in``) or an agent (``out``).

    Images and files are links (``attachments``: ``[{"url", "name", "mimeType"}]``). An inbound
    message is unique per conversation and provider message id, so a webhook the provider
    retries never adds it twice."""

    conversation = fields.ForeignKeyField("crm.Conversation", related_name="messages", on_delete=fields.CASCADE)
    direction = fields.CharField(max_length=3)
    kind = fields.CharField(max_length=16, default="text")
    text = fields.TextField(default="")
    attachments = fields.JSONField(default=list)
    state = fields.CharField(max_length=10)
    provider_message_id = fields.CharField(max_length=64, null=True)
    author = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    ask_phone = fields.BooleanField(default=False)  # the reply carries the channel's share-phone button
    buttons = fields.JSONField(default=list, db_default=[])  # quick-reply buttons' texts the reply offers
    bot = fields.BooleanField(default=False, db_default=False)  # written by the self-service bot, not an agent
    error = fields.TextField(default="")
    attempts = fields.IntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)

    resource = "conversations"
    owner_path = "conversation__assignee_id"

    class Meta:
        table = "conversation_message"
        unique_together = (("conversation", "direction", "provider_message_id"),)
        indexes = (("conversation_id", "created_at"),)
