"""``POST /oauth/token``: client credentials in, a bearer access token out (RFC 6749 4.4).

Authlib does the protocol: grant type, client authentication (HTTP Basic,
``client_secret_basic``, or ``client_id``/``client_secret`` in the form,
``client_secret_post``), scope checks and the RFC's error answers (``invalid_client`` with
401, ``unsupported_grant_type``, ``invalid_scope``...). Its server calls are synchronous and
our database is not, so the request is read and the client looked up before Authlib runs,
and the token it generates is stored after.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.http.body import BodyTooLarge, read_body
from server.oauth import service
from server.oauth.models import OAuthClient

log = logging.getLogger("crm.oauth")
MAX_BODY = 4096


class _Client(ClientMixin):
    """Authlib's view of an ``OAuthClient`` row."""

    def __init__(self, row: OAuthClient):
        self.row = row

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        asked = scope.split() if scope else self.row.scopes
        return " ".join(sorted(set(asked) & set(self.row.scopes)))

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return service.secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class _Grant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_requested_scope(self):
        # More than the client was given is an error, not a silently smaller token.
        super().validate_requested_scope()
        asked = set((self.request.payload.scope or "").split())
        if asked - set(self.request.client.row.scopes):
            raise InvalidScopeError("The client was not given some of these permissions.")


class _Server(AuthorizationServer):
    def __init__(self, client: OAuthClient | None):
        super().__init__(scopes_supported=list(service.PARTNER_SCOPES))
        self._client = _Client(client) if client is not None else None
        self.issued: list[tuple[dict, _Client]] = []
        self.register_grant(_Grant)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: service.TOKEN_PREFIX + secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: int(service.TOKEN_TTL.total_seconds()),
            ),
        )

    def query_client(self, client_id):
        return self._client if self._client and self._client.get_client_id() == client_id else None

    def save_token(self, token, request):
        self.issued.append((token, request.client))

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, dict(headers)

    def send_signal(self, name, *args, **kwargs):
        pass


class _FormRequest(OAuth2Request):
    """The token request, read in full beforehand (Authlib's calls are synchronous)."""

    def __init__(self, method: str, uri: str, headers, form: dict[str, str]):
        super().__init__(method, uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self):
        return self._form

    @property
    def args(self):
        return {}


def transport_refused(request: Request) -> bool:
    """True when a token may not travel over this request's transport.

    Decided from the scheme alone: ``request.url.scheme`` is https only over TLS, or when a
    trusted proxy (``crm serve --trusted-proxies``, uvicorn's proxy headers) said
    ``X-Forwarded-Proto: https``. Authlib's own check also lets http through for a loopback
    host, and that host comes from the client's Host header: a reverse proxy forwarding to
    127.0.0.1 would switch the check off for everyone. Debug and demo runs (and the tests,
    which run with debug) accept plain http on purpose.
    """
    settings = request.app.state.settings
    return request.url.scheme != "https" and not (settings.debug or settings.demo)


def _oauth_request(request: Request, form: dict[str, str]) -> OAuth2Request:
    # transport_refused() has decided already; Authlib is shown https so that its
    # Host-based loopback exception can never matter.
    uri = str(request.url.replace(scheme="https"))
    return _FormRequest(request.method, uri, request.headers, form)


INSECURE = {
    "error": "invalid_request",
    "error_description": "OAuth 2 requires https: this request came over plain http.",
}


async def _read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, or None past MAX_BODY (read no further: nobody sends more)."""
    try:
        body = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def token(request: Request) -> Response:
    form = await _read_form(request)
    if form is None:
        return JSONResponse({"error": "invalid_request", "error_description": "Request too large."}, 400)
    client_id = form.get("client_id") or (extract_basic_authorization(request.headers)[0] or "")
    client = await service.active_client(client_id)
    server = _Server(client)
    if transport_refused(request):
        return JSONResponse(INSECURE, 400)
    oauth_request = _oauth_request(request, form)
    status, payload, headers = server.create_token_response(oauth_request)
    if status == 200 and server.issued:
        issued, issued_to = server.issued[0]
        await service.store_token(
            issued_to.row, issued["access_token"], issued.get("scope", "").split(), issued["expires_in"]
        )
        log.info("access token issued to OAuth client %s (%s)", issued_to.row.client_id, issued.get("scope", ""))
    elif status != 200:
        log.info("token request refused: %s", payload.get("error"))
    return JSONResponse(payload, status_code=status, headers=headers)
