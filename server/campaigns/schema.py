"""GraphQL for retention campaigns: the campaigns with their steps and texts, marketing settings,
a customer's marketing consent and birthday, and the results with A/B verdicts
(owners and admins change; everyone who reads settings sees them; analytics readers see results)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from server.campaigns import results as campaign_results
from server.campaigns import service
from server.campaigns.models import Campaign, CampaignStep, CustomerMarketing
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation


@strawberry.enum(description="The kinds of retention campaign.")
class CampaignKind(Enum):
    WINBACK = strawberry.enum_value(
        "winback", description="Customers who stopped ordering: steps months after the last order (9, 12, 15)."
    )
    BIRTHDAY = strawberry.enum_value("birthday", description="A greeting with a gift days before the birthday.")
    REVIEW = strawberry.enum_value("review", description="A review request days after an order was delivered.")


@strawberry.type(description="One message text of a step, in both languages (A/B: several variants).")
class CampaignVariant:
    key: str = strawberry.field(description="The variant's short name (A, B, ...).")
    text_uk: str = strawberry.field(
        description="The Ukrainian text (Jinja; knows customer_name, shop_name, offer_until)."
    )
    text_en: str = strawberry.field(description="The English text.")


@strawberry.type(description="One message of a campaign and when it goes.")
class CampaignStepType:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    position: int = strawberry.field(description="Its number within the campaign, from 0.")
    enabled: bool = strawberry.field(description="Off: the step is skipped.")
    delay: int = strawberry.field(
        description="Win-back: months after the last order; birthday: days before; review: days after delivery."
    )
    offer_days: int = strawberry.field(
        description="The offer is valid this many days (birthday: after the birthday; others: after the message)."
    )
    variants: list[CampaignVariant] = strawberry.field(description="The texts; two or more make an A/B test.")


def _step(step: CampaignStep) -> CampaignStepType:
    return CampaignStepType(
        id=strawberry.ID(ids.encode("CampaignStep", step.id)),
        position=step.position,
        enabled=step.enabled,
        delay=step.delay,
        offer_days=step.offer_days,
        variants=[
            CampaignVariant(key=v["key"], text_uk=v["texts"]["uk"], text_en=v["texts"]["en"]) for v in step.variants
        ],
    )


@strawberry.type(description="A retention campaign of the organization.")
class CampaignType:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    kind: CampaignKind = strawberry.field(description="What the campaign does.")
    enabled: bool = strawberry.field(description="Off by default: nothing is sent until an owner turns it on.")
    segment_id: strawberry.ID | None = strawberry.field(description="Only customers of this saved segment, if set.")
    steps: list[CampaignStepType] = strawberry.field(description="Its messages, by position.")


async def _campaign(campaign: Campaign) -> CampaignType:
    steps = await CampaignStep.filter(campaign_id=campaign.id).order_by("position")
    return CampaignType(
        id=strawberry.ID(ids.encode("Campaign", campaign.id)),
        kind=CampaignKind(campaign.kind),
        enabled=campaign.enabled,
        segment_id=strawberry.ID(ids.encode("Segment", campaign.segment_id)) if campaign.segment_id else None,
        steps=[_step(s) for s in steps],
    )


@strawberry.type(description="Marketing rules of the organization.")
class CampaignSettingsType:
    marketing_default_opt_in: bool = strawberry.field(
        description="Whether a customer without a recorded choice gets marketing (default false: opt-in)."
    )
    frequency_cap_days: int = strawberry.field(description="At most one marketing message per this many days (7).")
    conversion_window_days: int = strawberry.field(description="An order this many days after a message converts (7).")


@strawberry.type(description="A customer's marketing consent and birthday.")
class CustomerMarketingType:
    opted_in: bool | None = strawberry.field(description="Their choice; null: the organization's default applies.")
    birthday: date | None = strawberry.field(description="For the birthday campaign.")


@strawberry.type(description="What messages of a step, variant or campaign achieved.")
class CampaignCounts:
    key: str = strawberry.field(description="The variant's key, or `all`.")
    sent: int = strawberry.field(description="Messages that went out (sent or delivered).")
    delivered: int = strawberry.field(
        description="Of those, confirmed delivered by the provider, or clicked (a click proves it arrived)."
    )
    clicked: int = strawberry.field(
        description="Of those, messages with a tracked link the customer opened at least once (many clicks count once)."
    )
    converted: int = strawberry.field(description="Customers who ordered within the conversion window after it.")
    conversion: float | None = strawberry.field(description="converted / sent (0-1); null before anything was sent.")
    revenue: Decimal = strawberry.field(description="The total of those orders (organization currency).")
    currency: str = strawberry.field(description="ISO 4217 code of revenue.")


def _counts(c: campaign_results.Counts, currency: str) -> CampaignCounts:
    return CampaignCounts(
        key=c.key,
        sent=c.sent,
        delivered=c.delivered,
        clicked=c.clicked,
        converted=c.converted,
        conversion=c.conversion,
        revenue=c.revenue,
        currency=currency,
    )


@strawberry.type(description="The results of one step and its variants.")
class CampaignStepResult:
    step: CampaignStepType = strawberry.field(description="The step.")
    total: CampaignCounts = strawberry.field(description="All its variants together.")
    variants: list[CampaignCounts] = strawberry.field(description="Each variant.")
    p_value: float | None = strawberry.field(
        description="Chance of a difference this large between the best and worst variant if they were equal."
    )
    verdict: str = strawberry.field(description="In plain words (caller's language); empty with one variant.")


@strawberry.type(description="The results of a campaign.")
class CampaignResultType:
    kind: CampaignKind = strawberry.field(description="The campaign.")
    total: CampaignCounts = strawberry.field(description="All its steps together.")
    steps: list[CampaignStepResult] = strawberry.field(description="Per step.")


@strawberry.type
class CampaignQueries:
    @strawberry.field(description="The organization's campaigns with their steps (everyone who reads settings).")
    async def campaigns(self, info: Info) -> list[CampaignType]:
        scope = info.context.scope
        scope.require("settings:read")
        return [await _campaign(c) for c in await service.ensure_defaults(scope.organization_id)]

    @strawberry.field(description="Marketing consent default, frequency cap and conversion window.")
    async def campaign_settings(self, info: Info) -> CampaignSettingsType:
        info.context.scope.require("settings:read")
        return await service.settings_of(info.context.scope.organization_id)

    @strawberry.field(description="Sent, delivered, clicked, converted and revenue per campaign, step and variant.")
    async def campaign_results(self, info: Info, kind: CampaignKind | None = None) -> list[CampaignResultType]:
        found = await campaign_results.results(info.context.scope, kind.value if kind else None)
        return [
            CampaignResultType(
                kind=CampaignKind(r.campaign.kind),
                total=_counts(r.total, r.currency),
                steps=[
                    CampaignStepResult(
                        step=_step(s.step),
                        total=_counts(s.total, r.currency),
                        variants=[_counts(v, r.currency) for v in s.variants],
                        p_value=s.p_value,
                        verdict=s.verdict,
                    )
                    for s in r.steps
                ],
            )
            for r in found
        ]


@strawberry.input(description="Turn a campaign on or off, or limit it to a segment.")
class UpdateCampaignInput:
    kind: CampaignKind
    enabled: bool | None = None
    segment_id: strawberry.ID | None = strawberry.field(default=None, description="A saved segment's ID.")
    clear_segment: bool = strawberry.field(default=False, description="True: every customer again.")


@strawberry.input(description="A message variant's texts.")
class CampaignVariantInput:
    key: str
    text_uk: str
    text_en: str


@strawberry.input(description="Change (or add, with delay and variants) a step of a campaign.")
class UpdateCampaignStepInput:
    kind: CampaignKind
    position: int
    enabled: bool | None = None
    delay: int | None = None
    offer_days: int | None = None
    variants: list[CampaignVariantInput] | None = None


@strawberry.input(description="Marketing settings to change; omitted ones stay.")
class UpdateCampaignSettingsInput:
    marketing_default_opt_in: bool | None = None
    frequency_cap_days: int | None = strawberry.field(default=None, description="0 (no cap) to 365.")
    conversion_window_days: int | None = strawberry.field(default=None, description="1 to 90.")


@strawberry.input(description="A customer's marketing consent and/or birthday.")
class SetCustomerMarketingInput:
    account_id: strawberry.ID
    opted_in: bool | None = None
    birthday: date | None = None
    clear_birthday: bool = False


@strawberry.type
class CampaignPayload:
    campaign: CampaignType | None = None
    errors: list[UserError]


@strawberry.type
class CampaignStepPayload:
    step: CampaignStepType | None = None
    errors: list[UserError]


@strawberry.type
class CampaignSettingsPayload:
    settings: CampaignSettingsType | None = None
    errors: list[UserError]


@strawberry.type
class CustomerMarketingPayload:
    marketing: CustomerMarketingType | None = None
    errors: list[UserError]


@strawberry.type
class CampaignMutations:
    @strawberry.mutation(description="Turn a campaign on or off or set its segment (owners and admins).")
    async def update_campaign(self, info: Info, input: UpdateCampaignInput) -> CampaignPayload:
        scope = info.context.scope

        async def act():
            segment = ids.decode_pk(input.segment_id, "Segment", "segmentId") if input.segment_id else None
            campaign = await service.update_campaign(
                scope, input.kind.value, enabled=input.enabled, segment_id=segment, clear_segment=input.clear_segment
            )
            return {"campaign": await _campaign(campaign)}

        return await run_mutation(CampaignPayload, act)

    @strawberry.mutation(description="Change a step's delay, offer, texts and variants (owners and admins).")
    async def update_campaign_step(self, info: Info, input: UpdateCampaignStepInput) -> CampaignStepPayload:
        scope = info.context.scope

        async def act():
            data = {
                "enabled": input.enabled,
                "delay": input.delay,
                "offer_days": input.offer_days,
                "variants": None
                if input.variants is None
                else [{"key": v.key, "texts": {"uk": v.text_uk, "en": v.text_en}} for v in input.variants],
            }
            return {"step": _step(await service.update_step(scope, input.kind.value, input.position, data))}

        return await run_mutation(CampaignStepPayload, act)

    @strawberry.mutation(description="Change the marketing default, frequency cap or conversion window.")
    async def update_campaign_settings(self, info: Info, input: UpdateCampaignSettingsInput) -> CampaignSettingsPayload:
        scope = info.context.scope

        async def act():
            data = {f.name: getattr(input, f.name) for f in dataclasses.fields(input)}
            return {"settings": await service.update_settings(scope, data)}

        return await run_mutation(CampaignSettingsPayload, act)

    @strawberry.mutation(
        description="Record a customer's marketing consent (separate from order messages) or birthday."
    )
    async def set_customer_marketing(self, info: Info, input: SetCustomerMarketingInput) -> CustomerMarketingPayload:
        scope = info.context.scope

        async def act():
            account_id = ids.decode_pk(input.account_id, "Account", "accountId")
            row: CustomerMarketing = await service.set_marketing(
                scope, account_id, opted_in=input.opted_in, birthday=input.birthday, clear_birthday=input.clear_birthday
            )
            return {"marketing": CustomerMarketingType(opted_in=row.opted_in, birthday=row.birthday)}

        return await run_mutation(CustomerMarketingPayload, act)
