"""Custom roles: owners and admins make roles from the permission catalogue, for members and
API keys. The built-in roles (server/auth/roles.py) are presets: they can be copied, never changed.

Who: making, changing and deleting roles needs ``members:create``, ``members:update`` and
``members:delete`` (the permissions that already decide who gives people their roles); reading
the custom ones needs ``members:read``. Nobody hands out more than they have (``check_within``):
a role, its row scope and its hidden fields must fit inside the caller's own role, both when
it is made or changed and when it is given to a member or a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from tortoise.transactions import in_transaction

from server.apikeys.models import ApiKey
from server.audit import service as audit
from server.auth.models import Membership
from server.auth.roles import APP_ROLES, HIDEABLE_CUSTOM_FIELD, HIDEABLE_FIELDS, ROLES, Role, RowScope
from server.auth.scope import Scope
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.text import limited_text, required_text
from server.i18n import _
from server.roles.catalogue import NAMES
from server.roles.models import CustomRole

MAX_NAME = 32  # Membership.role and ApiKey.role hold the name
WIDTH = {RowScope.OWN: 0, RowScope.TEAM: 1, RowScope.ALL: 2}


@dataclass(frozen=True)
class RoleView:
    """A role as the API shows it: a preset (``custom`` None) or an organization's own."""

    role: Role
    custom: CustomRole | None = None


def presets() -> list[RoleView]:
    return [RoleView(role) for role in ROLES.values()]


async def list_roles(scope: Scope | None) -> list[RoleView]:
    """The presets for anyone; an organization's custom roles for its members who may read members."""
    views = presets()
    if scope is not None and scope.principal.organization is not None and scope.can("members:read"):
        for row in await scope.queryset(CustomRole).order_by("name"):
            views.append(RoleView(row.as_role(), row))
    return views


def check_within(scope: Scope, role: Role, field: str) -> None:
    """Refuse, naming everything at once, a role with more rights than the caller's own."""
    mine = scope.principal.role
    if mine is None:
        raise UserInputError(ErrorCode.FORBIDDEN, _("You have no role in this organization."), field)
    if role.name == "owner" and mine.name != "owner":
        raise UserInputError(ErrorCode.FORBIDDEN, _("Only an owner can give the owner role."), field)
    beyond = [p for p in role.permissions if not mine.allows(p)]
    problems = Problems()
    if beyond:
        problems.add(
            ErrorCode.FORBIDDEN,
            _("You cannot give permissions you do not have: %(names)s.", names=", ".join(beyond)),
            field,
        )
    if WIDTH[role.scope] > WIDTH[mine.scope]:
        problems.add(
            ErrorCode.FORBIDDEN,
            _("You cannot give a wider row scope (%(scope)s) than your own.", scope=role.scope.value),
            field,
        )
    unhidden = sorted(mine.hidden_fields - role.hidden_fields)
    if unhidden:
        problems.add(
            ErrorCode.FORBIDDEN,
            _("You cannot give access to fields hidden from you: %(names)s.", names=", ".join(unhidden)),
            field,
        )
    limited = sorted(
        res
        for res, fields in mine.writable_fields.items()
        if (role.allows(f"{res}:create") or role.allows(f"{res}:update"))
        and not role.writable_fields.get(res, fields | {"*"}) <= fields  # the same limit (or tighter) is fine
    )
    if limited:
        problems.add(
            ErrorCode.FORBIDDEN,
            _(
                "You may change only some fields of %(names)s, so you cannot give that.",
                names=", ".join(limited),
            ),
            field,
        )
    problems.raise_if_any()


async def role_for_assignment(scope: Scope, name: str | None, field: str = "role") -> Role:
    """The built-in or custom role ``name`` (or a custom role's ID) that the caller may give to a
    member or a key."""
    name = (name or "").strip()
    role = ROLES.get(name)
    if role is None and name:
        row = await _by_name(scope, name)
        if row is None and (pk := _custom_role_pk(name)) is not None:
            row = await scope.queryset(CustomRole).get_or_none(id=pk)
        role = row.as_role() if row else None
    if role is None:
        raise UserInputError(
            ErrorCode.INVALID,
            _("Role '%(name)s' does not exist; see the roles query for this organization's roles.", name=name),
            field,
        )
    check_within(scope, role, field)
    return role


async def _by_name(scope: Scope, name: str, action: str = "read", *, lock: bool = False) -> CustomRole | None:
    if len(name) > MAX_NAME:  # no such name can exist (and the column would refuse the filter)
        return None
    qs = scope.queryset(CustomRole, action)
    return await (qs.select_for_update() if lock else qs).get_or_none(name=name)


def _custom_role_pk(value: str) -> UUID | None:
    """The id in a custom role's global ID (``Role.id``), or None for anything else."""
    from server.graphql import ids  # the API's ID format; services otherwise take plain values

    try:
        return ids.decode(value, "CustomRole")[1]
    except UserInputError:
        return None


def _clean_permissions(values: list[str], problems: Problems) -> list[str]:
    cleaned: list[str] = []
    for i, value in enumerate(values):
        value = (value or "").strip()
        if value in NAMES:
            cleaned.append(value)
        else:
            problems.add(
                ErrorCode.INVALID,
                _("'%(name)s' is not a permission; see the permissions query.", name=value),
                f"permissions.{i}",
            )
    return sorted(set(cleaned))


def _hideable(value: str) -> bool:
    return value in HIDEABLE_FIELDS or HIDEABLE_CUSTOM_FIELD.match(value) is not None


def _clean_hidden(values: list[str], problems: Problems) -> list[str]:
    for i, value in enumerate(values):
        if not _hideable(value):
            problems.add(
                ErrorCode.INVALID,
                _(
                    "'%(name)s' cannot be hidden; choose from: %(names)s.",
                    name=value,
                    names=", ".join([*sorted(HIDEABLE_FIELDS), "<Type>.customFields.<key>"]),
                ),
                f"hiddenFields.{i}",
            )
    return sorted({v for v in values if _hideable(v)})


def _clean_scope(value: str, problems: Problems) -> str:
    if value not in {s.value for s in RowScope}:
        problems.add(ErrorCode.INVALID, _("Row scope must be one of: all, team, own."), "rowScope")
    return value


async def _clean_name(scope: Scope, value: str | None, problems: Problems, current: CustomRole | None) -> str:
    name = ""
    with problems:
        name = required_text(value, "name", MAX_NAME)
    if not name:
        return name
    if name.lower() in {n.lower() for n in (*ROLES, *APP_ROLES)}:
        problems.add(ErrorCode.DUPLICATE, _("'%(name)s' is a built-in role's name.", name=name), "name")
    elif (current is None or current.name != name) and await CustomRole.filter(
        organization_id=scope.organization_id, name=name
    ).exists():
        problems.add(ErrorCode.DUPLICATE, _("A role named '%(name)s' exists.", name=name), "name")
    return name


async def _source(scope: Scope, name: str) -> Role:
    role = ROLES.get(name)
    if role is None:
        row = await _by_name(scope, name)
        role = row.as_role() if row else None
    if role is None:
        raise UserInputError(ErrorCode.NOT_FOUND, _("Role '%(name)s' does not exist.", name=name), "copyFrom")
    return role


def _snapshot(row: CustomRole) -> dict:
    return {
        "name": row.name,
        "description": row.description,
        "permissions": list(row.permissions),
        "row_scope": row.row_scope,
        "hidden_fields": list(row.hidden_fields),
    }


async def create_role(scope: Scope, data: dict) -> CustomRole:
    """``data``: name, and optionally description, permissions, row_scope, hidden_fields and
    copy_from (a preset or custom role whose values fill what is not given)."""
    scope.require("members:create")
    base = await _source(scope, data["copy_from"]) if data.get("copy_from") else None
    problems = Problems()
    name = await _clean_name(scope, data.get("name"), problems, None)
    description = data.get("description")
    if description is None:
        description = base.description if base else ""
    with problems:
        description = limited_text(description, "description", 500) or ""
    permissions = data.get("permissions")
    permissions = _clean_permissions(
        permissions if permissions is not None else (base.permissions if base else []), problems
    )
    row_scope = data.get("row_scope") or (base.scope.value if base else RowScope.ALL.value)
    row_scope = _clean_scope(row_scope, problems)
    hidden = data.get("hidden_fields")
    hidden = _clean_hidden(hidden if hidden is not None else sorted(base.hidden_fields) if base else [], problems)
    problems.raise_if_any()
    row = CustomRole(
        organization_id=scope.organization_id,
        name=name,
        description=description,
        permissions=permissions,
        row_scope=row_scope,
        hidden_fields=hidden,
    )
    check_within(scope, row.as_role(), "permissions")
    async with in_transaction():
        await row.save()
        after = _snapshot(row)
        if base is not None:
            after["copied_from"] = base.name
        await audit.record(scope, "role.create", row, {k: [None, v] for k, v in after.items()})
    return row


async def _custom(scope: Scope, name: str, action: str) -> CustomRole:
    name = (name or "").strip()
    if name in ROLES:
        raise UserInputError(
            ErrorCode.FORBIDDEN,
            _("Built-in roles cannot be changed; copy one with createRole(copyFrom: ...)."),
            "name",
        )
    row = await _by_name(scope, name, action, lock=True)
    if row is None:
        raise UserInputError(ErrorCode.NOT_FOUND, _("Role '%(name)s' does not exist.", name=name), "name")
    return row


async def update_role(scope: Scope, name: str, data: dict) -> CustomRole:
    """Change a custom role; given keys only. A new name follows to its members and API keys."""
    scope.require("members:update")
    async with in_transaction():
        row = await _custom(scope, name, "update")
        check_within(scope, row.as_role(), "name")  # not even to narrow a role above your own
        before = _snapshot(row)
        problems = Problems()
        if data.get("new_name") is not None:
            row.name = await _clean_name(scope, data["new_name"], problems, row)
        if data.get("description") is not None:
            with problems:
                row.description = limited_text(data["description"], "description", 500) or ""
        if data.get("permissions") is not None:
            row.permissions = _clean_permissions(data["permissions"], problems)
        if data.get("row_scope") is not None:
            row.row_scope = _clean_scope(data["row_scope"], problems)
        if data.get("hidden_fields") is not None:
            row.hidden_fields = _clean_hidden(data["hidden_fields"], problems)
        problems.raise_if_any()
        check_within(scope, row.as_role(), "permissions")
        await row.save()
        if row.name != before["name"]:
            org = scope.organization_id
            await Membership.filter(organization_id=org, role=before["name"]).update(role=row.name)
            await ApiKey.filter(organization_id=org, role=before["name"]).update(role=row.name)
        after = _snapshot(row)
        changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        await audit.record(scope, "role.update", row, changes)
    return row


async def delete_role(scope: Scope, name: str) -> CustomRole:
    """Delete a custom role nobody uses (members, active or not, and unrevoked API keys)."""
    scope.require("members:delete")
    async with in_transaction():
        row = await _custom(scope, name, "delete")
        check_within(scope, row.as_role(), "name")
        org = scope.organization_id
        members = await Membership.filter(organization_id=org, role=row.name).count()
        keys = await ApiKey.filter(organization_id=org, role=row.name, revoked_at=None).count()
        if members or keys:
            raise UserInputError(
                ErrorCode.CONFLICT,
                _(
                    "Role '%(name)s' is in use by %(members)s member(s) and %(keys)s API key(s); "
                    "give them another role first.",
                    name=row.name,
                    members=members,
                    keys=keys,
                ),
                "name",
            )
        deleted_id = row.id
        await audit.record(scope, "role.delete", row, {k: [v, None] for k, v in _snapshot(row).items()})
        await row.delete()
        row.id = deleted_id
    return row
