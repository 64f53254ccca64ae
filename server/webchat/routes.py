"""The web chat's public side, under ``/chat/``: the page a shop shows in an iframe, its script,
and the small JSON API the page calls (same origin, so no CORS is needed).

- ``GET /chat/<key>``: the chat page (in the organization's language, or ``?lang=``);
- ``POST /chat/<key>/start`` ``{"name"}``: a visitor's token, kept by the page;
- ``POST /chat/<key>/messages`` ``{"text", "clientId"}`` with ``Authorization: Bearer <token>``;
- ``GET /chat/<key>/messages`` with the token: the visitor's own conversation.

Errors are ``{"error": {"code", "message"}}`` (``UserInputError``'s code and text)."""

from __future__ import annotations

from pathlib import Path

from limits import parse
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from server.core.errors import UserInputError
from server.http import pages
from server.http.body import BadJSON, BodyTooLarge, loads, read_body
from server.i18n import LOCALES, _, current_locale, use_locale
from server.webchat import service
from server.webchat.models import WebChatWidget

_env = pages.environment(Path(__file__).parent / "templates")
SCRIPT = Path(__file__).parent / "static" / "webchat.js"
BODY_MAX = 16_384
# Per browser address: a page load starts at most a chat; sends are a person typing.
STARTS = parse("20/hour")
SENDS = parse("30/minute")
READS = parse("120/minute")

_PLAIN_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _page_headers(widget: WebChatWidget | None) -> dict[str, str]:
    ancestors = " ".join(widget.allowed_origins) if widget and widget.allowed_origins else "'self'"
    return {
        **_PLAIN_HEADERS,
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        f"connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}",
    }


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=_PLAIN_HEADERS)


def _unavailable() -> JSONResponse:
    return _error(404, "NOT_FOUND", _("This chat is not available."))


async def _over_limit(request: Request, item, what: str) -> bool:
    throttle = getattr(request.app.state, "login_throttle", None)
    if throttle is None:
        return False
    address = request.client.host if request.client else "unknown"
    return not await throttle.limiter.hit(item, "webchat", what, address)


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def _json(request: Request) -> dict:
    data = loads(await read_body(request, BODY_MAX) or b"{}")
    if not isinstance(data, dict):
        raise BadJSON("The body must be a JSON object.")
    return data


async def page(request: Request) -> Response:
    key = request.path_params["key"]
    try:
        widget, organization = await service.open_widget(key)
    except service.ChatUnavailable:
        widget, organization = None, None
    chosen = request.query_params.get("lang")
    locale = chosen if chosen in LOCALES else (organization.locale if organization else current_locale())
    with use_locale(locale):
        html = _env.get_template("webchat.html").render(
            lang=current_locale(),
            locales=LOCALES,
            available=widget is not None,
            key=key if widget else "",
            title=(widget.title if widget else "") or (organization.name if organization else ""),
            greeting=widget.greeting if widget else "",
        )
    return HTMLResponse(html, status_code=200 if widget else 404, headers=_page_headers(widget))


async def script(request: Request) -> Response:
    return FileResponse(SCRIPT, media_type="text/javascript", headers=_PLAIN_HEADERS)


async def start(request: Request) -> Response:
    if await _over_limit(request, STARTS, "start"):
        return _error(429, "RATE_LIMITED", _("Too many chats from this address. Try again later."))
    try:
        data = await _json(request)
        name = data.get("name")
        token, _visitor = await service.start(request.path_params["key"], name if isinstance(name, str) else None)
    except service.ChatUnavailable:
        return _unavailable()
    except (BadJSON, BodyTooLarge) as exc:
        return _error(400, "BAD_REQUEST", str(exc))
    return JSONResponse({"token": token}, status_code=201, headers=_PLAIN_HEADERS)


def _shown(message) -> dict:
    return {
        "id": str(message.id),
        "direction": message.direction,
        "text": message.text,
        "state": message.state,
        "createdAt": message.created_at.isoformat(),
        # An agent is shown by name only; the bot or a nameless member as the shop.
        "author": (message.author.name if message.direction == "out" and message.author else ""),
    }


async def messages(request: Request) -> Response:
    key, token = request.path_params["key"], _token(request)
    if request.method == "GET":
        if await _over_limit(request, READS, "read"):
            return _error(429, "RATE_LIMITED", _("Too many requests. Try again in a minute."))
        try:
            _widget, rows = await service.history(key, token)
        except service.ChatUnavailable:
            return _unavailable()
        return JSONResponse({"messages": [_shown(m) for m in rows]}, headers=_PLAIN_HEADERS)
    if await _over_limit(request, SENDS, "send"):
        return _error(429, "RATE_LIMITED", _("Too many messages. Try again in a minute."))
    try:
        data = await _json(request)
        text, client_id = data.get("text"), data.get("clientId")
        message = await service.write(
            key, token, text if isinstance(text, str) else "", client_id if isinstance(client_id, str) else None
        )
    except service.ChatUnavailable:
        return _unavailable()
    except (BadJSON, BodyTooLarge) as exc:
        return _error(400, "BAD_REQUEST", str(exc))
    except UserInputError as exc:
        return _error(400, exc.code.value, exc.message)
    return JSONResponse({"message": _shown(message)}, status_code=201, headers=_PLAIN_HEADERS)
