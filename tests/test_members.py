"""Owners and admins manage members and teams through the API."""

import pytest

from tests.helpers import LOGIN

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

CREATE = """mutation($i: CreateMemberInput!) { createMember(input: $i) {
    member { id role isActive user { email } team { name } } errors { field code message } } }"""
UPDATE = """mutation($i: UpdateMemberInput!) { updateMember(input: $i) {
    member { id role isActive team { name } } errors { field code message } } }"""


async def test_admin_adds_a_member_who_can_sign_in(api, tenants):
    t = await tenants.create(("admin",))
    team = await t.admin.data(
        api, 'mutation { createTeam(input: {name: "Київ"}) { team { id name } errors { code } } }'
    )
    team_id = team["createTeam"]["team"]["id"]
    body = await t.admin.data(
        api,
        CREATE,
        {
            "i": {
                "email": "New.Manager@Example.com",
                "role": "manager",
                "name": "Ганна",
                "teamId": team_id,
                "password": "s3cret-pass",
            }
        },
    )
    member = body["createMember"]["member"]
    assert member["user"]["email"] == "new.manager@example.com"
    assert member["team"] == {"name": "Київ"}
    login = await api.data(LOGIN, {"e": "new.manager@example.com", "p": "s3cret-pass"})
    me = await api.data("{ me { role organization { slug } } }", token=login["login"]["token"])
    assert me["me"] == {"role": "manager", "organization": {"slug": t.slug}}

    members = await t.admin.data(api, "{ members { role user { email } } }")
    assert {m["user"]["email"] for m in members["members"]} == {t.admin.email, "new.manager@example.com"}

    again = await t.admin.data(api, CREATE, {"i": {"email": "new.manager@example.com", "role": "sales"}})
    assert again["createMember"]["errors"][0]["code"] == "DUPLICATE"
    no_password = await t.admin.data(api, CREATE, {"i": {"email": "x@example.com", "role": "sales"}})
    assert no_password["createMember"]["errors"][0] == {
        "field": "password",
        "code": "REQUIRED",
        "message": "A new user needs an initial password.",
    }
    bad_role = await t.admin.data(
        api, CREATE, {"i": {"email": "y@example.com", "role": "boss", "password": "long enough"}}
    )
    assert bad_role["createMember"]["errors"][0]["field"] == "role"


async def test_deactivated_member_loses_access(api, tenants):
    t = await tenants.create(("owner", "sales"))
    members = await t.owner.data(api, "{ members { id role } }")
    sales_id = next(m["id"] for m in members["members"] if m["role"] == "sales")
    body = await t.owner.data(api, UPDATE, {"i": {"id": sales_id, "isActive": False}})
    assert body["updateMember"]["member"]["isActive"] is False
    denied = await t.sales.execute(api, "{ orders { totalCount } }")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_owner_rules(api, tenants):
    t = await tenants.create(("owner", "admin", "sales"))
    members = {m["role"]: m["id"] for m in (await t.owner.data(api, "{ members { id role } }"))["members"]}
    last_owner = await t.owner.data(api, UPDATE, {"i": {"id": members["owner"], "role": "admin"}})
    assert last_owner["updateMember"]["errors"][0]["code"] == "CONFLICT"
    admin_makes_owner = await t.admin.data(api, UPDATE, {"i": {"id": members["sales"], "role": "owner"}})
    assert admin_makes_owner["updateMember"]["errors"][0]["code"] == "FORBIDDEN"
    admin_touches_owner = await t.admin.data(api, UPDATE, {"i": {"id": members["owner"], "isActive": False}})
    assert admin_touches_owner["updateMember"]["errors"][0]["code"] == "FORBIDDEN"
    promoted = await t.owner.data(api, UPDATE, {"i": {"id": members["admin"], "role": "owner"}})
    assert promoted["updateMember"]["member"]["role"] == "owner"


async def test_members_are_not_for_everyone(api, tenants):
    t = await tenants.create(("sales", "manager"))
    assert (await t.sales.execute(api, "{ members { id } }"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await t.manager.execute(
        api, CREATE, {"i": {"email": "z@example.com", "role": "sales", "password": "long enough"}}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_members_of_other_organizations_are_invisible(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner", "sales"))
    b_members = (await b.owner.data(api, "{ members { id } }"))["members"]
    assert {m["id"] for m in (await a.owner.data(api, "{ members { id } }"))["members"]}.isdisjoint(
        {m["id"] for m in b_members}
    )
    body = await a.owner.data(api, UPDATE, {"i": {"id": b_members[1]["id"], "role": "admin"}})
    assert body["updateMember"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await a.owner.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": b_members[0]["id"]}))[
        "node"
    ] is None


EXTENSION = """mutation($i: UpdateMemberInput!) { updateMember(input: $i) {
    member { phoneExtension } errors { field code message } } }"""


async def member_ids(member, api) -> dict[str, str]:
    """Membership id by role."""
    return {m["role"]: m["id"] for m in (await member.data(api, "{ members { id role } }"))["members"]}


async def test_admins_give_members_their_phone_extension(api, tenants):
    t = await tenants.create(("owner", "admin", "sales"))
    ids_ = await member_ids(t.admin, api)
    given = await t.admin.data(api, EXTENSION, {"i": {"id": ids_["sales"], "phoneExtension": " 901 "}})
    assert given["updateMember"] == {"member": {"phoneExtension": "901"}, "errors": []}
    assert (await t.sales.data(api, "{ me { phoneExtension } }"))["me"]["phoneExtension"] == "901"
    taken = await t.admin.data(api, EXTENSION, {"i": {"id": ids_["admin"], "phoneExtension": "901"}})
    assert taken["updateMember"]["errors"] == [
        {"field": "phoneExtension", "code": "DUPLICATE", "message": "Another member has extension 901."}
    ]
    bad = await t.admin.data(api, EXTENSION, {"i": {"id": ids_["admin"], "phoneExtension": "90 1; drop"}})
    assert bad["updateMember"]["errors"][0]["code"] == "INVALID"
    cleared = await t.admin.data(api, EXTENSION, {"i": {"id": ids_["sales"], "phoneExtension": None}})
    assert cleared["updateMember"]["member"]["phoneExtension"] is None
    # The same extension in another organization is another phone.
    other = await tenants.create(("owner",))
    own = (await member_ids(other.owner, api))["owner"]
    assert (await other.owner.data(api, EXTENSION, {"i": {"id": own, "phoneExtension": "901"}}))["updateMember"][
        "errors"
    ] == []


async def test_members_cannot_set_their_own_extension_nor_another_organizations(api, tenants):
    t = await tenants.create(("owner", "sales"))
    ids_ = await member_ids(t.owner, api)
    refused = await t.sales.execute(api, EXTENSION, {"i": {"id": ids_["sales"], "phoneExtension": "901"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await tenants.create(("owner",))
    body = await other.owner.data(api, EXTENSION, {"i": {"id": ids_["sales"], "phoneExtension": "901"}})
    assert body["updateMember"]["errors"][0]["code"] == "NOT_FOUND"
