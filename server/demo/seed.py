"""The demo organization that ``crm serve --demo`` loads once: one user per built-in role,
customers with contacts, orders in every status, a few deals, tickets, timeline items and
answered surveys, campaign results, a product catalog with stock in two warehouses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tortoise.transactions import in_transaction

from server.accounts.models import Account, Contact
from server.activities.models import Activity
from server.auth.models import User
from server.auth.roles import ROLES
from server.auth.service import add_member, create_user
from server.core.models import Sequence
from server.deals.models import Deal, DealStageChange, Pipeline, Stage
from server.demo.bulk import LoadResult, load_demo_data
from server.demo.campaigns import seed_campaigns
from server.demo.catalog import seed_catalog
from server.demo.surveys import seed_surveys
from server.organizations.models import Organization
from server.organizations.service import create_organization
from server.search import index as search_index
from server.segments.models import Segment
from server.segments.rules import clean_rules
from server.tickets.models import SlaPolicy, Ticket, TicketComment

DEMO_SLUG = "demo"
DEMO_NAME = "Демо-магазин"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - published on purpose, see docs/cli.md
DEMO_SEED = 2024
DEMO_ACCOUNTS = 60
DEMO_ORDERS = 300
DEMO_TEAM = "Київ"

# role -> display name; e-mail is <role>@demo.example
DEMO_USERS = {
    "owner": "Олена Коваленко",
    "admin": "Андрій Шевчук",
    "manager": "Ірина Бондаренко",
    "sales": "Максим Ткаченко",
    "support": "Наталія Мельник",
    "logistics": "Богдан Кравченко",
    "analyst": "Тетяна Олійник",
}
TEAM_ROLES = ("manager", "sales")  # the manager sees the records of the Kyiv team


def demo_email(role: str) -> str:
    return f"{role}@demo.example"


@dataclass
class DemoResult:
    created: bool
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # role, e-mail, name
    data: LoadResult | None = None
    deals: int = 0
    tickets: int = 0
    activities: int = 0
    surveys: int = 0
    campaign_messages: int = 0
    segments: int = 0
    variants: int = 0  # the catalog's (server/demo/catalog.py)
    integrations: list = field(default_factory=list)  # DemoIntegration, filled by `crm serve --demo`


def demo_logins() -> list[tuple[str, str, str]]:
    return [(role, demo_email(role), DEMO_USERS.get(role, role.title())) for role in ROLES]


async def seed_demo(*, postgres: bool = False) -> DemoResult:
    """Create the demo organization unless it exists (then nothing changes)."""
    if await Organization.filter(slug=DEMO_SLUG).exists():
        return DemoResult(created=False, logins=demo_logins())
    result = DemoResult(created=True, logins=demo_logins())
    async with in_transaction():
        org = await create_organization(DEMO_SLUG, DEMO_NAME)
        users: dict[str, User] = {}
        for number, (role, email, name) in enumerate(result.logins, start=901):
            user = await User.get_or_none(email=email) or await create_user(email, DEMO_PASSWORD, name)
            membership = await add_member(org, user, role, DEMO_TEAM if role in TEAM_ROLES else None)
            # Extensions 901, 902, ... so that click-to-call works through the demo's Binotel.
            membership.phone_extension = str(number)
            await membership.save(update_fields=["phone_extension"])
            users[role] = user
        result.data = await load_demo_data(org, DEMO_ACCOUNTS, DEMO_ORDERS, DEMO_SEED, postgres=postgres)
        rng = random.Random(DEMO_SEED)
        now = datetime.now(UTC).replace(microsecond=0)
        accounts = await Account.filter(organization_id=org.id).order_by("created_at", "id")
        result.deals = await _deals(org, accounts, users, rng, now)
        result.tickets = await _tickets(org, accounts, users, rng, now)
        result.activities = await _activities(org, accounts, users, rng, now)
        result.surveys = await seed_surveys(org, rng, now)
        result.campaign_messages = await seed_campaigns(org, rng, now)
        result.segments = await _segments(org, users["owner"])
        result.variants = await seed_catalog(org, users["owner"])
        # The deals and tickets above were written directly: make everything findable.
        await search_index.reindex_organization(org.id)
    return result


# -- segments ------------------------------------------------------------------------------

# name, description, rules (customer figures and RFM groups come from load_demo_data's rebuild)
DEMO_SEGMENTS = (
    ("Чемпіони", "Купують часто, багато і нещодавно.", {"rfm_groups": ["champions"]}),
    (
        "Під загрозою",
        "Купували часто й багато, але давно: час нагадати про себе.",
        {"rfm_groups": ["at_risk", "cant_lose_them"]},
    ),
    (
        "Кияни з кількома замовленнями",
        "Для доставки кур'єром по Києву.",
        {"cities": ["Київ"], "order_count": {"gte": 2}},
    ),
    ("Сплять понад 60 днів", "Останнє замовлення понад 60 днів тому.", {"days_since_last_order": {"gte": 60}}),
)


async def _segments(org, owner: User) -> int:
    await Segment.bulk_create(
        [
            Segment(organization=org, name=name, description=about, rules=clean_rules(rules), created_by=owner)
            for name, about, rules in DEMO_SEGMENTS
        ]
    )
    return len(DEMO_SEGMENTS)


# -- deals ---------------------------------------------------------------------------------

DEAL_TITLES = (
    "Оптова поставка кави",
    "Корпоративні подарунки до Нового року",
    "Обладнання для кав'ярні",
    "Постільна білизна для готелю",
    "Сувеніри для конференції",
    "Річний контракт на чай",
    "Вишиванки для колективу",
    "Техніка для офісу",
)
LOST_REASONS = ("Обрали дешевшого постачальника", "Бюджет перенесли на наступний рік", "Не відповідають")


async def _deals(org, accounts, users, rng: random.Random, now: datetime) -> int:
    pipeline = await Pipeline.get(organization_id=org.id, is_default=True)
    stages = await Stage.filter(pipeline_id=pipeline.id).order_by("position")
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    companies = [a for a in accounts if a.kind == "company"] or accounts
    contacts = {c.account_id: c for c in await Contact.filter(organization_id=org.id).order_by("created_at", "id")}
    owners = [users["sales"], users["manager"], users["owner"]]
    count = 0
    for i in range(14):
        account = companies[i % len(companies)]
        owner = owners[i % len(owners)]
        # A path through the pipeline: a few open stages, then maybe won or lost.
        reached = rng.randrange(1, len(open_stages) + 1)
        path = open_stages[:reached]
        outcome = rng.choice((None, None, won, lost))
        if outcome is not None:
            path = [*path, outcome]
        created = now - timedelta(days=rng.randrange(5, 90), hours=rng.randrange(0, 10))
        times = [created]
        for _ in path[1:]:
            times.append(min(times[-1] + timedelta(days=rng.randrange(1, 6)), now - timedelta(hours=1)))
        stage = path[-1]
        amount = Decimal(rng.randrange(20, 600) * 500).quantize(Decimal("0.01"))
        deal = await Deal.create(
            organization_id=org.id,
            title=f"{DEAL_TITLES[i % len(DEAL_TITLES)]} — {account.name}"[:300],
            account_id=account.id,
            contact_id=contacts[account.id].id if account.id in contacts else None,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            amount=amount,
            currency=org.currency,
            expected_close_date=(now + timedelta(days=rng.randrange(7, 60))).date() if stage.kind == "open" else None,
            owner_id=owner.id,
            source=rng.choice(("website", "phone", "referral", "exhibition")),
            lost_reason=rng.choice(LOST_REASONS) if stage.kind == "lost" else None,
            closed_at=times[-1] if stage.kind != "open" else None,
            version=len(path),
            created_at=created,
        )
        previous = None
        for step, at in zip(path, times, strict=True):
            await DealStageChange.create(
                organization_id=org.id,
                deal_id=deal.id,
                from_stage_id=previous.id if previous else None,
                to_stage_id=step.id,
                actor_id=owner.id,
                created_at=at,
            )
            previous = step
        await Activity.create(
            organization_id=org.id,
            kind="deal",
            account_id=account.id,
            deal_id=deal.id,
            actor_id=owner.id,
            subject=f"Deal: {deal.title}"[:300],
            data={"amount": str(amount), "currency": org.currency},
            occurred_at=created,
            created_at=created,
        )
        count += 1
    return count


# -- tickets -------------------------------------------------------------------------------

TICKETS = (
    ("Де моє замовлення?", "Замовлення вже тиждень у дорозі, номер накладної не оновлюється.", "phone", "high"),
    ("Прийшов не той колір", "Замовляла синій чайник, прийшов білий.", "email", "normal"),
    ("Повернення коштів", "Повернула товар 5 днів тому, гроші ще не надійшли.", "chat", "high"),
    ("Не працює кавоварка", "Після тижня користування не гріє воду.", "web", "urgent"),
    ("Змінити адресу доставки", "Прошу відправити у відділення №5 замість №12.", "messenger", "normal"),
    ("Рахунок для юридичної особи", "Потрібен рахунок з ПДВ для ТОВ.", "email", "low"),
    ("Подвійне списання", "З картки списали оплату двічі.", "phone", "urgent"),
    ("Питання щодо гарантії", "Скільки діє гарантія на блендер?", "web", "low"),
    ("Пошкоджена упаковка", "Коробка прийшла м'ятою, товар цілий.", "chat", "normal"),
    ("Консультація щодо розміру", "Який розмір вишиванки обрати на зріст 182 см?", "messenger", "low"),
)
TICKET_STATUSES = ("new", "open", "open", "pending", "resolved", "closed", "open", "new", "resolved", "closed")


async def _tickets(org, accounts, users, rng: random.Random, now: datetime) -> int:
    sla = {p.priority: p for p in await SlaPolicy.filter(organization_id=org.id)}
    await Sequence.get_or_create(organization_id=org.id, name="ticket", defaults={"value": 0})
    seq = await Sequence.get(organization_id=org.id, name="ticket")
    support = users["support"]
    for i, (subject, description, channel, priority) in enumerate(TICKETS):
        number = seq.value + i + 1
        account = accounts[rng.randrange(len(accounts))]
        status = TICKET_STATUSES[i]
        created = now - timedelta(hours=rng.randrange(2, 24 * 20))
        policy = sla.get(priority)
        first_minutes, resolution_minutes = (
            (policy.first_response_minutes, policy.resolution_minutes) if policy else (240, 1440)
        )
        answered = status != "new"
        first_response_at = created + timedelta(minutes=rng.randrange(5, first_minutes * 2)) if answered else None
        resolved_at = (
            first_response_at + timedelta(hours=rng.randrange(1, 30))
            if status in ("resolved", "closed") and first_response_at
            else None
        )
        clamp = now - timedelta(minutes=1)
        first_response_at = min(first_response_at, clamp) if first_response_at else None
        resolved_at = min(resolved_at, clamp) if resolved_at else None
        ticket = await Ticket.create(
            organization_id=org.id,
            number=number,
            subject=subject,
            description=description,
            account_id=account.id,
            channel=channel,
            priority=priority,
            status=status,
            assignee_id=support.id if status != "new" else None,
            first_response_due_at=created + timedelta(minutes=first_minutes),
            resolution_due_at=created + timedelta(minutes=resolution_minutes),
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            version=1 + (status != "new") + (resolved_at is not None),
            created_at=created,
        )
        if first_response_at:
            await TicketComment.create(
                organization_id=org.id,
                ticket_id=ticket.id,
                author_id=support.id,
                body="Дякуємо за звернення! Уже перевіряємо й повернемося з відповіддю.",
                is_public=True,
                created_at=first_response_at,
            )
        await Activity.create(
            organization_id=org.id,
            kind="ticket",
            account_id=account.id,
            ticket_id=ticket.id,
            actor_id=support.id,
            subject=f"Ticket #{number}: {subject}"[:300],
            data={"number": number, "priority": priority, "channel": channel},
            occurred_at=created,
            created_at=created,
        )
    await Sequence.filter(id=seq.id).update(value=seq.value + len(TICKETS))
    return len(TICKETS)


# -- timeline ------------------------------------------------------------------------------

NOTES = (
    ("note", "Клієнт просить дзвонити після 18:00", ""),
    ("call", "Підтвердила адресу доставки", "Вхідний дзвінок, усе гаразд."),
    ("call", "Уточнив наявність товару", "Вихідний дзвінок."),
    ("sms", "Нагадування про посилку у відділенні", ""),
    ("email", "Надіслали комерційну пропозицію", "PDF у вкладенні."),
    ("message", "Viber: питання про знижку для постійних клієнтів", ""),
    ("note", "Постійний клієнт, любить каву в зернах", ""),
)
TASKS = (
    ("Передзвонити щодо повернення", 1, False),
    ("Надіслати рахунок", -1, False),  # overdue
    ("Запропонувати знижку на наступне замовлення", 3, False),
    ("Узгодити дату доставки", -2, True),  # done
)


async def _activities(org, accounts, users, rng: random.Random, now: datetime) -> int:
    actors = [users["sales"], users["manager"], users["support"]]
    count = 0
    for i, (kind, subject, body) in enumerate(NOTES):
        account = accounts[rng.randrange(len(accounts))]
        at = now - timedelta(hours=rng.randrange(1, 24 * 30))
        data = {"direction": "in" if i % 2 else "out", "durationSec": rng.randrange(30, 600)} if kind == "call" else {}
        await Activity.create(
            organization_id=org.id,
            kind=kind,
            account_id=account.id,
            actor_id=actors[i % len(actors)].id,
            subject=subject,
            body=body,
            data=data,
            occurred_at=at,
            created_at=at,
        )
        count += 1
    for subject, due_days, done in TASKS:
        account = accounts[rng.randrange(len(accounts))]
        at = now - timedelta(days=3)
        due = now + timedelta(days=due_days)
        await Activity.create(
            organization_id=org.id,
            kind="task",
            account_id=account.id,
            actor_id=users["sales"].id,
            subject=subject,
            occurred_at=at,
            due_at=due,
            done_at=due if done else None,
            version=2 if done else 1,
            created_at=at,
        )
        count += 1
    return count
