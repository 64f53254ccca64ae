"""`GET /analytics/<metric>.csv?from=YYYY-MM-DD&to=YYYY-MM-DD[&source=&channel=&managerId=&pipelineId=&breakdown=]`:
the same figures as `analytics { ... }`, as CSV with a header row, for a spreadsheet.

Authenticated exactly like /graphql (bearer token, optional X-Organization) and computed by the
same functions under the caller's Scope, so the permissions and rows are the same."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.analytics import cohorts, engagement, funnel, ltv, metrics, metrics_settings, support
from server.analytics.metrics_schema import AnalyticsFilter, make_filter
from server.analytics.metrics_sql import Filter, Period, make_period
from server.auth import request as request_auth
from server.auth.scope import Scope
from server.core.errors import ErrorCode, Forbidden, PublicError, Unauthenticated, UserInputError
from server.core.text import spreadsheet_safe
from server.graphql.rate_limits import refuse_over_budget
from server.i18n import _

Rows = Iterable[list]


def _text(value) -> str:
    # Text someone typed (a source, a stage name) must not run as a spreadsheet formula; numbers,
    # negative ones included, stay numbers.
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return "" if value is None else str(value)


async def customers_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    s = await metrics_settings.current(scope)
    m = await metrics.customer_metrics(scope, period, flt, s.lost_after_days)
    rows = [
        ["orders", "", m.orders],
        ["customers_who_ordered", "", m.customers_who_ordered],
    ]
    for c in m.by_currency:
        rows += [
            ["revenue", c.currency, c.revenue.amount],
            ["average_order_value", c.currency, c.average_order_value.amount],
            ["revenue_per_customer", c.currency, c.revenue_per_customer.amount],
        ]
    for name in (
        "purchase_frequency",
        "repeat_purchase_rate",
        "customer_lifespan_days",
        "lost_after_days",
        "customers_at_start",
        "customers_at_end",
        "new_customers",
        "lost_customers",
        "retention_rate",
        "churn_rate",
    ):
        rows.append([name, "", getattr(m, name)])
    return ["metric", "currency", "value"], rows


async def cohorts_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    rows = []
    for c in await cohorts.cohorts(scope, period, flt):
        for cell in c.months:
            for revenue in cell.revenue or [None]:
                rows.append(
                    [
                        c.month,
                        c.customers,
                        cell.offset,
                        cell.month,
                        cell.customers,
                        cell.share,
                        revenue.currency if revenue else "",
                        revenue.amount if revenue else "",
                    ]
                )
    header = ["cohort_month", "cohort_customers", "month_offset", "month", "customers", "share_percent"]
    return [*header, "currency", "revenue"], rows


async def ltv_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    s = await metrics_settings.current(scope)
    report = await ltv.ltv_report(scope, period, flt, s)
    rows = [
        [v.formula.value, v.currency, v.amount, "yes" if v.formula.value == s.ltv_formula else "no"]
        for v in report.by_formula
    ]
    return ["formula", "currency", "ltv", "chosen"], rows


async def acquisition_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    s = await metrics_settings.current(scope)
    report = await ltv.ltv_report(scope, period, flt, s)
    rows = [
        [
            r.source,
            r.currency,
            r.new_customers,
            r.acquisition_cost.amount,
            r.cac.amount if r.cac else None,
            r.ltv.amount if r.ltv else None,
            r.ltv_to_cac,
        ]
        for r in report.by_source
    ]
    return ["source", "currency", "new_customers", "acquisition_cost", "cac", "ltv", "ltv_to_cac"], rows


async def funnel_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    breakdown = request.query_params.get("breakdown", "none").lower()
    if breakdown not in funnel.GROUPS:
        raise UserInputError(ErrorCode.INVALID, _("breakdown is one of: none, source, manager."), "breakdown")
    rows = []
    for g in await funnel.funnel(scope, period, flt, breakdown):
        for st in g.stages:
            rows.append(
                [
                    g.pipeline,
                    g.source,
                    g.manager_id,
                    g.deals,
                    g.won,
                    g.lost,
                    g.win_rate,
                    g.average_sales_cycle_days,
                    st.name,
                    st.kind,
                    st.reached,
                    st.conversion_to_next,
                    st.average_days_in_stage,
                ]
            )
    header = ["pipeline", "source", "manager_id", "deals", "won", "lost", "win_rate", "average_sales_cycle_days"]
    return [*header, "stage", "stage_kind", "reached", "conversion_to_next", "average_days_in_stage"], rows


async def support_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    m = await support.support_metrics(scope, period)
    groups = [("all", None, m.overall)]
    groups += [("priority", f.priority, f) for f in m.by_priority]
    groups += [("agent", f.agent_id, f) for f in m.by_agent]
    rows = [
        [
            dim,
            key,
            f.tickets,
            f.first_response_mean_minutes,
            f.first_response_median_minutes,
            f.resolution_mean_minutes,
            f.resolution_median_minutes,
            f.first_response_sla_rate,
            f.resolution_sla_rate,
        ]
        for dim, key, f in groups
    ]
    header = ["group", "key", "tickets", "first_response_mean_minutes", "first_response_median_minutes"]
    header += ["resolution_mean_minutes", "resolution_median_minutes", "first_response_sla_percent"]
    return [*header, "resolution_sla_percent"], rows


async def messages_csv(scope: Scope, period: Period, flt: Filter, request: Request) -> tuple[list[str], Rows]:
    m = await engagement.message_engagement(scope, period, flt)
    rows = [
        [f.channel or "all", f.sent, f.delivered, f.delivered_rate, f.clicked, f.click_rate, f.with_links]
        for f in [m.total, *m.by_channel]
    ]
    header = ["channel", "sent", "delivered", "delivered_rate_percent", "clicked", "click_rate_percent"]
    return [*header, "with_links"], rows


Export = Callable[[Scope, Period, Filter, Request], Awaitable[tuple[list[str], Rows]]]
EXPORTS: dict[str, Export] = {
    "customers": customers_csv,
    "cohorts": cohorts_csv,
    "ltv": ltv_csv,
    "acquisition": acquisition_csv,
    "funnel": funnel_csv,
    "support": support_csv,
    "messages": messages_csv,
}


def _day(request: Request, name: str) -> date:
    value = request.query_params.get(name)
    try:
        return date.fromisoformat(value or "")
    except ValueError as exc:
        raise UserInputError(ErrorCode.INVALID, _("Give %(name)s as a date, YYYY-MM-DD.", name=name), name) from exc


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    return JSONResponse(body, status_code=status)


async def download(request: Request) -> Response:
    export = EXPORTS.get(request.path_params["metric"])
    if export is None:
        return _error(404, "NOT_FOUND", _("No such metric. Try: %(names)s.", names=", ".join(EXPORTS)))
    principal, token, auth_error = await request_auth.principal_for(request)
    scope = Scope(principal)
    try:
        if auth_error is not None:
            raise auth_error
        scope.organization  # noqa: B018 - unauthenticated callers stop here
        scope.require("data:export")  # a CSV download is a special right (docs/roles.md)
        refused = await refuse_over_budget(request, principal, token)
        if refused is not None:
            return refused
        flt = await make_filter(
            scope,
            AnalyticsFilter(
                source=request.query_params.get("source"),
                channel=request.query_params.get("channel"),
                manager_id=request.query_params.get("managerId"),
                pipeline_id=request.query_params.get("pipelineId"),
                segment_id=request.query_params.get("segmentId"),
            ),
        )
        period = make_period(_day(request, "from"), _day(request, "to"), scope.organization.timezone)
        header, rows = await export(scope, period, flt, request)
    except Unauthenticated as exc:
        return _error(401, exc.code, exc.message)
    except Forbidden as exc:
        return _error(403, exc.code, exc.message)
    except PublicError as exc:
        return _error(400, exc.code, exc.message)
    except UserInputError as exc:
        return _error(400, exc.code.value, exc.message, exc.field)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_text(v) for v in row] for row in rows)
    name = f"{request.path_params['metric']}-{period.first}-{period.last}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
