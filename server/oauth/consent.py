"""``/oauth/authorize``: the page where a person lets an application act for them (RFC 6749 4.1).

Authlib checks the request (client, exact redirect URI, scope, PKCE with S256); the page shows
the application, the organization and the permissions in words, and takes the person's e-mail
and password (the same check and throttle as ``login``) with "allow" or "deny". Server-rendered,
no JavaScript, a strict Content-Security-Policy, and a CSRF token: an HMAC of the authorization
request, the time and a random value kept in a cookie of this browser, so a form posted from
elsewhere, for another request or with a token taken from another browser's page is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.auth import service as auth_service
from server.auth.models import Membership
from server.core.errors import ErrorCode, UserInputError
from server.http.body import BodyTooLarge, read_body
from server.i18n import N_, _, current_locale
from server.oauth import installations, service
from server.oauth.endpoint import OAuthServer, oauth_request_for, transport_refused

CSRF_MAX_AGE = 600
BROWSER_COOKIE = "crm_consent_browser"
MAX_FORM = 4096
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(gettext=lambda message, **kw: _(message, **kw), ngettext=None, newstyle=True)

SCOPE_TEXTS = {
    "accounts:read": N_("See customers and companies"),
    "accounts:write": N_("Create and change customers and companies"),
    "deals:read": N_("See deals"),
    "deals:write": N_("Create and change deals"),
    "orders:read": N_("See orders"),
    "orders:write": N_("Create and change orders"),
    "tickets:read": N_("See support tickets"),
    "tickets:write": N_("Create and change support tickets"),
    "activities:read": N_("See activities (calls, meetings, tasks)"),
    "activities:write": N_("Create and change activities"),
    "order_statuses:read": N_("See the list of order statuses"),
    "pipelines:read": N_("See the sales pipelines"),
    "pii:read": N_("See customers' phone numbers, e-mails and addresses in full"),
}


def _canonical(request: Request) -> bytes:
    return "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items())).encode()


def browser_id(request: Request) -> tuple[str, bool]:
    """(this browser's consent cookie value, whether it is new and must be set)."""
    value = request.cookies.get(BROWSER_COOKIE, "")
    if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(24), True


def _mac(request: Request, stamp: str, browser: str) -> str:
    key = request.app.state.settings.secret_key.encode()
    message = b"|".join((stamp.encode(), browser.encode(), _canonical(request)))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _csrf_token(request: Request, browser: str) -> str:
    stamp = str(int(time.time()))
    return f"{stamp}.{_mac(request, stamp, browser)}"


def _csrf_ok(request: Request, token: str) -> bool:
    stamp, _sep, mac = token.partition(".")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not browser or not stamp.isdigit() or time.time() - int(stamp) > CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(mac, _mac(request, stamp, browser))


def _page(request: Request, status: int = 200, return_to: str = "", **values) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    browser, new_browser = browser_id(request)
    defaults = {"email": "", "error": None, "fatal": None}
    html = _env.get_template("consent.html").render(
        lang=current_locale(), nonce=nonce, csrf_token=_csrf_token(request, browser), **(defaults | values)
    )
    response = HTMLResponse(
        html,
        status,
        headers={
            # Chromium applies form-action to the redirect after the POST too: the app's origin is allowed.
            "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'{return_to}; "
            "frame-ancestors 'none'; base-uri 'none'",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
    if new_browser:
        response.set_cookie(
            BROWSER_COOKIE,
            browser,
            max_age=CSRF_MAX_AGE * 6,
            path="/oauth/authorize",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
    return response


def _redirect(result) -> Response:
    status, _body, headers = result
    location = dict(headers).get("Location")
    if status == 302 and location:
        return RedirectResponse(location, 302)
    return None


async def authorize(request: Request) -> Response:
    if transport_refused(request):
        return _page(request, 400, fatal=_("This page only works over https."))
    params = dict(request.query_params)
    client = await service.active_client(params.get("client_id", ""))
    server = OAuthServer(client)
    oauth_request = oauth_request_for(request, params)
    oauth_request.method = "GET"
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        if error.redirect_uri:  # the redirect URI is the client's own: tell the client
            return _redirect(server.handle_error_response(oauth_request, error))
        # Never redirect to an unregistered address (RFC 6749 4.1.2.1): tell the person.
        return _page(
            request,
            400,
            fatal=_("The application's request is not valid: %(reason)s", reason=error.description or error.error),
        )
    await client.fetch_related("organization")
    scopes = (grant.request.payload.scope or "").split() or list(client.scopes)
    target = urlsplit(grant.redirect_uri)
    values = {
        "return_to": f" {target.scheme}://{target.netloc}",
        "app_name": client.name,
        "organization": client.organization.name,
        "scope_texts": [_(SCOPE_TEXTS.get(s, s)) for s in scopes],
        "installable": client.installable,
        # The app may name the organization it expects (it is still the person who chooses).
        "organization_slug": params.get("organization", ""),
    }
    if request.method == "GET":
        return _page(request, **values)

    try:
        body = await read_body(request, MAX_FORM)
    except BodyTooLarge:
        return _page(request, 413, fatal=_("Request too large."))
    form = dict(parse_qsl(body.decode("utf-8", errors="replace")))
    if not _csrf_ok(request, form.get("csrf_token", "")):
        return _page(request, 400, error=_("This form has expired. Please try again."), **values)
    if form.get("decision") != "approve":
        return _redirect(server.create_authorization_response(oauth_request, grant_user=None, grant=grant))
    email = form.get("email", "")
    try:
        user = await auth_service.authenticate(
            email,
            form.get("password", ""),
            request.app.state.login_throttle,
            request.client.host if request.client else None,
        )
    except UserInputError as exc:
        return _page(request, 400, error=exc.message, email=email, **values)
    install_into = None
    if client.installable:  # installed by an organization, not acting for this person
        try:
            install_into = await installations.organization_to_install_into(user, form.get("organization", ""))
        except UserInputError as exc:
            values["organization_slug"] = form.get("organization", "")
            status = 403 if exc.code == ErrorCode.FORBIDDEN else 400
            return _page(request, status, error=exc.message, email=email, **values)
    elif not await Membership.exists(user=user, organization_id=client.organization_id, is_active=True):
        return _page(
            request,
            403,
            error=_("You are not a member of %(organization)s.", organization=client.organization.name),
            email=email,
            **values,
        )
    oauth_request.user = user
    result = server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
    for code, req in server.codes:
        await service.store_code(
            client,
            user,
            code,
            scopes,
            req.payload.redirect_uri,
            req.payload.data.get("code_challenge", ""),
            install_into,
        )
    return _redirect(result)
