"""Surveys: opened from order and ticket events, sent through the notification cascade,
answered once on the public page, counted into NPS, CSAT and CES (docs/surveys.md).

The link carries a random token; only its SHA-256 is stored, set when a message carrying
it is claimed for sending (server/notifications/jobs.py), so the database never holds a
working link and a retried or fallen-back message carries a fresh one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server.accounts.models import Account, Contact
from server.activities import service as activities
from server.activities.models import Activity
from server.audit import service as audit
from server.auth.scope import Scope
from server.config import Settings
from server.core import outbox
from server.core.errors import ErrorCode, Forbidden, UserInputError, UserInputErrors
from server.core.public_links import digest, public_link
from server.core.text import camel_case
from server.i18n import N_, _, gettext_in
from server.notifications.service import settings_of as notification_settings
from server.orders.models import Order
from server.organizations.models import Organization
from server.segments.models import Segment
from server.surveys.models import Survey, SurveySettings
from server.tickets.models import Ticket

COMMENT_MAX = 2000
TRIGGERS = {"nps": "survey_nps", "support": "survey_support"}  # notification rule per kind
# What a question accepts, and which answers count as unhappy (a follow-up task).
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 5)}
DETRACTOR_MAX = {"nps": 6, "csat": 2, "ces": 2}
TASK_DUE = timedelta(days=1)


def link(settings: Settings, token: str) -> str:
    return public_link(settings, "s", token)


def questions(kind: str) -> tuple[str, ...]:
    return ("nps",) if kind == "nps" else ("csat", "ces")


# -- settings ----------------------------------------------------------------------------------


async def settings_of(organization_id: UUID) -> SurveySettings:
    found = await SurveySettings.get_or_none(organization_id=organization_id)
    if found is not None:  # the usual case: no write (every order status change asks)
        return found
    await SurveySettings.bulk_create([SurveySettings(organization_id=organization_id)], ignore_conflicts=True)
    return await SurveySettings.get(organization_id=organization_id)


MAX_STATUS_CODE = 48  # as long as an order status code can be
LIMITS = {"nps_delay_days": (0, 60), "support_delay_minutes": (0, 7 * 24 * 60), "link_days": (1, 365)}


async def update_settings(scope: Scope, data: dict) -> SurveySettings:
    scope.require("settings:write")
    current = await settings_of(scope.organization_id)
    values, problems = {}, []
    for key, value in data.items():
        if value is None:
            continue
        if key in LIMITS:
            low, high = LIMITS[key]
            if not low <= value <= high:
                problems.append(
                    UserInputError(
                        ErrorCode.INVALID, _("From %(low)s to %(high)s.", low=low, high=high), camel_case(key)
                    )
                )
                continue
        if key == "nps_status":
            value = value.strip()
            if not value:
                problems.append(UserInputError(ErrorCode.REQUIRED, _("An order status code."), "npsStatus"))
                continue
            if len(value) > MAX_STATUS_CODE:
                problems.append(
                    UserInputError(
                        ErrorCode.INVALID,
                        _("At most %(max_status_code)s characters.", max_status_code=MAX_STATUS_CODE),
                        "npsStatus",
                    )
                )
                continue
        values[key] = value
    if problems:
        raise UserInputErrors(problems)  # every problem at once, nothing saved
    async with in_transaction():
        changes = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
        if changes:
            await SurveySettings.filter(id=current.id).update(**values)
            for k, v in values.items():
                setattr(current, k, v)
            await audit.record(scope, "survey_settings.update", current, changes)
    return current


# -- opening (from events) ---------------------------------------------------------------------


async def _open(organization_id: UUID, kind: str, account_id: UUID | None, due: datetime, **subject) -> Survey:
    """The survey of an order or ticket, created once: the unique constraint decides races."""
    row = Survey(organization_id=organization_id, kind=kind, account_id=account_id, due_at=due, **subject)
    await Survey.bulk_create([row], ignore_conflicts=True)
    return await Survey.get(organization_id=organization_id, **subject)


async def open_for_order(organization_id: UUID, order_id: UUID, status: str, at: datetime) -> Survey | None:
    options = await settings_of(organization_id)
    if not options.nps_enabled or status != options.nps_status:
        return None
    order = await Order.get_or_none(id=order_id, organization_id=organization_id, deleted_at=None)
    if order is None:
        return None
    due = at + timedelta(days=options.nps_delay_days)
    return await _open(organization_id, "nps", order.account_id, due, order_id=order.id)


async def open_for_ticket(organization_id: UUID, ticket_id: UUID, status: str, at: datetime) -> Survey | None:
    options = await settings_of(organization_id)
    if not options.support_enabled or status not in ("resolved", "closed"):
        return None
    ticket = await Ticket.get_or_none(id=ticket_id, organization_id=organization_id)
    if ticket is None or ticket.account_id is None:
        return None
    due = at + timedelta(minutes=options.support_delay_minutes)
    return await _open(organization_id, "support", ticket.account_id, due, ticket_id=ticket.id)


# -- sending (called by the notification job) --------------------------------------------------


async def why_not_send(survey: Survey | None, now: datetime) -> str | None:
    """Why a survey message should not go out now (None: it may)."""
    if survey is None:
        return _("the survey was deleted")
    if survey.answered_at is not None:
        return _("the survey is already answered")
    if survey.expires_at is not None and survey.expires_at <= now:
        return _("the survey link has expired")
    if survey.order_id and not await Order.filter(id=survey.order_id, deleted_at=None).exists():
        return _("the order was deleted")
    return None


async def recipient(survey: Survey) -> str:
    if survey.order_id:
        order = await Order.get_or_none(id=survey.order_id)
        if order is not None and order.recipient_phone:
            return order.recipient_phone
    if survey.ticket_id:
        ticket = await Ticket.get_or_none(id=survey.ticket_id)
        contact = await Contact.get_or_none(id=ticket.contact_id) if ticket and ticket.contact_id else None
        if contact is not None and contact.phones:
            return contact.phones[0]
    account = await Account.get_or_none(id=survey.account_id) if survey.account_id else None
    return account.phones[0] if account and account.phones else ""


async def message_context(survey: Survey, survey_link: str) -> dict:
    """Template variables of a survey message (docs/notifications.md lists them)."""
    organization = await Organization.get(id=survey.organization_id)
    options = await notification_settings(survey.organization_id)
    order = await Order.get_or_none(id=survey.order_id) if survey.order_id else None
    ticket = await Ticket.get_or_none(id=survey.ticket_id) if survey.ticket_id else None
    account = await Account.get_or_none(id=survey.account_id) if survey.account_id else None
    name = ((order.recipient_name if order else None) or (account.name if account else "") or "").split()
    return {
        "customer_name": name[0] if name else "",
        "order_number": order.number if order else "",
        "ticket_number": ticket.number if ticket else "",
        "survey_link": survey_link,
        "support_phone": options.support_phone,
        "support_email": options.support_email,
        "shop_name": organization.name,
    }


async def link_sent(survey_id: UUID, token: str, channel: str, now: datetime) -> None:
    """The message carrying ``token`` is about to go out: from now on that link opens it."""
    survey = await Survey.get(id=survey_id)
    options = await settings_of(survey.organization_id)
    await Survey.filter(id=survey_id, answered_at=None).update(
        token_hash=digest(token), channel=channel, sent_at=now, expires_at=now + timedelta(days=options.link_days)
    )


# -- the public page ---------------------------------------------------------------------------


@dataclass
class Lookup:
    survey: Survey | None
    organization: Organization | None = None
    state: str = "unknown"  # unknown, expired, answered, open


async def find(token: str, now: datetime | None = None) -> Lookup:
    now = now or datetime.now(UTC)
    if not token or len(token) > 128:
        return Lookup(None)
    survey = await Survey.get_or_none(token_hash=digest(token))
    if survey is None:
        return Lookup(None)
    organization = await Organization.get(id=survey.organization_id)
    if survey.answered_at is not None:
        return Lookup(survey, organization, "answered")
    if survey.expires_at is not None and survey.expires_at <= now:
        return Lookup(survey, organization, "expired")
    return Lookup(survey, organization, "open")


@dataclass
class Answer:
    scores: dict[str, int] = field(default_factory=dict)
    comment: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field -> message id (translated by the page)


ERROR_CHOOSE = N_("Please choose a score.")
ERROR_COMMENT = N_("The comment is too long: at most %(max)s characters.")


def parse_answer(kind: str, form: dict[str, str]) -> Answer:
    """The answer from the page's form, with every problem at once."""
    answer = Answer(comment=(form.get("comment") or "").strip())
    for question in questions(kind):
        low, high = RANGES[question]
        raw = (form.get(question) or "").strip()
        if raw.isdigit() and low <= int(raw) <= high:
            answer.scores[question] = int(raw)
        else:
            answer.errors[question] = ERROR_CHOOSE
    if len(answer.comment) > COMMENT_MAX:
        answer.errors["comment"] = ERROR_COMMENT
    return answer


def is_detractor(scores: dict[str, int]) -> bool:
    return any(value <= DETRACTOR_MAX[question] for question, value in scores.items())


async def answer(token: str, answer: Answer, locale: str, now: datetime | None = None) -> str:
    """Record a valid answer; returns the state the page shows: answered (thank you), already
    (someone answered first), expired or unknown. The answer, its timeline entry, a detractor's
    follow-up task and the event are one transaction; the conditional update makes the link
    single-use even when two submissions race."""
    now = now or datetime.now(UTC)
    async with in_transaction():
        found = await find(token, now)
        if found.state != "open":
            return "already" if found.state == "answered" else found.state
        survey, organization = found.survey, found.organization
        local_day = now.astimezone(ZoneInfo(organization.timezone)).date()
        detractor = is_detractor(answer.scores)
        taken = await Survey.filter(id=survey.id, answered_at=None).update(
            **answer.scores,
            comment=answer.comment,
            answered_at=now,
            answered_on=local_day,
            locale=locale,
            detractor=detractor,
        )
        if not taken:
            return "already"
        for key, value in answer.scores.items():
            setattr(survey, key, value)
        survey.comment, survey.answered_at, survey.detractor = answer.comment, now, detractor
        scope = Scope.for_app(organization, "surveys", "survey-answer")
        await _timeline(scope, survey, organization.locale)
        if detractor:
            task = await _follow_up(survey, organization.locale, now)
            await Survey.filter(id=survey.id).update(follow_up_id=task.id)
        await outbox.emit(
            organization.id,
            "survey.answered",
            {"survey_id": survey.id, "kind": survey.kind, **answer.scores, "detractor": detractor},
        )
    return "answered"


def _scores_text(survey: Survey, locale: str) -> str:
    if survey.kind == "nps":
        return gettext_in(locale, N_("NPS %(score)s of 10"), score=survey.nps)
    return gettext_in(locale, N_("satisfaction %(csat)s of 5, ease %(ces)s of 5"), csat=survey.csat, ces=survey.ces)


async def _about(survey: Survey, locale: str) -> str:
    if survey.order_id:
        order = await Order.get(id=survey.order_id)
        return gettext_in(locale, N_("order #%(number)s"), number=order.number)
    ticket = await Ticket.get_or_none(id=survey.ticket_id) if survey.ticket_id else None
    return gettext_in(locale, N_("ticket #%(number)s"), number=ticket.number) if ticket else ""


async def _timeline(scope: Scope, survey: Survey, locale: str) -> Activity:
    subject = gettext_in(
        locale,
        N_("Survey answered about %(about)s: %(scores)s"),
        about=await _about(survey, locale),
        scores=_scores_text(survey, locale),
    )
    return await activities.log(
        scope,
        "survey",
        account_id=survey.account_id,
        order_id=survey.order_id,
        ticket_id=survey.ticket_id,
        subject=subject,
        body=survey.comment,
        data={
            "survey_id": str(survey.id),
            "kind": survey.kind,
            "nps": survey.nps,
            "csat": survey.csat,
            "ces": survey.ces,
            "detractor": survey.detractor,
        },
    )


async def _follow_up(survey: Survey, locale: str, now: datetime) -> Activity:
    """A task for whoever looks after the customer: the order's manager, the ticket's assignee,
    else the account's owner. Tasks belong to their ``actor`` (``activities(where: {actor})``);
    ``activities.log`` writes neither an actor nor a due time, so the task is written here."""
    owner = None
    if survey.order_id:
        owner = (await Order.get(id=survey.order_id)).manager_id
    elif survey.ticket_id:
        owner = (await Ticket.get(id=survey.ticket_id)).assignee_id
    if owner is None and survey.account_id:
        account = await Account.get_or_none(id=survey.account_id)
        owner = account.owner_id if account else None
    subject = gettext_in(
        locale,
        N_("Call the customer back: a low score for %(about)s (%(scores)s)"),
        about=await _about(survey, locale),
        scores=_scores_text(survey, locale),
    )
    return await Activity.create(
        organization_id=survey.organization_id,
        kind="task",
        account_id=survey.account_id,
        order_id=survey.order_id,
        ticket_id=survey.ticket_id,
        actor_id=owner,
        subject=subject[:300],
        body=survey.comment,
        data={"survey_id": str(survey.id)},
        occurred_at=now,
        due_at=now + TASK_DUE,
    )


# -- figures -----------------------------------------------------------------------------------

GROUPS = {"day", "week", "month", "channel", "source"}


@dataclass
class Figures:
    """Counts of one group; the scores are computed from them (docs/surveys.md)."""

    day: date | None = None  # the first day of the group's day, week (Monday) or month
    channel: str | None = None
    source: str | None = None
    nps_responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_responses: int = 0
    csat_positive: int = 0
    ces_responses: int = 0
    ces_total: int = 0

    @property
    def nps(self) -> float | None:
        if not self.nps_responses:
            return None
        return round((self.promoters - self.detractors) * 100 / self.nps_responses, 1)

    @property
    def csat(self) -> float | None:
        return round(self.csat_positive * 100 / self.csat_responses, 1) if self.csat_responses else None

    @property
    def ces(self) -> float | None:
        return round(self.ces_total / self.ces_responses, 2) if self.ces_responses else None


def _bucket(day: date, grouping: str) -> date:
    if grouping == "week":
        return day - timedelta(days=day.weekday())
    if grouping == "month":
        return day.replace(day=1)
    return day


async def figures(scope: Scope, start: date, end: date, by: list[str], segment_id: UUID | None = None) -> list[Figures]:
    """NPS, CSAT and CES of the answers given from ``start`` to ``end`` (days in the
    organization's time zone, both included), grouped by at most one period and by channel
    and/or the account's source, of a saved segment's customers only with ``segment_id``. The
    database counts answers per (day, channel, source, score); those few rows are folded into
    the groups here."""
    if end < start:
        raise UserInputError(ErrorCode.INVALID, _("The period ends before it starts."), "period")
    if end - start > timedelta(days=3660):
        raise UserInputError(ErrorCode.INVALID, _("A period of at most ten years."), "period")
    periods = [g for g in by if g in ("day", "week", "month")]
    if len(periods) > 1:
        raise UserInputError(ErrorCode.INVALID, _("Group by one period at most (day, week or month)."), "by")
    columns = ["nps", "csat", "ces"]
    if periods:
        columns.append("answered_on")
    if "channel" in by:
        columns.append("channel")
    if "source" in by:
        if not scope.can_see_field("Account", "source"):  # as the accounts list and its aggregate
            raise Forbidden(
                _("Your role may not see %(field)s, so it may not group by it either.", field="Account.source")
            )
        columns.append("account__source")
    answers = scope.queryset(Survey)
    if segment_id is not None:
        from server.segments import service as segments  # segments build on accounts and figures

        segment = await scope.get(Segment, segment_id, field="segmentId")
        answers = answers.filter(account_id__in=Subquery(segments.members(scope, segment).values("id")))
    rows = (
        await answers.filter(answered_at__not_isnull=True, answered_on__gte=start, answered_on__lte=end)
        .annotate(n=Count("id"))
        .group_by(*columns)
        .values(*columns, "n")
    )
    groups: dict[tuple, Figures] = {}
    for row in rows:
        day = _bucket(_as_date(row["answered_on"]), periods[0]) if periods else None
        key = (day, row.get("channel"), row.get("account__source"))
        group = groups.setdefault(key, Figures(day=day, channel=key[1], source=key[2]))
        n = row["n"]
        if row["nps"] is not None:
            group.nps_responses += n
            if row["nps"] >= 9:
                group.promoters += n
            elif row["nps"] <= DETRACTOR_MAX["nps"]:
                group.detractors += n
            else:
                group.passives += n
        if row["csat"] is not None:
            group.csat_responses += n
            group.csat_positive += n if row["csat"] >= 4 else 0
        if row["ces"] is not None:
            group.ces_responses += n
            group.ces_total += n * row["ces"]
    return sorted(groups.values(), key=lambda g: (g.day or date.min, g.channel or "", g.source or ""))


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def local_range(timezone: str, start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of a period of local days (for filters on times)."""
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(start, time.min, zone).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC),
    )
