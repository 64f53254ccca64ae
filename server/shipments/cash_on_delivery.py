"""The cash-on-delivery reconciliation report: which parcels' money the shop is still owed,
which came back refused, and what the carriers paid out since a day.

The money itself is recorded by tracking (server/shipments/service.py): when a carrier
reports a parcel's cash-on-delivery paid out, the order gets a payment record in the same
transaction. This module only reads; every list goes through the caller's ``Scope`` (their
organization, `orders:read` and row scope), like the orders they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.functions import Count, Sum

from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError
from server.i18n import _
from server.shipments.models import Shipment

RETURNING = ("refused", "returning", "returned")
MAX_ROWS = 1000
FIRST_DAY = date(2000, 1, 1)
CENT = Decimal("0.01")


@dataclass
class Parcel:
    shipment: Shipment
    amount: Decimal
    currency: str
    since: datetime | None  # delivered (awaiting), refused/returned, or paid out


@dataclass
class Section:
    parcels: list[Parcel]
    totals: dict[str, Decimal]  # per currency, over every parcel (not only the listed ones)
    count: int


@dataclass
class Report:
    since: datetime
    awaiting_payout: Section
    returning: Section
    paid_out: Section


def start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


async def _section(query, moment: str, limit: int) -> Section:
    """The first ``limit`` parcels, and the count and totals of all of them (in SQL)."""
    rows = await query.order_by(moment, "id").limit(limit).prefetch_related("order")
    parcels = [
        Parcel(s, s.cash_on_delivery, s.order.currency, getattr(s, moment))  # type: ignore[attr-defined]
        for s in rows
    ]
    sums = (
        await query.annotate(total=Sum("cash_on_delivery"), parcels=Count("id"))
        .group_by("order__currency")
        .values_list("order__currency", "total", "parcels")
    )
    totals = {currency: Decimal(str(total)).quantize(CENT) for currency, total, _ in sorted(sums)}
    return Section(parcels, totals, sum(n for *_, n in sums))


async def report(scope: Scope, day: date | None = None, *, carrier: str | None = None, limit: int = 200) -> Report:
    """Parcels with cash on delivery: delivered and not paid out (oldest first, whenever they
    were delivered), refused or coming back since ``day``, and paid out since ``day`` (the
    organization's today when omitted)."""
    timezone = scope.organization.timezone if scope.organization else "Europe/Kyiv"
    today = datetime.now(ZoneInfo(timezone)).date()
    day = day or today
    if not FIRST_DAY <= day <= today + timedelta(days=1):
        raise UserInputError(
            ErrorCode.INVALID,
            _("The day must be between %(first)s and tomorrow.", first=FIRST_DAY.isoformat()),
            "day",
        )
    since = start_of(day, timezone)
    base = scope.queryset(Shipment).filter(cash_on_delivery__gt=0, order__deleted_at=None)
    if carrier:
        base = base.filter(carrier=carrier)
    limit = max(1, min(limit, MAX_ROWS))
    return Report(
        since=since,
        awaiting_payout=await _section(
            base.filter(status="delivered", cash_on_delivery_paid_at=None), "status_changed_at", limit
        ),
        returning=await _section(
            base.filter(status__in=RETURNING, status_changed_at__gte=since), "status_changed_at", limit
        ),
        paid_out=await _section(base.filter(cash_on_delivery_paid_at__gte=since), "cash_on_delivery_paid_at", limit),
    )


def days_between(start: datetime | None, now: datetime) -> int | None:
    return None if start is None else max(0, (now - start) // timedelta(days=1))
