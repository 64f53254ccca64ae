"""GraphQL for surveys: the answers (a list, and on each order and ticket), NPS / CSAT / CES
figures, and when surveys go out (settings)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from server.core.errors import BadRequest, UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import DateTimeFilter, IDFilter, IntFilter, Lookup, StringFilter, build_q
from server.graphql.loaders import load_by_id, load_children
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, model_type
from server.surveys import service
from server.surveys.models import Survey, SurveySettings

if TYPE_CHECKING:
    from server.accounts.schema import AccountType
    from server.activities.schema import ActivityType
    from server.orders.schema import OrderType
    from server.tickets.schema import TicketType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyActivityType = Annotated["ActivityType", strawberry.lazy("server.activities.schema")]
LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]
LazyTicketType = Annotated["TicketType", strawberry.lazy("server.tickets.schema")]


@strawberry.enum(description="What a survey asks about.")
class SurveyKind(Enum):
    NPS = strawberry.enum_value("nps", description="After an order is delivered: NPS, 0-10.")
    SUPPORT = strawberry.enum_value(
        "support", description="After a ticket is resolved: CSAT (satisfaction, 1-5) and CES (ease, 1-5)."
    )


@strawberry.enum(description="Where a survey stands.")
class SurveyState(Enum):
    PENDING = strawberry.enum_value("pending", description="Its message has not gone out yet.")
    SENT = strawberry.enum_value("sent", description="The link went out; no answer yet.")
    ANSWERED = strawberry.enum_value("answered", description="The customer answered.")
    EXPIRED = strawberry.enum_value("expired", description="The link expired without an answer.")


async def _linked(info: Info, model, pk):
    if pk is None or not info.context.scope.can(f"{model.resource}:read"):
        return None
    return await load_by_id(info.context, model, pk)


@model_type(Survey, description="A customer survey of one order (NPS) or one ticket (CSAT and CES) and its answer.")
class SurveyType(Node):
    channel: str = strawberry.field(description="The channel its link went out on (`viber`, `sms`); empty before.")
    due_at: datetime = strawberry.field(description="When its message is due (quiet hours may move it later).")
    sent_at: datetime | None = strawberry.field(description="When the (latest) message with its link went out.")
    expires_at: datetime | None = strawberry.field(description="The link stops working then.")
    answered_at: datetime | None
    nps: int | None = strawberry.field(description="0-10: how likely the customer is to recommend the shop.")
    csat: int | None = strawberry.field(description="1-5: how satisfied with the support (4-5 count as positive).")
    ces: int | None = strawberry.field(description="1-5: how easy it was to get the issue solved (5: very easy).")
    comment: str = strawberry.field(description="The customer's own words (optional, up to 2000 characters).")
    detractor: bool = strawberry.field(
        description="An unhappy answer (NPS 0-6, CSAT 1-2 or CES 1-2): a follow-up task was opened."
    )
    created_at: datetime

    @strawberry.field
    def kind(self) -> SurveyKind:
        return SurveyKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field
    def state(self) -> SurveyState:
        if self.answered_at is not None:
            return SurveyState.ANSWERED
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):  # type: ignore[attr-defined]
            return SurveyState.EXPIRED
        return SurveyState.SENT if self.sent_at is not None else SurveyState.PENDING

    @strawberry.field(description="The customer; null if none or you may not see it.")
    async def account(self, info: Info) -> LazyAccountType | None:
        from server.accounts.models import Account

        return await _linked(info, Account, self.account_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The order it asks about (NPS surveys).")
    async def order(self, info: Info) -> LazyOrderType | None:
        from server.orders.models import Order

        return await _linked(info, Order, self.order_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The ticket it asks about (support surveys).")
    async def ticket(self, info: Info) -> LazyTicketType | None:
        from server.tickets.models import Ticket

        return await _linked(info, Ticket, self.ticket_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The task opened for a detractor's answer, for the customer's manager.")
    async def follow_up_task(self, info: Info) -> LazyActivityType | None:
        from server.activities.models import Activity

        return await _linked(info, Activity, self.follow_up_id)  # type: ignore[attr-defined]


SurveyConnection = connection_of(SurveyType, "SurveyConnection")


async def survey_of(info: Info, fk: str, pk) -> SurveyType | None:
    """The survey of an order or ticket (Order.survey, Ticket.survey), batched per request."""
    if not info.context.scope.can(f"{Survey.resource}:read"):
        return None
    rows = await load_children(info.context, Survey, fk, pk)
    return rows[0] if rows else None


# -- lists ---------------------------------------------------------------------


@strawberry.input(description="A kind equal to, or one of.")
class SurveyKindFilter:
    eq: SurveyKind | None = None
    in_: list[SurveyKind] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="Filters for surveys; all given conditions must hold (use OR for any).")
class SurveyWhere:
    and_: list[SurveyWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[SurveyWhere] | None = strawberry.field(default=None, name="OR")
    kind: SurveyKindFilter | None = None
    account: IDFilter | None = None
    channel: StringFilter | None = None
    nps: IntFilter | None = None
    csat: IntFilter | None = None
    ces: IntFilter | None = None
    answered_at: DateTimeFilter | None = None
    answered: bool | None = strawberry.field(default=None, description="true: answered; false: not (yet).")
    detractor: bool | None = strawberry.field(default=None, description="true: unhappy answers only.")


SURVEY_LOOKUPS = {
    "kind": Lookup("kind", convert=lambda v: v.value),
    "account": Lookup("account_id", convert=lambda v: ids.decode(v, "Account", "where.account")[1]),
    "channel": Lookup("channel"),
    "nps": Lookup("nps"),
    "csat": Lookup("csat"),
    "ces": Lookup("ces"),
    "answered_at": Lookup("answered_at"),
    "answered": Lookup("answered_at", build=lambda value: Q(answered_at__isnull=not value)),
    "detractor": Lookup("detractor", build=lambda value: Q(detractor=value)),
}


@strawberry.enum
class SurveyOrderField(Enum):
    CREATED_AT = "created_at"
    ANSWERED_AT = "answered_at"


@strawberry.input
class SurveyOrder:
    field: SurveyOrderField = SurveyOrderField.CREATED_AT
    direction: Direction = Direction.DESC


# -- figures -------------------------------------------------------------------


@strawberry.enum(description="How to split survey figures.")
class SurveyGrouping(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CHANNEL = strawberry.enum_value("channel", description="The channel the link went out on.")
    SOURCE = strawberry.enum_value("source", description="The account's acquisition source.")


@strawberry.input(description="Days in the organization's time zone, both included.")
class SurveyPeriod:
    from_: date = strawberry.field(name="from")
    to: date


@strawberry.type(description="Net Promoter Score of a group of answers.")
class NpsFigures:
    score: float | None = strawberry.field(
        description="% promoters (9-10) − % detractors (0-6), from −100 to 100; null without answers."
    )
    responses: int
    promoters: int
    passives: int = strawberry.field(description="Answers of 7 or 8: counted in responses only.")
    detractors: int


@strawberry.type(description="Customer satisfaction of a group of support answers.")
class CsatFigures:
    score: float | None = strawberry.field(description="Positive answers (4-5) ÷ all answers × 100; null without.")
    responses: int
    positive: int


@strawberry.type(description="Customer effort of a group of support answers.")
class CesFigures:
    score: float | None = strawberry.field(description="The mean answer, 1 (very difficult) to 5 (very easy).")
    responses: int


@strawberry.type(description="Survey figures of one group (all answers of the period when not grouped).")
class SurveyFigures:
    period_start: date | None = strawberry.field(
        description="The first day of the group's day, week (Monday) or month, when grouped by one."
    )
    channel: str | None = strawberry.field(description="When grouped by CHANNEL.")
    source: str | None = strawberry.field(description="When grouped by SOURCE (null: accounts without one).")
    nps: NpsFigures
    csat: CsatFigures
    ces: CesFigures


def _figures(group: service.Figures) -> SurveyFigures:
    return SurveyFigures(
        period_start=group.day,
        channel=group.channel,
        source=group.source,
        nps=NpsFigures(
            score=group.nps,
            responses=group.nps_responses,
            promoters=group.promoters,
            passives=group.passives,
            detractors=group.detractors,
        ),
        csat=CsatFigures(score=group.csat, responses=group.csat_responses, positive=group.csat_positive),
        ces=CesFigures(score=group.ces, responses=group.ces_responses),
    )


@model_type(SurveySettings, name="SurveySettings", description="When surveys go out.")
class SurveySettingsType:
    nps_enabled: bool = strawberry.field(description="Ask for NPS after an order reaches `npsStatus`.")
    nps_status: str = strawberry.field(description="The order status code that starts it (default `delivered`).")
    nps_delay_days: int = strawberry.field(description="Days after that status before the message goes (default 3).")
    support_enabled: bool = strawberry.field(description="Ask for CSAT and CES after a ticket is resolved.")
    support_delay_minutes: int = strawberry.field(description="Minutes after resolving before it goes (default 0).")
    link_days: int = strawberry.field(description="Days a link works after it was sent (default 30).")


@strawberry.type
class SurveyQueries:
    @strawberry.field(
        description="Surveys of the customers the caller may see, filtered and sorted (newest first by default)."
    )
    async def surveys(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: SurveyWhere | None = None,
        order_by: SurveyOrder | None = None,
    ) -> SurveyConnection:  # type: ignore[valid-type]
        ctx = info.context
        order_by = order_by or SurveyOrder()
        qs = ctx.scope.queryset(Survey).filter(build_q(where, SURVEY_LOOKUPS))
        if order_by.field is SurveyOrderField.ANSWERED_AT:
            qs = qs.filter(answered_at__not_isnull=True)  # keyset cursors need a value to compare
        sort = Sort(order_by.field.value, datetime, order_by.direction)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(SurveyConnection, qs, first=first, after=after, sort=sort)

    @strawberry.field(
        description="NPS, CSAT and CES of the answers given in a period (organization time zone), "
        "optionally split by one of DAY/WEEK/MONTH and by CHANNEL and/or SOURCE. Groups without answers are left out."
    )
    async def survey_figures(
        self,
        info: Info,
        period: SurveyPeriod,
        by: list[SurveyGrouping] | None = None,
        segment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the answers of this saved segment's customers (as you see it)."),
        ] = None,
    ) -> list[SurveyFigures]:
        segment = ids.decode_pk(segment_id, "Segment", "segmentId")
        try:
            groups = await service.figures(
                info.context.scope, period.from_, period.to, [g.value for g in by or []], segment
            )
        except UserInputError as exc:
            raise BadRequest(exc.message) from exc
        if not by and not groups:
            groups = [service.Figures()]  # the period's totals, even when nobody answered
        return [_figures(group) for group in groups]

    @strawberry.field(description="When surveys go out (everyone who reads settings).")
    async def survey_settings(self, info: Info) -> SurveySettingsType:
        info.context.scope.require("settings:read")
        return await service.settings_of(info.context.scope.organization_id)


@strawberry.input
class UpdateSurveySettingsInput:
    nps_enabled: bool | None = None
    nps_status: str | None = None
    nps_delay_days: int | None = strawberry.field(default=None, description="0 to 60.")
    support_enabled: bool | None = None
    support_delay_minutes: int | None = strawberry.field(default=None, description="0 to 10080 (a week).")
    link_days: int | None = strawberry.field(default=None, description="1 to 365.")


@strawberry.type
class SurveySettingsPayload:
    settings: SurveySettingsType | None = None
    errors: list[UserError]


@strawberry.type
class SurveyMutations:
    @strawberry.mutation(description="Change when surveys go out (owners and admins).")
    async def update_survey_settings(self, info: Info, input: UpdateSurveySettingsInput) -> SurveySettingsPayload:
        scope = info.context.scope

        async def act():
            data = {f.name: getattr(input, f.name) for f in dataclasses.fields(input)}
            return {"settings": await service.update_settings(scope, data)}

        return await run_mutation(SurveySettingsPayload, act)
