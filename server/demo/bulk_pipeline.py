"""Bulk demo deals (moving through the organization's pipelines, with stage history) and support
tickets (with first responses, resolutions and SLA due dates), written like ``bulk.py`` writes
orders: raw multi-row inserts (COPY on PostgreSQL) inside the caller's loading transaction.

The invariants the services keep, kept here by hand:

- a deal's ``stage_id`` is the last stage of its history; the history starts at the first open
  stage (no ``from``), walks forward through open stages and may end in won or lost; a closed
  deal has ``closed_at`` = the moment of its last move; ``version`` = number of moves;
- a ticket's number continues the organization's ``ticket`` sequence (advanced once, under its
  row lock); its due dates are its priority's SLA (policy or ``DEFAULT_SLA``) from
  ``created_at``; ``first_response_at`` and ``resolved_at`` are never before ``created_at`` nor
  in the future, and ``resolved_at`` is set exactly when the status is resolved or closed.

No timeline entries, comments, audit entries or outbox events: the point is volume for the
funnel and support figures (docs/analytics.md), not a story per deal."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from server.deals.models import Deal, DealStageChange, Pipeline, Stage
from server.organizations.defaults import SLA as DEFAULT_SLA
from server.tickets.models import SlaPolicy, Ticket

if TYPE_CHECKING:
    from server.demo.bulk import _Loader, _PoolAccount

DAY = 86_400
HISTORY_DAYS = 180
DEAL_TITLES = ("Оптове замовлення", "Поставка для офісу", "Корпоративні подарунки", "Обладнання", "Сервісний контракт")
DEAL_SOURCES = (("website", 40), ("phone", 25), ("referral", 20), ("exhibition", 15))
LOST_REASONS = ("Обрали дешевшого постачальника", "Бюджет перенесли на наступний рік", "Не відповідають")
TICKET_SUBJECTS = (
    "Де моє замовлення?",
    "Хочу повернути товар",
    "Не пройшла оплата",
    "Змінити адресу доставки",
    "Товар прийшов пошкоджений",
    "Питання щодо гарантії",
)
CHANNEL_WEIGHTS = (("phone", 30), ("email", 15), ("chat", 25), ("messenger", 20), ("web", 10))
PRIORITY_WEIGHTS = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))


def _weighted(rng, pairs):
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


def _account_before(rng, pool: list[_PoolAccount], times: list[datetime], at: datetime) -> _PoolAccount:
    k = bisect.bisect_right(times, at)
    return pool[rng.randrange(k)] if k else rng.choice(pool)


async def write_deals(loader: _Loader, count: int, pool: list[_PoolAccount]) -> int:
    """``count`` deals over the last 180 days on the organization's pipelines; stage changes written."""
    rng, org_id, now = loader.rng, loader.org.id, loader.now
    pipelines = await Pipeline.filter(organization_id=org_id).order_by("position", "id")
    if not pipelines:
        raise ValueError("The organization has no pipelines: deals need one.")
    stages_of: dict = {p.id: [] for p in pipelines}
    for st in await Stage.filter(pipeline_id__in=list(stages_of)).order_by("position", "id"):
        stages_of[st.pipeline_id].append(st)
    pipelines = [p for p in pipelines if any(s.kind == "open" for s in stages_of[p.id])]
    weights = [3 if p.is_default else 1 for p in pipelines]
    deal_t, change_t = loader.tables["deal"], loader.tables["deal_change"]
    pool_times = [a.created_at for a in pool]
    latest = now - timedelta(hours=1)
    changes = 0
    for n in range(count):
        created = now - timedelta(seconds=int(HISTORY_DAYS * DAY * rng.random() ** 1.2))
        account = _account_before(rng, pool, pool_times, created)
        pipeline = rng.choices(pipelines, weights)[0]
        stages = stages_of[pipeline.id]
        open_stages = [s for s in stages if s.kind == "open"]
        won = [s for s in stages if s.kind == "won"]
        lost = [s for s in stages if s.kind == "lost"]
        # Most deals drop out early; an older deal is more likely closed.
        reached = min(int(rng.expovariate(0.6)) + 1, len(open_stages))
        path = open_stages[:reached]
        age_days = (now - created).total_seconds() / DAY
        if rng.random() < min(0.85, age_days / 40):
            closing = won if won and rng.random() < 0.25 + 0.12 * reached else lost
            if closing:
                path = [*path, closing[0]]
        times = [created]
        for _ in path[1:]:
            times.append(times[-1] + timedelta(hours=rng.uniform(2, 24 * 9)))
        if times[-1] > latest and len(times) > 1:
            scale = max((latest - created).total_seconds(), 0) * rng.uniform(0.3, 0.95)
            scale /= (times[-1] - created).total_seconds()
            times = [created + (t - created) * scale for t in times]
        times = [t.replace(microsecond=0) for t in times]
        for i in range(1, len(times)):
            # Moves a second apart at least: the history's order must not hang on random IDs.
            times[i] = max(times[i], times[i - 1] + timedelta(seconds=1))
        stage = path[-1]
        owner = account.owner_id if account.owner_id and rng.random() < 0.85 else None
        if owner is None and loader.member_ids:
            owner = rng.choice(loader.member_ids)
        deal_id = loader.new_id()
        deal_t.add(
            [
                deal_id,
                org_id,
                created,
                times[-1],
                f"{rng.choice(DEAL_TITLES)} — {account.recipient_name}"[:300],
                account.id,
                pipeline.id,
                stage.id,
                Decimal(rng.randrange(10, 800) * 250).quantize(Decimal("0.01")),
                loader.org.currency,
                (times[-1] + timedelta(days=rng.randrange(7, 60))).date() if stage.kind == "open" else None,
                owner,
                _weighted(rng, DEAL_SOURCES),
                rng.choice(LOST_REASONS) if stage.kind == "lost" else None,
                times[-1] if stage.kind != "open" else None,
                len(path),
            ]
        )
        previous = None
        for step, at in zip(path, times, strict=True):
            change_t.add([loader.new_id(), org_id, at, at, deal_id, previous.id if previous else None, step.id, owner])
            previous = step
        if len(deal_t.rows) >= loader.batch_size or n == count - 1:
            loader.progress("deals", await deal_t.flush(loader.conn))
            changes += await change_t.flush(loader.conn)
    return changes


async def write_tickets(loader: _Loader, count: int, pool: list[_PoolAccount]) -> None:
    """``count`` tickets over the last 180 days: most answered, older ones mostly resolved."""
    rng, org_id, now = loader.rng, loader.org.id, loader.now
    sla = {p: DEFAULT_SLA[p] for p in DEFAULT_SLA}
    for row in await SlaPolicy.filter(organization_id=org_id):
        sla[row.priority] = (row.first_response_minutes, row.resolution_minutes)
    first = await loader.reserve_numbers(count, "ticket")
    ticket_t = loader.tables["ticket"]
    pool_times = [a.created_at for a in pool]
    latest = now - timedelta(minutes=1)
    creations = sorted(now - timedelta(seconds=int(HISTORY_DAYS * DAY * rng.random() ** 1.3)) for _ in range(count))
    for n, created in enumerate(creations):
        created = created.replace(microsecond=0)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        first_minutes, resolution_minutes = sla[priority]
        # Answer and resolution times scatter around the targets: most in time, some late.
        responded = created + timedelta(minutes=rng.expovariate(1 / (first_minutes * 0.6)))
        resolved = responded + timedelta(minutes=rng.expovariate(1 / (resolution_minutes * 0.5)))
        r = rng.random()
        if resolved <= latest and r < 0.9:
            status = "closed" if rng.random() < 0.6 else "resolved"
        elif responded <= latest and r < 0.97:
            status, resolved = rng.choice(("open", "pending")), None
        else:
            status, responded, resolved = "new", None, None
        if responded is not None and responded > latest:
            responded = latest
        if status in ("resolved", "closed") and rng.random() < 0.04:
            responded = None  # closed without a public reply (a duplicate, spam)
        account = _account_before(rng, pool, pool_times, created) if rng.random() < 0.9 else None
        assignee = rng.choice(loader.member_ids) if loader.member_ids and status != "new" else None
        ticket_t.add(
            [
                loader.new_id(),
                org_id,
                created,
                max(t for t in (created, responded, resolved) if t is not None),
                first + n,
                rng.choice(TICKET_SUBJECTS),
                "",
                account.id if account else None,
                _weighted(rng, CHANNEL_WEIGHTS),
                priority,
                status,
                assignee,
                created + timedelta(minutes=first_minutes),
                created + timedelta(minutes=resolution_minutes),
                responded.replace(microsecond=0) if responded else None,
                resolved.replace(microsecond=0) if resolved else None,
                1,
            ]
        )
        if len(ticket_t.rows) >= loader.batch_size or n == count - 1:
            done = await ticket_t.flush(loader.conn)
            loader.progress("tickets", done)


def tables(table_class, base: list[str], postgres: bool) -> dict:
    """The INSERTs of this module (bulk.py's ``_Table``)."""
    return {
        "deal": table_class(
            Deal,
            [
                *base,
                "title",
                "account_id",
                "pipeline_id",
                "stage_id",
                "amount",
                "currency",
                "expected_close_date",
                "owner_id",
                "source",
                "lost_reason",
                "closed_at",
                "version",
            ],
            postgres,
        ),
        "deal_change": table_class(
            DealStageChange, [*base, "deal_id", "from_stage_id", "to_stage_id", "actor_id"], postgres
        ),
        "ticket": table_class(
            Ticket,
            [
                *base,
                "number",
                "subject",
                "description",
                "account_id",
                "channel",
                "priority",
                "status",
                "assignee_id",
                "first_response_due_at",
                "resolution_due_at",
                "first_response_at",
                "resolved_at",
                "version",
            ],
            postgres,
        ),
    }
