"""What campaigns achieved, per step and message variant: sent, delivered (from the
notifications' statuses, or a click: it proves the message arrived), clicked (a tracked link in
the message opened at least once, server/clicks), converted (the customer ordered within the conversion window after
the message) and the revenue of those orders; and whether one variant's conversion is better
than another's by more than chance (a two-proportion z-test, docs/campaigns.md). The counts come
from one aggregate statement in the database, whatever the number of messages."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import NormalDist

from server.analytics.figures import CANCELLED_GROUP
from server.analytics.metrics_sql import cents_to_money, dialect, fetch
from server.auth.scope import Scope
from server.campaigns.models import Campaign, CampaignStep
from server.campaigns.service import ensure_defaults, settings_of
from server.i18n import N_, gettext
from server.organizations.models import Organization

SIGNIFICANCE = 0.05  # a difference this unlikely by chance (5%) counts as real
MIN_MESSAGES = 30  # fewer sent messages per variant: too early to tell


@dataclass
class Counts:
    key: str
    sent: int = 0
    delivered: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: Decimal = Decimal("0.00")

    @property
    def conversion(self) -> float | None:
        return self.converted / self.sent if self.sent else None


@dataclass
class StepResult:
    step: CampaignStep
    total: Counts
    variants: list[Counts]
    p_value: float | None = None
    verdict: str = ""


@dataclass
class CampaignResult:
    campaign: Campaign
    currency: str
    total: Counts
    steps: list[StepResult] = field(default_factory=list)


def two_proportion_p(converted_a: int, sent_a: int, converted_b: int, sent_b: int) -> float | None:
    """Two-sided p-value of "both variants convert at the same rate": the pooled rate p gives the
    standard error sqrt(p(1-p)(1/na + 1/nb)); z = (pa - pb) / se; p = 2 (1 - Phi(|z|))."""
    if not sent_a or not sent_b:
        return None
    pooled = (converted_a + converted_b) / (sent_a + sent_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / sent_a + 1 / sent_b))
    if error == 0:
        return 1.0
    z = (converted_a / sent_a - converted_b / sent_b) / error
    return 2 * (1 - NormalDist().cdf(abs(z)))


def verdict(variants: list[Counts]) -> tuple[float | None, str]:
    """The best variant against the worst, in plain words (in the current locale)."""
    if len(variants) < 2:
        return None, ""
    ranked = sorted(variants, key=lambda v: (v.conversion or 0.0, v.key), reverse=True)
    best, worst = ranked[0], ranked[-1]
    if min(v.sent for v in variants) < MIN_MESSAGES:
        return None, gettext(N_("Too early to tell: each variant needs at least %(n)s sent messages."), n=MIN_MESSAGES)
    p = two_proportion_p(best.converted, best.sent, worst.converted, worst.sent)
    params = {
        "best": best.key,
        "worst": worst.key,
        "best_rate": f"{(best.conversion or 0) * 100:.1f}%",
        "worst_rate": f"{(worst.conversion or 0) * 100:.1f}%",
        "p": f"{p:.3f}",
    }
    if p < SIGNIFICANCE:
        text = N_(
            "Variant %(best)s converts better than %(worst)s (%(best_rate)s against %(worst_rate)s), and the "
            "difference is more than chance (p = %(p)s): use %(best)s."
        )
    else:
        text = N_(
            "Variant %(best)s converts at %(best_rate)s and %(worst)s at %(worst_rate)s, but the difference "
            "could be chance (p = %(p)s): keep testing or pick either."
        )
    return p, gettext(text, **params)


# Per step and variant: messages that went out (a notification of theirs was sent or
# delivered), delivered ones (a delivery report, or a click: it proves the message arrived),
# clicked ones (a tracked link opened, server/clicks), converted ones (an order counted like every figure:
# not deleted, not cancelled, in the organization's currency, after the message and within the
# window) and those orders' revenue: each message counts the orders in its own window.
_COUNTS_SQL = """
WITH msg AS (
    SELECT m.id, m.step_id, m.variant, m.account_id, m.sent_at,
           MAX(CASE WHEN n.state = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           MAX(CASE WHEN EXISTS (SELECT 1 FROM tracked_link t WHERE t.campaign_message_id = m.id
                                 AND t.organization_id = :org AND t.clicks > 0) THEN 1 ELSE 0 END) AS clicked
    FROM campaign_message m
    JOIN notification n ON n.source_event_id = m.id AND n.organization_id = :org
                       AND n.state IN ('sent', 'delivered')
    WHERE m.organization_id = :org AND m.sent_at IS NOT NULL
    GROUP BY m.id, m.step_id, m.variant, m.account_id, m.sent_at
),
conv AS (
    SELECT msg.id, SUM(ROUND(o.total * 100)) AS cents
    FROM msg
    JOIN "order" o ON o.account_id = msg.account_id AND o.organization_id = :org AND o.deleted_at IS NULL
                  AND o.currency = :currency AND o.created_at > msg.sent_at AND {within}
    JOIN order_status st ON st.id = o.status_id AND st."group" <> :cancelled
    GROUP BY msg.id
)
SELECT msg.step_id, msg.variant, COUNT(*) AS sent,
       SUM(CASE WHEN msg.delivered = 1 OR msg.clicked = 1 THEN 1 ELSE 0 END) AS delivered,
       SUM(msg.clicked) AS clicked, COUNT(conv.id) AS converted, SUM(conv.cents) AS cents
FROM msg LEFT JOIN conv ON conv.id = msg.id
GROUP BY msg.step_id, msg.variant
"""


async def _counts(organization: Organization, window_days: int) -> dict[tuple[str, str], Counts]:
    """(step id as text, variant) -> its counts, from one aggregate statement."""
    within = dialect().within_days("o.created_at", "msg.sent_at", "window_days")
    rows = await fetch(
        _COUNTS_SQL.format(within=within),
        {
            "org": organization.id,
            "currency": organization.currency,
            "cancelled": CANCELLED_GROUP,
            "window_days": window_days,
        },
    )
    return {
        (str(r["step_id"]), r["variant"]): Counts(
            r["variant"],
            sent=int(r["sent"]),
            delivered=int(r["delivered"] or 0),
            clicked=int(r["clicked"] or 0),
            converted=int(r["converted"]),
            revenue=cents_to_money(r["cents"]),
        )
        for r in rows
    }


async def results(scope: Scope, kind: str | None = None) -> list[CampaignResult]:
    scope.require("analytics:read")
    organization = await Organization.get(id=scope.organization_id)
    options = await settings_of(organization.id)
    campaigns = [c for c in await ensure_defaults(organization.id) if kind is None or c.kind == kind]
    steps = await CampaignStep.filter(campaign_id__in=[c.id for c in campaigns]).order_by("position")
    counts = await _counts(organization, options.conversion_window_days)
    out = []
    for campaign in campaigns:
        result = CampaignResult(campaign, organization.currency, Counts("all"))
        for step in (s for s in steps if s.campaign_id == campaign.id):
            keys = [v["key"] for v in step.variants] or ["A"]
            variants = [counts.get((str(step.id), k), Counts(k)) for k in keys]
            total = _sum("all", variants)
            p, text = verdict(variants)
            result.steps.append(StepResult(step, total, variants, p, text))
        result.total = _sum("all", [s.total for s in result.steps])
        out.append(result)
    return out


def _sum(key: str, parts: list[Counts]) -> Counts:
    return Counts(
        key,
        sum(p.sent for p in parts),
        sum(p.delivered for p in parts),
        sum(p.clicked for p in parts),
        sum(p.converted for p in parts),
        sum((p.revenue for p in parts), Decimal("0.00")),
    )
