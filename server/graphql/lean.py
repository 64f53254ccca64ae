"""The lean lane: known read queries answered in front of Starlette's routing and strawberry's
view, on PostgreSQL.

For a POST to ``/graphql`` whose document the fast path has already answered (sent again, or
by its persisted-query hash) and whose caller signs in with a member's session token, this
ASGI middleware:

1. reads the caller in ONE statement (``caller_sql``): the token (not revoked, active user; the
   expiry compared here, as ``tokens.user_for`` does), the membership (the ``X-Organization``
   one, or the user's only one), its organization, its custom role if it has one, and its
   team's active members. From the token's second request on, that statement is folded into
   the page's own: the caller built last time is used, and the page's statement re-reads the
   caller row and answers only if it is unchanged (caller_guard.py);
2. builds the same ``Principal`` as ``principal.for_user`` and runs the fast path's plan through
   ``Scope`` (server/auth/scope.py: tenancy, the role's permissions, row scope and masking come
   from there, as on every other path);
3. spends the query's cost from the same rate-limit budgets, and writes the answer with the
   same encoder, media type and ``RateLimit`` headers as the view, in the language the stock
   path would choose for the caller (``server.i18n.choose``).

Whatever it does not handle (another route or method, CORS, an API key, an OAuth token, a
role that no longer exists, an unknown or unplanned document, any error at all) goes on to the app untouched:
the body it read is handed on as it came, and the stock path answers as if the lane did not
exist. See docs/fastpath.md ("The lean lane").
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.responses import Response

from server.apikeys.service import looks_like_key
from server.auth.models import Membership, User
from server.auth.principal import Principal
from server.auth.roles import ROLES, RowScope
from server.auth.scope import Scope
from server.auth.tokens import hash_token
from server.graphql import media
from server.graphql.caller_guard import CallerGuard, KnownCaller, KnownCallers, fingerprinted
from server.graphql.rate_limits import RequestBudgets
from server.http.body import BadJSON, loads
from server.i18n import choose, use_locale
from server.organizations.models import Organization
from server.roles.models import CustomRole

log = logging.getLogger("crm.fastpath")

_ALLOWED_KEYS = frozenset(("query", "variables", "operationName", "extensions"))


def _columns(alias: str, model) -> list[str]:
    return [f'{alias}."{column}" AS "{alias}.{column}"' for column in model._meta.fields_db_projection.values()]


@functools.cache
def caller_sql(token: int = 1, slug: int = 2) -> str:
    """Token, user, membership, organization, custom role and team in one statement ($token: the
    token's SHA-256, $slug: the X-Organization slug or null). At most two rows: without a slug, a
    user with two memberships has no organization (as in ``principal.for_user``) and the lane
    steps aside."""
    columns = ", ".join(
        [
            't."expires_at" AS "t.expires_at"',
            *_columns("u", User),
            *_columns("m", Membership),
            *_columns("o", Organization),
            *_columns("r", CustomRole),
            'team."ids" AS "team"',
        ]
    )
    # Only column names from the models' metadata are put in; the values are parameters.
    return f"SELECT {columns} " + _CALLER_FROM.format(token=f"${token}", slug=f"${slug}")


# The team's ids in a fixed order: the row's fingerprint (caller_guard.py) must not change
# when nothing did.
_CALLER_FROM = (
    'FROM "auth_token" t JOIN "user" u ON u."id" = t."user_id" '
    'LEFT JOIN LATERAL (SELECT m1.* FROM "membership" m1 '
    'JOIN "organization" o1 ON o1."id" = m1."organization_id" '
    'WHERE m1."user_id" = u."id" AND m1."is_active" AND ({slug}::text IS NULL OR o1."slug" = {slug}::text) '
    "LIMIT 2) m ON TRUE "
    'LEFT JOIN "organization" o ON o."id" = m."organization_id" '
    'LEFT JOIN "custom_role" r ON r."organization_id" = m."organization_id" AND r."name" = m."role" '
    'LEFT JOIN LATERAL (SELECT array_agg(tm."user_id" ORDER BY tm."user_id") AS "ids" FROM "membership" tm '
    'WHERE m."team_id" IS NOT NULL AND tm."team_id" = m."team_id" AND tm."is_active") team ON TRUE '
    'WHERE t."token_hash" = {token} AND t."revoked_at" IS NULL AND u."is_active"'
)


def _split(row: dict, alias: str) -> dict:
    prefix = alias + "."
    return {key[len(prefix) :]: value for key, value in row.items() if key.startswith(prefix)}


@dataclass
class _Context:
    """What the fast path reads from a request's context."""

    scope: Scope
    rate_limits: RequestBudgets | None = None
    auth_error: None = None
    guard: CallerGuard | None = None


class LeanLane:
    """ASGI middleware in front of the app's routing (``create_app`` puts it there)."""

    def __init__(self, app, view, path: str = "/graphql"):
        self.app = app
        self.view = view  # the CRMGraphQL view: its settings, fast path, rate limiter, persisted queries
        self.path = path
        # "answered" / "passed" (to the app; "declined" of those: after the plan was tried).
        self.stats: Counter[str] = Counter()
        self.callers = KnownCallers()
        view.lean_lane = self  # Starlette builds its middleware lazily: how tests find the lane

    @property
    def enabled(self) -> bool:
        settings = self.view.settings
        return settings.fast_path and settings.lean_lane and settings.is_postgres

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path or not self.enabled:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        token = _bearer(headers.get(b"authorization")) if headers is not None else None
        content_type = headers.get(b"content-type", b"").partition(b";")[0].strip().lower() if headers else b""
        if (
            headers is None  # a repeated header: the stock path decides what it means
            or token is None
            or looks_like_key(token)
            or b"x-api-key" in headers
            or b"origin" in headers  # CORS: the middleware and the view's own rules
            or content_type != b"application/json"
        ):
            self.stats["passed"] += 1
            await self.app(scope, receive, send)
            return
        body, complete = await _read(receive, self.view.settings.max_request_bytes)
        response = None
        if complete:
            try:
                response = await self._answer(scope, headers, token, body)
            except Exception:  # a bug of the lane: the stock path still answers
                log.warning("lean lane failed, answered by the stock path", exc_info=True)
                response = None
        if response is None:
            self.stats["passed"] += 1
            await self.app(scope, _replay(body, complete, receive), send)
            return
        self.stats["answered"] += 1
        await response(scope, receive, send)

    async def _answer(self, scope, headers: dict, token: str, body: bytes) -> Response | None:
        try:
            data = loads(body)
        except BadJSON:
            return None
        if not isinstance(data, dict) or not data.keys() <= _ALLOWED_KEYS:
            return None
        query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
        extensions = data.get("extensions")
        if extensions is not None:
            # Only a persisted query's hash already held by this process (no store round trip);
            # registering one (hash and document together) is the view's work.
            if query is not None or not isinstance(extensions, dict) or extensions.keys() != {"persistedQuery"}:
                return None
            persisted = extensions["persistedQuery"]
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                return None
            digest = persisted.get("sha256Hash")
            if not isinstance(digest, str) or len(digest) != 64:
                return None
            query = self.view.persisted.local.get(digest.lower())
        if not isinstance(query, str) or not self.view.fast_path.is_known(query):
            return None
        if variables is not None and not isinstance(variables, dict):
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        hint = headers.get(b"x-organization")  # empty: none, as request_auth reads it
        slug = hint.decode("latin-1") if hint else None
        token_hash = hash_token(token)
        key = (token_hash, slug)
        known = self.callers.get(key, datetime.now(UTC))
        guard = None
        if known is not None:
            principal = known.principal
            guard = CallerGuard(caller_sql, Membership._meta.db, token_hash, slug, known.fingerprint)
        else:
            principal = await self._principal(key)
            if principal is None:
                return None
        client = scope.get("client")
        budgets: RequestBudgets = self.view.rate_limiter.for_request(principal, token, client[0] if client else None)
        # Charged before the read, as on the stock path: over the budget, the plan reads nothing,
        # nothing is spent, and the view answers RATE_LIMITED.
        context = _Context(Scope(principal), rate_limits=budgets, guard=guard)
        # The caller's language, chosen as server.auth.request chooses it on the stock path.
        accept_language = headers.get(b"accept-language")
        language = choose(
            principal.user.locale,
            accept_language.decode("latin-1") if accept_language is not None else None,
            principal.organization.locale,
        )
        with use_locale(language):
            result = await self.view.fast_path.execute(query, variables, operation_name, context)
        if guard is not None and guard.stale:
            self.stats["stale callers"] += 1
            self.callers.forget(key)  # and the stock path reads the caller afresh
        if result is None:
            self.stats["declined"] += 1  # the plan stepped aside (an error, a null, no budget...): the view answers
            return None
        payload = {"data": result.data, "extensions": result.extensions}
        accept = headers.get(b"accept")
        response = Response(
            self.view.encode_json(payload),
            status_code=200,
            media_type=media.response_media_type(accept.decode("latin-1") if accept is not None else None),
        )
        await budgets.write_headers(response)
        return response

    async def _principal(self, key: tuple[str, str | None]) -> Principal | None:
        """The caller as ``principal.for_user`` makes it, from one statement (and remembered for
        the next request, see caller_guard.py); None where the stock path must decide (no such
        token, expired, revoked, no organization, a role that no longer exists)."""
        rows = await Membership._meta.db.execute_query_dict(fingerprinted(caller_sql()), list(key))
        if len(rows) != 1:
            return None
        row = rows[0]
        if row["m.id"] is None or row["t.expires_at"] <= datetime.now(UTC):
            return None
        # As roles.lookup.role_named: a built-in role by name, else the organization's own.
        role = ROLES.get(row["m.role"])
        if role is None:
            if row["r.id"] is None:  # a role that no longer exists: the stock path answers
                return None
            role = CustomRole._init_from_db(**_split(row, "r")).as_role()
        user = User._init_from_db(**_split(row, "u"))
        membership = Membership._init_from_db(**_split(row, "m"))
        principal = Principal(kind="user", id=str(user.id), user=user)
        principal.organization = Organization._init_from_db(**_split(row, "o"))
        principal.role = role
        if role.scope is RowScope.TEAM:
            if membership.team_id is None:
                principal.team_member_ids = [membership.user_id]
            else:
                principal.team_member_ids = list({membership.user_id, *(row["team"] or ())})
        self.callers.keep(key, KnownCaller(principal, row["fp"], row["t.expires_at"]))
        return principal


def _headers(scope) -> dict[bytes, bytes] | None:
    """The request's headers; None when one is repeated."""
    out = dict(scope["headers"])
    return out if len(out) == len(scope["headers"]) else None


def _bearer(header: bytes | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.decode("latin-1").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


async def _read(receive, limit: int) -> tuple[bytes, bool]:
    """The body, up to ``limit`` bytes: (body, complete). Incomplete: the rest is the app's."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False  # a disconnect: the app sees it too
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive):
    """A ``receive`` that first gives back what the lane read, then the rest as it comes."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
