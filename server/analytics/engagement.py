"""Message engagement of a period: how many customer messages went out, reached the customer and
had a link opened, per channel (docs/analytics.md, "Message engagement").

- *sent*: notifications (order messages, surveys, campaigns) the provider took, whose sending
  time (``sent_at``) is in the period; a message that fell back to another channel counts on
  each channel it went out on;
- *delivered*: of those, the ones the provider reported delivered, or that the customer clicked
  (a click proves the message arrived, also when the provider never sent a report);
- *clicked*: of those, the ones with at least one click on a tracked link (at any time up to
  now); several clicks on one message count once;
- *delivered rate* = delivered ÷ sent × 100; *click rate* = clicked ÷ delivered × 100.

Row scope: a message belongs to its order's manager, or (no order: surveys of tickets,
campaigns) to the customer's owner. The acquisition-source and manager filters apply that way;
the sales-channel and pipeline filters are about orders and deals and do not apply."""

from __future__ import annotations

from server.analytics.metrics_sql import Filter, Period, Where, fetch, owner_filter
from server.analytics.metrics_types import MessageEngagement, MessageFigures, rate
from server.auth.scope import Scope

OWNER = "COALESCE(o.manager_id, a.owner_id)"
FIGURES = ("sent", "delivered", "clicked", "with_links")


def _where(scope: Scope, period: Period, flt: Filter) -> Where:
    where = Where().add("n.organization_id = :org", org=scope.organization_id)
    where.add("n.sent_at >= :start AND n.sent_at < :end", start=period.start, end=period.end)
    owner_filter(scope, OWNER, where)
    if flt.source is not None:
        where.add("a.source = :f_source", f_source=flt.source)
    if flt.manager_id is not None:
        where.add(f"{OWNER} = :f_manager", f_manager=flt.manager_id)
    flt.accounts("n.account_id", where)
    return where


async def channel_rows(scope: Scope, period: Period, flt: Filter) -> list[dict]:
    """Per channel: sent, delivered, clicked and with_links (messages that carried a tracked link)."""
    where = _where(scope, period, flt)
    return await fetch(
        f"""WITH msg AS (
              SELECT n.channel AS channel, n.state AS state,
                     CASE WHEN EXISTS (SELECT 1 FROM tracked_link l WHERE l.notification_id = n.id AND l.clicks > 0)
                          THEN 1 ELSE 0 END AS clicked,
                     CASE WHEN EXISTS (SELECT 1 FROM tracked_link l WHERE l.notification_id = n.id)
                          THEN 1 ELSE 0 END AS with_links
              FROM notification n
              LEFT JOIN "order" o ON o.id = n.order_id
              LEFT JOIN account a ON a.id = n.account_id
              WHERE {where.sql})
            SELECT channel, COUNT(*) AS sent,
                   SUM(CASE WHEN state = 'delivered' OR clicked = 1 THEN 1 ELSE 0 END) AS delivered,
                   SUM(clicked) AS clicked, SUM(with_links) AS with_links
            FROM msg GROUP BY channel ORDER BY channel""",
        where.params,
    )


def figures(channel: str | None, counts: dict) -> MessageFigures:
    sent, delivered, clicked = (int(counts[k] or 0) for k in ("sent", "delivered", "clicked"))
    return MessageFigures(
        channel=channel,
        sent=sent,
        delivered=delivered,
        delivered_rate=rate(delivered, sent),
        clicked=clicked,
        click_rate=rate(clicked, delivered),
        with_links=int(counts["with_links"] or 0),
    )


async def message_engagement(scope: Scope, period: Period, flt: Filter) -> MessageEngagement:
    scope.require("analytics:read")
    scope.require("orders:read")
    rows = await channel_rows(scope, period, flt)
    # Each message is on one channel, so the channels' counts add up to the whole.
    total = {k: sum(int(r[k] or 0) for r in rows) for k in FIGURES}
    return MessageEngagement(total=figures(None, total), by_channel=[figures(r["channel"], r) for r in rows])
