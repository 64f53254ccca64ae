"""The OAuth 2 endpoints around the token endpoint: revocation (RFC 7009), introspection
(RFC 7662), both client-authenticated, and authorization-server metadata (RFC 8414)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.oauth import service
from server.oauth.endpoint import INSECURE, client_refusal, read_form, transport_refused

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _client_and_form(request: Request):
    if transport_refused(request):
        return None, JSONResponse(INSECURE, 400)
    form = await read_form(request)
    if form is None:
        return None, JSONResponse({"error": "invalid_request", "error_description": "Request too large."}, 400)
    client_id, secret = extract_basic_authorization(request.headers)
    if not client_id:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    client = await service.authenticated_client(client_id or "", secret or "")
    if client is None:
        error = {"error": "invalid_client", "error_description": await client_refusal(request, form)}
        return None, JSONResponse(error, 401, headers={"WWW-Authenticate": 'Basic realm="oauth"'})
    if not form.get("token"):
        return None, JSONResponse({"error": "invalid_request", "error_description": "Missing 'token'."}, 400)
    return (client, form), None


async def revoke(request: Request) -> Response:
    found, refused = await _client_and_form(request)
    if refused is not None:
        return refused
    client, form = found
    await service.revoke_token(client, form["token"])
    return JSONResponse({}, 200, headers=NO_STORE)


async def introspect(request: Request) -> Response:
    found, refused = await _client_and_form(request)
    if refused is not None:
        return refused
    client, form = found
    return JSONResponse(await service.introspect(client, form["token"]), 200, headers=NO_STORE)


async def metadata(request: Request) -> Response:
    settings = request.app.state.settings
    # The issuer is configured (public_url); only debug and demo runs fall back to the request's
    # own address, which comes from its Host header.
    issuer = (settings.public_url or str(request.base_url)).rstrip("/")
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "scopes_supported": list(service.PARTNER_SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
        }
    )
