"""E-mail as a notification channel: who gets it (the account's address, unless it bounced or
the customer unsubscribed), what it looks like (subject, text and HTML, the one-click
unsubscribe headers of RFC 8058), the unsubscribe itself, and marking addresses that bounced.

The plugin (plugins/email) only speaks SMTP; everything the customer reads is made here, in
the customer's language, from the organization's notification templates."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.accounts.models import Account, AccountIdentifier
from server.activities.models import Activity
from server.audit import service as audit
from server.auth.scope import Scope
from server.config import Settings
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.core.public_links import digest, new_token, public_link
from server.email.models import EmailUnsubscribeLink, UndeliverableEmail
from server.i18n import N_, _, gettext, gettext_in, use_locale
from server.notifications.models import ChannelConsent
from server.organizations.models import Organization

CHANNEL = "email"
PREFIX = "e"  # /e/<token>: the one-click unsubscribe link (server/email/pages.py)
_LINK = re.compile(r"https?://[^\s<>\"]+")

# The subject line per trigger (the body comes from the organization's templates).
SUBJECTS = {
    "new": N_("%(shop)s: order №%(number)s received"),
    "processing": N_("%(shop)s: order №%(number)s is being processed"),
    "picking": N_("%(shop)s: order №%(number)s is being picked"),
    "packed": N_("%(shop)s: order №%(number)s is packed"),
    "shipped": N_("%(shop)s: order №%(number)s is on its way"),
    "in_transit": N_("%(shop)s: order №%(number)s is on its way"),
    "arrived": N_("%(shop)s: order №%(number)s has arrived"),
    "delivered": N_("%(shop)s: order №%(number)s is delivered"),
    "cancelled": N_("%(shop)s: order №%(number)s is cancelled"),
    "delayed": N_("%(shop)s: order №%(number)s is delayed"),
    "survey_nps": N_("%(shop)s: how did we do?"),
    "survey_support": N_("%(shop)s: how did we do?"),
    "fiscal_receipt": N_("%(shop)s: your receipt for order №%(number)s"),
}
ORDER_SUBJECT = N_("%(shop)s: order №%(number)s")
OTHER_SUBJECT = N_("A message from %(shop)s")


def normalize(address: str) -> str:
    return (address or "").strip().lower()


async def recipient(account_id: UUID | None) -> str:
    """The account's first e-mail address ('' without one)."""
    account = await Account.get_or_none(id=account_id) if account_id else None
    emails = [e for e in (account.emails if account else []) if e]
    return emails[0] if emails else ""


async def undeliverable(organization_id: UUID, address: str) -> UndeliverableEmail | None:
    return await UndeliverableEmail.get_or_none(organization_id=organization_id, address=normalize(address))


# -- composing ----------------------------------------------------------------------------------


def subject(trigger: str, locale: str, shop: str, order_number: int | None) -> str:
    with use_locale(locale):
        if trigger in SUBJECTS and (order_number is not None or trigger.startswith("survey_")):
            text = gettext(SUBJECTS[trigger], shop=shop, number=order_number)
        elif order_number is not None:
            text = gettext(ORDER_SUBJECT, shop=shop, number=order_number)
        else:
            text = gettext(OTHER_SUBJECT, shop=shop)
    return " ".join(text.split())


def _html_text(text: str) -> str:
    """The message text as HTML: escaped, links clickable, line breaks kept."""
    out, last = [], 0
    for found in _LINK.finditer(text):
        out.append(html.escape(text[last : found.start()]))
        url = html.escape(found.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = found.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", "<br>\n")


def render(text: str, locale: str, shop: str, unsubscribe_url: str, marketing: bool = False) -> tuple[str, str]:
    """(plain text, HTML) of an e-mail: the message and a footer with the unsubscribe link."""
    with use_locale(locale):
        if marketing:  # a retention campaign's e-mail (server/campaigns)
            footer = gettext("You get this e-mail as a customer of %(shop)s.", shop=shop)
        else:
            footer = gettext("You get this e-mail about your orders at %(shop)s.", shop=shop)
        unsubscribe = gettext("Unsubscribe from these e-mails")
    plain = f"{text}\n\n-- \n{footer}\n{unsubscribe}: {unsubscribe_url}\n"
    page = (
        f'<!doctype html>\n<html lang="{locale}"><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; line-height: 1.45; color: #1d2330">\n'
        f"<p>{_html_text(text)}</p>\n"
        '<hr style="border: 0; border-top: 1px solid #ddd">\n'
        f'<p style="font-size: 12px; color: #667">{html.escape(footer)}<br>\n'
        f'<a href="{html.escape(unsubscribe_url)}">{html.escape(unsubscribe)}</a></p>\n'
        "</body></html>\n"
    )
    return plain, page


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mailbox providers POST ``List-Unsubscribe=One-Click``."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def unsubscribe_link(settings: Settings) -> tuple[str, str]:
    """(token, URL) of a fresh unsubscribe link; store it with ``store_link`` when sending."""
    token = new_token()
    return token, public_link(settings, PREFIX, token)


async def store_link(organization_id: UUID, account_id: UUID, notification_id: UUID, address: str, token: str):
    await EmailUnsubscribeLink.create(
        organization_id=organization_id,
        account_id=account_id,
        notification_id=notification_id,
        address=normalize(address)[:254],
        token_hash=digest(token),
    )


# -- unsubscribing ------------------------------------------------------------------------------


async def find(token: str) -> tuple[EmailUnsubscribeLink | None, Organization | None]:
    if not token or len(token) > 128:
        return None, None
    link = await EmailUnsubscribeLink.get_or_none(token_hash=digest(token))
    if link is None:
        return None, None
    return link, await Organization.get(id=link.organization_id)


async def unsubscribe(token: str, now: datetime | None = None) -> bool:
    """Withdraw the customer's consent to e-mail (idempotent): the cascade skips e-mail for them
    from now on. False for an unknown link."""
    now = now or datetime.now(UTC)
    async with in_transaction():
        link, organization = await find(token)
        if link is None:
            return False
        await EmailUnsubscribeLink.filter(id=link.id, used_at=None).update(used_at=now)
        consent = await ChannelConsent.get_or_none(account_id=link.account_id, channel=CHANNEL)
        if consent is not None and not consent.opted_in:
            return True
        if consent is None:
            await ChannelConsent.create(
                organization_id=link.organization_id, account_id=link.account_id, channel=CHANNEL, opted_in=False
            )
        else:
            await ChannelConsent.filter(id=consent.id).update(opted_in=False, updated_at=now)
        account = await Account.get(id=link.account_id)
        scope = Scope.for_app(organization, "email-unsubscribe", "campaigns")  # the role campaign opt-outs use
        await audit.record(scope, "account.consent", account, {f"consent.{CHANNEL}": [None, False]})
        await outbox.emit(organization.id, "email.unsubscribed", {"account_id": account.id})
    return True


# -- bounces ------------------------------------------------------------------------------------


async def mark_undeliverable(organization_id: UUID, address: str, status: str, diagnostic: str, source: str) -> bool:
    """A hard bounce: the address is not e-mailed again, and the accounts that have it show it
    on their timeline. Idempotent (a second bounce of the same address changes nothing)."""
    address = normalize(address)
    if not address or await UndeliverableEmail.filter(organization_id=organization_id, address=address).exists():
        return False
    try:
        async with in_transaction():
            await UndeliverableEmail.create(
                organization_id=organization_id,
                address=address[:254],
                status=status[:16],
                diagnostic=diagnostic[:500],
                source=source,
            )
            account_ids = await AccountIdentifier.filter(
                organization_id=organization_id, kind="email", value=address
            ).values_list("account_id", flat=True)
            locale = await Organization.filter(id=organization_id).first().values_list("locale", flat=True)
            for account_id in dict.fromkeys(account_ids):
                await Activity.create(
                    organization_id=organization_id,
                    account_id=account_id,
                    kind="email",
                    subject=gettext_in(
                        locale or "uk",
                        N_("E-mail to %(address)s bounced: the address is marked undeliverable"),
                        address=address,
                    )[:300],
                    body=f"{status} {diagnostic}".strip(),
                    data={"address": address, "status": status, "source": source},
                    occurred_at=datetime.now(UTC),
                )
            await outbox.emit(organization_id, "email.undeliverable", {"address": address, "status": status})
    except IntegrityError:  # the same bounce reported twice at once: the other one recorded it
        return False
    return True


# -- what managers see and fix ------------------------------------------------------------------


async def deliverability(scope: Scope, account_id: UUID) -> list[dict]:
    """Each e-mail address of the account: whether it bounced for good, and whether the customer
    unsubscribed from e-mail (accounts:read)."""
    account = await scope.get(Account, account_id, field="accountId")
    return await _deliverability(account)


async def _deliverability(account: Account) -> list[dict]:
    addresses = [normalize(e) for e in account.emails or [] if e]
    bounced = {
        b.address: b
        for b in await UndeliverableEmail.filter(organization_id=account.organization_id, address__in=addresses)
    }
    unsubscribed = await ChannelConsent.filter(account_id=account.id, channel=CHANNEL, opted_in=False).exists()
    return [
        {
            "address": address,
            "undeliverable": address in bounced,
            "bounce_status": bounced[address].status if address in bounced else None,
            "bounced_at": bounced[address].created_at if address in bounced else None,
            "unsubscribed": unsubscribed,
        }
        for address in addresses
    ]


async def clear_undeliverable(scope: Scope, account_id: UUID, address: str) -> list[dict]:
    """The customer fixed their mailbox: e-mail may go to the address again (accounts:update)."""
    async with in_transaction():
        account = await scope.get(Account, account_id, "update", field="accountId")
        address = normalize(address)
        if address not in [normalize(e) for e in account.emails or []]:
            raise UserInputError(ErrorCode.NOT_FOUND, _("The account has no such e-mail address."), "address")
        mark = await UndeliverableEmail.get_or_none(organization_id=account.organization_id, address=address)
        if mark is None:
            raise UserInputError(ErrorCode.INVALID, _("The address is not marked undeliverable."), "address")
        await UndeliverableEmail.filter(id=mark.id).delete()
        await audit.record(scope, "account.email_deliverable", account, {"undeliverable": [address, None]})
        await outbox.emit(account.organization_id, "email.deliverable", {"account_id": account.id})
    return await _deliverability(account)
