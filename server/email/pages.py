"""The one-click unsubscribe page, ``/e/<token>``: the ``List-Unsubscribe`` link of every
notification e-mail (RFC 8058).

- ``POST`` (the mailbox provider's one-click request with ``List-Unsubscribe=One-Click``, or
  the button on the page) withdraws the customer's consent to e-mail at once, no questions.
- ``GET`` never unsubscribes (link scanners and previews open links): it shows the question
  and the button. Same language rules and headers as the survey and campaign pages."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.email import service
from server.http import pages
from server.i18n import LOCALES, current_locale, use_locale
from server.surveys.pages import SECURITY_HEADERS

_env = pages.environment(Path(__file__).parent / "templates")


async def unsubscribe_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    link, organization = await service.find(token)
    chosen = request.query_params.get("lang")
    locale = chosen if chosen in LOCALES else (organization.locale if organization else current_locale())
    with use_locale(locale):
        if link is None:
            state, status = "unknown", 404
        elif request.method == "POST":
            await service.unsubscribe(token)
            state, status = "done", 200
        elif link.used_at is not None:
            state, status = "done", 200
        else:
            state, status = "ask", 200
        html = _env.get_template("email_unsubscribe.html").render(
            lang=current_locale(),
            locales=LOCALES,
            state=state,
            shop=organization.name if organization else "",
            address=link.address if link else "",
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
