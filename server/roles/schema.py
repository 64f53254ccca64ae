"""GraphQL for roles: the presets and an organization's custom roles, the permission catalogue,
and the mutations owners and admins use to make, change and delete roles (docs/roles.md)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.inputs import given
from server.i18n import _
from server.roles import catalogue, service
from server.roles.service import RoleView


@strawberry.type(
    name="Role", description="A role: what its holders may do, on which rows, which fields they may not see."
)
class RoleType:
    view: strawberry.Private[RoleView]

    @strawberry.field(description="A custom role's global ID; null for a built-in preset.")
    def id(self) -> strawberry.ID | None:
        return ids.encode("CustomRole", self.view.custom.id) if self.view.custom else None

    @strawberry.field(description="The name members and API keys are given (their role field).")
    def name(self) -> str:
        return self.view.role.name

    @strawberry.field(description="What the role is for, for people.")
    def description(self) -> str:
        return self.view.role.description

    @strawberry.field(description="True for a built-in preset: it can be copied (createRole copyFrom), not changed.")
    def built_in(self) -> bool:
        return self.view.custom is None

    @strawberry.field(description="What the role allows, as resource:action (see the permissions query).")
    def permissions(self) -> list[str]:
        return self.view.role.permissions

    @strawberry.field(description="all, team (records owned by the team) or own.")
    def row_scope(self) -> str:
        return self.view.role.scope.value

    @strawberry.field(description="Type.field entries this role may not read.")
    def hidden_fields(self) -> list[str]:
        return sorted(self.view.role.hidden_fields)


@strawberry.type(name="Permission", description="One permission a role can hold.")
class PermissionType:
    name: str = strawberry.field(description="As roles list it: resource:action, e.g. orders:update.")
    action: str = strawberry.field(description="read, create, update, delete, or a special right (refund, export...).")
    description: str = strawberry.field(description="What it allows, in the caller's language.")


@strawberry.type(description="The permissions of one object type.")
class PermissionGroup:
    object_type: str = strawberry.field(description="The resource, e.g. orders.")
    label: str = strawberry.field(description="The object type's name for people, in the caller's language.")
    permissions: list[PermissionType] = strawberry.field(description="Its permissions, in catalogue order.")


def _catalogue() -> list[PermissionGroup]:
    by_type: dict[str, list[PermissionType]] = {}
    for p in catalogue.permissions():
        by_type.setdefault(p.object_type, []).append(
            PermissionType(name=p.name, action=p.action, description=_(p.description))
        )
    return [
        PermissionGroup(object_type=obj, label=_(label), permissions=by_type[obj])
        for obj, label in catalogue.object_types()
    ]


@strawberry.type
class RoleQueries:
    @strawberry.field(
        description="Public. The built-in presets for anyone; with them, the organization's custom roles for "
        "callers with `members:read`."
    )
    async def roles(self, info: Info) -> list[RoleType]:
        return [RoleType(view=v) for v in await service.list_roles(info.context.scope)]

    @strawberry.field(description="Public. Every permission a role can hold, grouped per object type, described.")
    def permissions(self) -> list[PermissionGroup]:
        return _catalogue()


@strawberry.input(description="A new custom role; what is not given comes from copyFrom (or is empty).")
class CreateRoleInput:
    name: str = strawberry.field(
        description="Unique in the organization, not a built-in role's name; up to 32 characters."
    )
    copy_from: str | None = strawberry.field(
        default=None,
        description="A preset's or custom role's name to start from (its permissions, scope, hidden fields).",
    )
    description: str | None = strawberry.field(default=None, description="What the role is for, for people.")
    permissions: list[str] | None = strawberry.field(
        default=None, description="resource:action names from the permissions query; unknown ones are all reported."
    )
    row_scope: str | None = strawberry.field(default=None, description="all, team or own; default all (or copyFrom's).")
    hidden_fields: list[str] | None = strawberry.field(
        default=None, description="Type.field entries the role may not read (e.g. Account.emails)."
    )


@strawberry.input(description="Changes to a custom role; only the given fields change.")
class UpdateRoleInput:
    name: str = strawberry.field(description="The custom role to change (built-in presets cannot be changed).")
    new_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new name; its members and API keys follow it."
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="What the role is for.")
    permissions: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The complete new list of resource:action names."
    )
    row_scope: str | None = strawberry.field(default=strawberry.UNSET, description="all, team or own.")
    hidden_fields: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The complete new list of Type.field entries it may not read."
    )


@strawberry.input(description="The custom role to delete.")
class DeleteRoleInput:
    name: str = strawberry.field(description="Its name; refused while members or API keys have it.")


@strawberry.type(description="The result of createRole, updateRole or deleteRole.")
class RolePayload:
    role: RoleType | None = strawberry.field(default=None, description="The role as it is now (deleted: as it was).")
    errors: list[UserError] = strawberry.field(description="Why nothing changed (every problem of the input).")


def _payload(row) -> dict:
    return {"role": RoleType(view=RoleView(row.as_role(), row))}


@strawberry.type
class RoleMutations:
    @strawberry.mutation(
        description="Needs `members:create`. Make a custom role, optionally copying a preset or another role; "
        "never with more rights than your own (audited)."
    )
    async def create_role(self, info: Info, input: CreateRoleInput) -> RolePayload:
        async def act():
            return _payload(await service.create_role(info.context.scope, given(input)))

        return await run_mutation(RolePayload, act)

    @strawberry.mutation(
        description="Needs `members:update`. Change a custom role (built-in presets cannot be changed); never "
        "beyond your own rights (audited)."
    )
    async def update_role(self, info: Info, input: UpdateRoleInput) -> RolePayload:
        async def act():
            data = given(input)
            return _payload(await service.update_role(info.context.scope, data.pop("name"), data))

        return await run_mutation(RolePayload, act)

    @strawberry.mutation(
        description="Needs `members:delete`. Delete a custom role nobody has: members and unrevoked API keys "
        "must be given another role first (audited)."
    )
    async def delete_role(self, info: Info, input: DeleteRoleInput) -> RolePayload:
        async def act():
            return _payload(await service.delete_role(info.context.scope, input.name))

        return await run_mutation(RolePayload, act)
