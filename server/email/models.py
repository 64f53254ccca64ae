"""E-mail as a notification channel: the one-click unsubscribe links in sent e-mails, and the
addresses that bounced for good (never e-mailed again by the notification cascade)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class EmailUnsubscribeLink(TenantModel):
    """The ``List-Unsubscribe`` link of one sent e-mail (``/e/<token>``). Only the token's
    SHA-256 is kept, like survey and campaign links."""

    resource = "accounts"
    owner_path = "account__owner_id"

    account = fields.ForeignKeyField("crm.Account", related_name=False, on_delete=fields.CASCADE)
    notification = fields.ForeignKeyField("crm.Notification", related_name=False, null=True, on_delete=fields.SET_NULL)
    address = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_unsubscribe_link"


class UndeliverableEmail(TenantModel):
    """An address a mail server refused permanently (a hard bounce: 5.x.x at RCPT or DATA, or a
    DSN saying ``Action: failed``): the cascade skips e-mail to it from then on."""

    resource = "accounts"

    address = fields.CharField(max_length=254)  # lower case
    status = fields.CharField(max_length=16, default="")  # the enhanced status or SMTP code, e.g. 5.1.1
    diagnostic = fields.CharField(max_length=500, default="")
    source = fields.CharField(max_length=8)  # smtp (refused while sending) | dsn (a bounce report)

    class Meta:
        table = "undeliverable_email"
        unique_together = (("organization", "address"),)


class InboundMailbox(TenantModel):
    """The CRM's own address for one e-mail plugin installation, ``in+<token>@<MAIL_IN_DOMAIN>``:
    the shop's support mailbox forwards customers' mail there and ``crm mail-in`` files it in the
    inbox (server/email/inbound.py). Only the token's SHA-256 is kept, so the address is shown
    once, when it is issued (like a webhook URL); issuing a new one retires the old one."""

    resource = "settings"

    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, unique=True, on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    issued_at = fields.DatetimeField()

    class Meta:
        table = "email_inbound_mailbox"


class EmailThreadMessage(TenantModel):
    """The e-mail side of one conversation message: its Message-ID, subject and References, so
    an agent's reply goes out with ``In-Reply-To``/``References`` and "Re: <subject>" and the
    customer's mail client threads it; attachments are noted by name and size (not stored)."""

    resource = "conversations"
    owner_path = "conversation__assignee_id"

    conversation = fields.ForeignKeyField("crm.Conversation", related_name=False, on_delete=fields.CASCADE)
    conversation_message = fields.ForeignKeyField(
        "crm.ConversationMessage", related_name=False, unique=True, on_delete=fields.CASCADE
    )
    direction = fields.CharField(max_length=3)  # in | out
    message_id_header = fields.CharField(max_length=255, default="")  # the Message-ID, with its angle brackets
    subject = fields.CharField(max_length=300, default="")
    thread_ids = fields.TextField(
        default=""
    )  # References: the message ids of the thread, oldest first, space separated
    automated = fields.BooleanField(default=False)  # an auto-reply (Auto-Submitted, Precedence: bulk...)
    attachments = fields.JSONField(default=list)  # [{"name", "size", "mimeType"}]

    class Meta:
        table = "email_thread_message"
        indexes = (("organization_id", "message_id_header"), ("conversation_id", "created_at"))
