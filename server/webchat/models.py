"""The web chat: a widget a shop puts on its site (an iframe of the CRM's chat page), and the
visitors who write through it. Their messages are conversations on the ``web`` channel.

Written only by server/webchat/service.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import BaseModel, TenantModel


class WebChatWidget(TenantModel):
    """One per organization. Its key is public, in the page's address, and grants nothing but
    starting a chat."""

    key = fields.CharField(max_length=32, unique=True)
    enabled = fields.BooleanField(default=False)
    title = fields.CharField(max_length=120, default="")
    greeting = fields.CharField(max_length=500, default="")
    # Sites that may show the chat page in an iframe (CSP frame-ancestors); none: only the page itself.
    allowed_origins = fields.JSONField(default=list)
    version = fields.IntField(default=1)

    resource = "settings"

    class Meta:
        table = "webchat_widget"
        unique_together = (("organization",),)


class WebChatVisitor(BaseModel):
    """A browser that started a chat: it proves who it is with a random token, of which only the
    SHA-256 is kept (the token lives in the visitor's browser storage)."""

    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)
    widget = fields.ForeignKeyField("crm.WebChatWidget", related_name=False, on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=120, default="")
    conversation = fields.ForeignKeyField("crm.Conversation", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "webchat_visitor"
