"""Campaigns: settings and steps per organization, who is due which step (the scheduler), the
one-transaction claim that makes each step reach each customer once, marketing consent, the
opt-out link, and the hooks the notification sender calls (docs/campaigns.md).

The opt-out link carries a random token; only its SHA-256 is stored, set when the message
carrying it is claimed for sending, like a survey link (server/surveys/service.py)."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.analytics.models import CustomerFigures
from server.audit import service as audit
from server.auth.scope import Scope
from server.campaigns.defaults import CHURNED_MONTHS, STEPS
from server.campaigns.models import (
    KINDS,
    Campaign,
    CampaignMessage,
    CampaignSettings,
    CampaignStep,
    CustomerMarketing,
)
from server.config import Settings
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.core.public_links import digest, public_link
from server.i18n import _
from server.notifications import templates
from server.orders.models import OrderStatusChange
from server.organizations.models import Organization
from server.segments.service import segment_account_ids

REVIEW_CATCH_UP_DAYS = 7  # a review step still goes out this many days late (e.g. a missed run)
TOPIC = "campaign.message"
LIMITS = {"frequency_cap_days": (0, 365), "conversion_window_days": (1, 90)}
DELAY_LIMITS = {"winback": (1, CHURNED_MONTHS - 1), "birthday": (0, 60), "review": (0, 90)}


def trigger(kind: str) -> str:
    return f"campaign_{kind}"


def link(settings: Settings, token: str) -> str:
    return public_link(settings, "u", token)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# -- settings and steps ------------------------------------------------------------------------


async def settings_of(organization_id: UUID) -> CampaignSettings:
    await CampaignSettings.bulk_create([CampaignSettings(organization_id=organization_id)], ignore_conflicts=True)
    return await CampaignSettings.get(organization_id=organization_id)


async def ensure_defaults(organization_id: UUID) -> list[Campaign]:
    """The organization's three campaigns with their default steps (idempotent)."""
    await Campaign.bulk_create(
        [Campaign(organization_id=organization_id, kind=k) for k in KINDS], ignore_conflicts=True
    )
    campaigns = {c.kind: c for c in await Campaign.filter(organization_id=organization_id)}
    if not await CampaignStep.filter(organization_id=organization_id).exists():
        await CampaignStep.bulk_create(
            [
                CampaignStep(
                    organization_id=organization_id,
                    campaign_id=campaigns[kind].id,
                    position=i,
                    delay=delay,
                    offer_days=offer,
                    variants=variants,
                )
                for kind, steps in STEPS.items()
                for i, (delay, offer, variants) in enumerate(steps)
            ],
            ignore_conflicts=True,
        )
    return [campaigns[k] for k in KINDS]


async def update_settings(scope: Scope, data: dict) -> CampaignSettings:
    scope.require("settings:write")
    current = await settings_of(scope.organization_id)
    values, problems = {}, []
    for key, value in data.items():
        if value is None:
            continue
        if key in LIMITS and not LIMITS[key][0] <= value <= LIMITS[key][1]:
            low, high = LIMITS[key]
            problems.append(
                UserInputError(ErrorCode.INVALID, _("From %(low)s to %(high)s.", low=low, high=high), _camel(key))
            )
            continue
        values[key] = value
    if problems:
        raise problems[0]
    async with in_transaction():
        changes = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
        if changes:
            await CampaignSettings.filter(id=current.id).update(**values)
            for k, v in values.items():
                setattr(current, k, v)
            await audit.record(scope, "campaign_settings.update", current, changes)
    return current


async def update_campaign(
    scope: Scope, kind: str, *, enabled: bool | None, segment_id: UUID | None, clear_segment: bool = False
) -> Campaign:
    scope.require("settings:write")
    if kind not in KINDS:
        raise UserInputError(ErrorCode.INVALID, _("Kind must be one of: %(kinds)s.", kinds=", ".join(KINDS)), "kind")
    await ensure_defaults(scope.organization_id)
    values: dict = {}
    if enabled is not None:
        values["enabled"] = enabled
    if segment_id is not None:
        from server.segments.models import Segment

        segment = await scope.get(Segment, segment_id, field="segmentId")
        values["segment_id"] = segment.id
    elif clear_segment:
        values["segment_id"] = None
    async with in_transaction():
        campaign = await scope.queryset(Campaign, "write").get(kind=kind)
        changes = {k: [str(getattr(campaign, k)), str(v)] for k, v in values.items() if getattr(campaign, k) != v}
        if changes:
            await Campaign.filter(id=campaign.id).update(**values)
            for k, v in values.items():
                setattr(campaign, k, v)
            await audit.record(scope, "campaign.update", campaign, changes)
    return campaign


def _variants(raw: list[dict]) -> list[dict]:
    """[{key, texts: {uk, en}}]: keys unique, both texts present and valid templates."""
    if not raw:
        raise UserInputError(ErrorCode.REQUIRED, _("At least one message variant."), "variants")
    keys = [str(v.get("key") or "").strip().upper() for v in raw]
    if any(not k or len(k) > 16 for k in keys) or len(set(keys)) != len(keys):
        raise UserInputError(ErrorCode.INVALID, _("Each variant needs its own short key (A, B, ...)."), "variants")
    cleaned = []
    for key, variant in zip(keys, raw, strict=True):
        texts = variant.get("texts") or {}
        cleaned.append(
            {"key": key, "texts": {loc: templates.check(texts.get(loc), "variants") for loc in ("uk", "en")}}
        )
    return cleaned


async def update_step(scope: Scope, kind: str, position: int, data: dict) -> CampaignStep:
    scope.require("settings:write")
    [campaign] = [c for c in await ensure_defaults(scope.organization_id) if c.kind == kind] or [None]
    if campaign is None:
        raise UserInputError(ErrorCode.INVALID, _("Kind must be one of: %(kinds)s.", kinds=", ".join(KINDS)), "kind")
    values: dict = {}
    if data.get("delay") is not None:
        low, high = DELAY_LIMITS[kind]
        if not low <= data["delay"] <= high:
            raise UserInputError(ErrorCode.INVALID, _("From %(low)s to %(high)s.", low=low, high=high), "delay")
        values["delay"] = data["delay"]
    if data.get("offer_days") is not None:
        if not 0 <= data["offer_days"] <= 365:
            raise UserInputError(ErrorCode.INVALID, _("From 0 to 365."), "offerDays")
        values["offer_days"] = data["offer_days"]
    if data.get("enabled") is not None:
        values["enabled"] = data["enabled"]
    if data.get("variants") is not None:
        values["variants"] = _variants(data["variants"])
    async with in_transaction():
        step = await scope.queryset(CampaignStep, "write").get_or_none(campaign_id=campaign.id, position=position)
        if step is None:
            if "delay" not in values or "variants" not in values:
                raise UserInputError(ErrorCode.REQUIRED, _("A new step needs a delay and its texts."), "delay")
            step = await CampaignStep.create(
                organization_id=scope.organization_id, campaign_id=campaign.id, position=position, **values
            )
            await audit.record(scope, "campaign_step.create", step, {k: [None, v] for k, v in values.items()})
            return step
        changes = {k: [getattr(step, k), v] for k, v in values.items() if getattr(step, k) != v}
        if changes:
            await CampaignStep.filter(id=step.id).update(**values)
            for k, v in values.items():
                setattr(step, k, v)
            await audit.record(scope, "campaign_step.update", step, changes)
    return step


# -- the customer's marketing side -------------------------------------------------------------


async def marketing_of(account_id: UUID, organization_id: UUID) -> CustomerMarketing:
    await CustomerMarketing.bulk_create(
        [CustomerMarketing(organization_id=organization_id, account_id=account_id)], ignore_conflicts=True
    )
    return await CustomerMarketing.get(account_id=account_id)


async def set_marketing(
    scope: Scope,
    account_id: UUID,
    *,
    opted_in: bool | None = None,
    birthday: date | None = None,
    clear_birthday: bool = False,
) -> CustomerMarketing:
    if birthday is not None and not date(1900, 1, 1) <= birthday <= date.today():
        raise UserInputError(ErrorCode.INVALID, _("A birthday between 1900 and today."), "birthday")
    async with in_transaction():
        account = await scope.get(Account, account_id, "update", field="accountId")
        row = await marketing_of(account.id, scope.organization_id)
        changes: dict = {}
        if opted_in is not None and row.opted_in != opted_in:
            changes["opted_in"] = [row.opted_in, opted_in]
            row.opted_in, row.consent_changed_at = opted_in, datetime.now(UTC)
        if birthday is not None or clear_birthday:
            if row.birthday != birthday:
                changes["birthday"] = [str(row.birthday), str(birthday)]
                row.birthday = birthday
        if changes:
            await row.save(update_fields=["opted_in", "consent_changed_at", "birthday", "updated_at"])
            await audit.record(scope, "account.marketing", account, changes)
    return row


def accepts(row: CustomerMarketing | None, options: CampaignSettings) -> bool:
    """Marketing consent only: the per-channel consent to order messages says nothing about it."""
    if row is None or row.opted_in is None:
        return options.marketing_default_opt_in
    return row.opted_in


# -- the scheduler -----------------------------------------------------------------------------


def _as_dt(value) -> datetime:
    return datetime.fromisoformat(str(value)) if not isinstance(value, datetime) else value


async def due(organization: Organization, campaign: Campaign, steps: list[CampaignStep], now: datetime):
    """(step, account_id, occurrence, offer_until) of every customer due a step of the campaign
    today (before consent, cap and segment)."""
    today = now.astimezone(ZoneInfo(organization.timezone)).date()
    steps = sorted((s for s in steps if s.enabled), key=lambda s: s.delay)
    if not steps:
        return []
    found = []
    if campaign.kind == "winback":
        # The step whose window holds the time since the last order: a customer 13 months away
        # gets the 12-month message, not the 9-month one too.
        churned = add_months(today, -CHURNED_MONTHS)
        newest = add_months(today, -steps[0].delay)
        rows = await CustomerFigures.filter(
            organization_id=organization.id,
            last_order_at__not_isnull=True,
            last_order_at__lt=datetime.combine(newest + timedelta(days=1), datetime.min.time(), UTC),
        ).values("account_id", "last_order_at")
        for row in rows:
            last = _as_dt(row["last_order_at"]).astimezone(ZoneInfo(organization.timezone)).date()
            if last <= churned:
                continue
            current = [s for s in steps if add_months(last, s.delay) <= today]
            if current:
                step = current[-1]
                found.append((step, row["account_id"], last.isoformat(), today + timedelta(days=step.offer_days)))
    elif campaign.kind == "birthday":
        rows = await CustomerMarketing.filter(organization_id=organization.id, birthday__not_isnull=True).values(
            "account_id", "birthday"
        )
        for row in rows:
            born = row["birthday"] if isinstance(row["birthday"], date) else date.fromisoformat(str(row["birthday"]))
            upcoming = _birthday_in(born, today.year)
            if upcoming < today:
                upcoming = _birthday_in(born, today.year + 1)
            left = (upcoming - today).days
            current = [s for s in steps if left <= s.delay]
            if current:
                step = current[0]  # the one closest to the day
                found.append((step, row["account_id"], str(upcoming.year), upcoming + timedelta(days=step.offer_days)))
    else:
        for step in steps:
            end = now - timedelta(days=step.delay)
            rows = await OrderStatusChange.filter(
                organization_id=organization.id,
                to_status__code="delivered",
                created_at__lte=end,
                created_at__gt=end - timedelta(days=REVIEW_CATCH_UP_DAYS),
                order__deleted_at=None,
                order__account_id__not_isnull=True,
            ).values("order_id", "order__account_id")
            for row in rows:
                found.append(
                    (step, row["order__account_id"], str(row["order_id"]), today + timedelta(days=step.offer_days))
                )
    return found


def _birthday_in(born: date, year: int) -> date:
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


def variant_of(step: CampaignStep, account_id: UUID) -> str:
    """A stable, evenly spread pick: the same customer always gets the same variant of a step."""
    keys = [v["key"] for v in step.variants] or ["A"]
    number = int(hashlib.sha256(f"{step.id}:{account_id}".encode()).hexdigest()[:12], 16)
    return keys[number % len(keys)]


class _Capped(Exception):
    pass


async def claim(
    organization_id: UUID,
    step: CampaignStep,
    account_id: UUID,
    occurrence: str,
    options: CampaignSettings,
    now: datetime,
) -> bool:
    """Record that ``step`` goes to the customer for ``occurrence`` and ask for the message through
    the outbox, in one transaction. False when another run already did, or the frequency cap
    holds (then nothing is written and a later run may try again while the step is still due)."""
    await marketing_of(account_id, organization_id)
    row = CampaignMessage(
        organization_id=organization_id,
        step_id=step.id,
        account_id=account_id,
        occurrence=occurrence,
        variant=variant_of(step, account_id),
    )
    try:
        async with in_transaction():
            await CampaignMessage.bulk_create([row], ignore_conflicts=True)
            mine = await CampaignMessage.get(step_id=step.id, account_id=account_id, occurrence=occurrence)
            if mine.id != row.id:
                return False
            # The cap: only one claim in a cap period moves last_message_at (a conditional update,
            # so two workers sending two different steps to one customer cannot both pass).
            free = Q(last_message_at__isnull=True)
            if options.frequency_cap_days:
                free |= Q(last_message_at__lte=now - timedelta(days=options.frequency_cap_days))
            else:
                free = Q(id__isnull=False)
            if not await CustomerMarketing.filter(Q(account_id=account_id), free).update(last_message_at=now):
                raise _Capped
            await outbox.emit(organization_id, TOPIC, {"message_id": row.id})
    except _Capped:
        return False
    return True


async def run_organization(organization: Organization, now: datetime) -> int:
    """Every enabled campaign step due today, once per customer; returns how many were claimed."""
    campaigns = [c for c in await ensure_defaults(organization.id) if c.enabled]
    if not campaigns:
        return 0
    options = await settings_of(organization.id)
    scope = Scope.for_app(organization, "campaigns", "campaigns")
    claimed = 0
    for campaign in campaigns:
        steps = await CampaignStep.filter(campaign_id=campaign.id)
        candidates = await due(organization, campaign, steps, now)
        if not candidates:
            continue
        accounts = {c[1] for c in candidates}
        if campaign.segment_id is not None:
            accounts &= set(await segment_account_ids(scope, campaign.segment_id))
        live = set(await Account.filter(id__in=list(accounts), deleted_at=None).values_list("id", flat=True))
        rows = {r.account_id: r for r in await CustomerMarketing.filter(account_id__in=list(live))}
        # What earlier runs already sent, in one query (the unique row decides races anyway).
        done = set(
            await CampaignMessage.filter(step_id__in=[s.id for s in steps], account_id__in=list(live)).values_list(
                "step_id", "account_id", "occurrence"
            )
        )
        for step, account_id, occurrence, _rest in candidates:
            if account_id not in live or not accepts(rows.get(account_id), options):
                continue
            if (step.id, account_id, occurrence) in done:
                continue
            claimed += await claim(organization.id, step, account_id, occurrence, options, now)
    return claimed


# -- sending (called by the notification job) --------------------------------------------------


async def why_not_send(message: CampaignMessage | None) -> str | None:
    if message is None:
        return _("the campaign message was deleted")
    step = await CampaignStep.get_or_none(id=message.step_id).prefetch_related("campaign")
    if step is None or not step.enabled or not step.campaign.enabled:
        return _("the campaign or its step was turned off")
    options = await settings_of(message.organization_id)
    row = await CustomerMarketing.get_or_none(account_id=message.account_id)
    if not accepts(row, options):
        return _("the customer does not accept marketing messages")
    account = await Account.get_or_none(id=message.account_id)
    if account is None or account.deleted_at is not None:
        return _("the customer was deleted")
    return None


async def recipient(message: CampaignMessage) -> str:
    account = await Account.get_or_none(id=message.account_id)
    return account.phones[0] if account and account.phones else ""


async def message_context(message: CampaignMessage, opt_out_link: str, locale: str, now: datetime) -> dict:
    """The template variables: ``campaign_text`` (the step's variant, rendered) and ``opt_out_link``."""
    organization = await Organization.get(id=message.organization_id)
    account = await Account.get(id=message.account_id)
    step = await CampaignStep.get(id=message.step_id).prefetch_related("campaign")
    today = now.astimezone(ZoneInfo(organization.timezone)).date()
    if step.campaign.kind == "birthday":
        row = await CustomerMarketing.get(account_id=account.id)
        offer_until = _birthday_in(row.birthday, int(message.occurrence)) + timedelta(days=step.offer_days)
    else:
        offer_until = today + timedelta(days=step.offer_days)
    name = (account.name or "").split()
    context = {
        "customer_name": name[0] if name else "",
        "shop_name": organization.name,
        "offer_until": offer_until.strftime("%d.%m.%Y"),
    }
    variant = next((v for v in step.variants if v["key"] == message.variant), step.variants[0])
    text = templates.render(variant["texts"].get(locale) or variant["texts"]["uk"], context)
    return {**context, "campaign_text": text, "opt_out_link": opt_out_link}


async def link_sent(message_id: UUID, token: str, now: datetime) -> None:
    await CampaignMessage.filter(id=message_id).update(token_hash=digest(token), sent_at=now)


# -- the opt-out page --------------------------------------------------------------------------


async def find(token: str) -> tuple[CampaignMessage | None, Organization | None]:
    if not token or len(token) > 128:
        return None, None
    message = await CampaignMessage.get_or_none(token_hash=digest(token))
    if message is None:
        return None, None
    return message, await Organization.get(id=message.organization_id)


async def opt_out(token: str, now: datetime | None = None) -> bool:
    """Record the customer's marketing opt-out (idempotent; the link keeps showing it is done)."""
    now = now or datetime.now(UTC)
    async with in_transaction():
        message, organization = await find(token)
        if message is None:
            return False
        row = await marketing_of(message.account_id, message.organization_id)
        if row.opted_in is not False:
            await CustomerMarketing.filter(id=row.id).update(opted_in=False, consent_changed_at=now)
            await CampaignMessage.filter(id=message.id, opted_out_at=None).update(opted_out_at=now)
            scope = Scope.for_app(organization, "campaigns", "campaigns")
            account = await Account.get(id=message.account_id)
            await audit.record(scope, "account.marketing", account, {"opted_in": [row.opted_in, False]})
            await outbox.emit(organization.id, "campaign.opted_out", {"account_id": account.id})
    return True
