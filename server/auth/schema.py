"""GraphQL for signing in and out, and for who is calling."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from server.auth import service, tokens
from server.auth.models import Membership, Team, User
from server.auth.request import use_callers_language
from server.graphql import ids
from server.graphql.context import Context
from server.graphql.errors import UserError, run_mutation
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id
from server.graphql.types import Node, OrganizationType, UserType, model_type
from server.i18n import current_locale


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
    role: str | None = strawberry.field(
        description="The caller's role: a built-in one (owner, admin, manager, sales, support, logistics, analyst) "
        "or one of the organization's custom roles (see roles)."
    )
    permissions: list[str] = strawberry.field(description="What the role allows, as resource:action.")

    @strawberry.field
    def email(self) -> str:
        return self.user.email

    @strawberry.field
    def name(self) -> str:
        return self.user.name

    @strawberry.field(
        description="The language the person chose for the API's texts (`uk` or `en`, set with updateMyLocale); "
        "null: the request's Accept-Language decides, else the organization's locale."
    )
    def locale(self) -> str | None:
        return self.user.locale

    @strawberry.field(
        description="The language this answer's texts are in (`uk` or `en`): the person's locale, else the "
        "request's Accept-Language, else the organization's locale, else Ukrainian."
    )
    def language(self) -> str:
        return current_locale()

    @strawberry.field(
        description="The caller's internal number at this organization's PBX (set by an admin): clickToCall "
        "rings it. Null outside an organization or when none is set."
    )
    async def phone_extension(self) -> str | None:
        if self.organization is None:
            return None
        return (
            await Membership.filter(user=self.user, organization_id=self.organization.id, is_active=True)
            .first()
            .values_list("phone_extension", flat=True)
        )

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
        return _me(info.context.principal)


def _me(principal) -> Me | None:
    if principal.user is None:
        return None
    role = principal.role
    return Me(
        user=principal.user,
        organization=principal.organization,
        role=role.name if role else None,
        permissions=role.permissions if role else [],
    )


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="Send as 'Authorization: Bearer <token>'.")
    errors: list[UserError]


@strawberry.input
class UpdateMyLocaleInput:
    locale: str | None = strawberry.field(
        description="`uk` or `en`; null to follow the request's Accept-Language and the organization's locale."
    )


@strawberry.type
class MePayload:
    me: Me | None = None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Exchange e-mail and password for a bearer token. After too many failed attempts for an "
        "e-mail or from one address (10 and 100 per 15 minutes by default) it answers RATE_LIMITED until the "
        "window ends, without checking the password."
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        context = info.context
        ttl = context.settings.token_ttl_hours
        address = context.request.client.host if context.request.client else None

        async def act():
            return {"token": await service.login(input.email, input.password, ttl, context.throttle, address)}

        return await run_mutation(LoginPayload, act)

    @strawberry.mutation(
        description="The signed-in person chooses the language of the API's texts for themselves (error "
        "messages, timeline texts, defaults), over Accept-Language and the organization's locale. "
        "INVALID for a language the API does not speak; FORBIDDEN for apps and API keys."
    )
    async def update_my_locale(self, info: Info, input: UpdateMyLocaleInput) -> MePayload:
        context = info.context

        async def act():
            await service.update_my_locale(context.scope, input.locale)
            # The rest of this answer (its messages, me.language) speaks the new choice.
            use_callers_language(context.principal, context.request.headers.get("accept-language"))
            return {"me": _me(context.principal)}

        return await run_mutation(MePayload, act)

    @strawberry.mutation(description="Revoke the token this request was made with.")
    async def logout(self, info: Info) -> LogoutPayload:
        token = info.context.token
        return LogoutPayload(ok=bool(token) and await tokens.revoke(token), errors=[])


# -- members and teams -------------------------------------------------------------


@model_type(Team, description="A group of users. Managers see the records owned by their team.")
class TeamType(Node):
    name: str


@model_type(Membership, name="Member", description="A user in this organization, with a role and a team.")
class MemberType(Node):
    role: str = strawberry.field(
        description="The member's role: a built-in one (owner, admin, manager, sales, support, logistics, analyst) "
        "or a custom role's name (see roles)."
    )
    is_active: bool = strawberry.field(description="Inactive members cannot sign in to this organization.")
    phone_extension: str | None = strawberry.field(
        description="The member's internal number at the organization's PBX (e.g. 901): clickToCall rings this "
        "phone. Set by owners and admins with updateMember; unique in the organization."
    )

    @strawberry.field
    async def user(self, info: Info) -> UserType:
        return await load_member(info.context, self.user_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def team(self, info: Info) -> TeamType | None:
        return await load_by_id(info.context, Team, self.team_id)  # type: ignore[attr-defined]


@strawberry.type
class MemberQueries:
    @strawberry.field(description="People in this organization (owners, admins, managers and analysts).")
    async def members(self, info: Info, include_inactive: bool = False) -> list[MemberType]:
        qs = info.context.scope.queryset(Membership)
        if not include_inactive:
            qs = qs.filter(is_active=True)
        return await qs.order_by("created_at")

    @strawberry.field
    async def teams(self, info: Info) -> list[TeamType]:
        return await info.context.scope.queryset(Team).order_by("name")


@strawberry.input(description="Add a person. A new e-mail needs an initial password; an existing user keeps theirs.")
class CreateMemberInput:
    email: str
    role: str
    name: str = ""
    team_id: strawberry.ID | None = None
    password: str | None = None


@strawberry.input
class UpdateMemberInput:
    id: strawberry.ID
    role: str | None = strawberry.UNSET
    team_id: strawberry.ID | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    phone_extension: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The member's internal number at the PBX (digits, letters, *, #, '.', '_', '-'; up to 32); "
        "null or empty clears it. Another member's extension is refused (DUPLICATE).",
    )


@strawberry.input
class CreateTeamInput:
    name: str


@strawberry.type
class MemberPayload:
    member: MemberType | None = None
    errors: list[UserError]


@strawberry.type
class TeamPayload:
    team: TeamType | None = None
    errors: list[UserError]


@strawberry.type
class MemberMutations:
    @strawberry.mutation(description="Owners and admins: add a person to the organization.")
    async def create_member(self, info: Info, input: CreateMemberInput) -> MemberPayload:
        scope = info.context.scope

        async def act():
            team_id = ids.decode_pk(input.team_id, "Team", "teamId")
            member = await service.create_member(scope, input.email, input.name, input.role, team_id, input.password)
            return {"member": member}

        return await run_mutation(MemberPayload, act)

    @strawberry.mutation(
        description="Owners and admins: change a role, team or phone extension, or deactivate a member."
    )
    async def update_member(self, info: Info, input: UpdateMemberInput) -> MemberPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Membership")[1]
            data = given(input, id_fields={"team_id": "Team"})
            return {"member": await service.update_member(scope, pk, data)}

        return await run_mutation(MemberPayload, act)

    @strawberry.mutation
    async def create_team(self, info: Info, input: CreateTeamInput) -> TeamPayload:
        scope = info.context.scope

        async def act():
            return {"team": await service.create_team(scope, input.name)}

        return await run_mutation(TeamPayload, act)
