"""Who is calling, from an HTTP request's bearer token: one way for /graphql and every other
authenticated endpoint (the analytics CSV downloads)."""

from __future__ import annotations

from starlette.requests import Request

from server.auth import principal as principals
from server.auth import tokens
from server.auth.principal import Principal
from server.core.errors import PublicError


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def principal_for(request: Request) -> tuple[Principal, str | None, PublicError | None]:
    """(principal, token, auth error): a member's session token with an optional
    ``X-Organization``, or a partner's OAuth access token; anonymous without either."""
    from server.oauth import service as oauth  # the OAuth domain builds on auth, not the reverse

    token = bearer(request)
    principal, auth_error = principals.ANONYMOUS, None
    if token:
        user = await tokens.user_for(token)
        if user is not None:
            try:
                principal = await principals.for_user(user, request.headers.get("x-organization"))
            except PublicError as exc:  # e.g. X-Organization the user does not belong to
                auth_error = exc
        else:
            # A partner's OAuth access token: one organization, its granted permissions.
            principal = await oauth.principal_for(token) or principals.ANONYMOUS
    return principal, token, auth_error
