"""Payments: checkout links through payment plugins, provider callbacks, refunds, and what a
paid order does next. The only writer of ``Payment``, ``PaymentRefund`` and ``PaymentSettings``.

Who may do what (the roles table in server/auth/roles.py decides; nothing here names a role):
making a payment link needs ``orders:update`` on the order's row; a refund needs the special
right ``orders:refund``; the paid-order rule needs ``order_statuses:update``.

An order's **paid amount** is the sum over its payments in ``paid``/``partially_refunded``/
``refunded`` of ``amount − refundedAmount`` (refunds that are pending or succeeded count as
given back; failed ones do not). Its **balance** is ``total − paid amount``. Both are derived
from the rows, never stored. The order's ``paymentStatus`` follows them (``unpaid``,
``partially_paid``, ``paid``, ``refunded``) and a fully paid order moves to the organization's
``paidOrderStatus`` if the status machine allows it, through the orders service (history,
audit, ``order.status_changed`` and the customer notifications it triggers).

Calls to a provider cannot be part of a database transaction, so:

* a link: the ``Payment`` is recorded first (``created``; its id is the reference the provider
  gets), then the plugin is asked, then the link and provider id are stored (``pending``). A
  provider refusal leaves the payment ``failed`` with the reason.
* a refund: the amount is reserved on the payment under its row lock first (two concurrent
  refunds cannot give back more than was paid), then the provider is asked; a refusal releases it.

Callbacks (``crm_webhook`` -> ``PaymentUpdate``) are applied in the webhook's transaction. The
webhook layer drops a redelivery with the same dedupe key; on top of that a payment's status
only moves forward (created < pending < failed < paid < partially_refunded < refunded), and an
update older than the last one applied (provider time) is ignored, so a replayed or late
``pending`` never moves a paid payment back.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import ErrorCode, Problems, UserInputError, not_found
from server.core.money import parse_amount
from server.i18n import _
from server.orders import service as orders
from server.orders.models import Order, OrderStatus, OrderStatusTransition
from server.organizations.models import Organization
from server.payments.models import Payment, PaymentRefund, PaymentSettings
from server.plugins import service as plugins
from server.plugins.manager import PluginManager
from server.plugins.models import PluginInstallation
from server.plugins.types import PAYMENTS, Checkout, CheckoutRequest, PaymentUpdate, PluginError, RefundResult

log = logging.getLogger("crm.payments")

ZERO = Decimal("0.00")
# The order in which a payment's status may move; an update to a lower rank is ignored.
RANK = {"created": 0, "pending": 1, "failed": 2, "paid": 3, "partially_refunded": 4, "refunded": 5}
PAID_STATES = ("paid", "partially_refunded", "refunded")
# ``provider_status`` of a payment the carrier collected in cash from the recipient.
CASH_ON_DELIVERY = "cash_on_delivery"


def payments_scope(organization: Organization, provider: str) -> Scope:
    """An ``app`` principal: the audit trail says ``app payments:<plugin>`` settled the order."""
    return Scope.for_app(organization, f"payments:{provider}", "payments")


# -- figures ---------------------------------------------------------------------------------


def paid_of(payments: list[Payment]) -> Decimal:
    """What the customer has paid and kept paid: see the module docstring."""
    return sum((p.amount - p.refunded_amount for p in payments if p.status in PAID_STATES), ZERO)


async def paid_amount(order_id: UUID) -> Decimal:
    return paid_of(await Payment.filter(order_id=order_id))


def payment_status_of(total: Decimal, paid: Decimal, payments: list[Payment]) -> str:
    if paid <= 0:
        return "refunded" if any(p.status in ("refunded", "partially_refunded") for p in payments) else "unpaid"
    return "paid" if paid >= total else "partially_paid"


# -- installations ---------------------------------------------------------------------------


async def payment_installation(
    scope: Scope, installation_id: UUID | None, *, manager: PluginManager | None = None
) -> PluginInstallation:
    """The organization's enabled payment installation ``installation_id``, or its only one."""
    found = await plugins.enabled_with(scope, PAYMENTS, installation_id, manager)
    if not found:
        what = _("Payment plugin installation") if installation_id else _("An enabled payment plugin")
        raise not_found(what, "installationId")
    if len(found) > 1:
        raise UserInputError(
            ErrorCode.REQUIRED,
            _("Several payment plugins are installed: choose one (installationId)."),
            "installationId",
        )
    return found[0]


def _event(payment: Payment, **extra) -> dict:
    return {
        "payment_id": payment.id,
        "order_id": payment.order_id,  # type: ignore[attr-defined]
        "provider": payment.provider,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        **extra,
    }


# -- links -----------------------------------------------------------------------------------


async def create_payment_link(
    scope: Scope,
    settings,
    order_id: UUID,
    amount: object = None,
    installation_id: UUID | None = None,
    *,
    manager: PluginManager | None = None,
) -> Payment:
    """A checkout link for the order's balance (or ``amount`` of it). Sends nothing."""
    scope.require("orders:update")
    order = await scope.get(Order, order_id, "update", field="orderId")
    problems = Problems()
    installation = None
    with problems:
        installation = await payment_installation(scope, installation_id, manager=manager)
    balance = order.total - await paid_amount(order.id)  # type: ignore[attr-defined]
    wanted = balance
    with problems:
        if amount is not None:
            wanted = parse_amount(amount, "amount")
        if wanted <= 0:
            raise UserInputError(ErrorCode.INVALID, _("Nothing to pay: the amount must be more than 0."), "amount")
        if wanted > balance:
            raise UserInputError(
                ErrorCode.INVALID,
                _("The amount is more than the order's balance (%(balance)s).", balance=balance),
                "amount",
            )
    problems.raise_if_any()
    assert installation is not None
    async with in_transaction():
        payment = await Payment.create(
            id=uuid.uuid4(),
            organization_id=scope.organization_id,
            order_id=order.id,
            installation_id=installation.id,
            provider=installation.plugin,
            amount=wanted,
            currency=order.currency,
            status="created",
            created_by_id=scope.user_id,
        )
        await audit.record(
            scope,
            "payment.create",
            payment,
            {"order_id": [None, str(order.id)], "amount": [None, str(wanted)], "provider": [None, payment.provider]},
        )
        await outbox.emit(scope.organization_id, "payment.created", _event(payment, order_number=order.number))
    request = CheckoutRequest(
        reference=str(payment.id),
        order_id=str(order.id),
        order_number=order.number,
        amount=wanted,
        currency=order.currency,
        description=_("Order #%(number)s", number=order.number),
        callback_url=plugins.stored_webhook_url(settings, installation),
        language=getattr(scope.organization, "language", "uk") or "uk",
    )
    try:
        checkout = await plugins.call(settings, installation, "crm_payment_create", manager=manager, payment=request)
        if not isinstance(checkout, Checkout):
            raise PluginError(_("The %(plugin)s plugin returned no checkout link.", plugin=installation.plugin))
    except PluginError as exc:
        async with in_transaction():
            await Payment.filter(id=payment.id).update(
                status="failed", error=exc.message[:500], version=F("version") + 1
            )
            await outbox.emit(scope.organization_id, "payment.status_changed", _event(payment, status="failed"))
        raise UserInputError(ErrorCode.PROVIDER_ERROR, exc.message, "installationId") from None
    async with in_transaction():
        await Payment.filter(id=payment.id).update(
            status=checkout.status if checkout.status in ("pending", "created") else "pending",
            provider_payment_id=checkout.provider_payment_id[:128] or None,
            checkout_url=checkout.url[:2000],
            version=F("version") + 1,
        )
        payment = await Payment.get(id=payment.id)
        await outbox.emit(scope.organization_id, "payment.link_created", _event(payment, checkout_url=checkout.url))
    return payment


# -- refunds ---------------------------------------------------------------------------------


async def refund_payment(
    scope: Scope, settings, payment_id: UUID, amount: object, *, manager: PluginManager | None = None
) -> PaymentRefund:
    """Give back ``amount`` of a paid payment through its provider (``orders:refund``)."""
    scope.require("orders:refund")
    payment = await scope.get(Payment, payment_id, "update", field="paymentId")
    _not_cash_on_delivery(payment)
    value = parse_amount(amount, "amount")
    if value <= 0:
        raise UserInputError(ErrorCode.INVALID, _("A refund must be more than 0."), "amount")
    installation = await PluginInstallation.get_or_none(
        id=payment.installation_id,  # type: ignore[attr-defined]
        organization_id=scope.organization_id,
    )
    if installation is None:
        raise UserInputError(ErrorCode.NOT_FOUND, _("The payment plugin of this payment was uninstalled."), "paymentId")
    async with in_transaction():
        current = await Payment.filter(id=payment.id).select_for_update().get()
        if current.status not in ("paid", "partially_refunded"):
            raise UserInputError(
                ErrorCode.CONFLICT,
                _("Only a paid payment can be refunded; this one is %(status)s.", status=current.status),
                "paymentId",
            )
        left = current.amount - current.refunded_amount
        if value > left:
            raise UserInputError(
                ErrorCode.INVALID, _("At most %(left)s can be refunded from this payment.", left=left), "amount"
            )
        refund = await PaymentRefund.create(
            id=uuid.uuid4(),
            organization_id=scope.organization_id,
            payment_id=current.id,
            amount=value,
            status="pending",
            actor_id=scope.user_id,
        )
        await Payment.filter(id=current.id).update(
            refunded_amount=current.refunded_amount + value, version=F("version") + 1
        )
    try:
        result = await plugins.call(
            settings,
            installation,
            "crm_payment_refund",
            manager=manager,
            reference=str(payment.id),
            provider_payment_id=payment.provider_payment_id or "",
            amount=value,
            currency=payment.currency,
            refund_reference=str(refund.id),
        )
        if not isinstance(result, RefundResult):
            raise PluginError(_("The %(plugin)s plugin returned no refund result.", plugin=installation.plugin))
    except PluginError as exc:
        # A timeout after the request went out: the provider may have refunded. The refund
        # stays pending (the money stays reserved) until a callback or checkPaymentStatus says.
        unknown = exc.code == "OUTCOME_UNKNOWN"
        result = RefundResult("pending" if unknown else "failed", error=exc.message)
    organization = scope.organization
    async with in_transaction():
        current = await Payment.filter(id=payment.id).select_for_update().get()
        status = result.status if result.status in ("pending", "succeeded", "failed") else "pending"
        await PaymentRefund.filter(id=refund.id).update(
            status=status, provider_refund_id=result.provider_refund_id[:128], error=result.error[:500]
        )
        refunded = current.refunded_amount - (value if status == "failed" else ZERO)
        new_status = current.status
        if status != "failed":
            new_status = "refunded" if refunded >= current.amount else "partially_refunded"
        await Payment.filter(id=current.id).update(
            refunded_amount=refunded, status=new_status, version=F("version") + 1
        )
        refund = await PaymentRefund.get(id=refund.id)
        await audit.record(
            scope,
            "payment.refund",
            current,
            {
                "refunded_amount": [str(current.refunded_amount - value), str(refunded)],
                "refund": str(value),
                "refund_status": status,
                "status": [current.status, new_status],
            },
        )
        await outbox.emit(
            scope.organization_id,
            "payment.refunded",
            _event(current, status=new_status, refund_id=refund.id, refund_amount=value, refund_status=status),
        )
        if status != "failed":
            await settle_order(payments_scope(organization, installation.plugin), current.order_id)  # type: ignore[attr-defined]
    if status == "failed":
        raise UserInputError(
            ErrorCode.PROVIDER_ERROR, result.error or _("The provider refused the refund."), "paymentId"
        )
    return refund


# -- provider news -----------------------------------------------------------------------------


async def _find_payment(installation_id: UUID, update: PaymentUpdate) -> Payment | None:
    qs = Payment.filter(installation_id=installation_id).select_for_update()
    try:
        by_reference = UUID(update.reference) if update.reference else None
    except ValueError:
        by_reference = None
    if by_reference is not None:
        found = await qs.filter(id=by_reference).first()
        if found is not None:
            return found
    if update.provider_payment_id:
        return await qs.filter(provider_payment_id=update.provider_payment_id).first()
    return None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


async def _refund_news(payment: Payment, update: PaymentUpdate) -> dict | None:
    """What a provider's refund news changes (None: nothing). Refunds the provider confirms by
    their reference (monobank ``extRef``) succeed; a full reversal without references confirms
    every pending one; money given back beyond what the CRM asked for (a refund made in the
    provider's cabinet) is recorded as a refund of its own."""
    pending = await PaymentRefund.filter(payment_id=payment.id, status="pending")
    confirmed = set(update.refunds_confirmed)
    if confirmed:
        done = [r for r in pending if str(r.id) in confirmed]
    else:
        done = pending if update.status == "refunded" else []
    if update.refunded_amount is not None:
        given_back = update.refunded_amount
    else:
        given_back = payment.amount if update.status == "refunded" else payment.refunded_amount
    outside = given_back - payment.refunded_amount
    if not done and outside <= 0:
        return None
    if done:
        await PaymentRefund.filter(id__in=[r.id for r in done]).update(status="succeeded")
    if outside > 0:
        await PaymentRefund.create(
            id=uuid.uuid4(),
            organization_id=payment.organization_id,  # type: ignore[attr-defined]
            payment_id=payment.id,
            amount=outside,
            status="succeeded",
        )
    refunded = max(given_back, payment.refunded_amount)
    return {"refunded_amount": refunded, "status": "refunded" if refunded >= payment.amount else "partially_refunded"}


async def apply_update(scope: Scope, installation: PluginInstallation, update: PaymentUpdate) -> dict:
    """Apply a provider's news about a payment (inside the caller's transaction)."""
    payment = await _find_payment(installation.id, update)
    if payment is None:
        log.warning("payment update from %s for unknown payment %s", installation.plugin, update.reference)
        return {"type": "payment", "skipped": "unknown payment"}
    # A provider may sign every merchant's news with one key (monobank does): news naming our
    # payment must also be about the invoice we created for it, in its currency, or it is
    # someone else's payment wearing our reference.
    if payment.provider_payment_id and update.provider_payment_id != payment.provider_payment_id:
        log.warning("payment %s: %s news about another invoice, ignored", payment.id, installation.plugin)
        return {"type": "payment", "id": str(payment.id), "skipped": "another invoice"}
    if update.currency and update.currency.upper() != payment.currency:
        log.warning("payment %s: %s news in %s, ignored", payment.id, installation.plugin, update.currency)
        return {"type": "payment", "id": str(payment.id), "skipped": "another currency"}
    changed_at = _aware(update.changed_at)
    previous = _aware(payment.provider_changed_at)
    if changed_at is not None and previous is not None and changed_at < previous:
        return {"type": "payment", "id": str(payment.id), "skipped": "older than the last update"}
    target = update.status if update.status in RANK else None
    values: dict = {}
    if target in ("refunded", "partially_refunded"):
        news = await _refund_news(payment, update)
        if news is None:
            return {"type": "payment", "id": str(payment.id), "status": payment.status, "unchanged": True}
        values.update(news)
        if payment.status not in PAID_STATES:  # the payment's own success never reached us
            values["paid_at"] = changed_at or datetime.now(UTC)
    elif target is None or RANK[target] <= RANK[payment.status]:
        return {"type": "payment", "id": str(payment.id), "status": payment.status, "unchanged": True}
    else:
        values["status"] = target
    values.update(provider_status=update.provider_status[:32], version=payment.version + 1)
    if changed_at is not None:
        values["provider_changed_at"] = changed_at
    if update.provider_payment_id and not payment.provider_payment_id:
        values["provider_payment_id"] = update.provider_payment_id[:128]
    if target == "paid":
        values["paid_at"] = changed_at or datetime.now(UTC)
        if update.amount is not None and update.amount != payment.amount:
            # What the provider took is what counts; the difference is logged for the shop.
            log.warning(
                "payment %s: %s took %s, %s was asked", payment.id, installation.plugin, update.amount, payment.amount
            )
            values["amount"] = update.amount
    if update.fee is not None and target in ("paid", "refunded", "partially_refunded"):
        values["fee"] = update.fee
    if target == "failed":
        values["error"] = (update.error or update.provider_status)[:500]
    await Payment.filter(id=payment.id).update(**values)
    await audit.record(
        scope,
        "payment.status",
        payment,
        {"status": [payment.status, values["status"]], "provider_status": update.provider_status},
    )
    fresh = await Payment.get(id=payment.id)
    await outbox.emit(
        scope.organization_id,
        "payment.status_changed",
        _event(fresh, from_status=payment.status, provider_status=update.provider_status),
    )
    await settle_order(payments_scope(scope.organization, installation.plugin), payment.order_id)  # type: ignore[attr-defined]
    return {"type": "payment", "id": str(payment.id), "status": values["status"]}


async def check_status(scope: Scope, settings, payment_id: UUID, *, manager: PluginManager | None = None) -> Payment:
    """Ask the provider where a payment stands and apply the answer (a callback lost)."""
    scope.require("orders:update")
    payment = await scope.get(Payment, payment_id, "update", field="paymentId")
    _not_cash_on_delivery(payment)
    installation = await PluginInstallation.get_or_none(
        id=payment.installation_id,  # type: ignore[attr-defined]
        organization_id=scope.organization_id,
    )
    if installation is None:
        raise UserInputError(ErrorCode.NOT_FOUND, _("The payment plugin of this payment was uninstalled."), "paymentId")
    try:
        update = await plugins.call(
            settings,
            installation,
            "crm_payment_status",
            manager=manager,
            reference=str(payment.id),
            provider_payment_id=payment.provider_payment_id or "",
        )
    except PluginError as exc:
        raise UserInputError(ErrorCode.PROVIDER_ERROR, exc.message, "paymentId") from None
    if isinstance(update, PaymentUpdate):
        async with in_transaction():
            await apply_update(payments_scope(scope.organization, installation.plugin), installation, update)
    return await Payment.get(id=payment.id)


# -- cash on delivery ---------------------------------------------------------------------------


def _not_cash_on_delivery(payment: Payment) -> None:
    """The carrier, not a payment plugin, took this money: it has no refund or status API."""
    if payment.provider_status == CASH_ON_DELIVERY:
        raise UserInputError(
            ErrorCode.INVALID,
            _(
                "This is cash on delivery the carrier paid out: give the money back to the customer yourself (a bank "
                "transfer or a payment link for the order's negative balance is not done by the CRM)."
            ),
            "paymentId",
        )


def cash_on_delivery_id(waybill_number: str) -> str:
    return f"cod:{waybill_number}"[:128]


async def record_cash_on_delivery(organization: Organization, shipment, paid_at: datetime) -> Payment:
    """The carrier paid out the money it collected for a parcel: the order's payment record,
    made by the tracker in the caller's transaction (the shipment's update is in it too).
    One per waybill: tracking that sees the payout again finds it and adds nothing."""
    reference = cash_on_delivery_id(shipment.waybill_number)
    found = await Payment.get_or_none(order_id=shipment.order_id, provider_payment_id=reference)
    if found is not None:
        return found
    order = await Order.get(id=shipment.order_id)
    scope = payments_scope(organization, shipment.carrier)
    payment = await Payment.create(
        id=uuid.uuid4(),
        organization_id=organization.id,
        order_id=order.id,
        installation_id=shipment.installation_id,
        provider=shipment.carrier,
        amount=shipment.cash_on_delivery,
        currency=order.currency,
        status="paid",
        provider_payment_id=reference,
        provider_status=CASH_ON_DELIVERY,
        paid_at=paid_at,
        provider_changed_at=paid_at,
    )
    await audit.record(
        scope,
        "payment.create",
        payment,
        {
            "order_id": [None, str(order.id)],
            "amount": [None, str(payment.amount)],
            "provider": [None, payment.provider],
            "waybill_number": [None, shipment.waybill_number],
        },
    )
    extra = {"order_number": order.number, "waybill_number": shipment.waybill_number, "cash_on_delivery": True}
    await outbox.emit(organization.id, "payment.created", _event(payment, **extra))
    await outbox.emit(organization.id, "payment.status_changed", _event(payment, from_status="created", **extra))
    await settle_order(scope, order.id)
    return payment


# -- the order follows -------------------------------------------------------------------------


async def settle_order(scope: Scope, order_id: UUID) -> None:
    """Set the order's payment status from its payments and, once it is fully paid, move it
    to the organization's paid status when the status machine allows that move."""
    order = await Order.filter(id=order_id, deleted_at=None).select_for_update().first()
    if order is None:
        return
    payments = await Payment.filter(order_id=order.id)
    paid = paid_of(payments)
    status = payment_status_of(order.total, paid, payments)  # type: ignore[attr-defined]
    if status != order.payment_status:
        order = await orders.update_order(scope, order.id, order.version, {"payment_status": status})
    if status != "paid":
        return
    rule = await PaymentSettings.get_or_none(organization_id=order.organization_id)  # type: ignore[attr-defined]
    if rule is None or not rule.paid_order_status:
        return
    target = await OrderStatus.get_or_none(organization_id=order.organization_id, code=rule.paid_order_status)  # type: ignore[attr-defined]
    if target is None or target.id == order.status_id:  # type: ignore[attr-defined]
        return
    if not await OrderStatusTransition.filter(from_status_id=order.status_id, to_status_id=target.id).exists():  # type: ignore[attr-defined]
        log.info("order %s is paid but may not move to '%s' from its status", order.id, target.code)
        return
    try:
        async with in_transaction():  # a savepoint: a refused move never takes the payment back with it
            await orders.change_status(scope, order.id, order.version, target.code, _("Paid in full"))
    except UserInputError as exc:  # e.g. OUT_OF_STOCK for the paid status's reservation
        log.warning("order %s is paid but stays in its status: %s", order.id, exc.message)


# -- settings ----------------------------------------------------------------------------------


async def get_settings(scope: Scope) -> PaymentSettings:
    scope.require("order_statuses:read")
    found = await PaymentSettings.get_or_none(organization_id=scope.organization_id)
    return found or PaymentSettings(organization_id=scope.organization_id, paid_order_status=None)


async def set_settings(scope: Scope, paid_order_status: str | None) -> PaymentSettings:
    """The order status a fully paid order moves to (None: it stays where it is)."""
    scope.require("order_statuses:update")
    code = (paid_order_status or "").strip() or None
    if code is not None and len(code) > 48:  # longer than any status code: none has it
        raise not_found(_("Order status '%(code)s'", code=code[:48]), "paidOrderStatus")
    if code is not None and not await OrderStatus.filter(organization_id=scope.organization_id, code=code).exists():
        raise not_found(_("Order status '%(code)s'", code=code), "paidOrderStatus")
    async with in_transaction():
        found = await PaymentSettings.get_or_none(organization_id=scope.organization_id)
        before = found.paid_order_status if found else None
        if found is None:
            found = await PaymentSettings.create(organization_id=scope.organization_id, paid_order_status=code)
        else:
            found.paid_order_status = code
            await found.save(update_fields=["paid_order_status", "updated_at"])
        await audit.record(scope, "payment.settings", found, {"paid_order_status": [before, code]})
        await outbox.emit(scope.organization_id, "payment.settings_changed", {"paid_order_status": code})
    return found
