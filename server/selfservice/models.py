"""The self-service bot's rules per organization, and what it did with each customer message.

Written only by server/selfservice/service.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

OUTCOMES = ("answered", "asked_phone", "awaiting_link", "handed_over", "outside_hours", "ignored")


class BotSettings(TenantModel):
    """One organization's self-service bot: on or off, extra phrases, its answer's template per
    language, and the hours it answers (in the organization's time zone; none = always)."""

    enabled = fields.BooleanField(default=False)
    order_phrases = fields.JSONField(default=list)  # the organization's own "where is my order" phrasings
    handover_phrases = fields.JSONField(default=list)  # ... and "give me a person" ones
    template_uk = fields.TextField(default="")  # one order's line; "" = the built-in one
    template_en = fields.TextField(default="")
    hours_from = fields.CharField(max_length=5, null=True)  # "HH:MM"; may wrap midnight (19:00-09:00)
    hours_to = fields.CharField(max_length=5, null=True)
    max_orders = fields.IntField(default=3)
    version = fields.IntField(default=1)

    resource = "settings"

    class Meta:
        table = "selfservice_bot_settings"
        unique_together = (("organization",),)


class BotTurn(TenantModel):
    """The bot's turn on one customer message, at most one (the unique message decides races
    between workers and redelivered events): what it did, in which language, and its reply."""

    conversation = fields.ForeignKeyField("crm.Conversation", related_name=False, on_delete=fields.CASCADE)
    message = fields.ForeignKeyField("crm.ConversationMessage", related_name=False, on_delete=fields.CASCADE)
    outcome = fields.CharField(max_length=16)
    language = fields.CharField(max_length=2, default="uk")
    reply = fields.ForeignKeyField("crm.ConversationMessage", related_name=False, null=True, on_delete=fields.SET_NULL)

    resource = "conversations"

    class Meta:
        table = "selfservice_bot_turn"
        unique_together = (("message",),)
        indexes = (("conversation_id", "created_at"),)
