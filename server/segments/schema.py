"""GraphQL for saved segments: the segment, its rules, its live count and members."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.analytics.schema import RfmGroup
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.loaders import load_by_id
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, model_type
from server.segments import service
from server.segments.models import Segment

if TYPE_CHECKING:
    from server.accounts.schema import AccountConnection, AccountOrder, AccountWhere

LazyAccountConnection = Annotated["AccountConnection", strawberry.lazy("server.accounts.schema")]
LazyAccountOrder = Annotated["AccountOrder", strawberry.lazy("server.accounts.schema")]
LazyAccountWhere = Annotated["AccountWhere", strawberry.lazy("server.accounts.schema")]


@strawberry.type(description="A range of whole numbers; a missing bound is open.")
class IntRange:
    eq: int | None = None
    gte: int | None = None
    lte: int | None = None


@strawberry.type(description="A range of amounts in the organization's currency; a missing bound is open.")
class DecimalRange:
    eq: Decimal | None = None
    gte: Decimal | None = None
    lte: Decimal | None = None


@strawberry.type(description="A time range, bounds included; a missing bound is open.")
class TimeRange:
    gte: datetime | None = None
    lte: datetime | None = None


@strawberry.type(description="Customers who have (optedIn: false) or have not (true) opted out of a channel.")
class ConsentRule:
    channel: str
    opted_in: bool


@strawberry.type(description="What a customer must match to be in a segment: every given rule.")
class SegmentRules:
    rfm_groups: list[RfmGroup] = strawberry.field(description="In one of these RFM groups.")
    order_count: IntRange | None = strawberry.field(description="Number of orders.")
    revenue: DecimalRange | None = strawberry.field(description="Revenue (lifetime value so far).")
    last_order_at: TimeRange | None = strawberry.field(description="When the last order was placed.")
    days_since_last_order: IntRange | None = strawberry.field(description="Whole days since the last order.")
    cities: list[str] = strawberry.field(description="An address mentions one of these cities.")
    tags: list[str] = strawberry.field(description="Has one of these tags.")
    custom_fields: JSON | None = strawberry.field(description="Each of these custom fields equals the value.")
    consent: ConsentRule | None = strawberry.field(description="Opted out of a channel, or not.")


def _rules_of(stored: dict) -> SegmentRules:
    def rng(kind, key, convert=lambda v: v):
        raw = stored.get(key)
        return kind(**{k: convert(v) for k, v in raw.items()}) if raw else None

    consent = stored.get("consent")
    return SegmentRules(
        rfm_groups=[RfmGroup(g) for g in stored.get("rfm_groups", [])],
        order_count=rng(IntRange, "order_count"),
        revenue=rng(DecimalRange, "revenue", Decimal),
        last_order_at=rng(TimeRange, "last_order_at", datetime.fromisoformat),
        days_since_last_order=rng(IntRange, "days_since_last_order"),
        cities=stored.get("cities", []),
        tags=stored.get("tags", []),
        custom_fields=stored.get("custom_fields"),
        consent=ConsentRule(channel=consent["channel"], opted_in=consent["opted_in"]) if consent else None,
    )


@model_type(Segment, description="A saved, named filter over accounts; its members are computed when asked.")
class SegmentType(Node):
    name: str
    description: str
    version: int = strawberry.field(description="Pass it back to update or delete (optimistic concurrency).")
    created_at: datetime
    updated_at: datetime

    @strawberry.field(
        description="The rules a customer must match. Tags and custom fields read as empty for roles "
        "that may not see them."
    )
    def rules(self, info: Info) -> SegmentRules:
        stored = dict(self.rules)  # type: ignore[attr-defined]
        hidden = service.hidden_rules(info.context.scope, stored)
        return _rules_of({k: v for k, v in stored.items() if service.GUARDED_RULES.get(k) not in hidden})

    @strawberry.field(description="How many customers match now (of those you may see).")
    async def count(self, info: Info) -> int:
        return await service.members(info.context.scope, self).count()  # type: ignore[arg-type]

    @strawberry.field(description="The customers who match now, sorted and filtered like `accounts`.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: LazyAccountWhere | None = None,
        order_by: LazyAccountOrder | None = None,
    ) -> LazyAccountConnection:
        from server.accounts.schema import accounts_connection

        base = service.members(info.context.scope, self)  # type: ignore[arg-type]
        return await accounts_connection(info, first=first, after=after, where=where, order_by=order_by, base=base)

    @strawberry.field(
        description="Where to download the members as CSV: GET it with the same `Authorization: Bearer` "
        "header (and `X-Organization`) as the API."
    )
    def csv_path(self) -> str:
        return f"/segments/{ids.encode('Segment', self.id)}/members.csv"  # type: ignore[attr-defined]


SegmentConnection = connection_of(SegmentType, "SegmentConnection")


@strawberry.type
class SegmentQueries:
    @strawberry.field(description="The organization's saved segments, by name.")
    async def segments(self, info: Info, first: int | None = None, after: str | None = None) -> SegmentConnection:
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        qs = ctx.scope.queryset(Segment)
        return await paginate(SegmentConnection, qs, first=first, after=after, sort=Sort("name", str, Direction.ASC))

    @strawberry.field(description="One segment, or null if not found.")
    async def segment(self, info: Info, id: strawberry.ID) -> SegmentType | None:
        return await load_by_id(info.context, Segment, ids.decode(id, "Segment")[1])


# -- mutations -------------------------------------------------------------------------------


@strawberry.input(description="Whole numbers from `gte` to `lte` (both included), or exactly `eq`.")
class IntRangeInput:
    eq: int | None = None
    gte: int | None = None
    lte: int | None = None


@strawberry.input(description="Amounts from `gte` to `lte` (both included), or exactly `eq`.")
class DecimalRangeInput:
    eq: Decimal | None = None
    gte: Decimal | None = None
    lte: Decimal | None = None


@strawberry.input(description="From `gte` to `lte`, both included; give a time zone.")
class TimeRangeInput:
    gte: datetime | None = None
    lte: datetime | None = None


@strawberry.input(description="Customers who have not opted out of `channel` (optedIn: true), or who have.")
class ConsentRuleInput:
    channel: str = strawberry.field(description="sms, viber, telegram, whatsapp or email.")
    opted_in: bool = True


@strawberry.input(description="What a customer must match; leave out what does not matter.")
class SegmentRulesInput:
    rfm_groups: list[RfmGroup] | None = None
    order_count: IntRangeInput | None = None
    revenue: DecimalRangeInput | None = strawberry.field(
        default=None, description="Revenue in the organization's currency (lifetime value so far)."
    )
    last_order_at: TimeRangeInput | None = None
    days_since_last_order: IntRangeInput | None = None
    cities: list[str] | None = strawberry.field(default=None, description="An address mentions one of them.")
    tags: list[str] | None = strawberry.field(default=None, description="Has one of them.")
    custom_fields: JSON | None = strawberry.field(
        default=None, description='Custom field values, e.g. {"loyalty_card": "gold"}; each must be equal.'
    )
    consent: ConsentRuleInput | None = None


def _raw_rules(rules: SegmentRulesInput | None) -> dict:
    if rules is None:
        return {}

    def rng(value):
        return {k: getattr(value, k) for k in ("eq", "gte", "lte") if getattr(value, k, None) is not None} or None

    return {
        "rfm_groups": [g.value for g in rules.rfm_groups or []],
        "order_count": rng(rules.order_count),
        "revenue": rng(rules.revenue),
        "last_order_at": rng(rules.last_order_at),
        "days_since_last_order": rng(rules.days_since_last_order),
        "cities": rules.cities,
        "tags": rules.tags,
        "custom_fields": rules.custom_fields,
        "consent": {"channel": rules.consent.channel, "opted_in": rules.consent.opted_in} if rules.consent else None,
    }


@strawberry.input
class CreateSegmentInput:
    name: str
    description: str | None = None
    rules: SegmentRulesInput
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result instead of creating again."
    )


@strawberry.input
class UpdateSegmentInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a CONFLICT error if it changed since.")
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    rules: SegmentRulesInput | None = strawberry.field(default=strawberry.UNSET, description="Replaces all the rules.")


@strawberry.input
class DeleteSegmentInput:
    id: strawberry.ID
    version: int


@strawberry.type
class SegmentPayload:
    segment: SegmentType | None = None
    errors: list[UserError]


def _data(input_obj) -> dict:
    data = {}
    for name in ("name", "description"):
        value = getattr(input_obj, name)
        if value is not strawberry.UNSET:
            data[name] = value
    if input_obj.rules is not strawberry.UNSET:
        data["rules"] = _raw_rules(input_obj.rules)
    return data


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(description="Save a segment (roles that may change accounts).")
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> SegmentPayload:
        scope = info.context.scope

        async def act():
            return {"segment": await service.create_segment(scope, _data(input), input.idempotency_key)}

        return await run_mutation(SegmentPayload, act)

    @strawberry.mutation
    async def update_segment(self, info: Info, input: UpdateSegmentInput) -> SegmentPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Segment")[1]
            return {"segment": await service.update_segment(scope, pk, input.version, _data(input))}

        return await run_mutation(SegmentPayload, act)

    @strawberry.mutation(description="Delete a saved segment (its customers are not touched).")
    async def delete_segment(self, info: Info, input: DeleteSegmentInput) -> SegmentPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Segment")[1]
            return {"segment": await service.delete_segment(scope, pk, input.version)}

        return await run_mutation(SegmentPayload, act)
