"""Bulk demo data: accounts (with contacts and lookup identifiers) and orders (with items, status
history and timeline entries), written in batches of raw multi-row inserts.

The per-record service functions (``create_account``, ``create_order``) would take minutes for
100,000 orders, so this module writes the tables directly and keeps, by itself, the invariants
those services keep:

- order numbers continue the organization's ``order`` sequence, which is advanced once by the
  number of orders, inside the loading transaction (so numbers stay gap-free and unique);
- order totals are the sum of their items (Decimal, 2 places), computed like
  ``orders.service.totals``; line total = quantity × unit price − line discount;
- every order has its status history from the initial status along the organization's allowed
  transitions (the first row has no ``from``), and an ``order`` timeline entry worded like the
  orders service words it (the service's per-move ``status_change`` entries are left out: they
  would double the rows to write);
- accounts get their ``AccountIdentifier`` rows (phones, e-mails, tags), like
  ``accounts.service._sync_identifiers``; phones are E.164, e-mails lower case, tags sorted;
- ``created_at`` is spread over the last ~180 days (accounts before their orders, order numbers
  in creation order) and set explicitly on every row.

It writes no audit entries and no outbox events: demo data is not a business event, and an
outbox event would text real customers through the notification plugins.

Everything is in one transaction: a failed or interrupted load leaves nothing behind. While it
runs, orders created through the API in the same organization wait for the sequence row lock.
"""

from __future__ import annotations

import bisect
import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

from tortoise import fields
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts.models import Account, AccountIdentifier, Contact
from server.activities.models import Activity
from server.analytics.service import rebuild_figures
from server.auth.models import Membership
from server.core.models import Sequence
from server.demo import bulk_pipeline
from server.demo.fake import ORDER_COMMENTS, PRODUCT_PRICES, FakeAccount, FakeData
from server.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, OrderStatusTransition
from server.organizations.models import Organization
from server.search import index as search_index

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
ZERO = Decimal("0.00")
DAY = 86_400
HISTORY_DAYS = 180
# Roles that own customers and orders; other members (support, logistics, analyst) do not.
OWNER_ROLES = ("owner", "admin", "manager", "sales")

# Order status groups by the order's age: fresh orders are new or in progress, old ones are done.
GROUP_WEIGHTS_BY_AGE = [
    (1, {"new": 55, "in_progress": 35, "cancelled": 10}),
    (3, {"new": 10, "in_progress": 45, "shipping": 35, "cancelled": 10}),
    (10, {"in_progress": 8, "shipping": 42, "completed": 40, "cancelled": 10}),
    (None, {"completed": 82, "cancelled": 18}),
]
# Within a group, how common each default status is (unknown codes: 1).
STATUS_WEIGHTS = {"delayed": 0.25, "in_transit": 1.5, "arrived": 0.8, "refused": 0.5, "returned": 0.4}
# How long an order waits before moving into a status of this group, in hours (min, max).
STEP_HOURS = {"new": (0, 1), "in_progress": (0.1, 8), "shipping": (2, 30), "completed": (12, 72), "cancelled": (1, 72)}
REASONS = {
    "cancelled": ("Клієнт передумав", "Немає в наявності", "Дубль замовлення", "Не вдалося додзвонитися"),
    "refused": ("Клієнт не забрав посилку", "Відмова при отриманні"),
    "returned": ("Повернення: не підійшов товар", "Повернення: брак"),
}
# (method, weight)
DELIVERY_METHODS = (("nova_poshta", 80), ("ukrposhta", 8), ("courier", 5), ("pickup", 7))
ORDER_SOURCES = (("website", 45), ("rozetka", 20), ("prom", 15), ("instagram", 10), ("manual", 10))
MARKETPLACES = {"rozetka": 700_000_000, "prom": 300_000_000}  # external ids look like theirs


ProgressFn = Callable[[str, int], None]


@dataclass
class LoadResult:
    seed: int
    accounts: int = 0
    contacts: int = 0
    orders: int = 0
    items: int = 0
    status_changes: int = 0
    activities: int = 0
    deals: int = 0
    deal_stage_changes: int = 0
    tickets: int = 0
    first_number: int | None = None
    last_number: int | None = None
    seconds: float = 0.0


@dataclass
class _PoolAccount:
    id: UUID
    created_at: datetime
    owner_id: UUID | None
    city: str
    recipient_name: str
    recipient_phone: str | None


# -- writing ---------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _converter(field: fields.Field, postgres: bool) -> Callable[[Any], Any] | None:
    """How a Python value travels to this column (None: as it is). Mirrors what Tortoise does
    for these field types: SQLite keeps UUIDs, decimals and times as text, PostgreSQL natively;
    JSON is text for both."""
    if isinstance(field, fields.JSONField):
        return _json
    if postgres:
        return None
    if isinstance(field, fields.UUIDField):
        return str
    if isinstance(field, fields.DecimalField):
        return str
    if isinstance(field, fields.DatetimeField):
        return lambda v: v.isoformat(" ")
    if isinstance(field, fields.DateField):
        return lambda v: v.isoformat()
    return None


class _Table:
    """A prepared multi-row INSERT of some columns of one model."""

    def __init__(self, model: type, columns: list[str], postgres: bool):
        self.columns = columns
        self.postgres = postgres
        self.table = model._meta.db_table
        placeholders = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(columns)))
        names = ", ".join(f'"{c}"' for c in columns)
        self.sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({placeholders})'  # noqa: S608 - fixed names
        fmap = model._meta.fields_map
        self.converters = [(i, fn) for i, c in enumerate(columns) if (fn := _converter(fmap[c], postgres)) is not None]
        self.rows: list[list] = []

    def add(self, row: list) -> None:
        for i, fn in self.converters:
            if row[i] is not None:
                row[i] = fn(row[i])
        self.rows.append(row)

    async def flush(self, conn) -> int:
        count = len(self.rows)
        if self.rows:
            if self.postgres:
                async with conn.acquire_connection() as raw:
                    await raw.copy_records_to_table(self.table, records=self.rows, columns=self.columns)
            else:
                await conn.execute_many(self.sql, self.rows)
            self.rows = []
        return count


_BASE = ["id", "organization_id", "created_at", "updated_at"]


def _tables(postgres: bool) -> dict[str, _Table]:
    return {
        "account": _Table(
            Account,
            [
                *_BASE,
                "kind",
                "name",
                "phones",
                "emails",
                "addresses",
                "tags",
                "source",
                "owner_id",
                "custom_fields",
                "version",
            ],
            postgres,
        ),
        "identifier": _Table(AccountIdentifier, [*_BASE, "account_id", "kind", "value"], postgres),
        "contact": _Table(Contact, [*_BASE, "account_id", "name", "position", "phones", "emails", "version"], postgres),
        "order": _Table(
            Order,
            [
                *_BASE,
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
                "delivery_method",
                "recipient_name",
                "recipient_phone",
                "delivery_city",
                "delivery_branch",
                "delivery_address",
                "waybill_number",
                "version",
            ],
            postgres,
        ),
        "item": _Table(
            OrderItem,
            [*_BASE, "order_id", "position", "sku", "title", "quantity", "unit_price", "discount", "total"],
            postgres,
        ),
        "status_change": _Table(
            OrderStatusChange, [*_BASE, "order_id", "from_status_id", "to_status_id", "actor_id", "reason"], postgres
        ),
        "activity": _Table(
            Activity,
            [*_BASE, "kind", "account_id", "order_id", "actor_id", "subject", "body", "data", "occurred_at", "version"],
            postgres,
        ),
        **bulk_pipeline.tables(_Table, _BASE, postgres),
    }


# -- the organization's configuration ----------------------------------------------------


class _Statuses:
    """The organization's order statuses, the path to each from the initial one along the allowed
    transitions, and which to pick for an order of a given age."""

    def __init__(self, statuses: list[OrderStatus], transitions: list[tuple[UUID, UUID]]):
        if not statuses:
            raise ValueError("The organization has no order statuses.")
        self.by_id = {s.id: s for s in statuses}
        self.initial = next((s for s in statuses if s.is_initial), statuses[0])
        nexts: dict[UUID, list[UUID]] = {s.id: [] for s in statuses}
        for a, b in transitions:
            if a in nexts and b in self.by_id:
                nexts[a].append(b)
        for targets in nexts.values():
            targets.sort(key=lambda pk: (self.by_id[pk].position, self.by_id[pk].code))
        # The likeliest path from the initial status: fewest moves, rare statuses (delayed) avoided.
        paths: dict[UUID, list[OrderStatus]] = {self.initial.id: [self.initial]}
        costs = {self.initial.id: 0.0}
        heap = [(0.0, 0, self.initial.id)]
        tie = 0
        while heap:
            cost, _, current = heapq.heappop(heap)
            if cost > costs[current]:
                continue
            for target in nexts[current]:
                step = cost + 1 / STATUS_WEIGHTS.get(self.by_id[target].code, 1.0)
                if step < costs.get(target, float("inf")):
                    costs[target] = step
                    paths[target] = [*paths[current], self.by_id[target]]
                    tie += 1
                    heapq.heappush(heap, (step, tie, target))
        self.paths = {s.id: paths.get(s.id, [self.initial, s] if s.id != self.initial.id else [s]) for s in statuses}
        self.groups: dict[str, tuple[list[OrderStatus], list[float]]] = {}
        for s in statuses:
            members, weights = self.groups.setdefault(s.group, ([], []))
            members.append(s)
            weights.append(STATUS_WEIGHTS.get(s.code, 1.0))
        self.by_age = []
        for max_days, weights in GROUP_WEIGHTS_BY_AGE:
            present = [(g, w) for g, w in weights.items() if g in self.groups]
            if not present:  # a custom configuration without these groups: any status
                present = [(g, 1) for g in self.groups]
            self.by_age.append((max_days, [g for g, _ in present], [w for _, w in present]))

    def pick(self, rng, age_days: float) -> OrderStatus:
        groups, weights = next((g, w) for max_days, g, w in self.by_age if max_days is None or age_days < max_days)
        group = rng.choices(groups, weights)[0]
        members, member_weights = self.groups[group]
        return rng.choices(members, member_weights)[0]


async def _members(org: Organization) -> list[tuple[UUID, str]]:
    """(user id, role) of the active members who may own records, by e-mail so a seed repeats."""
    rows = (
        await Membership.filter(organization_id=org.id, is_active=True)
        .order_by("user__email")
        .values_list("user_id", "role")
    )
    owners = [(uid, role) for uid, role in rows if role in OWNER_ROLES]
    return owners or list(rows)


# -- the load ----------------------------------------------------------------------------


async def load_demo_data(
    org: Organization,
    accounts: int,
    orders: int,
    seed: int,
    *,
    postgres: bool,
    progress: ProgressFn | None = None,
    batch_size: int = 2000,
    now: datetime | None = None,
    deals: int = 0,
    tickets: int = 0,
) -> LoadResult:
    """Add ``accounts`` accounts, ``orders`` orders, ``deals`` deals and ``tickets`` tickets to
    the organization.

    Orders, deals and tickets go to the new accounts; with ``accounts=0`` to the organization's
    existing ones. Raises ValueError when there is nothing to attach them to."""
    started = time.perf_counter()
    statuses = _Statuses(
        await OrderStatus.filter(organization_id=org.id).order_by("position", "code"),
        await OrderStatusTransition.filter(organization_id=org.id).values_list("from_status_id", "to_status_id"),
    )
    loader = _Loader(
        org,
        FakeData(seed),
        [uid for uid, _ in await _members(org)],
        (now or datetime.now(UTC)).replace(microsecond=0),
        LoadResult(seed=seed),
        progress or (lambda _task, _n: None),
        _tables(postgres),
        batch_size,
    )
    async with in_transaction() as conn:
        loader.conn = conn
        if accounts:
            pool = await loader.write_accounts(accounts)
        else:
            pool = await loader.existing_accounts()
            if (orders or deals or tickets) and not pool:
                raise ValueError("The organization has no accounts: give --accounts to create some.")
        if orders:
            await loader.write_orders(orders, pool, statuses)
        if deals:
            loader.result.deals = deals
            loader.result.deal_stage_changes = await bulk_pipeline.write_deals(loader, deals, pool)
        if tickets:
            await bulk_pipeline.write_tickets(loader, tickets, pool)
            loader.result.tickets = tickets
        if postgres:
            # Planner statistics for what was just written (ANALYZE counts this transaction's own
            # rows): without them PostgreSQL guesses 200 customers with orders and plans the RFM
            # scoring below as a nested loop over every customer pair (minutes instead of a second).
            await conn.execute_script('ANALYZE account, "order", order_status, customer_figures')
        # Orders written in bulk bypass the orders service: sum them up per customer here.
        await rebuild_figures(org)
        # ...and the search index (server/search/index.py), which the services keep otherwise.
        await search_index.reindex_organization(org.id)
    loader.result.seconds = time.perf_counter() - started
    return loader.result


@dataclass
class _Loader:
    org: Organization
    fake: FakeData
    member_ids: list[UUID]
    now: datetime
    result: LoadResult
    progress: ProgressFn
    tables: dict[str, _Table]
    batch_size: int
    conn: Any = None

    def __post_init__(self):
        self.rng = self.fake.rng
        self.new_id = uuid4  # random, like every other primary key (see server/graphql/ids.py)

    async def write_accounts(self, count: int) -> list[_PoolAccount]:
        rng, new_id, org_id, result = self.rng, self.new_id, self.org.id, self.result
        span = (HISTORY_DAYS + 5) * DAY - 3600
        offsets = sorted(rng.random() for _ in range(count))
        offsets[0] = 0.0  # the oldest account predates every generated order
        start = self.now - timedelta(days=HISTORY_DAYS + 5)
        account_t, ident_t, contact_t = self.tables["account"], self.tables["identifier"], self.tables["contact"]
        pool: list[_PoolAccount] = []
        for i, offset in enumerate(offsets):
            created = start + timedelta(seconds=int(offset * span))
            acc: FakeAccount = self.fake.account()
            owner = rng.choice(self.member_ids) if self.member_ids else None
            account_id = new_id()
            account_t.add(
                [
                    account_id,
                    org_id,
                    created,
                    created,
                    acc.kind,
                    acc.name,
                    acc.phones,
                    acc.emails,
                    acc.addresses,
                    acc.tags,
                    acc.source,
                    owner,
                    acc.custom_fields,
                    1,
                ]
            )
            # Like accounts.service._sync_identifiers: one lookup row per phone, e-mail and tag.
            for kind, values in (("phone", acc.phones), ("email", acc.emails), ("tag", acc.tags)):
                for value in values:
                    ident_t.add([new_id(), org_id, created, created, account_id, kind, value])
            for name, position, phones, emails in acc.contacts:
                contact_t.add([new_id(), org_id, created, created, account_id, name, position, phones, emails, 1])
                result.contacts += 1
            pool.append(_PoolAccount(account_id, created, owner, acc.city, acc.recipient_name, acc.recipient_phone))
            if len(account_t.rows) >= self.batch_size or i == count - 1:
                done = await account_t.flush(self.conn)
                await ident_t.flush(self.conn)
                await contact_t.flush(self.conn)
                result.accounts += done
                self.progress("accounts", done)
        return pool

    async def existing_accounts(self) -> list[_PoolAccount]:
        rows = (
            await Account.filter(organization_id=self.org.id, deleted_at__isnull=True)
            .order_by("created_at", "id")
            .values_list("id", "created_at", "owner_id", "name", "phones")
        )
        return [
            _PoolAccount(pk, created, owner, self.fake.city(), name, phones[0] if phones else None)
            for pk, created, owner, name, phones in rows
        ]

    async def reserve_numbers(self, count: int, name: str = "order") -> int:
        """Advance the organization's ``name`` sequence once by ``count``; the first number to use.
        The UPDATE holds the row lock until the loading transaction ends."""
        org_id = self.org.id
        await Sequence.get_or_create(organization_id=org_id, name=name, defaults={"value": 0})
        await Sequence.filter(organization_id=org_id, name=name).update(value=F("value") + count)
        row = await Sequence.get(organization_id=org_id, name=name)
        return row.value - count + 1

    async def write_orders(self, count: int, pool: list[_PoolAccount], statuses: _Statuses) -> None:
        rng, new_id, result, fake, now = self.rng, self.new_id, self.result, self.fake, self.now
        org_id, currency, member_ids = self.org.id, self.org.currency, self.member_ids
        # Creation times: more orders recently (a growing shop); numbers follow creation order.
        span = HISTORY_DAYS * DAY
        ages = sorted((span * rng.random() ** 1.3 for _ in range(count)), reverse=True)
        first = await self.reserve_numbers(count)
        result.first_number, result.last_number = first, first + count - 1
        pool_times = [a.created_at for a in pool]
        methods = [m for m, _ in DELIVERY_METHODS]
        method_weights = [w for _, w in DELIVERY_METHODS]
        sources = [s for s, _ in ORDER_SOURCES]
        source_weights = [w for _, w in ORDER_SOURCES]
        line_counts, line_weights = (1, 2, 3, 4, 5), (50, 25, 13, 8, 4)
        quantities, quantity_weights = tuple(Decimal(q) for q in (1, 2, 3, 4)), (75, 17, 6, 2)
        order_t, item_t = self.tables["order"], self.tables["item"]
        change_t, activity_t = self.tables["status_change"], self.tables["activity"]
        latest = now - timedelta(minutes=1)

        for n, age in enumerate(ages):
            number = first + n
            created = now - timedelta(seconds=int(age))
            k = bisect.bisect_right(pool_times, created)
            account = pool[rng.randrange(k)] if k else rng.choice(pool)
            manager = account.owner_id if account.owner_id and rng.random() < 0.8 else None
            if manager is None and member_ids:
                manager = rng.choice(member_ids)

            # Items and totals, as orders.service computes them.
            order_id = new_id()
            subtotal = discount_total = ZERO
            lines = rng.choices(line_counts, line_weights)[0]
            for position, (sku, title, price) in enumerate(rng.sample(PRODUCT_PRICES, lines)):
                quantity = rng.choices(quantities, quantity_weights)[0]
                gross = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
                discount = ZERO
                if rng.random() < 0.12:
                    percent = Decimal(rng.choice((5, 10, 15)))
                    discount = (gross * percent / 100).quantize(Decimal(1)).quantize(CENT)
                subtotal += gross
                discount_total += discount
                item_t.add(
                    [
                        new_id(),
                        org_id,
                        created,
                        created,
                        order_id,
                        position,
                        sku,
                        title,
                        quantity.quantize(MILLI),
                        price,
                        discount,
                        gross - discount,
                    ]
                )
            result.items += lines
            total = subtotal - discount_total

            # Status and its history along the allowed transitions.
            status = statuses.pick(rng, age / DAY)
            path = statuses.paths[status.id]
            times = [created]
            for step in path[1:]:
                times.append(times[-1] + timedelta(hours=_hours(rng, step.group)))
            if times[-1] > latest and len(times) > 1:
                # A recent order has not got that far yet in real time: squeeze its history.
                scale = max((latest - created).total_seconds(), 0) * rng.uniform(0.3, 0.95)
                scale /= (times[-1] - created).total_seconds()
                times = [created + (t - created) * scale for t in times]
            times = [t.replace(microsecond=0) for t in times]

            # Where it goes and how it is paid.
            method = rng.choices(methods, method_weights)[0]
            city, branch, address = account.city, None, None
            if method == "nova_poshta":
                # Most parcels go to a city's first few dozen branches.
                branch = f"Відділення №{min(int(rng.expovariate(1 / 25)) + 1, 300)}"
            elif method == "ukrposhta":
                branch = f"Відділення {rng.randrange(1, 99):02d}{rng.randrange(0, 999):03d}"
            elif method == "courier":
                address = fake.street_address(city)
            else:
                city, branch = "Київ", "Самовивіз: вул. Хрещатик, 22"
            shipped = any(s.group in ("shipping", "completed") for s in path) or status.code in ("refused", "returned")
            waybill = None
            if shipped and method == "nova_poshta":
                waybill = f"20{rng.randrange(10**12):012d}"
            elif shipped and method == "ukrposhta":
                waybill = f"05{rng.randrange(10**11):011d}"
            source = rng.choices(sources, source_weights)[0]
            external_id = str(MARKETPLACES[source] + number) if source in MARKETPLACES else None
            if status.group == "completed":
                payment = "paid" if rng.random() < 0.97 else "unpaid"
            elif status.code == "returned":
                payment = "refunded"
            elif status.group == "cancelled":
                payment = "refunded" if rng.random() < 0.2 else "unpaid"
            else:
                r = rng.random()
                payment = "paid" if r < 0.45 else "partially_paid" if r < 0.5 else "unpaid"
            comment = rng.choice(ORDER_COMMENTS) if rng.random() < 0.1 else None

            order_t.add(
                [
                    order_id,
                    org_id,
                    created,
                    times[-1],
                    number,
                    account.id,
                    status.id,
                    currency,
                    subtotal,
                    discount_total,
                    total,
                    payment,
                    source,
                    external_id,
                    manager,
                    comment,
                    method,
                    account.recipient_name[:300],
                    account.recipient_phone,
                    city,
                    branch,
                    address,
                    waybill,
                    len(path),  # the version: one more per status change, as update_versioned counts
                ]
            )
            # The timeline entry of the order, worded as orders.service words it. (The service also
            # writes one per status move; for bulk data the moves are in the status history only,
            # which keeps 100,000 orders well under a minute.)
            activity_t.add(
                [
                    new_id(),
                    org_id,
                    created,
                    created,
                    "order",
                    account.id,
                    order_id,
                    manager,
                    f"Order #{number}",
                    "",
                    {"total": str(total), "currency": currency},
                    created,
                    1,
                ]
            )
            previous = None
            for step, at in zip(path, times, strict=True):
                reason = rng.choice(REASONS[step.code]) if step.code in REASONS else None
                change_t.add(
                    [new_id(), org_id, at, at, order_id, previous.id if previous else None, step.id, manager, reason]
                )
                previous = step

            if len(order_t.rows) >= self.batch_size or n == count - 1:
                done = await order_t.flush(self.conn)
                await item_t.flush(self.conn)
                result.status_changes += await change_t.flush(self.conn)
                result.activities += await activity_t.flush(self.conn)
                result.orders += done
                self.progress("orders", done)


def _hours(rng, group: str) -> float:
    low, high = STEP_HOURS.get(group, (1, 24))
    return rng.uniform(low, high)
