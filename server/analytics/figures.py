"""Per-customer figures (first and last order, order count, revenue and margin per currency), kept current
in the same transaction as every order change.

Which orders count: not deleted, and not in a status of the ``cancelled`` group. The order date
is when the order was created (for an imported marketplace order: when the CRM received it).

``refresh_account`` is called by the orders service (create, update, status change, delete)
and by an account merge; it recomputes the one account's row with one aggregate over its
orders. ``rebuild`` does every account of an organization (after the migration on an existing
database, after a bulk load: `crm analytics rebuild`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from tortoise.expressions import Subquery
from tortoise.functions import Count, Max, Min, Sum

from server.accounts.models import Account
from server.analytics.models import CustomerFigures
from server.core.money import quantize
from server.orders.models import Order, OrderItem
from server.organizations.models import Organization

CANCELLED_GROUP = "cancelled"
ZERO = Decimal("0.00")


def counted_orders(organization_id: UUID):
    """The orders that count in every figure: not deleted, not cancelled."""
    return Order.filter(organization_id=organization_id, deleted_at=None).exclude(status__group=CANCELLED_GROUP)


def _as_datetime(value) -> datetime | None:
    # SQLite hands MIN/MAX of a datetime column back as its stored text.
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _figures_from(rows: list[dict], main_currency: str, margins: dict[str, Decimal] | None = None) -> dict:
    """Column values of one account's row from its per-currency aggregates and margins."""
    by_currency = []
    first = last = None
    count = 0
    revenue = ZERO
    margins = margins or {}
    for row in sorted(rows, key=lambda r: r["currency"]):
        amount = quantize(Decimal(str(row["revenue"] or 0)))
        margin = margins.get(row["currency"])
        by_currency.append(
            {
                "currency": row["currency"],
                "orders": int(row["orders"]),
                "revenue": str(amount),
                "margin": None if margin is None else str(margin),
            }
        )
        count += int(row["orders"])
        if row["currency"] == main_currency:
            revenue = amount
        row_first, row_last = _as_datetime(row["first_at"]), _as_datetime(row["last_at"])
        first = row_first if first is None or row_first < first else first
        last = row_last if last is None or row_last > last else last
    return {
        "first_order_at": first,
        "last_order_at": last,
        "order_count": count,
        "revenue_cents": int(revenue * 100),
        "by_currency": by_currency,
    }


def _aggregate(qs):
    return (
        qs.group_by("account_id", "currency")
        .annotate(orders=Count("id"), revenue=Sum("total"), first_at=Min("created_at"), last_at=Max("created_at"))
        .values("account_id", "currency", "orders", "revenue", "first_at", "last_at")
    )


async def _margins(orders) -> dict[tuple[UUID, str], Decimal]:
    """(account, currency) -> Σ (line total − unit cost × quantity) over the catalog lines with a
    cost of ``orders``: the same sum as ``Order.margin``, line by line in Decimal (no SQL
    arithmetic, which SQLite would do in floating point)."""
    lines = await OrderItem.filter(order_id__in=Subquery(orders.values("id")), unit_cost__not_isnull=True).values(
        "order__account_id", "order__currency", "total", "unit_cost", "quantity"
    )
    sums: dict[tuple[UUID, str], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        cost = quantize(Decimal(str(line["unit_cost"])) * Decimal(str(line["quantity"])))
        sums[(line["order__account_id"], line["order__currency"])] += Decimal(str(line["total"])) - cost
    return sums


def _of_account(margins: dict[tuple[UUID, str], Decimal], account_id: UUID) -> dict[str, Decimal]:
    return {currency: amount for (account, currency), amount in margins.items() if account == account_id}


async def refresh_account(organization_id: UUID, account_id: UUID, currency: str) -> CustomerFigures:
    """Recompute one account's figures inside the caller's transaction.

    The row is locked first (PostgreSQL: ``FOR UPDATE``), so two transactions changing orders
    of one account take turns, and the second one's aggregate sees the first one's order."""
    # (.only, not .values_list: Tortoise drops FOR UPDATE from values queries.)
    await CustomerFigures.filter(account_id=account_id).select_for_update().only("id")
    orders = counted_orders(organization_id).filter(account_id=account_id)
    rows = await _aggregate(orders)
    values = _figures_from(rows, currency, _of_account(await _margins(orders), account_id))
    updated = await CustomerFigures.filter(account_id=account_id).update(**values)
    if not updated:
        await CustomerFigures.bulk_create(
            [CustomerFigures(organization_id=organization_id, account_id=account_id, **values)],
            on_conflict=["account_id"],
            update_fields=list(values),
        )
    return await CustomerFigures.get(account_id=account_id)


async def ensure_row(organization_id: UUID, account_id: UUID) -> None:
    """An empty row for a new account, so filters such as "fewer than 2 orders" find it."""
    await CustomerFigures.bulk_create(
        [CustomerFigures(organization_id=organization_id, account_id=account_id)], ignore_conflicts=True
    )


FIGURE_FIELDS = ["first_order_at", "last_order_at", "order_count", "revenue_cents", "by_currency"]


async def rebuild(organization: Organization, batch_size: int = 1000) -> int:
    """Recompute every account of the organization (one aggregate over its orders, then
    upserts in batches); the number of accounts. Safe to run any time, as often as you like."""
    rows_by_account: dict[UUID, list[dict]] = defaultdict(list)
    for row in await _aggregate(counted_orders(organization.id)):
        rows_by_account[row["account_id"]].append(row)
    margins_by_account: dict[UUID, dict[str, Decimal]] = defaultdict(dict)
    for (account_id, currency), amount in (await _margins(counted_orders(organization.id))).items():
        margins_by_account[account_id][currency] = amount
    account_ids = await Account.filter(organization_id=organization.id).values_list("id", flat=True)
    objects = [
        CustomerFigures(
            organization_id=organization.id,
            account_id=account_id,
            **_figures_from(
                rows_by_account.get(account_id, []), organization.currency, margins_by_account.get(account_id)
            ),
        )
        for account_id in account_ids
    ]
    for start in range(0, len(objects), batch_size):
        await CustomerFigures.bulk_create(
            objects[start : start + batch_size], on_conflict=["account_id"], update_fields=FIGURE_FIELDS
        )
    return len(objects)
