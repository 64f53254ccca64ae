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
