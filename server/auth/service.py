"""Users, memberships and sessions."""

from __future__ import annotations

from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.service import normalize_emails
from server.auth import tokens
from server.auth.models import Membership, Team, User
from server.auth.passwords import MIN_LENGTH, hash_password, verify_password
from server.auth.roles import ROLES
from server.core.errors import ErrorCode, UserInputError
from server.core.text import limited_text
from server.organizations.models import Organization


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise UserInputError(ErrorCode.INVALID, f"Password must have at least {MIN_LENGTH} characters.", "password")


async def create_user(email: str, password: str, name: str = "") -> User:
    [email] = normalize_emails([email], "email")
    _check_password(password)
    if await User.filter(email=email).exists():
        raise UserInputError(ErrorCode.DUPLICATE, f"A user with e-mail {email} already exists.", "email")
    return await User.create(
        email=email, password_hash=hash_password(password), name=limited_text(name, "name", 200) or ""
    )


async def add_member(org: Organization, user: User, role: str, team_name: str | None = None) -> Membership:
    if role not in ROLES:
        raise UserInputError(ErrorCode.INVALID, f"Role must be one of: {', '.join(ROLES)}.", "role")
    async with in_transaction():
        team = None
        if team_name:
            team, _ = await Team.get_or_create(organization=org, name=team_name)
        membership, created = await Membership.get_or_create(
            organization=org, user=user, defaults={"role": role, "team": team}
        )
        if not created:
            membership.role, membership.team = role, team
            await membership.save()
    return membership


async def is_member(organization_id: UUID, user_id: UUID) -> bool:
    return await Membership.filter(organization_id=organization_id, user_id=user_id, is_active=True).exists()


async def login(email: str, password: str, ttl_hours: int) -> str:
    user = await User.get_or_none(email=email.strip().lower(), is_active=True)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise UserInputError(ErrorCode.INVALID_CREDENTIALS, "Wrong e-mail or password.")
    token, _ = await tokens.issue(user, ttl_hours)
    return token
