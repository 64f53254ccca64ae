"""What campaigns achieved, per step and message variant: sent, delivered (from the
notifications' statuses, or a click: it proves the message arrived), clicked (a tracked link in
the message opened at least once, server/clicks), converted (the customer ordered within the conversion window after
the message) and the revenue of those orders; and whether one variant's conversion is better
than another's by more than chance (a two-proportion z-test, docs/campaigns.md)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import NormalDist
from uuid import UUID

from server.analytics.figures import counted_orders
from server.auth.scope import Scope
from server.campaigns.models import Campaign, CampaignMessage, CampaignStep
from server.campaigns.service import ensure_defaults, settings_of
from server.clicks.models import TrackedLink
from server.i18n import N_, gettext
from server.notifications.models import Notification
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


async def results(scope: Scope, kind: str | None = None) -> list[CampaignResult]:
    scope.require("analytics:read")
    organization = await Organization.get(id=scope.organization_id)
    options = await settings_of(organization.id)
    window = timedelta(days=options.conversion_window_days)
    campaigns = [c for c in await ensure_defaults(organization.id) if kind is None or c.kind == kind]
    steps = await CampaignStep.filter(campaign_id__in=[c.id for c in campaigns]).order_by("position")
    messages = await CampaignMessage.filter(
        organization_id=organization.id, step_id__in=[s.id for s in steps], sent_at__not_isnull=True
    ).values("id", "step_id", "variant", "account_id", "sent_at")
    states: dict[UUID, set[str]] = defaultdict(set)
    for row in await Notification.filter(
        organization_id=organization.id, source_event_id__in=[m["id"] for m in messages]
    ).values("source_event_id", "state"):
        states[row["source_event_id"]].add(row["state"])
    clicked = set(
        await TrackedLink.filter(
            organization_id=organization.id, campaign_message_id__in=[m["id"] for m in messages], clicks__gt=0
        )
        .distinct()
        .values_list("campaign_message_id", flat=True)
    )
    orders: dict[UUID, list[tuple[datetime, Decimal]]] = defaultdict(list)
    if messages:
        since = min(_dt(m["sent_at"]) for m in messages)
        for row in (
            await counted_orders(organization.id)
            .filter(
                account_id__in=list({m["account_id"] for m in messages}),
                created_at__gt=since,
                currency=organization.currency,
            )
            .values("account_id", "created_at", "total")
        ):
            orders[row["account_id"]].append((_dt(row["created_at"]), Decimal(str(row["total"]))))
    counts: dict[tuple[UUID, str], Counts] = {}
    for message in messages:
        got = states.get(message["id"], set())
        if not got & {"sent", "delivered"}:
            continue
        c = counts.setdefault((message["step_id"], message["variant"]), Counts(message["variant"]))
        c.sent += 1
        c.clicked += message["id"] in clicked
        c.delivered += "delivered" in got or message["id"] in clicked
        sent_at = _dt(message["sent_at"])
        following = [total for at, total in orders[message["account_id"]] if sent_at < at <= sent_at + window]
        if following:
            c.converted += 1
            c.revenue += sum(following, Decimal("0.00"))
    out = []
    for campaign in campaigns:
        result = CampaignResult(campaign, organization.currency, Counts("all"))
        for step in (s for s in steps if s.campaign_id == campaign.id):
            keys = [v["key"] for v in step.variants] or ["A"]
            variants = [counts.get((step.id, k), Counts(k)) for k in keys]
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


def _dt(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
