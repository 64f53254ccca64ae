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
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.core.errors import UserInputError
from server.http.body import BodyTooLarge, read_body
from server.oauth import installations, service
from server.oauth.models import OAuthAuthorizationCode, OAuthClient, OAuthRefreshToken

log = logging.getLogger("crm.oauth")
MAX_BODY = 4096


class _Client(ClientMixin):
    """Authlib's view of an ``OAuthClient`` row."""

    def __init__(self, row: OAuthClient, scopes: list[str] | None = None, refresh: bool = True):
        self.row = row
        # An installation's token: within what the installing organization approved.
        self.scopes = [s for s in row.scopes if scopes is None or s in scopes]
        self.refresh = refresh  # an installation gets no refresh token: client credentials do

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return None  # a redirect_uri is required in every authorization request

    def get_allowed_scope(self, scope):
        asked = scope.split() if scope else self.scopes
        return " ".join(sorted(set(asked) & set(self.scopes)))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris  # exact match, RFC 6749 3.1.2 / OAuth 2.1

    def check_client_secret(self, client_secret):
        return service.secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("client_credentials", "authorization_code") or (
            grant_type == "refresh_token" and self.refresh
        )


class _OwnScopes:
    def validate_requested_scope(self):
        # More than the client was given is an error, not a silently smaller token.
        super().validate_requested_scope()
        asked = set((self.request.payload.scope or "").split())
        if asked - set(self.request.client.scopes):
            raise InvalidScopeError("The client was not given some of these permissions (here).")


class _Grant(_OwnScopes, ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class _S256Only(CodeChallenge):
    # "plain" sends the secret itself through the browser: refused (OAuth 2.1). Authlib lets a
    # confidential client skip PKCE and takes a missing method as "plain": both refused here.
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class _Code(AuthorizationCodeMixin):
    code_challenge_method = "S256"

    def __init__(self, row: OAuthAuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge  # read by Authlib's CodeChallenge

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return " ".join(self.row.scopes)

    def get_code_challenge(self):
        return self.row.code_challenge

    def get_code_challenge_method(self):
        return "S256"


class _CodeGrant(_OwnScopes, AuthorizationCodeGrant):
    """Authlib's checks on preloaded rows; the endpoint stores what it issued afterwards."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def generate_authorization_code(self):
        return service.CODE_PREFIX + secrets.token_urlsafe(32)

    def save_authorization_code(self, code, request):
        self.server.codes.append((code, request))

    def query_authorization_code(self, code, client):
        row = self.server.preloaded
        if not isinstance(row, OAuthAuthorizationCode) or row.client_id != client.row.id:
            return None
        if row.used_at is not None:
            self.server.replayed = row.family
            return None
        if row.expires_at <= datetime.now(UTC):
            return None
        return _Code(row)

    def delete_authorization_code(self, authorization_code):
        pass  # claimed after Authlib is done (service.claim), atomically

    def authenticate_user(self, authorization_code):
        return authorization_code.row.user


class _Refresh:
    def __init__(self, row: OAuthRefreshToken):
        self.row = row

    def check_client(self, client):
        return client.row.id == self.row.client_id

    def get_scope(self):
        return " ".join(self.row.scopes)

    def is_expired(self):
        return self.row.expires_at <= datetime.now(UTC)

    def is_revoked(self):
        return self.row.revoked_at is not None


class _RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

    def authenticate_refresh_token(self, refresh_token):
        row = self.server.preloaded
        if not isinstance(row, OAuthRefreshToken) or row.revoked_at is not None:
            return None
        if row.used_at is not None:
            self.server.replayed = row.family  # a rotated-out token again: someone copied it
            return None
        if row.expires_at <= datetime.now(UTC):
            return None
        return _Refresh(row)

    def authenticate_user(self, refresh_token):
        return refresh_token.row.user

    def revoke_old_credential(self, refresh_token):
        pass  # claimed after Authlib is done (service.claim), atomically


class OAuthServer(AuthorizationServer):
    def __init__(self, client: OAuthClient | None, preloaded=None, installation=None):
        super().__init__(scopes_supported=list(service.PARTNER_SCOPES))
        installing = isinstance(preloaded, OAuthAuthorizationCode) and preloaded.install_into_id is not None
        only = installation.scopes if installation is not None else None
        refresh = installation is None and not installing
        self._client = _Client(client, only, refresh) if client is not None else None
        self.preloaded = preloaded  # the code or refresh token row the request names
        self.replayed = None  # family of a code or refresh token presented a second time
        self.issued: list[tuple[dict, _Client]] = []
        self.codes: list[tuple[str, OAuth2Request]] = []
        self.register_grant(_Grant)
        self.register_grant(_CodeGrant, [_S256Only(required=True)])
        self.register_grant(_RefreshGrant)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: service.TOKEN_PREFIX + secrets.token_urlsafe(32),
                refresh_token_generator=lambda **_: service.REFRESH_PREFIX + secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: int(service.TOKEN_TTL.total_seconds()),
            ),
        )

    def query_client(self, client_id):
        return self._client if self._client and self._client.get_client_id() == client_id else None

    def save_token(self, token, request):
        self.issued.append((token, request.client, getattr(request, "user", None)))

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


def oauth_request_for(request: Request, form: dict[str, str]) -> OAuth2Request:
    # transport_refused() has decided already; Authlib is shown https so that its
    # Host-based loopback exception can never matter.
    uri = str(request.url.replace(scheme="https"))
    return _FormRequest(request.method, uri, request.headers, form)


INSECURE = {
    "error": "invalid_request",
    "error_description": "OAuth 2 requires https: this request came over plain http.",
}


async def read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, or None past MAX_BODY (read no further: nobody sends more)."""
    try:
        body = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def _preload(form: dict[str, str]):
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return await service.find_code(form.get("code", ""))
    if grant_type == "refresh_token":
        return await service.find_refresh_token(form.get("refresh_token", ""))
    return None


async def client_refusal(request: Request, form: dict[str, str]) -> str:
    """Why client authentication failed, as precisely as is safe: that a client was revoked is
    said only to a caller holding its secret; who lacks it learns nothing about the client id."""
    if await service.revoked_client(*_credentials(request, form)):
        return (
            "This client was revoked by the organization's admin: it gets no tokens any more. "
            "Ask them to register the app again (or to give you a new client)."
        )
    return "Unknown client or wrong secret (check the client id and secret, sent with HTTP Basic or in the form)."


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    client_id, secret = extract_basic_authorization(request.headers)
    if not client_id:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    return client_id or "", secret or ""


async def _installation(request: Request, form: dict[str, str], client: OAuthClient):
    """(installation or None, refusal or None) for client credentials with ``organization``:
    a token for an organization that installed the app. Its own organization needs none."""
    if not service.secret_matches(client, _credentials(request, form)[1]):
        return None, None  # Authlib answers invalid_client; nothing said about installations
    slug = form["organization"].strip()
    await client.fetch_related("organization")
    if slug == client.organization.slug:
        return None, None
    found = await installations.installation_for(client, slug)
    if found is None:
        description = (
            f"The app is not installed in organization '{slug}' (or it was uninstalled): an owner or admin "
            "there installs it on the consent page (/oauth/authorize)."
        )
        return None, JSONResponse({"error": "invalid_request", "error_description": description}, 400)
    return found, None


INVALID_GRANT = {"error": "invalid_grant", "error_description": "The code or refresh token was already used."}


async def token(request: Request) -> Response:
    if transport_refused(request):
        return JSONResponse(INSECURE, 400)
    if not request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        # RFC 6749 4.1.3 / 4.4.2: a form, not JSON (which Authlib would call an unknown grant type).
        return JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "Send the token request as a form (Content-Type: "
                "application/x-www-form-urlencoded, RFC 6749 section 4), not JSON: "
                "e.g. curl -d grant_type=client_credentials.",
            },
            400,
        )
    form = await read_form(request)
    if form is None:
        return JSONResponse({"error": "invalid_request", "error_description": "Request too large."}, 400)
    client_id = form.get("client_id") or (extract_basic_authorization(request.headers)[0] or "")
    client = await service.active_client(client_id)
    preloaded = await _preload(form)
    installation = None
    if client is not None and form.get("organization") and form.get("grant_type") == "client_credentials":
        installation, refused = await _installation(request, form, client)
        if refused is not None:
            return refused
    server = OAuthServer(client, preloaded, installation)
    status, payload, headers = server.create_token_response(oauth_request_for(request, form))
    if server.replayed is not None:
        await service.revoke_family(server.replayed, reason="a used code or refresh token was presented again")
        log.warning("OAuth client %s reused a code or refresh token: its family is revoked", client_id)
    if status == 200 and server.issued:
        issued, issued_to, user = server.issued[0]
        scopes = issued.get("scope", "").split()
        if user is None:
            await service.store_token(issued_to.row, issued["access_token"], scopes, issued["expires_in"], installation)
            if installation is not None:
                payload["organization"] = installation.organization.slug
        elif isinstance(preloaded, OAuthAuthorizationCode) and preloaded.install_into_id is not None:
            if not await service.claim(OAuthAuthorizationCode, preloaded):  # a concurrent request used it first
                await service.revoke_family(preloaded.family, reason="one code used twice at once")
                return JSONResponse(INVALID_GRANT, 400)
            # A person installed the app into their organization: a token for that installation.
            try:
                installed = await installations.install(issued_to.row, preloaded.install_into, user, scopes)
            except UserInputError as exc:  # the person's role lacks some of the scopes (custom roles)
                return JSONResponse({"error": "invalid_scope", "error_description": exc.message}, 400)
            await service.store_token(
                issued_to.row, issued["access_token"], scopes, issued["expires_in"], installed, preloaded.family
            )
            payload["organization"] = preloaded.install_into.slug
        else:
            if not await service.claim(type(preloaded), preloaded):  # a concurrent request used it first
                await service.revoke_family(preloaded.family, reason="one code or refresh token used twice at once")
                return JSONResponse(INVALID_GRANT, 400)
            previous = preloaded if isinstance(preloaded, OAuthRefreshToken) else None
            await service.store_user_tokens(issued_to.row, user, issued, preloaded.family, previous)
        log.info("access token issued to OAuth client %s (%s)", issued_to.row.client_id, issued.get("scope", ""))
    elif status != 200:
        if payload.get("error") == "invalid_client":
            # Authlib says "does not exist" even for a revoked client or a wrong secret.
            payload["error_description"] = await client_refusal(request, form)
        log.info("token request refused: %s", payload.get("error"))
    return JSONResponse(payload, status_code=status, headers=headers)
