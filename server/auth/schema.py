"""GraphQL for signing in and out, and for who is calling."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from server.auth import service, tokens
from server.auth.models import Membership, User
from server.auth.roles import ROLES
from server.graphql.context import Context
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import OrganizationType, UserType


def _members_by_user(ctx: Context):
    async def load(user_ids: list[UUID]):
        # Only users who belong to the caller's organization are shown, to anyone in it.
        rows = await Membership.filter(
            organization_id=ctx.scope.organization_id, user_id__in=list(set(user_ids))
        ).select_related("user")
        found = {m.user_id: m.user for m in rows}
        return [found.get(i) for i in user_ids]

    return load


async def load_member(ctx: Context, user_id: UUID) -> User | None:
    return await ctx.loader("members_by_user", _members_by_user).load(user_id)


@strawberry.type(description="The caller: who they are, in which organization, with which role.")
class Me:
    user: UserType
    organization: OrganizationType | None
    role: str | None = strawberry.field(description="owner, admin, manager, sales, support, logistics or analyst.")
    permissions: list[str] = strawberry.field(description="What the role allows, as resource:action.")

    @strawberry.field
    def email(self) -> str:
        return self.user.email

    @strawberry.field
    def name(self) -> str:
        return self.user.name

    @strawberry.field(description="Organizations the user belongs to (send one's slug as X-Organization).")
    async def organizations(self) -> list[OrganizationType]:
        rows = (
            await Membership.filter(user=self.user, is_active=True)
            .select_related("organization")
            .order_by("organization__name")
        )
        return [m.organization for m in rows]


@strawberry.type
class AuthQueries:
    @strawberry.field(description="Who is calling; null when not signed in.")
    def me(self, info: Info) -> Me | None:
        principal = info.context.principal
        if principal.user is None:
            return None
        role = principal.role
        return Me(
            user=principal.user,
            organization=principal.organization,
            role=role.name if role else None,
            permissions=role.permissions if role else [],
        )

    @strawberry.field(description="The built-in roles and what each may do.")
    def roles(self) -> list[RoleInfo]:
        return [
            RoleInfo(
                name=r.name,
                description=r.description,
                permissions=r.permissions,
                row_scope=r.scope.value,
                hidden_fields=sorted(r.hidden_fields),
            )
            for r in ROLES.values()
        ]


@strawberry.type(name="Role")
class RoleInfo:
    name: str
    description: str
    permissions: list[str]
    row_scope: str = strawberry.field(description="all, team (records owned by the team) or own.")
    hidden_fields: list[str] = strawberry.field(description="Type.field entries this role may not read.")


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="Send as 'Authorization: Bearer <token>'.")
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Exchange e-mail and password for a bearer token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ttl = info.context.settings.token_ttl_hours

        async def act():
            return {"token": await service.login(input.email, input.password, ttl)}

        return await run_mutation(LoginPayload, act)

    @strawberry.mutation(description="Revoke the token this request was made with.")
    async def logout(self, info: Info) -> LogoutPayload:
        token = info.context.token
        return LogoutPayload(ok=bool(token) and await tokens.revoke(token), errors=[])
