"""The public survey page, ``/s/<token>``: the question as a plain HTML form (no JavaScript),
the answer, and clear pages for a used, expired or unknown link.

Language: the organization's (the message that brought the customer was in it), unless the
customer picks the other one with the switch on the page (``?lang=uk|en``). A page with no
organization behind it (an unknown link) follows the browser's Accept-Language."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.i18n import LOCALES, current_locale, gettext, ngettext, use_locale
from server.surveys import service

MAX_FORM_BYTES = 32_768  # a comment of COMMENT_MAX characters in UTF-8, url-encoded, fits
SECURITY_HEADERS = {
    # Nothing but this page: no scripts at all, inline styles only, the form posts back here.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token is in the address: never pass it on
    "Cache-Control": "no-store",
}
STATUS = {"open": 200, "answered": 200, "already": 409, "expired": 410, "unknown": 404, "invalid": 400}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)


def _render(name: str, outcome: str, **context) -> HTMLResponse:
    html = _env.get_template(name).render(lang=current_locale(), locales=LOCALES, **context)
    return HTMLResponse(html, status_code=STATUS[outcome], headers=SECURITY_HEADERS)


def _locale(request: Request, found: service.Lookup) -> str:
    chosen = request.query_params.get("lang")
    if chosen in LOCALES:
        return chosen
    if found.organization is not None:
        return found.organization.locale
    return current_locale()  # Accept-Language (server/i18n/asgi.py)


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form (the page's only encoding; starlette's form parser would need
    python-multipart for nothing else), size-limited."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            break
    values = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    return {key: items[0] for key, items in values.items()}


async def survey_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    found = await service.find(token)
    with use_locale(_locale(request, found)):
        if found.state != "open":
            # A second answer is a conflict; opening an answered link again is fine.
            outcome = "already" if found.state == "answered" and request.method == "POST" else found.state
            return _render("survey_closed.html", outcome, state=found.state)
        survey = found.survey
        context = {"survey": survey, "shop": found.organization.name, "questions": service.questions(survey.kind)}
        if request.method == "GET":
            return _render("survey.html", "open", values={}, errors={}, **context)
        answer = service.parse_answer(survey.kind, await _form(request))
        if answer.errors:
            values = {**{k: str(v) for k, v in answer.scores.items()}, "comment": answer.comment}
            errors = {key: gettext(message, max=service.COMMENT_MAX) for key, message in answer.errors.items()}
            return _render("survey.html", "invalid", values=values, errors=errors, **context)
        state = await service.answer(token, answer, current_locale())
        if state == "answered":
            return _render("survey_thanks.html", "answered", detractor=service.is_detractor(answer.scores), **context)
        return _render("survey_closed.html", state, state=state)
