"""The owner's report, ``/reports``: a read-only page per organization, server-rendered, its
charts inline SVG (server/reports/charts.py), no script and nothing fetched from elsewhere.

Who: a member whose role has ``analytics:read``. A person signs in at ``/reports/login``, which
issues an ordinary session token (server/auth/tokens.py) into a Secure, HttpOnly,
SameSite=Strict cookie; a script sends ``Authorization: Bearer`` instead. Both POST forms
(sign-in, sign-out) also carry a token signed with the server's secret key over a random value
kept in a cookie, so a form posted from another site fails even where SameSite is not honoured.

Language: ``?lang=uk|en``, else the browser's Accept-Language (server/i18n/asgi.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.analytics.rfm import GROUPS
from server.auth import principal as principals
from server.auth import request as request_auth
from server.auth import service as auth_service
from server.auth import tokens
from server.auth.models import Membership
from server.auth.scope import Scope
from server.auth.throttle import LoginThrottle
from server.config import Settings
from server.core.errors import ErrorCode, PublicError, UserInputError
from server.graphql.rate_limits import refuse_over_budget
from server.i18n import LOCALES, current_locale, gettext, ngettext, use_locale
from server.reports import charts, report

SESSION_COOKIE = "crm_report_session"
CSRF_COOKIE = "crm_report_csrf"
MAX_FORM_BYTES = 8_192
STYLESHEET = (Path(__file__).parent / "templates" / "report.css").read_text()
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
SECURITY_HEADERS = {
    # Nothing from anywhere else, no script; the one stylesheet is inline, allowed by its hash.
    "Content-Security-Policy": f"default-src 'self'; script-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _throttle(request: Request) -> LoginThrottle:
    # The app's one login throttle: sign-ins here, in GraphQL and on the OAuth consent page count together.
    return request.app.state.login_throttle


def _render(name: str, status: int = 200, **context) -> HTMLResponse:
    html = _env.get_template(name).render(lang=current_locale(), locales=LOCALES, stylesheet=STYLESHEET, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LOCALES else current_locale()


# -- CSRF: a random value in a cookie, and the form's copy of it signed with the secret key --


def _sign(settings: Settings, purpose: str, value: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _csrf_value(request: Request) -> tuple[str, bool]:
    value = request.cookies.get(CSRF_COOKIE, "")
    if len(value) >= 32:
        return value, False
    return secrets.token_urlsafe(32), True


def _csrf_ok(request: Request, purpose: str, form: dict[str, str]) -> bool:
    value = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf", "")
    return len(value) >= 32 and hmac.compare_digest(given, _sign(_settings(request), purpose, value))


def _with_csrf_cookie(response: Response, value: str, fresh: bool) -> Response:
    if fresh:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, secure=True, samesite="strict", path="/reports")
    return response


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            break
    values = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    return {key: items[0] for key, items in values.items()}


# -- sign in and out ---------------------------------------------------------------------


def _login_page(request: Request, error: str | None = None, email: str = "", status: int = 200) -> Response:
    value, fresh = _csrf_value(request)
    page = _render(
        "report_login.html",
        status,
        error=error,
        email=email,
        csrf=_sign(_settings(request), "login", value),
        query=urlencode({"lang": current_locale()}),
    )
    return _with_csrf_cookie(page, value, fresh)


async def login_page(request: Request) -> Response:
    with use_locale(_lang(request)):
        if request.method == "GET":
            return _login_page(request)
        form = await _form(request)
        email = form.get("email", "").strip()
        if not _csrf_ok(request, "login", form):
            return _login_page(request, gettext("The form has expired. Please sign in again."), email, 403)
        settings = _settings(request)
        address = request.client.host if request.client else None
        try:
            token = await auth_service.login(
                email, form.get("password", ""), settings.token_ttl_hours, _throttle(request), address
            )
        except UserInputError as exc:
            if exc.code == ErrorCode.RATE_LIMITED:
                message = gettext("Too many failed sign-in attempts. Please try again later.")
                return _login_page(request, message, email, 429)
            return _login_page(request, gettext("Wrong e-mail or password."), email, 401)
        response = RedirectResponse("/reports?" + urlencode({"lang": current_locale()}), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=settings.token_ttl_hours * 3600,
            httponly=True,
            secure=True,  # browsers keep Secure cookies from http://127.0.0.1 too
            samesite="strict",
            path="/reports",
        )
        return response


async def logout(request: Request) -> Response:
    with use_locale(_lang(request)):
        form = await _form(request)
        token = request.cookies.get(SESSION_COOKIE)
        if not _csrf_ok(request, "logout", form):
            return _render("report_message.html", 403, message=gettext("The form has expired. Please try again."))
        if token:
            await tokens.revoke(token)
        response = RedirectResponse("/reports/login?" + urlencode({"lang": current_locale()}), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/reports", secure=True, httponly=True, samesite="strict")
        return response


# -- the report --------------------------------------------------------------------------


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserInputError(
            ErrorCode.INVALID, gettext("Give the date as YYYY-MM-DD: %(value)s", value=value), name
        ) from None


async def report_page(request: Request) -> Response:
    with use_locale(_lang(request)):
        token = request_auth.bearer(request) or request.cookies.get(SESSION_COOKIE)
        user = await tokens.user_for(token) if token else None
        if user is None:
            if request_auth.bearer(request):
                return _render("report_message.html", 401, message=gettext("Your session has ended. Sign in again."))
            return RedirectResponse("/reports/login?" + urlencode({"lang": current_locale()}), status_code=303)
        chosen = request.query_params.get("org") or request.headers.get("x-organization")
        memberships = await (
            Membership.filter(user=user, is_active=True).select_related("organization").order_by("organization__name")
        )
        organizations = [(m.organization.slug, m.organization.name) for m in memberships]
        common = {"user": user, "organizations": organizations, "csrf": _logout_csrf(request)}
        try:
            principal = await principals.for_user(user, chosen)
        except PublicError:
            return _page(
                request,
                "report_message.html",
                403,
                message=gettext("You are not a member of that organization."),
                **common,
            )
        if principal.organization is None:
            return _page(request, "report_message.html", 200, message=gettext("Choose an organization."), **common)
        scope = Scope(principal)
        if not scope.can("analytics:read"):
            message = gettext("Your role does not allow reading the reports. Ask an owner or admin.")
            return _page(request, "report_message.html", 403, message=message, org=principal.organization, **common)
        refused = await refuse_over_budget(request, principal, token)
        if refused is not None:
            return refused
        organization = principal.organization
        try:
            period, previous = report.periods(
                _date(request.query_params.get("from"), "from"),
                _date(request.query_params.get("to"), "to"),
                report.today_in(organization.timezone),
                organization.timezone,
            )
        except UserInputError as exc:
            return _page(request, "report_message.html", 400, message=exc.message, org=organization, **common)
        figures = await report.build(scope, period, previous)
        return _page(request, "report.html", 200, org=organization, r=figures, view=_view(figures), **common)


def _logout_csrf(request: Request) -> tuple[str, str, bool]:
    value, fresh = _csrf_value(request)
    return value, _sign(_settings(request), "logout", value), fresh


def _page(request: Request, name: str, status: int, *, csrf, org=None, **context) -> Response:
    value, signed, fresh = csrf
    params = {"lang": current_locale()}
    if org is not None:
        params["org"] = org.slug
    for key in ("from", "to"):
        if request.query_params.get(key):
            params[key] = request.query_params[key]
    switch = {code: urlencode({**params, "lang": code}) for code in LOCALES}
    response = _render(name, status, csrf=signed, org=org, params=params, switch=switch, **context)
    return _with_csrf_cookie(response, value, fresh)


# -- what the page shows: numbers written for the reader, charts --------------------------


def _number(value, kind: str, currency: str) -> str:
    locale = current_locale()
    if value is None:
        return "—"
    if kind == "money":
        return format_currency(round(value), currency, locale=locale, format="#,##0 ¤", currency_digits=False)
    if kind == "percent":
        return format_decimal(round(float(value), 1), locale=locale) + "%"
    return format_decimal(round(float(value), 1), locale=locale)


def _change(figure: report.KeyFigure) -> tuple[str, str]:
    """(text, direction) of a change: "+12,5%" for counts and money, "+3,1 pp" for rates."""
    change = figure.change
    if change is None:
        return "—", "same"
    sign = "+" if change > 0 else ""
    text = sign + format_decimal(change, locale=current_locale())
    text += gettext(" pp") if figure.kind in ("percent", "score") else "%"
    return text, "up" if change > 0 else "down" if change < 0 else "same"


def _month(day: date) -> str:
    return format_date(day, "LLL yyyy", locale=current_locale())


def _view(r: report.Report) -> dict:
    """Everything the template shows, already worded: key figures, charts and their tables."""
    locale = current_locale()
    key = []
    for figure in r.key_figures:
        text, direction = _change(figure)
        key.append(
            {
                "name": gettext(figure.name),
                "now": _number(figure.now, figure.kind, r.currency),
                "before": _number(figure.before, figure.kind, r.currency),
                "change": text,
                "direction": direction,
            }
        )
    # Cohort heatmap: a row per cohort month, a column per month after it.
    offsets = max((len(c.months) for c in r.cohorts), default=0)
    cohort_rows = [_month(c.month) for c in r.cohorts]
    cohort_cells = [
        [float(m.share) if m.share is not None else None for m in c.months] + [None] * (offsets - len(c.months))
        for c in r.cohorts
    ]
    columns = [str(i) for i in range(offsets)]
    heatmap = (
        charts.heatmap(
            gettext("Cohort retention"),
            gettext("Share of each month's new customers who ordered again 0, 1, 2… months later, in percent."),
            cohort_rows,
            columns,
            cohort_cells,
        )
        if r.cohorts
        else None
    )
    sizes = [(gettext(GROUPS[code]), n) for code, n in r.rfm_sizes.items()]
    rfm = (
        charts.bar_chart(gettext("Customers by RFM group"), gettext("Customers in each RFM group now."), sizes)
        if any(n for _, n in sizes)
        else None
    )
    moves = sorted(
        ((gettext(GROUPS[a]), gettext(GROUPS[b]), n) for (a, b), n in r.rfm_moves.items()), key=lambda m: -m[2]
    )
    moves_chart = (
        charts.bar_chart(
            gettext("RFM group moves"),
            gettext("Customers who moved from one RFM group to another in the period."),
            [(f"{a} → {b}", n) for a, b, n in moves[:12]],
        )
        if moves
        else None
    )
    funnels = [
        {
            "name": g.pipeline,
            "group": g,
            "win_rate": _number(g.win_rate, "percent", r.currency),
            "svg": charts.funnel(
                gettext("Deal funnel: %(pipeline)s", pipeline=g.pipeline),
                gettext("Deals created in the period that reached each stage."),
                [(s.name, s.reached) for s in g.stages],
            ),
        }
        for g in r.funnel
    ]
    trend_labels = [
        format_date(t.day, "d MMM" if r.trend_unit == "week" else "LLL yyyy", locale=locale) for t in r.trend
    ]
    trend = (
        charts.line_chart(
            gettext("NPS and CSAT"),
            gettext("NPS (from −100 to 100) and CSAT (share of satisfied answers, percent) by week or month."),
            trend_labels,
            [(gettext("NPS"), [t.nps for t in r.trend]), (gettext("CSAT"), [t.csat for t in r.trend])],
            low=-100,
            high=100,
        )
        if r.trend
        else None
    )
    return {
        "key": key,
        "period": (format_date(r.period.first, locale=locale), format_date(r.period.last, locale=locale)),
        "previous": (format_date(r.previous.first, locale=locale), format_date(r.previous.last, locale=locale)),
        "heatmap": heatmap,
        "cohorts": list(zip(cohort_rows, r.cohorts, cohort_cells, strict=True)),
        "offsets": columns,
        "rfm": rfm,
        "sizes": sizes,
        "moves_chart": moves_chart,
        "moves": moves,
        "funnels": funnels,
        "trend": trend,
        "trend_rows": list(zip(trend_labels, r.trend, strict=True)),
        "campaigns": r.campaigns,
        "campaign_names": {
            "winback": gettext("Win-back"),
            "birthday": gettext("Birthday greetings"),
            "review": gettext("Review request"),
        },
        "fmt": lambda v, kind="count": _number(v, kind, r.currency),
    }
