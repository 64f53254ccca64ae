"""Users, memberships and sessions."""

from __future__ import annotations

import re
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.accounts.service import normalize_email
from server.audit import service as audit
from server.auth import tokens
from server.auth.models import Membership, Team, User
from server.auth.passwords import MIN_LENGTH, hash_password, verify_password
from server.auth.principal import role_named
from server.auth.roles import ROLES
from server.auth.scope import Scope
from server.auth.throttle import LoginThrottle
from server.core.errors import ErrorCode, Problems, Unauthenticated, UserInputError
from server.core.text import limited_text, required_text
from server.i18n import LOCALES, _
from server.organizations.models import Organization

EXTENSION_RE = re.compile(r"^[0-9A-Za-z*#._-]{1,32}$")


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise UserInputError(
            ErrorCode.INVALID, _("Password must have at least %(n)s characters.", n=MIN_LENGTH), "password"
        )


async def create_user(email: str, password: str, name: str = "") -> User:
    email = normalize_email(email)
    _check_password(password)
    if await User.filter(email=email).exists():
        raise UserInputError(
            ErrorCode.DUPLICATE, _("A user with e-mail %(email)s already exists.", email=email), "email"
        )
    return await User.create(
        email=email, password_hash=hash_password(password), name=limited_text(name, "name", 200) or ""
    )


async def _custom_role_names(org: Organization) -> list[str]:
    from server.roles.models import CustomRole  # roles build on auth, not the reverse

    return sorted(await CustomRole.filter(organization=org).values_list("name", flat=True))


async def add_member(org: Organization, user: User, role: str, team_name: str | None = None) -> Membership:
    if role not in ROLES and await role_named(org.id, role) is None:
        names = ", ".join([*ROLES, *await _custom_role_names(org)])
        raise UserInputError(ErrorCode.INVALID, _("Role must be one of: %(names)s.", names=names), "role")
    async with in_transaction():
        team = None
        if team_name:
            team, _created = await Team.get_or_create(organization=org, name=team_name)
        membership, created = await Membership.get_or_create(
            organization=org, user=user, defaults={"role": role, "team": team}
        )
        if not created:
            membership.role, membership.team = role, team
            await membership.save()
    return membership


async def is_member(organization_id: UUID, user_id: UUID, permission: str | None = None) -> bool:
    """An active member, whose role (if ``permission`` is given) allows it: records are only
    given to people who can see them (no tickets assigned to the warehouse)."""
    membership = await Membership.get_or_none(organization_id=organization_id, user_id=user_id, is_active=True)
    if membership is None:
        return False
    if permission is None:
        return True
    role = await role_named(organization_id, membership.role)
    return role is not None and role.allows(permission)


MAX_EMAIL = 254  # as long as an e-mail address can be (RFC 5321)


async def authenticate(email: str, password: str, throttle: LoginThrottle, address: str | None) -> User:
    """The user with this e-mail and password; failures count towards the login throttle.
    Also used by the OAuth consent page (server/oauth/consent.py)."""
    await throttle.check(email, address)
    email = email.strip().lower()
    # Longer than any stored address (the column's limit): no such user, the same answer.
    user = await User.get_or_none(email=email, is_active=True) if len(email) <= MAX_EMAIL else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        await throttle.failed(email, address)
        raise UserInputError(ErrorCode.INVALID_CREDENTIALS, _("Wrong e-mail or password."))
    await throttle.succeeded(email)
    return user


async def login(email: str, password: str, ttl_hours: int, throttle: LoginThrottle, address: str | None) -> str:
    user = await authenticate(email, password, throttle, address)
    token, _ = await tokens.issue(user, ttl_hours)
    return token


# -- members, managed through the API by owners and admins ------------------------


async def _check_role(scope: Scope, role: str) -> str:
    """A built-in or custom role the caller may give (no more than their own, server/roles)."""
    from server.roles.service import role_for_assignment  # roles build on auth

    return (await role_for_assignment(scope, role)).name


async def _team(scope: Scope, team_id: UUID | None) -> Team | None:
    return await scope.get(Team, team_id, field="teamId") if team_id else None


async def create_member(
    scope: Scope, email: str, name: str, role: str, team_id: UUID | None, password: str | None
) -> Membership:
    """Add a person to the organization. A new e-mail needs an initial password; an existing
    user keeps theirs and just gains the membership."""
    scope.require("members:create")
    problems = Problems()
    with problems:
        role = await _check_role(scope, role)
    with problems:
        email = normalize_email(email)
    with problems:
        limited_text(name, "name", 200)
    problems.raise_if_any()
    async with in_transaction():
        team = await _team(scope, team_id)
        user = await User.get_or_none(email=email)
        if user is None:
            if not password:
                raise UserInputError(ErrorCode.REQUIRED, _("A new user needs an initial password."), "password")
            user = await create_user(email, password, name)
        if await Membership.filter(organization_id=scope.organization_id, user_id=user.id).exists():
            raise UserInputError(ErrorCode.DUPLICATE, _("%(email)s is already a member.", email=email), "email")
        membership = await Membership.create(
            organization_id=scope.organization_id, user_id=user.id, role=role, team=team
        )
        await audit.record(scope, "member.create", membership, {"email": [None, email], "role": [None, role]})
    return membership


async def _owners_left(organization_id: UUID, excluding: UUID) -> int:
    return (
        await Membership.filter(organization_id=organization_id, role="owner", is_active=True)
        .exclude(id=excluding)
        .count()
    )


async def update_member(scope: Scope, membership_id: UUID, data: dict) -> Membership:
    async with in_transaction():
        membership = await scope.get(Membership, membership_id, "update", field="id")
        before = {
            "role": membership.role,
            "team_id": membership.team_id,
            "is_active": membership.is_active,
            "phone_extension": membership.phone_extension,
        }
        if membership.role == "owner" and scope.principal.role.name != "owner":
            raise UserInputError(ErrorCode.FORBIDDEN, _("Only an owner can change an owner."), "id")
        current = await role_named(scope.organization_id, membership.role)
        if current is not None and current.name != "owner":
            from server.roles.service import check_within

            check_within(scope, current, "id")  # nobody changes a member whose role exceeds their own
        if "role" in data and data["role"] is not None:
            membership.role = await _check_role(scope, data["role"])
        if "team_id" in data:
            membership.team = await _team(scope, data["team_id"])
        if "is_active" in data and data["is_active"] is not None:
            membership.is_active = data["is_active"]
        if "phone_extension" in data:
            membership.phone_extension = await _free_extension(scope, membership, data["phone_extension"])
        demoted = before["role"] == "owner" and (membership.role != "owner" or not membership.is_active)
        if demoted and not await _owners_left(scope.organization_id, membership.id):
            raise UserInputError(ErrorCode.CONFLICT, _("An organization needs at least one active owner."), "role")
        try:
            await membership.save()
        except IntegrityError as exc:  # the same extension given to two members at the same moment
            raise UserInputError(
                ErrorCode.DUPLICATE, _("Another member has that extension."), "phoneExtension"
            ) from exc
        after = {
            "role": membership.role,
            "team_id": membership.team_id,
            "is_active": membership.is_active,
            "phone_extension": membership.phone_extension,
        }
        await audit.record(
            scope, "member.update", membership, {k: [before[k], v] for k, v in after.items() if before[k] != v}
        )
    return membership


async def _free_extension(scope: Scope, membership: Membership, value: str | None) -> str | None:
    """A valid extension no other member of the organization has; None (or "") clears it."""
    value = (value or "").strip()
    if not value:
        return None
    if not EXTENSION_RE.match(value):
        raise UserInputError(
            ErrorCode.INVALID,
            _("An extension is the internal number at your PBX: up to 32 digits, letters, *, #, '.', '_' or '-'."),
            "phoneExtension",
        )
    taken = (
        await Membership.filter(organization_id=scope.organization_id, phone_extension=value)
        .exclude(id=membership.id)
        .exists()
    )
    if taken:
        raise UserInputError(
            ErrorCode.DUPLICATE, _("Another member has extension %(extension)s.", extension=value), "phoneExtension"
        )
    return value


async def create_team(scope: Scope, name: str) -> Team:
    scope.require("members:create")
    name = required_text(name, "name", 200)
    async with in_transaction():
        if await Team.filter(organization_id=scope.organization_id, name=name).exists():
            raise UserInputError(ErrorCode.DUPLICATE, _("Team '%(name)s' exists.", name=name), "name")
        team = await Team.create(organization_id=scope.organization_id, name=name)
        await audit.record(scope, "team.create", team, {"name": [None, name]})
    return team


async def update_my_locale(scope: Scope, locale: str | None) -> User:
    """The signed-in person's own language for the API's texts; null goes back to the request's
    ``Accept-Language`` and the organization's locale (docs/i18n.md). It is theirs in every
    organization, so it needs no permission and leaves no organization's audit trail."""
    user = scope.principal.user
    if user is None:
        if not scope.principal.is_authenticated:
            raise Unauthenticated(_("Sign in first: send 'Authorization: Bearer <token>'."))
        raise UserInputError(
            ErrorCode.FORBIDDEN,
            _("Apps and API keys have no language of their own: send Accept-Language with each request."),
        )
    if locale is not None:
        locale = locale.strip().lower()
        if locale not in LOCALES:
            raise UserInputError(
                ErrorCode.INVALID,
                _("The API speaks %(languages)s, not '%(locale)s'.", languages=", ".join(LOCALES), locale=locale[:16]),
                "locale",
            )
    user.locale = locale
    await user.save(update_fields=["locale", "updated_at"])
    return user
