"""GraphQL for pipelines, stages and deals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from server.accounts.models import Account, Contact
from server.attachments.schema import attachments_field
from server.customfields import service as customfields
from server.customfields.schema import (
    CUSTOM_FIELD_FILTER,
    CUSTOM_FIELD_SORT,
    CUSTOM_FIELD_VALUES,
    CUSTOM_FIELD_VALUES_CREATE,
    CUSTOM_FIELD_VALUES_UPDATE,
    TAG_FILTER,
    TAGS,
    TAGS_UPDATE,
    CustomFieldFilter,
    CustomFieldInput,
    CustomFieldValueType,
    custom_field_values,
    typed_lookups,
    with_input_items,
)
from server.deals import service
from server.deals.models import Deal, DealStageChange, Pipeline, Stage
from server.graphql import ids
from server.graphql.aggregates import Amount, GroupBy, aggregate, aggregate_of, global_id, upper
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import ChangedSince, DateTimeFilter, DecimalFilter, IDFilter, Lookup, StringFilter, build_q
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id, load_children
from server.graphql.pagination import DELETED_AT, INCLUDE_DELETED, Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Money, Node, UserType, model_type
from server.search.query import SEARCH_FILTER_DESCRIPTION, search_lookup

if TYPE_CHECKING:
    from server.accounts.schema import AccountType, ContactType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyContactType = Annotated["ContactType", strawberry.lazy("server.accounts.schema")]


@strawberry.enum(description="open: in progress; won and lost close the deal.")
class StageKind(Enum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@model_type(Stage, description="A step of a pipeline.")
class StageType(Node):
    name: str
    position: int
    probability: int = strawberry.field(description="Chance to win at this stage, percent.")

    @strawberry.field
    def kind(self) -> StageKind:
        return StageKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field
    async def pipeline(self, info: Info) -> PipelineType | None:
        return await load_by_id(info.context, Pipeline, self.pipeline_id)  # type: ignore[attr-defined]


@model_type(Pipeline, description="A sales process: an ordered list of stages.")
class PipelineType(Node):
    name: str
    position: int
    is_default: bool = strawberry.field(description="New deals land here unless told otherwise.")

    @strawberry.field(description="Stages in order.")
    async def stages(self, info: Info) -> list[StageType]:
        return await load_children(info.context, Stage, "pipeline_id", self.id, ("position", "id"))  # type: ignore[attr-defined]


async def _user(info: Info, user_id):
    from server.auth.schema import load_member

    return await load_member(info.context, user_id) if user_id else None


@model_type(DealStageChange, description="One move of a deal between stages.")
class DealStageChangeType:
    created_at: datetime

    @strawberry.field(name="from")
    async def from_(self, info: Info) -> StageType | None:
        return await load_by_id(info.context, Stage, self.from_stage_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def to(self, info: Info) -> StageType | None:
        return await load_by_id(info.context, Stage, self.to_stage_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def actor(self, info: Info) -> UserType | None:
        return await _user(info, self.actor_id)  # type: ignore[attr-defined]


@model_type(Deal, description="A sales opportunity on a pipeline.")
class DealType(Node):
    attachments = attachments_field("Deal")
    tags: list[str] = strawberry.field(description=TAGS)

    @strawberry.field(description=CUSTOM_FIELD_VALUES)
    async def custom_field_values(self, info: Info) -> list[CustomFieldValueType]:
        return await custom_field_values(info, "deal", self)

    title: str
    expected_close_date: date | None
    source: str | None
    lost_reason: str | None = strawberry.field(description="Why it was lost (set when moved to a lost stage).")
    closed_at: datetime | None = strawberry.field(description="When it was won or lost.")
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(description=DELETED_AT)

    @strawberry.field
    def amount(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field
    async def account(self, info: Info) -> LazyAccountType | None:
        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field
    async def contact(self, info: Info) -> LazyContactType | None:
        return await load_by_id(info.context, Contact, self.contact_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def pipeline(self, info: Info) -> PipelineType | None:
        return await load_by_id(info.context, Pipeline, self.pipeline_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def stage(self, info: Info) -> StageType | None:
        return await load_by_id(info.context, Stage, self.stage_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def owner(self, info: Info) -> UserType | None:
        return await _user(info, self.owner_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Every stage the deal went through, oldest first.")
    async def stage_history(self, info: Info) -> list[DealStageChangeType]:
        return await load_children(info.context, DealStageChange, "deal_id", self.id)  # type: ignore[attr-defined]


DealConnection = connection_of(DealType, "DealConnection")


@strawberry.input
class StageKindFilter:
    eq: StageKind | None = None
    in_: list[StageKind] | None = strawberry.field(default=None, name="in")


def _kind_q(f: StageKindFilter) -> Q:
    kinds = [f.eq.value] if f.eq else [k.value for k in f.in_ or []]
    return Q(stage__kind__in=kinds)


def _gid(type_name: str):
    return lambda v: ids.decode(v, type_name)[1]


@strawberry.input(description="Filters for deals; all given conditions must hold (use OR for any).")
class DealWhere(ChangedSince):
    and_: list[DealWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[DealWhere] | None = strawberry.field(default=None, name="OR")
    title: StringFilter | None = None
    account: IDFilter | None = None
    pipeline: IDFilter | None = None
    stage: IDFilter | None = None
    stage_kind: StageKindFilter | None = None
    owner: IDFilter | None = None
    amount: DecimalFilter | None = None
    source: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    search: StringFilter | None = strawberry.field(default=None, description=SEARCH_FILTER_DESCRIPTION)
    tag: StringFilter | None = strawberry.field(default=None, description=TAG_FILTER)
    custom_field: CustomFieldFilter | None = strawberry.field(default=None, description=CUSTOM_FIELD_FILTER)


DEAL_LOOKUPS = {
    "title": Lookup("title"),
    "account": Lookup("account_id", convert=_gid("Account")),
    "pipeline": Lookup("pipeline_id", convert=_gid("Pipeline")),
    "stage": Lookup("stage_id", convert=_gid("Stage")),
    "stage_kind": Lookup("stage__kind", build=_kind_q),
    "owner": Lookup("owner_id", convert=_gid("User")),
    "amount": Lookup("amount"),
    "source": Lookup("source"),
    "created_at": Lookup("created_at"),
}


@strawberry.enum
class DealOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    AMOUNT = "amount"
    TITLE = "title"


@strawberry.input
class DealOrder:
    field: DealOrderField = DealOrderField.CREATED_AT
    direction: Direction = Direction.DESC
    custom_field: str | None = strawberry.field(default=None, description=CUSTOM_FIELD_SORT)


SORT_KINDS = {"created_at": datetime, "updated_at": datetime, "amount": Decimal, "title": str}


def deals_queryset(info: Info, where=None, *, include_deleted=False):
    return scoped_deals(info.context.scope, where, include_deleted=include_deleted)


def scoped_deals(scope, where=None, *, include_deleted=False):
    """What the `deals` list (and its export) reads: the caller's deals (Scope) matching `where`."""
    lookups = {**DEAL_LOOKUPS, "search": search_lookup(scope, "deal"), **typed_lookups(scope, "deal")}
    return scope.queryset(Deal, with_deleted=include_deleted).filter(build_q(where, lookups))


@strawberry.enum(description="What to group deals by.")
class DealGroupBy(Enum):
    STAGE = "stage"
    STAGE_KIND = "stage_kind"
    PIPELINE = "pipeline"
    OWNER = "owner"
    SOURCE = "source"


DealAggregate = aggregate_of(
    "DealAggregate",
    DealGroupBy,
    {
        "stage": GroupBy("stage_id", key=global_id("Stage")),
        "stage_kind": GroupBy("stage__kind", key=upper),
        "pipeline": GroupBy("pipeline_id", key=global_id("Pipeline")),
        "owner": GroupBy("owner_id", key=global_id("User")),
        "source": GroupBy("source"),
    },
    description="Counts and value sums of the deals a list would show, e.g. for a board by stage. Keys: STAGE, "
    "PIPELINE and OWNER global IDs, STAGE_KIND the enum value, SOURCE as stored.",
)


async def deals_connection(
    info: Info, *, first, after, where=None, order_by=None, account_id=None, include_deleted=False
) -> DealConnection:
    ctx = info.context
    order_by = order_by or DealOrder()
    qs = deals_queryset(info, where, include_deleted=include_deleted)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
    if order_by.custom_field:
        qs, sort = await customfields.sort_by(ctx.scope, "deal", qs, order_by.custom_field, order_by.direction)
    return await paginate(DealConnection, qs, first=first, after=after, sort=sort)


@strawberry.type
class DealQueries:
    @strawberry.field(description="Deals the caller may see, filtered and sorted (newest first by default).")
    async def deals(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: DealWhere | None = None,
        order_by: DealOrder | None = None,
        include_deleted: Annotated[bool, strawberry.argument(description=INCLUDE_DELETED)] = False,
    ) -> DealConnection:
        return await deals_connection(
            info, first=first, after=after, where=where, order_by=order_by, include_deleted=include_deleted
        )

    @strawberry.field(
        description="Counts and amount sums (by currency) of the deals matching `where`, optionally grouped."
    )
    async def deals_aggregate(self, info: Info, where: DealWhere | None = None) -> DealAggregate:
        return aggregate(DealAggregate, deals_queryset(info, where), info.context.scope, Amount("amount", "currency"))

    @strawberry.field(description="One deal, or null if not found.")
    async def deal(self, info: Info, id: strawberry.ID) -> DealType | None:
        return await load_by_id(info.context, Deal, ids.decode(id, "Deal")[1])

    @strawberry.field(description="The organization's pipelines in display order.")
    async def pipelines(self, info: Info) -> list[PipelineType]:
        return await info.context.scope.queryset(Pipeline).order_by("position", "name")

    @strawberry.field(description="One pipeline, or null if not found.")
    async def pipeline(self, info: Info, id: strawberry.ID) -> PipelineType | None:
        return await load_by_id(info.context, Pipeline, ids.decode(id, "Pipeline")[1])


# -- mutations ------------------------------------------------------------------------


@strawberry.input
class StageInput:
    name: str
    kind: StageKind = StageKind.OPEN
    probability: int = 0
    position: int | None = None


@strawberry.input
class CreatePipelineInput:
    name: str
    position: int = 0
    is_default: bool = False
    stages: list[StageInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdatePipelineInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class CreateStageInput:
    pipeline_id: strawberry.ID
    name: str
    kind: StageKind = StageKind.OPEN
    probability: int = strawberry.field(default=0, description="Chance to win at this stage, 0 to 100.")
    position: int | None = strawberry.field(default=None, description="Defaults to after the last stage.")


@strawberry.input
class UpdateStageInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    kind: StageKind | None = strawberry.UNSET
    probability: int | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
class DeleteByIdInput:
    id: strawberry.ID


@strawberry.input
class CreateDealInput:
    account_id: strawberry.ID
    title: str
    amount: Decimal = Decimal("0")
    currency: str | None = strawberry.field(default=None, description="Defaults to the organization's.")
    contact_id: strawberry.ID | None = None
    pipeline_id: strawberry.ID | None = strawberry.field(default=None, description="Defaults to the default pipeline.")
    stage_id: strawberry.ID | None = strawberry.field(default=None, description="Defaults to its first open stage.")
    expected_close_date: date | None = None
    source: str | None = None
    owner_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Defaults to the caller.")
    lost_reason: str | None = strawberry.field(default=None, description="Required when `stageId` is a lost stage.")
    tags: list[str] = strawberry.field(default_factory=list, description=TAGS)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=None, description=CUSTOM_FIELD_VALUES_CREATE
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result."
    )


@strawberry.input
class UpdateDealInput:
    id: strawberry.ID
    version: int
    title: str | None = strawberry.UNSET
    amount: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    expected_close_date: date | None = strawberry.UNSET
    source: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS_UPDATE)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CUSTOM_FIELD_VALUES_UPDATE
    )


@strawberry.input
class MoveDealStageInput:
    id: strawberry.ID
    version: int
    stage_id: strawberry.ID
    lost_reason: str | None = strawberry.field(default=None, description="Required for a lost stage.")


@strawberry.input
class DeleteDealInput:
    id: strawberry.ID
    version: int


@strawberry.type
class DealPayload:
    deal: DealType | None = None
    errors: list[UserError]


@strawberry.type
class PipelinePayload:
    pipeline: PipelineType | None = None
    errors: list[UserError]


@strawberry.type
class StagePayload:
    stage: StageType | None = None
    errors: list[UserError]


ID_FIELDS = {
    "account_id": "Account",
    "contact_id": "Contact",
    "pipeline_id": "Pipeline",
    "stage_id": "Stage",
    "owner_id": "User",
}


def _stage_data(input_obj) -> dict:
    data = given(input_obj, exclude=("id", "pipeline_id"))
    if isinstance(data.get("kind"), StageKind):
        data["kind"] = data["kind"].value
    return data


@strawberry.type
class DealMutations:
    @strawberry.mutation(description="Create a deal; it starts in its pipeline's first open stage.")
    async def create_deal(self, info: Info, input: CreateDealInput) -> DealPayload:
        async def act():
            data = with_input_items(given(input, id_fields=ID_FIELDS))
            return {"deal": await service.create_deal(info.context.scope, data, input.idempotency_key)}

        return await run_mutation(DealPayload, act)

    @strawberry.mutation
    async def update_deal(self, info: Info, input: UpdateDealInput) -> DealPayload:
        async def act():
            pk = ids.decode(input.id, "Deal")[1]
            data = with_input_items(given(input, id_fields=ID_FIELDS))
            return {"deal": await service.update_deal(info.context.scope, pk, input.version, data)}

        return await run_mutation(DealPayload, act)

    @strawberry.mutation(description="Move a deal to a stage; a lost stage needs `lostReason`.")
    async def move_deal_stage(self, info: Info, input: MoveDealStageInput) -> DealPayload:
        async def act():
            pk = ids.decode(input.id, "Deal")[1]
            stage = ids.decode(input.stage_id, "Stage", "stageId")[1]
            deal = await service.move_stage(info.context.scope, pk, input.version, stage, input.lost_reason)
            return {"deal": deal}

        return await run_mutation(DealPayload, act)

    @strawberry.mutation(description="Soft delete: gone from lists, history kept.")
    async def delete_deal(self, info: Info, input: DeleteDealInput) -> DealPayload:
        async def act():
            pk = ids.decode(input.id, "Deal")[1]
            return {"deal": await service.delete_deal(info.context.scope, pk, input.version)}

        return await run_mutation(DealPayload, act)

    @strawberry.mutation(description="Admins: add a pipeline, optionally with its stages.")
    async def create_pipeline(self, info: Info, input: CreatePipelineInput) -> PipelinePayload:
        async def act():
            stages = [{**given(s), "kind": s.kind.value} for s in input.stages]
            pipeline = await service.create_pipeline(
                info.context.scope, input.name, input.position, input.is_default, stages
            )
            return {"pipeline": pipeline}

        return await run_mutation(PipelinePayload, act)

    @strawberry.mutation(description="Admins: rename, reorder or make a pipeline the default.")
    async def update_pipeline(self, info: Info, input: UpdatePipelineInput) -> PipelinePayload:
        async def act():
            pk = ids.decode(input.id, "Pipeline")[1]
            return {"pipeline": await service.update_pipeline(info.context.scope, pk, given(input))}

        return await run_mutation(PipelinePayload, act)

    @strawberry.mutation(description="Admins: delete a pipeline no deal uses.")
    async def delete_pipeline(self, info: Info, input: DeleteByIdInput) -> PipelinePayload:
        async def act():
            pk = ids.decode(input.id, "Pipeline")[1]
            return {"pipeline": await service.delete_pipeline(info.context.scope, pk)}

        return await run_mutation(PipelinePayload, act)

    @strawberry.mutation(description="Admins: add a stage to a pipeline.")
    async def create_stage(self, info: Info, input: CreateStageInput) -> StagePayload:
        async def act():
            pipeline = ids.decode(input.pipeline_id, "Pipeline", "pipelineId")[1]
            return {"stage": await service.create_stage(info.context.scope, pipeline, _stage_data(input))}

        return await run_mutation(StagePayload, act)

    @strawberry.mutation
    async def update_stage(self, info: Info, input: UpdateStageInput) -> StagePayload:
        async def act():
            pk = ids.decode(input.id, "Stage")[1]
            return {"stage": await service.update_stage(info.context.scope, pk, _stage_data(input))}

        return await run_mutation(StagePayload, act)

    @strawberry.mutation(description="Admins: delete a stage no deal has been in.")
    async def delete_stage(self, info: Info, input: DeleteByIdInput) -> StagePayload:
        async def act():
            pk = ids.decode(input.id, "Stage")[1]
            return {"stage": await service.delete_stage(info.context.scope, pk)}

        return await run_mutation(StagePayload, act)
