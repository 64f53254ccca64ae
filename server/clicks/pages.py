"""``GET /c/<token>``: a tracked link from a message. Known: a redirect to the address stored
when the message was sent (never one taken from the request) and the click counted; unknown:
a small page saying so, in the customer's language (Accept-Language, or ``?lang=uk|en``).

Link previews (a messenger fetching the page to show a card) and HEAD requests are redirected
without counting, so a click is a person opening the link as far as the User-Agent tells."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.clicks import service
from server.http import pages
from server.i18n import LOCALES, current_locale, use_locale
from server.surveys.pages import SECURITY_HEADERS

# User-Agents of the services that fetch a link to preview it (lower case, substrings).
PREVIEW_AGENTS = (
    "facebookexternalhit",
    "telegrambot",
    "twitterbot",
    "slackbot",
    "discordbot",
    "whatsapp",
    "skypeuripreview",
    "linkedinbot",
    "googlebot",
    "bingbot",
)
REDIRECT_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}

_env = pages.environment(Path(__file__).parent / "templates")


def is_preview(request: Request) -> bool:
    agent = request.headers.get("user-agent", "").lower()
    return request.method != "GET" or any(name in agent for name in PREVIEW_AGENTS)


async def follow(request: Request) -> Response:
    token = request.path_params["token"]
    url = await (service.where_to(token) if is_preview(request) else service.click(token))
    if url is not None:
        # 302: browsers and messengers follow it with a GET; no-store so each opening reaches us.
        return RedirectResponse(url, status_code=302, headers=REDIRECT_HEADERS)
    chosen = request.query_params.get("lang")
    with use_locale(chosen if chosen in LOCALES else current_locale()):
        html = _env.get_template("link_unknown.html").render(lang=current_locale(), locales=LOCALES)
    return HTMLResponse(html, status_code=404, headers=SECURITY_HEADERS)
