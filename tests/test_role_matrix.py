"""Every role × operation, through real GraphQL: for each built-in role and two custom roles,
list / read one / create / update / delete on each business object type is allowed exactly when
the role's definition says so; every row scope (own / team / all) × operation reaches exactly
the rows it should; and each field column (hidden fields, and customers' phones and e-mails
masked without ``pii:read``) is readable, masked or refused per role.

One organization per module (the ``world`` fixture); every case that changes a row makes its
own row first, so cases do not depend on each other's order.

Extension point for masked fields: ``FIELD_COLUMNS`` lists the field columns. A column says how
to read the field and what each role should get (``visible``, ``forbidden`` or, for masking,
``masked`` with the masked value); add columns there (e.g. PII fields governed by
``pii:read``) and ``test_field_column`` checks them for every role of the matrix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from server.auth.roles import ROLES, Role, RowScope
from tests.helpers import PASSWORD, Client, Member, TenantFactory

# -- the custom roles of the matrix --------------------------------------------------------

CUSTOM_ROLES: dict[str, dict] = {
    # Own rows; may add customers and orders but not change orders; logs timeline entries.
    "clerk": {
        "description": "Front desk: own customers and orders.",
        "permissions": [
            "accounts:read",
            "accounts:create",
            "accounts:update",
            "orders:read",
            "orders:create",
            "order_statuses:read",
            "activities:read",
            "activities:create",
            "pii:read",
        ],
        "rowScope": "own",
    },
    # All rows; works tickets (no opening them), reads customers without e-mails, changes deals.
    "desk": {
        "description": "Ticket desk: every ticket, deals kept up to date.",
        "permissions": [
            "accounts:read",
            "tickets:read",
            "tickets:update",
            "tickets:delete",
            "deals:read",
            "deals:update",
            "pipelines:read",
        ],
        "rowScope": "all",
        "hiddenFields": ["Account.emails"],
    },
    # Team rows; opens and reads tickets, reads orders; no customers at all.
    "dispatcher": {
        "description": "Dispatch: the team's tickets and orders, no customer data.",
        "permissions": ["tickets:read", "tickets:create", "orders:read", "order_statuses:read"],
        "rowScope": "team",
    },
}
# Same rights, three row scopes: for the scope × operation matrix.
SCOPE_PERMISSIONS = [
    f"{resource}:{action}"
    for resource in ("accounts", "deals", "orders", "tickets", "activities")
    for action in ("read", "create", "update", "delete")
] + ["pipelines:read", "order_statuses:read"]
SCOPE_ROLES = {f"rows-{scope.value}": scope for scope in RowScope}

MATRIX_ROLES = [*ROLES, *CUSTOM_ROLES]

CREATE_ROLE = """mutation($i: CreateRoleInput!) { createRole(input: $i) {
    role { name permissions rowScope hiddenFields builtIn } errors { field code message } } }"""
CREATE_TEAM = "mutation($i: CreateTeamInput!) { createTeam(input: $i) { team { id } errors { code } } }"
CREATE_MEMBER = """mutation($i: CreateMemberInput!) { createMember(input: $i) {
    member { id role } errors { field code message } } }"""
ROLES_QUERY = "{ roles { name permissions rowScope hiddenFields builtIn } }"


# -- the object types and their operations ------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    name: str  # the permission resource
    root: str  # GraphQL names: account -> accounts, createAccount, ...
    type_name: str
    payload: str  # the payload field holding the object
    create_input: Callable[[World, Member], dict]  # what the member sends to create one
    update_input: Callable[[dict], dict]  # a change every role allowed to update may make
    delete_input_type: str
    create_also_needs: tuple[str, ...] = ()  # reads a create needs besides <resource>:create
    owner_field: str | None = None  # the input field naming the owner when the owner creates one


def _account_create(world: World, member: Member) -> dict:
    return {"name": f"Клієнт {uuid.uuid4().hex[:6]}"}


def _deal_create(world: World, member: Member) -> dict:
    return {"accountId": world.home[member.email], "title": "Угода", "amount": "100.00"}


def _order_create(world: World, member: Member) -> dict:
    items = [{"sku": "CUP-1", "title": "Чашка", "quantity": "1", "unitPrice": "100"}]
    return {"accountId": world.home[member.email], "items": items, "paymentStatus": "UNPAID", "source": "manual"}


def _ticket_create(world: World, member: Member) -> dict:
    return {"subject": "Не працює", "description": "Опис", "channel": "PHONE", "priority": "NORMAL"}


def _activity_create(world: World, member: Member) -> dict:
    return {"kind": "NOTE", "accountId": world.home[member.email], "subject": "Дзвінок"}


RESOURCES = {
    r.name: r
    for r in (
        Resource(
            "accounts",
            "account",
            "Account",
            "account",
            _account_create,
            lambda row: {"name": "Нова назва"},
            "DeleteInput",
            owner_field="ownerId",
        ),
        Resource(
            "deals",
            "deal",
            "Deal",
            "deal",
            _deal_create,
            lambda row: {"title": "Нова назва"},
            "DeleteDealInput",
            create_also_needs=("accounts:read", "pipelines:read"),
            owner_field="ownerId",
        ),
        Resource(
            "orders",
            "order",
            "Order",
            "order",
            _order_create,
            lambda row: {"comment": "Передзвонити"},  # a field even logistics may change
            "DeleteOrderInput",
            create_also_needs=("accounts:read", "order_statuses:read"),
            owner_field="managerId",
        ),
        Resource(
            "tickets",
            "ticket",
            "Ticket",
            "ticket",
            _ticket_create,
            lambda row: {"subject": "Нова тема"},
            "DeleteTicketInput",
            owner_field="assigneeId",
        ),
        Resource(
            "activities",
            "activity",
            "Activity",
            "activity",
            _activity_create,
            lambda row: {"subject": "Нова тема"},
            "ActivityVersionInput",
            create_also_needs=("accounts:read",),
        ),
    )
}
OPERATIONS = ("list", "one", "create", "update", "delete")
NEEDS = {"list": "read", "one": "read", "create": "create", "update": "update", "delete": "delete"}


def _mutation(name: str, input_type: str, payload: str) -> str:
    return f"""mutation($i: {input_type}!) {{ {name}(input: $i) {{
        {payload} {{ id version }} errors {{ field code message }} }} }}"""


def create_mutation(r: Resource) -> str:
    return _mutation(f"create{r.type_name}", f"Create{r.type_name}Input", r.payload)


def update_mutation(r: Resource) -> str:
    return _mutation(f"update{r.type_name}", f"Update{r.type_name}Input", r.payload)


def delete_mutation(r: Resource) -> str:
    if r.name == "tickets":  # deleting a ticket answers with its id only
        return """mutation($i: DeleteTicketInput!) { deleteTicket(input: $i) { deletedTicketId errors { field code message } } }"""
    return _mutation(f"delete{r.type_name}", r.delete_input_type, r.payload)


def list_query(r: Resource) -> str:
    return f"{{ {r.name}(first: 100) {{ edges {{ node {{ id }} }} }} }}"


def one_query(r: Resource) -> str:
    return f"query($id: ID!) {{ {r.root}(id: $id) {{ id }} }}"


# -- the organization ---------------------------------------------------------------------------


@dataclass
class World:
    slug: str
    owner: Member
    members: dict[str, Member]  # by role name (and "peer", "outsider" for the scope matrix)
    roles: dict[str, Role]
    home: dict[str, str]  # member e-mail -> an account they own (to create orders, deals on)


async def _member(api: Client, tenants: TenantFactory, owner: Member, role: str, team_id: str | None) -> Member:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    made = await owner.data(
        api,
        CREATE_MEMBER,
        {"i": {"email": email, "name": role, "role": role, "password": PASSWORD, "teamId": team_id}},
    )
    assert made["createMember"]["errors"] == [], made
    member = await tenants.login(email, owner.org)
    member.role = role
    return member


@pytest.fixture(scope="module")
async def world(http) -> World:
    api = Client(http)
    tenants = TenantFactory(api)
    t = await tenants.create()
    owner = t.owner
    for name, spec in CUSTOM_ROLES.items():
        made = await owner.data(api, CREATE_ROLE, {"i": {"name": name, **spec}})
        assert made["createRole"]["errors"] == [], made
    for name, scope in SCOPE_ROLES.items():
        spec = {"name": name, "permissions": SCOPE_PERMISSIONS, "rowScope": scope.value}
        made = await owner.data(api, CREATE_ROLE, {"i": spec})
        assert made["createRole"]["errors"] == [], made
    north = (await owner.data(api, CREATE_TEAM, {"i": {"name": "North"}}))["createTeam"]["team"]["id"]
    south = (await owner.data(api, CREATE_TEAM, {"i": {"name": "South"}}))["createTeam"]["team"]["id"]
    members = dict(t.members)
    for name in CUSTOM_ROLES:
        members[name] = await _member(api, tenants, owner, name, None)
    for name in SCOPE_ROLES:
        members[name] = await _member(api, tenants, owner, name, north)
    members["peer"] = await _member(api, tenants, owner, "manager", north)
    members["outsider"] = await _member(api, tenants, owner, "manager", south)
    # The roles as the API describes them: the matrix expects what `roles` says.
    listed = (await owner.data(api, ROLES_QUERY))["roles"]
    roles = {
        r["name"]: Role(
            r["name"],
            "",
            _grants(r["permissions"]),
            scope=RowScope(r["rowScope"]),
            hidden_fields=frozenset(r["hiddenFields"]),
        )
        for r in listed
    }
    assert set(roles) == {*ROLES, *CUSTOM_ROLES, *SCOPE_ROLES}
    for name, role in ROLES.items():  # the presets as defined, the custom roles as made
        assert roles[name].permissions == role.permissions, name
    for name, spec in CUSTOM_ROLES.items():
        assert roles[name].permissions == sorted(spec["permissions"]), name
        assert roles[name].hidden_fields == frozenset(spec.get("hiddenFields", [])), name
    w = World(slug=t.slug, owner=owner, members=members, roles=roles, home={})
    for member in members.values():
        account = await _make(api, w, RESOURCES["accounts"], member, HOME_FIELDS)
        w.home[member.email] = account["id"]
    return w


def _grants(permissions: list[str]) -> dict[str, tuple[str, ...]]:
    grants: dict[str, tuple[str, ...]] = {}
    for p in permissions:
        resource, _, action = p.partition(":")
        grants[resource] = (*grants.get(resource, ()), action)
    return grants


# Every field a field column reads is filled on each member's own customer.
HOME_FIELDS = {
    "emails": ["home@client.example"],
    "phones": ["+380501112299"],
    "tags": ["vip"],
    "source": "website",
    "customFields": {"k": "v"},
}


async def _make(api: Client, world: World, r: Resource, owned_by: Member, extra: dict | None = None) -> dict:
    """A fresh row of ``r``, made by the owner, whose owner (where rows have one) is ``owned_by``
    when their role may hold such rows (a ticket is only assigned to someone who reads tickets)."""
    variables = {**r.create_input(world, world.owner), **(extra or {})}
    if r.name in ("deals", "orders", "activities"):
        variables["accountId"] = world.home.get(owned_by.email) or variables["accountId"]
    role = world.roles.get(owned_by.role) or ROLES["owner"]
    if r.owner_field and role.allows(f"{r.name}:read"):
        variables[r.owner_field] = owned_by.user_id
    made = await world.owner.data(api, create_mutation(r), {"i": variables})
    payload = made[f"create{r.type_name}"]
    assert payload["errors"] == [], payload
    return payload[r.payload]


# -- outcomes as a user sees them -----------------------------------------------------------------

ALLOWED, FORBIDDEN, NOT_FOUND = "allowed", "forbidden", "not found"


def _outcome(body: dict, root: str) -> str:
    """ALLOWED, FORBIDDEN (a GraphQL or payload FORBIDDEN error) or NOT_FOUND (a null object or a
    NOT_FOUND payload error); anything else fails the test."""
    if body.get("errors"):
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"FORBIDDEN"}, body
        return FORBIDDEN
    value = body["data"][root]
    if value is None:
        return NOT_FOUND
    if isinstance(value, dict) and "errors" in value:
        codes = {e["code"] for e in value["errors"]}
        if not codes:
            return ALLOWED
        assert codes in ({"FORBIDDEN"}, {"NOT_FOUND"}), body
        return FORBIDDEN if codes == {"FORBIDDEN"} else NOT_FOUND
    return ALLOWED


async def run(api: Client, world: World, r: Resource, member: Member, operation: str, row: dict) -> str:
    if operation == "list":
        body = await member.execute(api, list_query(r))
        outcome = _outcome(body, r.name)
        if outcome == ALLOWED and row["id"] not in {e["node"]["id"] for e in body["data"][r.name]["edges"]}:
            return NOT_FOUND
        return outcome
    if operation == "one":
        return _outcome(await member.execute(api, one_query(r), {"id": row["id"]}), r.root)
    if operation == "create":
        body = await member.execute(api, create_mutation(r), {"i": r.create_input(world, member)})
        return _outcome(body, f"create{r.type_name}")
    if operation == "update":
        variables = {"id": row["id"], "version": row["version"], **r.update_input(row)}
        return _outcome(await member.execute(api, update_mutation(r), {"i": variables}), f"update{r.type_name}")
    body = await member.execute(api, delete_mutation(r), {"i": {"id": row["id"], "version": row["version"]}})
    return _outcome(body, f"delete{r.type_name}")


def expected_by_permission(role: Role, r: Resource, operation: str) -> str:
    needed = [f"{r.name}:{NEEDS[operation]}"]
    if operation == "create":
        needed += r.create_also_needs
    return ALLOWED if all(role.allows(p) for p in needed) else FORBIDDEN


# -- role × operation -----------------------------------------------------------------------------


@pytest.mark.parametrize("resource", list(RESOURCES))
@pytest.mark.parametrize("role", MATRIX_ROLES)
async def test_role_operation(api, world, role, resource):
    """The member's own row (so row scope never stands in the way): each operation is allowed
    exactly when the role holds its permission."""
    r = RESOURCES[resource]
    member = world.members[role]
    definition = world.roles[role]
    expected, got = {}, {}
    for operation in OPERATIONS:
        row = await _make(api, world, r, member)
        expected[operation] = expected_by_permission(definition, r, operation)
        got[operation] = await run(api, world, r, member, operation, row)
    assert got == expected, (role, resource)


def test_matrix_covers_allowed_and_denied_for_every_operation():
    """The matrix is only as good as its roles: every operation is both allowed to some role and
    denied to another, for every object type (else a broken check could pass unseen)."""
    roles = {**ROLES}
    for name, spec in CUSTOM_ROLES.items():
        roles[name] = Role(name, "", _grants(spec["permissions"]), scope=RowScope(spec["rowScope"]))
    for r in RESOURCES.values():
        for operation in OPERATIONS:
            outcomes = {expected_by_permission(role, r, operation) for role in roles.values()}
            assert outcomes == {ALLOWED, FORBIDDEN}, (r.name, operation)


# -- row scope × operation ----------------------------------------------------------------------

ROW_OPERATIONS = ("list", "one", "update", "delete")
REACH = {RowScope.ALL: {"self", "peer", "outsider"}, RowScope.TEAM: {"self", "peer"}, RowScope.OWN: {"self"}}


@pytest.mark.parametrize("owner", ["self", "peer", "outsider"])
@pytest.mark.parametrize("resource", list(RESOURCES))
@pytest.mark.parametrize("scope", list(RowScope), ids=lambda s: s.value)
async def test_row_scope_operation(api, world, scope, resource, owner):
    """The same rights with row scope own / team / all, on a row of the member, of a teammate
    (team North) and of someone in another team: a row out of scope is simply not there."""
    r = RESOURCES[resource]
    member = world.members[f"rows-{scope.value}"]
    row_owner = member if owner == "self" else world.members[owner]
    got = {}
    for operation in ROW_OPERATIONS:
        row = await _make(api, world, r, row_owner)
        got[operation] = await run(api, world, r, member, operation, row)
    reached = owner in REACH[scope]  # tickets: by assignee, activities: by their account's owner
    assert got == dict.fromkeys(ROW_OPERATIONS, ALLOWED if reached else NOT_FOUND), (scope, resource, owner)


# -- field columns (hidden fields; masking columns go here too) ---------------------------------


@dataclass(frozen=True)
class FieldColumn:
    type_name: str
    field: str
    query: str  # reads the field of the row with id $id; the field's value is at data[root][field]
    root: str
    resource: str  # the object's permission resource
    expected: Callable[[Role], str]  # "visible", "forbidden" or "masked"
    masked_value: object = None  # what a masked field reads as (for masking columns)


def _hidden(type_name: str, field: str, resource: str) -> Callable[[Role], str]:
    def expected(role: Role) -> str:
        if not role.allows(f"{resource}:read") or f"{type_name}.{field}" in role.hidden_fields:
            return "forbidden"
        return "visible"

    return expected


def _pii(type_name: str, field: str, resource: str) -> Callable[[Role], str]:
    """Customers' data: refused like any hidden field, else in full with ``pii:read``, else masked."""
    hidden = _hidden(type_name, field, resource)

    def expected(role: Role) -> str:
        if hidden(role) == "forbidden":
            return "forbidden"
        if role.allows("pii:read") or f"{type_name}.{field}" in role.unmasked_fields:
            return "visible"
        return "masked"

    return expected


def _account_column(field: str, expected: Callable[[Role], str], masked_value: object = None) -> FieldColumn:
    query = f"query($id: ID!) {{ account(id: $id) {{ {field} }} }}"
    return FieldColumn("Account", field, query, "account", "accounts", expected, masked_value)


FIELD_COLUMNS = [
    *(_account_column(field, _hidden("Account", field, "accounts")) for field in ("tags", "source", "customFields")),
    _account_column("emails", _pii("Account", "emails", "accounts"), ["h***@client.example"]),
    _account_column("phones", _pii("Account", "phones", "accounts"), ["+38050*****99"]),
]


@pytest.mark.parametrize("column", FIELD_COLUMNS, ids=lambda c: f"{c.type_name}.{c.field}")
@pytest.mark.parametrize("role", MATRIX_ROLES)
async def test_field_column(api, world, role, column):
    member = world.members[role]
    row_id = world.home[member.email]  # their own customer, with every field filled by the owner below
    body = await member.execute(api, column.query, {"id": row_id})
    expected = column.expected(world.roles[role])
    if expected == "forbidden":
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
        # Without the object's read the whole object is refused, else just the field.
        whole = not world.roles[role].allows(f"{column.resource}:read")
        assert body["errors"][0]["path"] == ([column.root] if whole else [column.root, column.field]), body
    else:
        assert not body.get("errors"), body
        value = body["data"][column.root][column.field]
        if expected == "masked":
            assert value == column.masked_value, body
        else:
            assert value is not None and value == HOME_FIELDS.get(column.field, value), body


def test_field_columns_see_both_outcomes():
    """Each column is refused to some role of the matrix and readable by another."""
    roles = [ROLES[n] for n in ROLES] + [
        Role(n, "", _grants(s["permissions"]), hidden_fields=frozenset(s.get("hiddenFields", [])))
        for n, s in CUSTOM_ROLES.items()
    ]
    for column in FIELD_COLUMNS:
        outcomes = {column.expected(role) for role in roles}
        wanted = {"visible", "forbidden", "masked"} if column.masked_value is not None else {"visible", "forbidden"}
        assert outcomes == wanted, (column, outcomes)
    # Custom roles are masked or not by their own pii:read, like the presets.
    custom = {
        n: _pii("Account", "phones", "accounts")(r) for n, r in zip(CUSTOM_ROLES, roles[len(ROLES) :], strict=True)
    }
    assert custom == {"clerk": "visible", "desk": "masked", "dispatcher": "forbidden"}
