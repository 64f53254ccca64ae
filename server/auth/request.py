"""Who is calling, from an HTTP request's bearer token: one way for /graphql and every other
authenticated endpoint (the CSV downloads)."""

from __future__ import annotations

from starlette.requests import Request

from server.auth import principal as principals
from server.auth import tokens
from server.auth.principal import Principal
from server.core.errors import PublicError
from server.i18n import choose, set_locale


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def principal_for(request: Request) -> tuple[Principal, str | None, PublicError | None]:
    """(principal, token, auth error): a member's session token with an optional
    ``X-Organization``, an API key (bearer or ``X-API-Key``), or a partner's OAuth access token;
    anonymous without any."""
    token = bearer(request) or request.headers.get("x-api-key", "").strip() or None
    principal, auth_error = await principal_for_token(token, request.headers.get("x-organization"))
    use_callers_language(principal, request.headers.get("accept-language"))
    return principal, token, auth_error


def use_callers_language(principal: Principal, accept_language: str | None) -> str:
    """The rest of the request speaks the caller's language (``server.i18n.choose``): the
    person's setting, else ``Accept-Language``, else the organization's locale."""
    user_locale = principal.user.locale if principal.user is not None else None
    organization_locale = principal.organization.locale if principal.organization is not None else None
    return set_locale(choose(user_locale, accept_language, organization_locale))


async def principal_for_token(token: str | None, organization_hint: str | None) -> tuple[Principal, PublicError | None]:
    """The caller a credential stands for (also a websocket's, from its ``connection_init``)."""
    # Those domains build on auth, not the reverse.
    from server.apikeys import service as apikeys
    from server.oauth import service as oauth

    principal, auth_error = principals.ANONYMOUS, None
    if apikeys.looks_like_key(token):
        principal = await apikeys.principal_for(token) or principals.ANONYMOUS
    elif token:
        user = await tokens.user_for(token)
        if user is not None:
            if user.locale:  # their choice, already for an error about their organization
                set_locale(user.locale)
            try:
                principal = await principals.for_user(user, organization_hint)
            except PublicError as exc:  # e.g. X-Organization the user does not belong to
                auth_error = exc
        else:
            # A partner's OAuth access token: one organization, its granted permissions.
            principal = await oauth.principal_for(token) or principals.ANONYMOUS
    return principal, auth_error
