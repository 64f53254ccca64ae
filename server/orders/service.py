"""Orders: numbering, totals, the status state machine and its history.

Every change writes its audit entry, its timeline item and its outbox event in the same
transaction, so a customer notification (issue: order lifecycle) can never be lost or
sent for a change that rolled back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.activities import service as activities
from server.analytics import figures
from server.audit import service as audit
from server.auth.masking import refuse_masked
from server.auth.roles import DELIVERY_FIELDS
from server.auth.scope import Scope
from server.catalog import service as catalog
from server.core import idempotency, outbox, sequences
from server.core.errors import ErrorCode, Problems, UserInputError, not_found, version_conflict
from server.core.money import check_currency, parse_amount, quantize
from server.core.phones import to_e164
from server.core.serialize import snapshot
from server.core.text import limited_text, one_of, required_text
from server.core.text import position as check_position
from server.core.versioning import update_versioned
from server.customfields import service as customfields
from server.i18n import N_, _, gettext_in
from server.orders.models import (
    PAYMENT_STATUSES,
    STATUS_GROUPS,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    OrderStatusTransition,
)
from server.search import index as search_index

MAX_ITEMS = 500
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("1e12")  # money columns hold 12 digits before the point
# What server/search/index.py makes an order's terms of.
SEARCHED_FIELDS = {"external_id", "waybill_number", "recipient_name", "recipient_phone"}

ORDER_FIELDS = [
    "number",
    "account_id",
    "status_id",
    "currency",
    "subtotal",
    "discount_total",
    "total",
    "payment_status",
    "source",
    "external_id",
    "manager_id",
    "comment",
    "tags",
    *sorted(DELIVERY_FIELDS),
]
SOURCE_MAX = 32


def _clean_items(items: list[dict], problems: Problems) -> list[dict]:
    """The order's lines with their totals; every invalid field goes to ``problems``."""
    if not items:
        problems.add(ErrorCode.REQUIRED, _("An order needs at least one item."), "items")
        return []
    if len(items) > MAX_ITEMS:
        problems.add(ErrorCode.INVALID, _("An order has at most %(max_items)s items.", max_items=MAX_ITEMS), "items")
        return []
    out = []
    for i, item in enumerate(items):
        if item.get("skip"):  # its problem is reported already (server/catalog: fill_lines)
            continue
        path = f"items.{i}"
        line: dict = {"position": i}
        with problems:
            line["sku"] = required_text(item.get("sku"), f"{path}.sku", 64)
        with problems:
            line["title"] = required_text(item.get("title"), f"{path}.title", 300)
        with problems:
            line["quantity"] = _quantity(item["quantity"], f"{path}.quantity")
        with problems:
            if item.get("unit_price") is None:
                raise UserInputError(
                    ErrorCode.REQUIRED, _("%(field)s is required.", field="unitPrice"), f"{path}.unitPrice"
                )
            line["unit_price"] = parse_amount(item["unit_price"], f"{path}.unitPrice")
        if item.get("variant_id") is not None:  # a catalog line (server/catalog: fill_lines)
            line["variant_id"] = item["variant_id"]
            line["unit_cost"] = item.get("unit_cost")
        with problems:
            line["discount"] = parse_amount(item.get("discount") or 0, f"{path}.discount")
        if problems.has(path):
            continue
        gross = quantize(line["quantity"] * line["unit_price"])
        if gross >= MAX_AMOUNT:
            problems.add(ErrorCode.INVALID, _("The line amount is too large."), f"{path}.quantity")
        elif line["discount"] > gross:
            problems.add(ErrorCode.INVALID, _("Discount is larger than the line amount."), f"{path}.discount")
        else:
            out.append({**line, "total": gross - line["discount"]})
    if not problems.has("items") and totals(out)["subtotal"] >= MAX_AMOUNT:
        problems.add(ErrorCode.INVALID, _("The order total is too large."), "items")
    return out


def _quantity(value: object, field: str) -> Decimal:
    quantity = Decimal(str(value))
    if not quantity.is_finite() or quantity <= 0 or quantity.as_tuple().exponent < -3:  # type: ignore[operator]
        raise UserInputError(ErrorCode.INVALID, _("Quantity must be positive, at most 3 decimals."), field)
    if quantity > MAX_QUANTITY:
        raise UserInputError(ErrorCode.INVALID, _("Quantity must be at most %(n)s.", n=MAX_QUANTITY), field)
    return quantity


def totals(items: list[dict]) -> dict:
    subtotal = sum((it["total"] + it["discount"] for it in items), Decimal("0.00"))
    discount = sum((it["discount"] for it in items), Decimal("0.00"))
    return {"subtotal": subtotal, "discount_total": discount, "total": subtotal - discount}


def _check_refund(scope: Scope, values: dict, problems: Problems) -> None:
    """Marking an order refunded is a special right (``orders:refund``), apart from changing it."""
    if values.get("payment_status") == "refunded" and not scope.can("orders:refund"):
        problems.add(ErrorCode.FORBIDDEN, _("Your role may not mark orders refunded."), "paymentStatus")


def _clean_order(data: dict, problems: Problems) -> dict:
    """The values to store; every invalid field goes to ``problems``."""
    values: dict = {}
    for name in ("delivery_method", "delivery_city", "delivery_branch", "delivery_address", "waybill_number"):
        if name in data:
            with problems:
                values[name] = limited_text(data[name], name, 500 if name == "delivery_address" else 200) or None
                if name == "delivery_address":
                    refuse_masked(values[name], name)
    with problems:
        if "recipient_name" in data:
            values["recipient_name"] = limited_text(data["recipient_name"], "recipientName", 300) or None
    with problems:
        if "recipient_phone" in data:
            values["recipient_phone"] = (
                to_e164(data["recipient_phone"], "recipientPhone") if data["recipient_phone"] else None
            )
    with problems:
        if "comment" in data:
            values["comment"] = limited_text(data["comment"], "comment", 5000) or None
    with problems:
        if "payment_status" in data:
            values["payment_status"] = one_of(data["payment_status"], PAYMENT_STATUSES, "paymentStatus")
    with problems:
        if "currency" in data and data["currency"] is not None:
            values["currency"] = check_currency(data["currency"])
    if "manager_id" in data:
        values["manager_id"] = data["manager_id"]
    if data.get("tags") is not None:
        values["tags"] = customfields.clean_tags(data["tags"], problems)
    return values


async def _check_manager(scope: Scope, manager_id: UUID | None) -> None:
    from server.auth.service import is_member

    if manager_id is not None and not await is_member(scope.organization_id, manager_id, "orders:read"):
        raise UserInputError(ErrorCode.NOT_FOUND, _("Manager is not a member of this organization."), "managerId")
    scope.check_owner(manager_id, "managerId")


async def create_order(scope: Scope, data: dict, idempotency_key: str | None = None) -> Order:
    scope.require("orders:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values = _clean_order(data, problems)
    _check_refund(scope, values, problems)
    lines = await catalog.fill_lines(
        scope, data.get("items") or [], values.get("currency") or scope.organization.currency, problems
    )
    items = _clean_items(lines, problems)
    source = (data.get("source") or "manual").strip().lower()
    if not source or len(source) > SOURCE_MAX:
        problems.add(ErrorCode.INVALID, _("source must be 1-32 characters."), "source")
    external_id = None
    with problems:
        external_id = limited_text(data.get("external_id"), "externalId", 128) or None
    values.setdefault("manager_id", scope.user_id)
    with problems:
        await _check_manager(scope, values["manager_id"])
    typed = await customfields.clean(scope, "order", data, problems, creating=True)
    problems.raise_if_any()

    async def create() -> Order:
        account = await scope.get(Account, data.get("account_id"), field="accountId")
        if (
            external_id
            and await Order.filter(
                organization_id=scope.organization_id, source=source, external_id=external_id
            ).exists()
        ):
            raise UserInputError(
                ErrorCode.DUPLICATE,
                _("An order from %(source)s with this external id exists.", source=source),
                "externalId",
            )
        status = await OrderStatus.filter(organization_id=scope.organization_id, is_initial=True).first()
        if status is None:
            raise UserInputError(ErrorCode.INVALID, _("The organization has no initial order status."), "status")
        values.setdefault("currency", scope.organization.currency)
        order = await Order.create(
            organization_id=scope.organization_id,
            number=await sequences.next_value(scope.organization_id, "order"),
            account_id=account.id,
            status_id=status.id,
            source=source,
            external_id=external_id,
            **values,
            **totals(items),
        )
        await OrderItem.bulk_create(
            [OrderItem(organization_id=scope.organization_id, order_id=order.id, **it) for it in items]
        )
        await OrderStatusChange.create(
            organization_id=scope.organization_id, order_id=order.id, to_status_id=status.id, actor_id=scope.user_id
        )
        await customfields.sync_tags(order, "order")
        typed_changes = await customfields.save(typed, order.id)
        await search_index.index(order)
        await figures.refresh_account(scope.organization_id, account.id, scope.organization.currency)
        await activities.log(
            scope,
            "order",
            account_id=account.id,
            order_id=order.id,
            subject=gettext_in(scope.organization.locale, N_("Order #%(number)s"), number=order.number),
            data={"total": str(order.total), "currency": order.currency},
        )
        await audit.record(
            scope,
            "order.create",
            order,
            {**{k: [None, v] for k, v in snapshot(order, ORDER_FIELDS).items()}, **typed_changes},
        )
        await outbox.emit(
            scope.organization_id,
            "order.created",
            {"order_id": order.id, "number": order.number, "status": status.code},
        )
        return order

    return await idempotency.create_once(
        scope.organization_id, "createOrder", idempotency_key, create, lambda pk: scope.get(Order, pk), request=data
    )


async def import_order(
    scope: Scope,
    account: Account | None,
    data: dict,
    *,
    status: OrderStatus | None,
    created_at: datetime | None,
    source: str,
    external_id: str,
    problems: Problems | None = None,
    refresh_figures: bool = True,
) -> Order:
    """An order from another system's history (server/imports): checked like ``create_order``,
    but with its own status and date, and announced as ``order.imported``, which no notification
    rule or webhook listens to, so no customer hears about an order of years ago. ``problems``
    already found by the caller (the customer, the status, the date) are reported with these.
    ``refresh_figures=False``: the caller refreshes the customer's figures once for many orders."""
    scope.require("orders:create")
    problems = problems if problems is not None else Problems()
    values = _clean_order(data, problems)
    _check_refund(scope, values, problems)
    items = _clean_items(data.get("items") or [], problems)
    typed = await customfields.clean(scope, "order", data, problems, creating=True)
    problems.raise_if_any()
    values.setdefault("currency", scope.organization.currency)
    async with in_transaction():
        order = await Order.create(
            organization_id=scope.organization_id,
            number=await sequences.next_value(scope.organization_id, "order"),
            account_id=account.id,
            status_id=status.id,
            source=source,
            external_id=external_id,
            manager_id=scope.user_id,
            **values,
            **totals(items),
        )
        # auto_now_add ignores a given value: the historical date is set afterwards.
        await Order.filter(id=order.id).update(created_at=created_at)
        order.created_at = created_at
        await OrderItem.bulk_create(
            [OrderItem(organization_id=scope.organization_id, order_id=order.id, **it) for it in items]
        )
        await customfields.sync_tags(order, "order")
        typed_changes = await customfields.save(typed, order.id)
        await search_index.index(order)
        change = await OrderStatusChange.create(
            organization_id=scope.organization_id, order_id=order.id, to_status_id=status.id, actor_id=scope.user_id
        )
        await OrderStatusChange.filter(id=change.id).update(created_at=created_at)
        if refresh_figures:
            await figures.refresh_account(scope.organization_id, account.id, scope.organization.currency)
        await activities.log(
            scope,
            "order",
            account_id=account.id,
            order_id=order.id,
            subject=gettext_in(scope.organization.locale, N_("Order #%(number)s"), number=order.number),
            data={"total": str(order.total), "currency": order.currency, "imported_from": source},
        )
        await audit.record(
            scope,
            "order.import",
            order,
            {**{k: [None, v] for k, v in snapshot(order, ORDER_FIELDS).items()}, **typed_changes},
        )
        await outbox.emit(
            scope.organization_id, "order.imported", {"order_id": order.id, "number": order.number, "source": source}
        )
    return order


async def update_order(scope: Scope, order_id: UUID, version: int, data: dict) -> Order:
    problems = Problems()
    values = _clean_order(data, problems)
    extra = [name for name in ("items", "custom_field_values") if data.get(name) is not None]
    scope.check_writable("orders", [*values, *extra])
    _check_refund(scope, values, problems)
    if "manager_id" in values:
        with problems:
            await _check_manager(scope, values["manager_id"])
    # Replacing the items with none would leave an order of nothing: refused like on create.
    items = None
    if data.get("items") is not None:
        lines = data["items"]
        if any(it.get("variant_id") is not None for it in lines):
            current = await scope.get(Order, order_id, "update", field="id")
            currency = values.get("currency") or current.currency
            kept = dict(
                await OrderItem.filter(order_id=current.id, variant_id__isnull=False).values_list(
                    "variant_id", "unit_cost"
                )
            )
            lines = await catalog.fill_lines(scope, lines, currency, problems, kept)
        items = _clean_items(lines, problems)
    typed = await customfields.clean(scope, "order", data, problems, creating=False)
    problems.raise_if_any()
    if items is not None:
        values.update(totals(items))
    async with in_transaction():
        order = await scope.get(Order, order_id, "update", field="id")
        changes = await update_versioned(order, version, values)
        if "tags" in changes:
            await customfields.sync_tags(order, "order")
        changes.update(await customfields.save(typed, order.id))
        if items is not None:
            old = (
                await OrderItem.filter(order_id=order.id)
                .order_by("position")
                .values("sku", "quantity", "unit_price", "discount")
            )
            await OrderItem.filter(order_id=order.id).delete()
            await OrderItem.bulk_create(
                [OrderItem(organization_id=scope.organization_id, order_id=order.id, **it) for it in items]
            )
            changes["items"] = [
                old,
                [{k: it[k] for k in ("sku", "quantity", "unit_price", "discount")} for it in items],
            ]
            # A confirmed order's reservations follow its new lines (server/catalog).
            group = await OrderStatus.filter(id=order.status_id).values_list("group", flat=True)
            await catalog.sync_order(scope, order, group[0])
        if {"items", "currency"} & changes.keys():
            await figures.refresh_account(scope.organization_id, order.account_id, scope.organization.currency)
        if SEARCHED_FIELDS & changes.keys():
            await search_index.index(order)
        if changes:
            await audit.record(scope, "order.update", order, changes)
            await outbox.emit(scope.organization_id, "order.updated", {"order_id": order.id, "fields": sorted(changes)})
    return order


async def allowed_next(organization_id: UUID, status_id: UUID) -> list[OrderStatus]:
    return await OrderStatus.filter(organization_id=organization_id, transitions_in__from_status_id=status_id).order_by(
        "position"
    )


async def change_status(
    scope: Scope, order_id: UUID, version: int, status_code: str, reason: str | None = None
) -> Order:
    """Move an order along one of the organization's allowed transitions."""
    reason = limited_text(reason, "reason", 2000) or None
    async with in_transaction():
        order = await scope.get(Order, order_id, "update", field="id")
        scope.check_writable("orders", ["status"])
        if order.version != version:
            raise version_conflict()
        target = await OrderStatus.get_or_none(organization_id=scope.organization_id, code=status_code)
        if target is None:
            raise not_found(_("Order status '%(code)s'", code=status_code), "status")
        current = await OrderStatus.get(id=order.status_id)
        allowed = await OrderStatusTransition.filter(from_status_id=current.id, to_status_id=target.id).exists()
        if not allowed:
            raise UserInputError(
                ErrorCode.FORBIDDEN_TRANSITION,
                _("An order cannot go from '%(current)s' to '%(target)s'.", current=current.code, target=target.code),
                "status",
            )
        changes = await update_versioned(order, version, {"status_id": target.id})
        # Stock follows the status group: reserved, released or written off (server/catalog).
        await catalog.sync_order(scope, order, target.group)
        await OrderStatusChange.create(
            organization_id=scope.organization_id,
            order_id=order.id,
            from_status_id=current.id,
            to_status_id=target.id,
            actor_id=scope.user_id,
            reason=reason,
        )
        # Into or out of the cancelled group, the order stops or starts counting.
        await figures.refresh_account(scope.organization_id, order.account_id, scope.organization.currency)
        await activities.log(
            scope,
            "status_change",
            account_id=order.account_id,
            order_id=order.id,
            subject=gettext_in(
                scope.organization.locale,
                N_("Order #%(number)s: %(before)s → %(after)s"),
                number=order.number,
                before=current.name,
                after=target.name,
            ),
            body=reason or "",
            data={"from": current.code, "to": target.code},
        )
        await audit.record(scope, "order.status", order, {**changes, "status": [current.code, target.code]})
        await outbox.emit(
            scope.organization_id,
            "order.status_changed",
            {
                "order_id": order.id,
                "number": order.number,
                "from": current.code,
                "to": target.code,
                "group": target.group,
                "reason": reason,
            },
        )
    return order


async def delete_order(scope: Scope, order_id: UUID, version: int) -> Order:
    from server.payments.service import paid_amount  # the payments domain owns the money

    async with in_transaction():
        order = await scope.get(Order, order_id, "delete", field="id")
        if await paid_amount(order.id) > 0:
            # The customer's money would be left on an order nobody sees: give it back first.
            raise UserInputError(
                ErrorCode.FORBIDDEN_TRANSITION, _("The customer has paid for this order: refund it first."), "id"
            )
        changes = await update_versioned(order, version, {"deleted_at": datetime.now(UTC)})
        # A deleted order holds no stock: its reservations are released as on cancel (server/catalog).
        await catalog.sync_order(scope, order, "cancelled")
        await figures.refresh_account(scope.organization_id, order.account_id, scope.organization.currency)
        await search_index.unindex(scope.organization_id, "order", [order.id])
        await audit.record(scope, "order.delete", order, changes)
        await outbox.emit(scope.organization_id, "order.deleted", {"order_id": order.id})
    return order


# -- configuration (admins) ----------------------------------------------------


async def create_status(
    scope: Scope, code: str, name: str, group: str, position: int = 0, is_initial: bool = False
) -> OrderStatus:
    scope.require("order_statuses:create")
    problems = Problems()
    with problems:
        code = required_text(code, "code", 48).lower()
    with problems:
        name = required_text(name, "name", 200)
    with problems:
        group = one_of(group, STATUS_GROUPS, "group")
    with problems:
        check_position(position)
    problems.raise_if_any()
    async with in_transaction():
        if await OrderStatus.filter(organization_id=scope.organization_id, code=code).exists():
            raise UserInputError(ErrorCode.DUPLICATE, _("Status '%(code)s' exists.", code=code), "code")
        if is_initial:
            await OrderStatus.filter(organization_id=scope.organization_id).update(is_initial=False)
        status = await OrderStatus.create(
            organization_id=scope.organization_id,
            code=code,
            name=name,
            group=group,
            position=position,
            is_initial=is_initial,
        )
        await audit.record(scope, "order_status.create", status, {"code": [None, code], "group": [None, group]})
    return status


async def _holds_catalog_lines(status: OrderStatus) -> bool:
    return await OrderItem.filter(order__status_id=status.id, order__deleted_at=None, variant_id__isnull=False).exists()


async def update_status(scope: Scope, status_id: UUID, data: dict) -> OrderStatus:
    async with in_transaction():
        status = await scope.get(OrderStatus, status_id, "update", field="id")
        before = snapshot(status, ["name", "group", "position", "is_initial"])
        if "name" in data:
            status.name = required_text(data["name"], "name", 200)
        if "group" in data:
            group = one_of(data["group"], STATUS_GROUPS, "group")
            if group != status.group and await _holds_catalog_lines(status):
                # Their reservations follow the group (server/catalog): they would be left wrong.
                raise UserInputError(
                    ErrorCode.CONFLICT,
                    _(
                        "Orders with catalog lines are in this status: move them to another one before changing "
                        "its group."
                    ),
                    "group",
                )
            status.group = group
        if "position" in data:
            if data["position"] is None:
                raise UserInputError(ErrorCode.REQUIRED, _("position cannot be cleared."), "position")
            status.position = check_position(data["position"])
        if data.get("is_initial"):
            await OrderStatus.filter(organization_id=scope.organization_id).update(is_initial=False)
            status.is_initial = True
        await status.save()
        after = snapshot(status, ["name", "group", "position", "is_initial"])
        await audit.record(
            scope, "order_status.update", status, {k: [before[k], v] for k, v in after.items() if before[k] != v}
        )
    return status


async def delete_status(scope: Scope, status_id: UUID) -> OrderStatus:
    async with in_transaction():
        status = await scope.get(OrderStatus, status_id, "delete", field="id")
        if (
            await Order.filter(status_id=status.id).exists()
            or await OrderStatusChange.filter(to_status_id=status.id).exists()
        ):
            raise UserInputError(ErrorCode.CONFLICT, _("Orders have used this status; rename it instead."), "id")
        if status.is_initial:
            raise UserInputError(ErrorCode.CONFLICT, _("Make another status initial first."), "id")
        await audit.record(scope, "order_status.delete", status, {"code": [status.code, None]})
        await status.delete()
    return status


async def set_transitions(scope: Scope, from_id: UUID, to_ids: list[UUID]) -> OrderStatus:
    """Replace the statuses an order may move to from ``from_id``."""
    async with in_transaction():
        source = await scope.get(OrderStatus, from_id, "update", field="fromId")
        targets = await scope.queryset(OrderStatus).filter(id__in=to_ids)
        if len(targets) != len(set(to_ids)):
            raise not_found("OrderStatus", "toIds")
        before = sorted(s.code for s in await allowed_next(scope.organization_id, source.id))
        await OrderStatusTransition.filter(from_status_id=source.id).delete()
        await OrderStatusTransition.bulk_create(
            [
                OrderStatusTransition(
                    organization_id=scope.organization_id, from_status_id=source.id, to_status_id=t.id
                )
                for t in targets
                if t.id != source.id
            ]
        )
        await audit.record(
            scope, "order_status.transitions", source, {"next": [before, sorted(t.code for t in targets)]}
        )
    return source
