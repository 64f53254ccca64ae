"""The figures the metrics produce, as GraphQL object types (plain data: the CSV export reads
the same objects). Definitions in words: docs/analytics.md."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry

from server.graphql.types import Money


def rate(numerator: int | Decimal, denominator: int | Decimal, scale: int = 100) -> Decimal | None:
    """numerator ÷ denominator × scale, 2 decimals half-up; None when there is nothing to divide by."""
    from server.core.money import quantize

    if not denominator:
        return None
    return quantize(Decimal(numerator) * scale / Decimal(denominator))


@strawberry.type(description="The period the figures cover, in the organization's time zone.")
class AnalyticsPeriod:
    first_day: date = strawberry.field(name="from", description="First day of the period (local date).")
    last_day: date = strawberry.field(name="to", description="Last day of the period (local date, included).")
    timezone: str = strawberry.field(description="The organization's time zone the days are taken in.")
    starts_at: datetime = strawberry.field(description="UTC instant of local midnight at the start of `from`.")
    ends_at: datetime = strawberry.field(description="UTC instant of local midnight after `to` (not included).")


@strawberry.type(description="Money figures of one currency; currencies are never added together.")
class CurrencyFigures:
    currency: str = strawberry.field(description="ISO 4217 code.")
    orders: int = strawberry.field(description="Orders in this currency placed in the period (not cancelled).")
    customers: int = strawberry.field(description="Customers who placed at least one of those orders.")
    revenue: Money = strawberry.field(description="Sum of those orders' totals.")
    average_order_value: Money = strawberry.field(description="Revenue ÷ orders.")
    revenue_per_customer: Money = strawberry.field(description="Revenue ÷ customers (ARPU of the period).")


@strawberry.type(
    description="What the period's orders earned on catalog lines whose variant had a cost (the lines "
    "`Order.margin` counts), in one currency. Compare `marginPercent` with the `grossMarginPercent` setting the "
    "LTV formulas use."
)
class MarginFigures:
    currency: str = strawberry.field(description="ISO 4217 code.")
    orders: int = strawberry.field(description="Orders placed in the period (not cancelled) with such a line.")
    revenue: Money = strawberry.field(description="Sum of those lines' totals (discounts taken off).")
    cost: Money = strawberry.field(description="Sum of unit cost × quantity of those lines, each to the kopiyka.")
    margin: Money = strawberry.field(description="Revenue − cost: the sum of those orders' `margin`.")
    margin_percent: Decimal | None = strawberry.field(
        description="Margin ÷ revenue × 100, to 2 decimals; null when the revenue is 0."
    )


@strawberry.type(description="How customers bought in the period and how many stayed.")
class CustomerMetrics:
    orders: int = strawberry.field(description="Orders placed in the period, all currencies, not cancelled.")
    customers_who_ordered: int = strawberry.field(description="Customers with at least one order in the period.")
    by_currency: list[CurrencyFigures] = strawberry.field(
        description="Revenue, average order value and revenue per customer, one entry per currency."
    )
    purchase_frequency: Decimal | None = strawberry.field(
        description="Orders ÷ customers who ordered in the period (2 decimals); null without orders."
    )
    repeat_purchase_rate: Decimal | None = strawberry.field(
        description="Customers with 2 or more orders in the period ÷ customers who ordered × 100 (percent)."
    )
    customer_lifespan_days: Decimal | None = strawberry.field(
        description="For customers who ordered in the period: average days from their first order ever to "
        "their last order before the period's end (one-order customers count 0)."
    )
    lost_after_days: int = strawberry.field(
        description="A customer with no order for this many days counts as lost (organization setting)."
    )
    customers_at_start: int = strawberry.field(
        description="Customers at the period's start: an order before it, the last one fewer than "
        "`lostAfterDays` days before it."
    )
    customers_at_end: int = strawberry.field(description="Customers at the period's end, counted the same way.")
    new_customers: int = strawberry.field(description="Customers whose first order ever is in the period.")
    lost_customers: int = strawberry.field(
        description="Customers at the start who are no longer customers at the end (no order for `lostAfterDays`)."
    )
    retention_rate: Decimal | None = strawberry.field(
        description="(customers at the end − new customers) ÷ customers at the start × 100; "
        "null with none at the start."
    )
    churn_rate: Decimal | None = strawberry.field(
        description="Lost customers ÷ customers at the start × 100; null with none at the start."
    )


@strawberry.type(description="One month of a cohort's life.")
class CohortMonth:
    offset: int = strawberry.field(description="Months after the cohort's first month (0 = the first month).")
    month: date = strawberry.field(description="First day of that calendar month.")
    customers: int = strawberry.field(description="Customers of the cohort who ordered in that month.")
    share: Decimal | None = strawberry.field(description="Those customers ÷ the cohort's size × 100 (percent).")
    revenue: list[Money] = strawberry.field(description="What the cohort spent that month, one entry per currency.")


@strawberry.type(description="Customers whose first order was in the same calendar month, followed month by month.")
class Cohort:
    month: date = strawberry.field(description="First day of the month of the cohort's first orders.")
    customers: int = strawberry.field(description="Size of the cohort: customers whose first order ever was then.")
    months: list[CohortMonth] = strawberry.field(
        description="Month 0 (the first month), 1, 2, … up to the period's last month."
    )


LtvFormula = strawberry.enum(
    Enum(
        "LtvFormula",
        {
            "ARPU_LIFETIME": "arpu_lifetime",
            "AOV_FREQUENCY_LIFESPAN": "aov_frequency_lifespan",
            "MARGIN_CHURN": "margin_churn",
            "NPV": "npv",
            "SEGMENTS": "segments",
        },
    ),
    description="How lifetime value is computed; docs/analytics.md explains each with an example.",
)


@strawberry.type(description="How the organization computes LTV and when a customer counts as lost.")
class AnalyticsSettingsType:
    lost_after_days: int = strawberry.field(description="Days without an order after which a customer is lost.")
    ltv_formula: LtvFormula = strawberry.field(description="The formula `ltv.value` uses.")
    gross_margin_percent: Decimal = strawberry.field(description="Gross margin, percent of revenue (formulas 3–5).")
    lifetime_years: Decimal = strawberry.field(description="Expected customer lifetime in years (formula 1).")
    discount_rate_percent: Decimal = strawberry.field(description="Yearly discount rate, percent (formula 4).")
    npv_years: int = strawberry.field(description="Years the discounted revenue is summed over (formula 4).")


@strawberry.type(description="Lifetime value of a customer in one currency, by one formula.")
class LtvValue:
    formula: LtvFormula = strawberry.field(description="The formula.")
    currency: str = strawberry.field(description="ISO 4217 code.")
    amount: Decimal | None = strawberry.field(
        description="The value; null when an input is missing (no customers at the start for churn, …)."
    )


@strawberry.type(description="Lifetime value against acquisition cost for one acquisition source.")
class SourceLtv:
    source: str | None = strawberry.field(description="Account.source; null for accounts without one.")
    currency: str = strawberry.field(description="ISO 4217 code of the figures.")
    new_customers: int = strawberry.field(description="Customers from this source whose first order is in the period.")
    acquisition_cost: Money = strawberry.field(description="Spend entered for this source over the period's months.")
    cac: Money | None = strawberry.field(description="Acquisition cost ÷ new customers; null without new customers.")
    ltv: Money | None = strawberry.field(description="LTV of this source's customers by the chosen formula.")
    ltv_to_cac: Decimal | None = strawberry.field(description="LTV ÷ CAC (2 decimals); above 3 is usually healthy.")


@strawberry.type(description="Customer lifetime value by every formula, and against acquisition cost.")
class LtvReport:
    settings: AnalyticsSettingsType = strawberry.field(description="The formula and parameters in use.")
    value: list[LtvValue] = strawberry.field(description="LTV by the organization's chosen formula, per currency.")
    by_formula: list[LtvValue] = strawberry.field(description="LTV by each of the five formulas, per currency.")
    by_source: list[SourceLtv] = strawberry.field(description="LTV, CAC and LTV:CAC per acquisition source.")


@strawberry.type(description="A stage of the funnel and how many deals got there and on.")
class FunnelStage:
    stage_id: strawberry.ID = strawberry.field(description="Global ID of the stage.")
    name: str = strawberry.field(description="Stage name.")
    kind: str = strawberry.field(description="open or won.")
    reached: int = strawberry.field(description="Deals that reached this stage or a later one.")
    conversion_to_next: Decimal | None = strawberry.field(
        description="Deals that reached the next stage ÷ deals that reached this one × 100; null for the last."
    )
    average_days_in_stage: Decimal | None = strawberry.field(
        description="Average days a deal stayed in this stage before moving on (finished stays only)."
    )


@strawberry.type(description="The funnel of one pipeline, for one source or manager when broken down.")
class FunnelGroup:
    pipeline_id: strawberry.ID = strawberry.field(description="Global ID of the pipeline.")
    pipeline: str = strawberry.field(description="Pipeline name.")
    source: str | None = strawberry.field(description="Deal source, when broken down by source.")
    manager_id: strawberry.ID | None = strawberry.field(description="Deal owner, when broken down by manager.")
    deals: int = strawberry.field(description="Deals created in the period.")
    won: int = strawberry.field(description="Of them, won.")
    lost: int = strawberry.field(description="Of them, lost.")
    win_rate: Decimal | None = strawberry.field(description="Won ÷ (won + lost) × 100; null when none is closed.")
    average_sales_cycle_days: Decimal | None = strawberry.field(
        description="Average days from creating a deal to winning it, over the won ones."
    )
    stages: list[FunnelStage] = strawberry.field(description="Open and won stages in pipeline order.")


FunnelBreakdown = strawberry.enum(
    Enum("FunnelBreakdown", {"NONE": "none", "SOURCE": "source", "MANAGER": "manager"}),
    description="Split each pipeline's funnel further by deal source or by manager (deal owner).",
)


@strawberry.type(description="Support response figures of a group of tickets. Times are in minutes.")
class SupportFigures:
    priority: str | None = strawberry.field(description="The priority, when grouped by priority.")
    agent_id: strawberry.ID | None = strawberry.field(description="The assignee, when grouped by agent.")
    tickets: int = strawberry.field(description="Tickets created in the period.")
    first_response_mean_minutes: Decimal | None = strawberry.field(description="Mean time to the first reply.")
    first_response_median_minutes: Decimal | None = strawberry.field(description="Median time to the first reply.")
    resolution_mean_minutes: Decimal | None = strawberry.field(description="Mean time to resolution.")
    resolution_median_minutes: Decimal | None = strawberry.field(description="Median time to resolution.")
    first_response_sla_rate: Decimal | None = strawberry.field(
        description="Replies on time ÷ (replies on time + late or overdue) × 100."
    )
    resolution_sla_rate: Decimal | None = strawberry.field(
        description="Resolved on time ÷ (resolved on time + late or overdue) × 100."
    )


@strawberry.type(description="Support response and resolution times and SLA compliance.")
class SupportMetrics:
    overall: SupportFigures = strawberry.field(description="All tickets created in the period.")
    by_priority: list[SupportFigures] = strawberry.field(description="One entry per priority.")
    by_agent: list[SupportFigures] = strawberry.field(description="One entry per assignee (null: unassigned).")


@strawberry.type(description="Customer messages of a period on one channel (or all): sent, delivered, clicked.")
class MessageFigures:
    channel: str | None = strawberry.field(description="sms, viber, …; null for all channels together.")
    sent: int = strawberry.field(
        description="Messages the provider took for sending in the period (order messages, surveys, campaigns)."
    )
    delivered: int = strawberry.field(
        description="Of those, reported delivered by the provider, or clicked (a click proves it arrived)."
    )
    delivered_rate: Decimal | None = strawberry.field(description="Delivered ÷ sent × 100; null when none was sent.")
    clicked: int = strawberry.field(
        description="Of those, messages with at least one click on a tracked link (many clicks count once)."
    )
    click_rate: Decimal | None = strawberry.field(
        description="Clicked ÷ delivered × 100; null when none was delivered."
    )
    with_links: int = strawberry.field(
        description="Of the sent messages, those that carried at least one tracked link (only they can be clicked)."
    )


@strawberry.type(description="How customer messages reached customers and were clicked, in total and per channel.")
class MessageEngagement:
    total: MessageFigures = strawberry.field(description="All channels together.")
    by_channel: list[MessageFigures] = strawberry.field(description="One entry per channel that sent something.")
