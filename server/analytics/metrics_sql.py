"""Running the metrics' SQL on SQLite and PostgreSQL alike, scoped like ``Scope.queryset``.

The metrics are GROUP BY and window-function statements over whole tables, which the ORM's
query builder does not express; they are written once as SQL with ``:name`` parameters, and the
few spots where the two engines differ (date arithmetic, typed parameters) come from ``Dialect``.
Everything that depends on the organization's time zone (where a day or a month starts) is
computed in Python and passed in as UTC instants, so both engines compare plain timestamps and
give the same numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.connection import get_connection

from server.auth.roles import RowScope
from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
MAX_PERIOD_DAYS = 3 * 366 + 1


class Dialect:
    def __init__(self, name: str):
        self.postgres = name == "postgres"

    def seconds(self, start: str, end: str) -> str:
        """Whole seconds from ``start`` to ``end`` (SQL expressions of timestamps)."""
        if self.postgres:
            return f"ROUND(EXTRACT(EPOCH FROM ({end} - {start})))"
        return f"ROUND((julianday({end}) - julianday({start})) * 86400.0)"

    def in_json_ids(self, column: str, param: str) -> str:
        """SQL: ``column`` (an id) is one of the ids in the JSON array bound to ``:param``: one
        parameter however many ids (a segment's members), no SQL built from values."""
        if self.postgres:
            return f"{column} IN (SELECT CAST(value AS uuid) FROM json_array_elements_text(CAST(:{param} AS json)))"
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    def within_days(self, later: str, earlier: str, days_param: str) -> str:
        """SQL: timestamp ``later`` is at most ``:days_param`` (whole days) after ``earlier``.
        SQLite compares both instants as UTC text with milliseconds (``strftime`` applies the
        stored offsets), so no floating-point day fractions are involved."""
        if self.postgres:
            return f"{later} <= {earlier} + make_interval(days => CAST(:{days_param} AS INTEGER))"
        fmt = "'%Y-%m-%d %H:%M:%f'"
        return f"strftime({fmt}, {later}) <= strftime({fmt}, {earlier}, '+' || :{days_param} || ' days')"

    def ts(self, param: str) -> str:
        """A timestamp parameter where nothing else tells PostgreSQL its type (VALUES lists)."""
        return f"CAST(:{param} AS TIMESTAMPTZ)" if self.postgres else f":{param}"

    def value(self, value):
        if isinstance(value, UUID):
            return value if self.postgres else str(value)
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
            # SQLite keeps Tortoise's ISO text; compare against the same text form.
            return value if self.postgres else value.isoformat(" ")
        return value


async def fetch(sql: str, params: dict) -> list[dict]:
    """Run ``sql`` with ``:name`` parameters on the default connection; rows as dicts."""
    connection = get_connection("default")
    dialect = Dialect(connection.capabilities.dialect)
    order: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if dialect.postgres:
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"
        order.append(name)
        return "?"

    text = _PARAM.sub(number, sql)
    values = [dialect.value(params[name]) for name in order]
    return await connection.execute_query_dict(text, values)


def dialect() -> Dialect:
    return Dialect(get_connection("default").capabilities.dialect)


def cents_to_money(cents) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(Decimal("0.01"))


# -- the period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Dates ``first``..``last`` (inclusive) in ``tz``; ``start``/``end`` are the UTC instants
    of local midnight at ``first`` and local midnight after ``last``."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def months(self) -> list[tuple[date, datetime, datetime]]:
        """Calendar months from the month of ``first`` to the month of ``last``: (first day,
        UTC start, UTC end)."""
        out = []
        month = self.first.replace(day=1)
        while month <= self.last:
            following = (month + timedelta(days=32)).replace(day=1)
            out.append((month, local_midnight(month, self.tz), local_midnight(following, self.tz)))
            month = following
        return out


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def make_period(first: date, last: date, timezone: str) -> Period:
    if last < first:
        raise UserInputError(ErrorCode.INVALID, _("The period ends before it starts."), "period.to")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise UserInputError(
            ErrorCode.INVALID, _("A period may be at most %(days)s days long.", days=MAX_PERIOD_DAYS), "period.to"
        )
    return Period(first, last, ZoneInfo(timezone))


# -- filters and scope ---------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Narrows the orders (and deals) a metric looks at. Empty means everything."""

    source: str | None = None  # the account's acquisition source (Account.source)
    channel: str | None = None  # where the order came from (Order.source)
    manager_id: UUID | None = None  # the order's manager / the deal's owner
    pipeline_id: UUID | None = None  # deals only
    # A saved segment: the ids of its accounts as the caller sees them (segments.service.members),
    # read once when the filter is made; bound as one JSON parameter, never spliced into SQL.
    segment_ids: tuple[str, ...] | None = None

    def accounts(self, column: str, where: Where) -> None:
        """Narrow ``column`` (an account id) to the segment's accounts, if one is chosen."""
        if self.segment_ids is not None:
            where.add(dialect().in_json_ids(column, "f_segment"), f_segment=json.dumps(self.segment_ids))


@dataclass
class Where:
    """A WHERE clause and its parameters, built up piece by piece."""

    parts: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def add(self, sql: str, **params) -> Where:
        self.parts.append(sql)
        self.params.update(params)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1=1"


def owner_filter(scope: Scope, column: str, where: Where) -> None:
    """The role's row scope on ``column`` (the owner of the row), as Scope.queryset applies it."""
    row_scope = scope.row_scope()
    if row_scope is RowScope.ALL:
        return
    if row_scope is RowScope.OWN:
        where.add(f"{column} = :row_owner", row_owner=scope.user_id)
        return
    members = sorted(scope.principal.team_member_ids, key=str) or [scope.user_id]
    names = {f"team_{i}": m for i, m in enumerate(members)}
    where.add(f"{column} IN ({', '.join(':' + n for n in names)})", **names)


def order_where(scope: Scope, flt: Filter) -> Where:
    """Live, non-cancelled orders of the caller's organization and rows, narrowed by ``flt``.
    Expects ``o`` for the order, ``st`` for its status and, with a source filter, ``a`` for its
    account (``orders_from``)."""
    scope.require("orders:read")
    where = Where().add("o.organization_id = :org", org=scope.organization_id)
    where.add("o.deleted_at IS NULL").add("st.\"group\" <> 'cancelled'")
    owner_filter(scope, "o.manager_id", where)
    if flt.source is not None:
        where.add("a.source = :f_source", f_source=flt.source)
    if flt.channel is not None:
        where.add("o.source = :f_channel", f_channel=flt.channel)
    if flt.manager_id is not None:
        where.add("o.manager_id = :f_manager", f_manager=flt.manager_id)
    flt.accounts("o.account_id", where)
    return where


ORDERS_FROM = 'FROM "order" o JOIN account a ON a.id = o.account_id JOIN order_status st ON st.id = o.status_id'


def orders_from(flt: Filter, by_source: bool = False) -> str:
    """``ORDERS_FROM``, without the join to the account when nothing needs ``a`` (no filter or
    grouping by the account's source): one hash join less over every order."""
    if by_source or flt.source is not None:
        return ORDERS_FROM
    return 'FROM "order" o JOIN order_status st ON st.id = o.status_id'


def month_index(column: str, period: Period, params: dict) -> str:
    """A CASE expression: the index of the period's calendar month that ``column`` (a timestamp)
    falls in, -1 before the first month. (The caller keeps ``column`` before the last month's
    end.) Thresholds are UTC instants computed in Python, parameters added to ``params``; a
    comparison per month instead of a join against a table of months, so the database buckets
    each row in one pass."""
    months = period.months()
    params["m0_s"] = months[0][1]
    whens = [f"WHEN {column} < :m0_s THEN -1"]
    for i, (_first, start, _end) in enumerate(months[1:], start=1):
        params[f"m{i}_s"] = start
        whens.append(f"WHEN {column} < :m{i}_s THEN {i - 1}")
    return f"CASE {' '.join(whens)} ELSE {len(months) - 1} END"
