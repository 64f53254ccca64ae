"""Fiscal receipts: a sale receipt when a payment is paid (card: ``CASHLESS``; cash on delivery:
``CASH``) and a return receipt when a refund succeeds, through the organization's enabled
fiscal plugin (Checkbox ПРРО); the daily close of its shift. The only writer of
``FiscalReceipt`` and ``FiscalShiftClose``. docs/fiscal.md tells the whole story.

Exactly once. A provider call cannot be part of a transaction, so:

1. the receipt row is created first (its key ``sell:<payment>``/``return:<refund>`` is unique,
   its ``id`` is the receipt id the provider gets);
2. a try claims the row (a conditional update: one taker at a time) and counts itself;
3. before the first issue call ``sent_at`` is committed; a try that finds it set asks the
   provider for the receipt by our id (``crm_fiscal_receipt_status``) and issues it only if the
   provider has none. A worker that died between the provider's answer and our write therefore
   never sells twice;
4. the answer is written: ``done`` (fiscal code, date, link), ``failed`` (the reason), or still
   ``pending``: then the job raises a retryable error and the job system tries again with its
   backoff, up to ``JOB_MAX_TRIES`` tries of the receipt, after which it is ``failed`` — unless
   it went out (``sent_at``): then only Checkbox's own answer may fail it, and it stays pending;
5. ``fiscal.follow_receipts`` (every 5 minutes) tries every pending receipt nobody holds, for
   ``FOLLOW_DAYS``: one whose worker died mid-try, or one Checkbox has not confirmed yet.

Which receipts. A payment paid before the fiscal installation existed gets none (the sale
happened without it); a refund of a payment without a sale receipt gets none either (a return
names its sale). The receipt's lines are the order's lines when the payment covers the order's
total, otherwise one line "Payment for order #N" for the amount (a part payment).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.fiscal.models import FiscalReceipt, FiscalShiftClose
from server.i18n import _
from server.orders.models import Order, OrderItem
from server.organizations.models import Organization
from server.payments.models import Payment, PaymentRefund
from server.payments.service import CASH_ON_DELIVERY, PAID_STATES
from server.plugins import service as plugins
from server.plugins.http import OUTCOME_UNKNOWN
from server.plugins.manager import PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import FISCAL, PluginError, ReceiptLine, ReceiptPayment, ReceiptRequest, ReceiptResult

log = logging.getLogger("crm.fiscal")

CLAIM_SECONDS = 300  # longer than a try can take (the plugin call times out at 30 s)
FOLLOW_DAYS = 3  # a pending receipt is followed this long (Checkbox retries its own webhooks for 4 h)


# -- which installation -----------------------------------------------------------------------


async def fiscal_installation(organization_id: UUID, manager: PluginManager | None = None) -> PluginInstallation | None:
    """The organization's enabled fiscal installation (the oldest, if there are several)."""
    manager = manager or get_manager()
    for installation in await PluginInstallation.filter(organization_id=organization_id, enabled=True).order_by(
        "created_at", "id"
    ):
        plugin = manager.get(installation.plugin)
        if plugin is not None and FISCAL in plugin.info.capabilities:
            return installation
    return None


def payment_type(payment: Payment) -> str:
    return "CASH" if payment.provider_status == CASH_ON_DELIVERY else "CASHLESS"


# -- the rows -----------------------------------------------------------------------------------


async def _ensure(payment: Payment, installation: PluginInstallation, **values) -> FiscalReceipt:
    key = f"{values['kind']}:{values['refund_id'] or payment.id}"
    found = await FiscalReceipt.get_or_none(key=key)
    if found is not None:
        return found
    async with in_transaction():
        await FiscalReceipt.bulk_create(
            [
                FiscalReceipt(
                    id=uuid.uuid4(),
                    organization_id=payment.organization_id,  # type: ignore[attr-defined]
                    payment_id=payment.id,
                    installation_id=installation.id,
                    key=key,
                    provider=installation.plugin,
                    payment_type=payment_type(payment),
                    currency=payment.currency,
                    status="pending",
                    **values,
                )
            ],
            ignore_conflicts=True,  # another job made it a moment ago: theirs stands
        )
    return await FiscalReceipt.get(key=key)


async def plan_receipts(payment: Payment, installation: PluginInstallation) -> list[FiscalReceipt]:
    """The payment's receipts that should exist, created if missing: the sale, then a return
    per succeeded refund. Idempotent."""
    if payment.status not in PAID_STATES:
        return []
    sale = await FiscalReceipt.get_or_none(key=f"sell:{payment.id}")
    if sale is None:
        if payment.paid_at is not None and payment.paid_at < installation.created_at:
            return []  # sold before the shop fiscalized through the CRM
        sale = await _ensure(payment, installation, kind="sell", refund_id=None, sale_id=None, amount=payment.amount)
    receipts = [sale]
    for refund in await PaymentRefund.filter(payment_id=payment.id, status="succeeded").order_by("created_at", "id"):
        receipts.append(
            await _ensure(
                payment, installation, kind="return", refund_id=refund.id, sale_id=sale.id, amount=refund.amount
            )
        )
    return receipts


# -- the request --------------------------------------------------------------------------------


async def receipt_request(receipt: FiscalReceipt, payment: Payment, sale: FiscalReceipt | None) -> ReceiptRequest:
    order = await Order.get(id=payment.order_id)  # type: ignore[attr-defined]
    items = await OrderItem.filter(order_id=order.id).order_by("position", "id")
    if receipt.amount == order.total and items:
        lines = tuple(
            ReceiptLine(code=i.sku, name=i.title, price=i.unit_price, quantity=i.quantity, discount=i.discount)
            for i in items
        )
    else:
        lines = (
            ReceiptLine(
                code=f"ORDER-{order.number}",
                name=_("Payment for order #%(number)s", number=order.number),
                price=receipt.amount,
                quantity=Decimal("1"),
            ),
        )
    account = await Account.get_or_none(id=order.account_id)  # type: ignore[attr-defined]
    email = str(account.emails[0]) if account is not None and account.emails else ""
    phone = order.recipient_phone or (account.primary_phone if account is not None else None) or ""
    return ReceiptRequest(
        receipt_id=str(receipt.id),
        kind=receipt.kind,
        currency=receipt.currency,
        lines=lines,
        payments=(ReceiptPayment(type=receipt.payment_type, amount=receipt.amount),),
        related_receipt_id=sale.provider_receipt_id if sale is not None else "",
        order_number=order.number,
        email=email,
        phone=phone,
    )


# -- issuing a failed receipt again ------------------------------------------------------------------


async def issue_again(scope: Scope, receipt_id: UUID, *, manager: PluginManager | None = None) -> FiscalReceipt:
    """A new receipt in place of a failed one (after the admin fixed what made it fail: the
    cashier's PIN, the tax codes, a disabled plugin). The failed one stays, with its error, under
    a key of its own; the new one gets a new id (the provider may know the old one as refused)
    and is issued by ``fiscal.on_receipt_again`` after this transaction commits."""
    scope.require("orders:refund")  # who may give money back may redo its paperwork
    async with in_transaction():
        failed = await scope.get(FiscalReceipt, receipt_id, "update", field="id", for_update=True)
        if failed.status != "failed":
            raise UserInputError(ErrorCode.CONFLICT, _("Only a failed receipt can be issued again."), "id")
        if ":failed:" in failed.key:
            raise UserInputError(ErrorCode.CONFLICT, _("This receipt was issued again already."), "id")
        installation = await fiscal_installation(scope.organization_id, manager)
        if installation is None:
            raise UserInputError(
                ErrorCode.INVALID, _("No fiscal plugin is enabled: install or enable one first."), "id"
            )
        payment = await Payment.get(id=failed.payment_id)  # type: ignore[attr-defined]
        if payment.status not in PAID_STATES:
            raise UserInputError(
                ErrorCode.CONFLICT, _("The payment is no longer paid: there is nothing to issue a receipt for."), "id"
            )
        sale = None
        if failed.kind == "return":
            sale = await FiscalReceipt.get_or_none(key=f"sell:{payment.id}", status="done")
            if sale is None:
                raise UserInputError(
                    ErrorCode.CONFLICT, _("The sale's receipt is not issued: issue it again first."), "id"
                )
        await FiscalReceipt.filter(id=failed.id).update(key=f"{failed.key}:failed:{failed.id.hex[:12]}")
        fresh = await _ensure(
            payment,
            installation,
            kind=failed.kind,
            refund_id=failed.refund_id,  # type: ignore[attr-defined]
            sale_id=sale.id if sale is not None else None,
            amount=failed.amount,
        )
        await audit.record(scope, "fiscal_receipt.issue_again", fresh, {"replaces": [None, str(failed.id)]})
        payload = {**_event(fresh), "replaces": failed.id}
        await outbox.emit(scope.organization_id, "fiscal_receipt.issued_again", payload)
    return fresh


# -- the customer's message ------------------------------------------------------------------------


async def order_of(receipt: FiscalReceipt) -> Order | None:
    payment = await Payment.get_or_none(id=receipt.payment_id)  # type: ignore[attr-defined]
    return await Order.get_or_none(id=payment.order_id) if payment is not None else None  # type: ignore[attr-defined]


def message_context(receipt: FiscalReceipt) -> dict:
    """What the ``fiscal_receipt`` message's template knows of the receipt (docs/notifications.md)."""
    return {
        "receipt_link": receipt.url,
        "receipt_amount": f"{receipt.amount:.2f}",
        "receipt_currency": receipt.currency,
        "receipt_is_return": receipt.kind == "return",
    }


# -- a try --------------------------------------------------------------------------------------


async def _claim(receipt_id: UUID) -> FiscalReceipt | None:
    now = datetime.now(UTC)
    taken = await FiscalReceipt.filter(
        Q(id=receipt_id, status="pending") & (Q(claimed_until=None) | Q(claimed_until__lt=now))
    ).update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), tries=F("tries") + 1)
    return await FiscalReceipt.get(id=receipt_id) if taken else None


async def record(receipt: FiscalReceipt, result: ReceiptResult) -> FiscalReceipt:
    """Write what the provider said, with the event the outcome deserves, in one transaction."""
    values: dict = {"provider_receipt_id": (result.provider_receipt_id or receipt.provider_receipt_id)[:64]}
    if result.status == "done":
        values.update(
            status="done", fiscal_code=result.fiscal_code[:64], fiscal_date=result.fiscal_date, url=result.url[:500]
        )
        values["error"] = ""
    elif result.status == "failed":
        values.update(status="failed", error=_("The receipt was refused: %(reason)s", reason=result.error or "?")[:500])
    async with in_transaction():
        # Only a pending receipt changes: a late writer never turns a finished one back.
        changed = await FiscalReceipt.filter(id=receipt.id, status="pending").update(**values)
        fresh = await FiscalReceipt.get(id=receipt.id)
        if changed and fresh.status != "pending":
            await outbox.emit(fresh.organization_id, f"fiscal_receipt.{fresh.status}", _event(fresh))  # type: ignore[attr-defined]
    return fresh


async def _fail(receipt: FiscalReceipt, message: str) -> FiscalReceipt:
    async with in_transaction():
        changed = await FiscalReceipt.filter(id=receipt.id, status="pending").update(
            status="failed", error=message[:500]
        )
        fresh = await FiscalReceipt.get(id=receipt.id)
        if changed:
            await outbox.emit(fresh.organization_id, "fiscal_receipt.failed", _event(fresh))  # type: ignore[attr-defined]
    return fresh


async def _unconfirmed(receipt: FiscalReceipt, reason: str) -> FiscalReceipt:
    """A receipt that went out and was not answered: Checkbox may have it (or register it
    later), so it is never failed on our side; it stays pending and ``fiscal.follow_receipts`` keeps
    asking for ``FOLLOW_DAYS``."""
    note = _(
        "Checkbox has not confirmed the receipt yet (%(reason)s); the CRM keeps asking. Do not issue it again "
        "by hand meanwhile.",
        reason=reason,
    )
    await FiscalReceipt.filter(id=receipt.id, status="pending").update(error=note[:500])
    return await FiscalReceipt.get(id=receipt.id)


async def _settle(settings, receipt: FiscalReceipt, reason: str, manager) -> FiscalReceipt:
    """The last try of a receipt that went out failed without a clear answer: ask Checkbox.
    It has none: failed (nothing was sold). It has it: what it says. No answer: pending, and
    ``fiscal.follow_receipts`` asks again later."""
    installation = await PluginInstallation.get_or_none(id=receipt.installation_id)  # type: ignore[attr-defined]
    try:
        if installation is None or not installation.enabled:
            raise PluginError(_("The fiscal plugin was uninstalled or disabled before the receipt was issued."))
        found = await plugins.call(
            settings, installation, "crm_fiscal_receipt_status", manager=manager, receipt_id=str(receipt.id)
        )
    except PluginError:
        return await _unconfirmed(receipt, reason)
    if found is None:
        return await _fail(receipt, reason)
    fresh = await record(receipt, found)
    return await _unconfirmed(fresh, reason) if fresh.status == "pending" else fresh


async def _went_out(receipt_id: UUID) -> bool:
    return await FiscalReceipt.filter(id=receipt_id, sent_at__not_isnull=True).exists()


def _event(receipt: FiscalReceipt) -> dict:
    return {
        "receipt_id": receipt.id,
        "payment_id": receipt.payment_id,  # type: ignore[attr-defined]
        "refund_id": receipt.refund_id,  # type: ignore[attr-defined]
        "kind": receipt.kind,
        "status": receipt.status,
        "fiscal_code": receipt.fiscal_code,
        "url": receipt.url,
        "error": receipt.error,
    }


async def issue(settings, receipt_id: UUID, *, manager: PluginManager | None = None) -> FiscalReceipt | None:
    """One try at the receipt (see the module docstring). Raises a retryable ``PluginError``
    while it is worth trying again; returns the row otherwise (None: someone else has it)."""
    receipt = await _claim(receipt_id)
    if receipt is None:
        return None
    try:
        return await _try(settings, receipt, manager)
    except PluginError as exc:
        if exc.retryable and receipt.tries < settings.job_max_tries:
            raise
        # A refusal the plugin is sure of fails the receipt; an outcome it is not sure of, of a
        # receipt that may have gone out, is settled only by Checkbox itself.
        if (exc.retryable or exc.code == OUTCOME_UNKNOWN) and await _went_out(receipt.id):
            return await _settle(settings, receipt, exc.message, manager)
        return await _fail(receipt, exc.message)
    except Exception:
        if receipt.tries < settings.job_max_tries:
            raise  # the job system logs it and tries again
        log.exception("fiscal receipt %s: the last try failed", receipt.id)
        if await _went_out(receipt.id):
            return await _settle(settings, receipt, _("an error in the CRM"), manager)
        return await _fail(receipt, _("The receipt could not be issued because of an error in the CRM (see its log)."))
    finally:
        # Released only if the hold is still ours (a later taker's hold has a later end).
        await FiscalReceipt.filter(id=receipt.id, claimed_until=receipt.claimed_until).update(claimed_until=None)


async def _try(settings, receipt: FiscalReceipt, manager: PluginManager | None) -> FiscalReceipt:
    installation = await PluginInstallation.get_or_none(id=receipt.installation_id)  # type: ignore[attr-defined]
    if installation is None or not installation.enabled:
        raise PluginError(_("The fiscal plugin was uninstalled or disabled before the receipt was issued."))
    result: ReceiptResult | None = None
    if receipt.sent_at is not None:
        result = await plugins.call(
            settings, installation, "crm_fiscal_receipt_status", manager=manager, receipt_id=str(receipt.id)
        )
    if result is None:
        payment = await Payment.get(id=receipt.payment_id)  # type: ignore[attr-defined]
        sale = None
        if receipt.kind == "return":
            sale = await FiscalReceipt.get_or_none(id=receipt.sale_id)  # type: ignore[attr-defined]
            if sale is None or sale.status == "failed":
                raise PluginError(_("The sale this refund returns has no fiscal receipt."))
            if sale.status != "done":
                raise PluginError(_("The sale's receipt is not issued yet."), retryable=True)
        request = await receipt_request(receipt, payment, sale)
        await FiscalReceipt.filter(id=receipt.id).update(sent_at=datetime.now(UTC))
        result = await plugins.call(
            settings, installation, "crm_fiscal_issue_receipt", manager=manager, receipt=request
        )
    if not isinstance(result, ReceiptResult):
        raise PluginError(_("The %(plugin)s plugin returned no receipt.", plugin=installation.plugin))
    fresh = await record(receipt, result)
    if fresh.status == "pending":
        raise PluginError(_("The tax service has not registered the receipt yet."), retryable=True)
    return fresh


async def issue_for_payment(settings, organization_id: UUID, payment_id: UUID, *, manager=None) -> dict:
    """Make the payment's missing receipts and try the pending ones, the sale first. A
    retryable failure is raised after the others had their turn (the job is tried again)."""
    payment = await Payment.get_or_none(id=payment_id, organization_id=organization_id)
    if payment is None:
        return {"skipped": "no such payment"}
    installation = await fiscal_installation(organization_id, manager)
    if installation is None:
        return {"skipped": "no fiscal installation"}
    retry: PluginError | None = None
    outcome = {}
    for receipt in await plan_receipts(payment, installation):
        if receipt.status != "pending":
            continue
        try:
            done = await issue(settings, receipt.id, manager=manager)
            outcome[str(receipt.id)] = done.status if done is not None else "busy"
        except PluginError as exc:
            outcome[str(receipt.id)] = exc.message
            retry = retry or exc
    if retry is not None:
        raise retry
    return outcome


async def receipts_to_follow(now: datetime | None = None) -> list[tuple[UUID, UUID]]:
    """(receipt, organization) of the pending receipts nobody is working on: a worker died
    during a try, or the job's tries ran out while Checkbox had not confirmed one that went
    out. Younger than ``FOLLOW_DAYS``; a minute old at least (their own job is on them)."""
    now = now or datetime.now(UTC)
    rows = await FiscalReceipt.filter(
        Q(status="pending") & (Q(claimed_until=None) | Q(claimed_until__lt=now)),
        created_at__lt=now - timedelta(minutes=1),
        created_at__gt=now - timedelta(days=FOLLOW_DAYS),
    ).values_list("id", "organization_id")
    return [(receipt_id, organization_id) for receipt_id, organization_id in rows]


# -- shifts -------------------------------------------------------------------------------------


def close_time(config: dict) -> time | None:
    text = str(config.get("shift_close_time") or "").strip()
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        return None


async def due_shift_closes(now: datetime | None = None, manager: PluginManager | None = None) -> list:
    """``(installation, local day)`` of every enabled fiscal installation whose close time has
    passed today in its organization's time zone and whose shift was not closed today. Three
    queries however many shops (it runs every few minutes)."""
    manager = manager or get_manager()
    now = now or datetime.now(UTC)
    closers = [
        info.name
        for info in manager.list_plugins()
        if FISCAL in info.capabilities and manager.implements(info.name, "crm_fiscal_close_shift")
    ]
    if not closers:
        return []
    installations = await PluginInstallation.filter(enabled=True, plugin__in=closers).order_by("created_at", "id")
    zones = dict(
        await Organization.filter(id__in={i.organization_id for i in installations}).values_list("id", "timezone")  # type: ignore[attr-defined]
    )
    candidates = []
    for installation in installations:
        at = close_time(plugins.effective_config(manager.get(installation.plugin), installation.config))
        local = now.astimezone(ZoneInfo(zones.get(installation.organization_id) or "Europe/Kyiv"))  # type: ignore[attr-defined]
        if at is not None and local.time() >= at:
            candidates.append((installation, local.date()))
    if not candidates:
        return []
    closed = set(
        await FiscalShiftClose.filter(installation_id__in=[i.id for i, _day in candidates])
        .exclude(status__in=("closing", "failed"))
        .values_list("installation_id", "day")
    )
    return [(installation, day) for installation, day in candidates if (installation.id, day) not in closed]


async def close_shift(settings, installation: PluginInstallation, day, *, manager=None) -> FiscalShiftClose:
    """Close the installation's shift for ``day`` and record the outcome (a failure is kept for
    the admin and tried again on the next run the same day)."""
    try:
        result = await plugins.call(settings, installation, "crm_fiscal_close_shift", manager=manager)
        status, shift_id, message = result.status, result.shift_id, result.message
    except PluginError as exc:
        status, shift_id, message = "failed", "", exc.message
    async with in_transaction():
        row = await FiscalShiftClose.get_or_none(installation_id=installation.id, day=day)
        if row is None:
            row = await FiscalShiftClose.create(
                id=uuid.uuid4(),
                organization_id=installation.organization_id,  # type: ignore[attr-defined]
                installation_id=installation.id,
                day=day,
                status=status,
                shift_id=shift_id[:64],
                message=message[:500],
            )
        else:
            await FiscalShiftClose.filter(id=row.id).update(
                status=status, shift_id=shift_id[:64], message=message[:500]
            )
        if status == "failed":
            log.warning("fiscal installation %s: the shift was not closed: %s", installation.id, message)
    return await FiscalShiftClose.get(id=row.id)
