"""API keys: a long-lived credential for a simple integration (a BI export, a script).

An owner or admin makes a key (``createApiKey``) with one role that sees all rows; the key is shown once
and acts as an ``app`` principal of that organization with that role (audited ``app apikey:<id>``).
Keys look like ``crm_live_`` + 43 URL-safe characters (``KEY_PATTERN``) so secret scanners can
find a leaked one; only the SHA-256 is stored, like OAuth secrets (server/oauth/service.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.apikeys.models import ApiKey
from server.audit import service as audit
from server.auth.principal import Principal, role_named
from server.auth.roles import ROLES, RowScope
from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError
from server.core.text import required_text
from server.i18n import _

KEY_PREFIX = "crm_live_"
# For secret scanners (docs/partners.md): token_urlsafe(32) is 43 characters of base64url.
KEY_PATTERN = re.compile(r"crm_live_[A-Za-z0-9_-]{43}")
SHOWN_PREFIX = len(KEY_PREFIX) + 4  # what lists show, to tell keys apart: crm_live_AbCd
LAST_USE_PRECISION = timedelta(minutes=1)  # at most one write per key and minute, not one per request
# Roles whose rows depend on who the member is (their team, their own) mean nothing for a key.
KEY_ROLES = tuple(name for name, role in ROLES.items() if role.scope is RowScope.ALL)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def looks_like_key(value: str | None) -> bool:
    return bool(value) and value.startswith(KEY_PREFIX)


async def _check_role(scope: Scope, role: str) -> str:
    """A role that sees all rows (a built-in one of ``KEY_ROLES`` or a custom one), no more than
    its creator has: a key never gets more than its creator could give a member."""
    from server.roles.service import role_for_assignment  # roles build on apikeys' model

    found = await role_for_assignment(scope, role)
    if found.scope is not RowScope.ALL or (found.name in ROLES and found.name not in KEY_ROLES):
        raise UserInputError(
            ErrorCode.INVALID,
            _(
                "A key's role must see all rows: %(roles)s, or a custom role with row scope all.",
                roles=", ".join(KEY_ROLES),
            ),
            "role",
        )
    return found.name


async def create_key(scope: Scope, name: str, role: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """The new key's row and the key itself (shown this once)."""
    scope.require("settings:write")
    name = required_text(name, "name", 200)
    role = await _check_role(scope, role)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= datetime.now(UTC):
            raise UserInputError(ErrorCode.INVALID, _("The expiry must be in the future."), "expiresAt")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        row = await ApiKey.create(
            organization_id=scope.organization_id,
            name=name,
            prefix=key[:SHOWN_PREFIX],
            key_hash=digest(key),
            role=role,
            expires_at=expires_at,
            created_by_id=scope.user_id,
        )
        await audit.record(
            scope,
            "api_key.create",
            row,
            {"name": [None, name], "role": [None, role], "expires_at": [None, expires_at]},
        )
    return row, key


async def list_keys(scope: Scope) -> list[ApiKey]:
    scope.require("settings:write")  # owners and admins, like partner applications
    return await scope.queryset(ApiKey).order_by("created_at")


async def revoke_key(scope: Scope, pk: UUID) -> ApiKey:
    """The key stops working at once."""
    scope.require("settings:write")
    async with in_transaction():
        row = await scope.get(ApiKey, pk, "write", field="id")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await row.save(update_fields=["revoked_at", "updated_at"])
            await audit.record(scope, "api_key.revoke", row, {"revoked_at": [None, row.revoked_at]})
    return row


async def principal_for(key: str) -> Principal | None:
    """The integration behind a key, or None (unknown, expired, revoked)."""
    if not looks_like_key(key):
        return None
    now = datetime.now(UTC)
    row = (
        await ApiKey.filter(Q(expires_at=None) | Q(expires_at__gt=now), key_hash=digest(key), revoked_at=None)
        .select_related("organization")
        .first()
    )
    if row is None:
        return None
    role = await role_named(row.organization_id, row.role)
    if role is None or role.scope is not RowScope.ALL:
        return None
    if row.last_used_at is None or row.last_used_at <= now - LAST_USE_PRECISION:
        # Conditional, so concurrent requests of one key write once.
        await ApiKey.filter(Q(last_used_at=None) | Q(last_used_at__lte=now - LAST_USE_PRECISION), id=row.id).update(
            last_used_at=now
        )
    return Principal(kind="app", id=f"apikey:{row.id}", organization=row.organization, role=role)
