"""The public opt-out page, ``/u/<token>``: the link every campaign message carries. Opening it
asks for a confirmation (a POST, so link previews in messengers never unsubscribe anyone);
confirming records the marketing opt-out. Same language rules and headers as the survey page."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.campaigns import service
from server.http import pages
from server.i18n import LOCALES, current_locale, use_locale
from server.surveys.pages import SECURITY_HEADERS

_env = pages.environment(Path(__file__).parent / "templates")


async def unsubscribe_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    message, organization = await service.find(token)
    chosen = request.query_params.get("lang")
    locale = chosen if chosen in LOCALES else (organization.locale if organization else current_locale())
    with use_locale(locale):
        if message is None:
            state, status = "unknown", 404
        elif request.method == "POST":
            await service.opt_out(token)
            state, status = "done", 200
        else:
            state, status = "ask", 200
        html = _env.get_template("unsubscribe.html").render(
            lang=current_locale(), locales=LOCALES, state=state, shop=organization.name if organization else ""
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
