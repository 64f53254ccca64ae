"""The audit trail through GraphQL: who changed what, with before/after, per organization."""

from datetime import UTC, datetime, timedelta

AUDIT = """query($first: Int, $after: String, $where: AuditEntryWhere) {
    auditEntries(first: $first, after: $after, where: $where) {
        edges { node { id action entityType entityId actorKind actor { email } changes createdAt } }
        pageInfo { hasNextPage endCursor } } }"""
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) {
    account { id version } errors { code } } }"""
UPDATE_ACCOUNT = """mutation($i: UpdateAccountInput!) { updateAccount(input: $i) {
    account { id version } errors { code } } }"""


async def entries(member, api, **variables) -> list[dict]:
    data = await member.data(api, AUDIT, variables)
    return [e["node"] for e in data["auditEntries"]["edges"]]


async def account_with_update(member, api, name="Олена", new_name="Олена Коваль") -> str:
    made = (await member.data(api, CREATE_ACCOUNT, {"i": {"name": name}}))["createAccount"]["account"]
    updated = await member.data(api, UPDATE_ACCOUNT, {"i": {"id": made["id"], "version": 1, "name": new_name}})
    assert updated["updateAccount"]["errors"] == []
    return made["id"]


async def test_account_update_shows_before_and_after(api, tenants):
    t = await tenants.create(("owner", "admin", "analyst"))
    account = await account_with_update(t.owner, api)

    found = await entries(t.owner, api, where={"entityId": {"eq": account}})
    assert [e["action"] for e in found] == ["account.update", "account.create"]  # newest first
    update = found[0]
    assert update["changes"] == {"name": ["Олена", "Олена Коваль"]}
    assert update["entityType"] == "Account"
    assert update["entityId"] == account
    assert update["actorKind"] == "user"
    assert update["actor"] == {"email": t.owner.email}
    assert found[1]["changes"]["name"] == [None, "Олена"]
    assert abs(datetime.fromisoformat(update["createdAt"]) - datetime.now(UTC)) < timedelta(minutes=1)

    # The entity ID leads back to the object.
    node = await t.owner.data(api, "query($id: ID!) { node(id: $id) { ... on Account { name } } }", {"id": account})
    assert node["node"]["name"] == "Олена Коваль"

    for reader in (t.admin, t.analyst):
        seen = await entries(reader, api, where={"entityId": {"eq": account}, "action": {"eq": "account.update"}})
        assert [e["changes"] for e in seen] == [{"name": ["Олена", "Олена Коваль"]}]


async def test_roles_without_audit_read_are_forbidden(api, tenants):
    t = await tenants.create(("owner", "manager", "sales", "support", "logistics"))
    await account_with_update(t.owner, api)
    for member in (t.manager, t.sales, t.support, t.logistics):
        body = await member.execute(api, AUDIT)
        assert body["data"] == {"auditEntries": None}  # root fields fail alone (docs/api.md)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_other_organization_entries_never_appear(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    a_account = await account_with_update(a.owner, api)
    b_account = await account_with_update(b.owner, api, "Петро", "Петро Іваненко")

    assert await entries(b.owner, api, where={"entityId": {"eq": a_account}}) == []
    seen = await entries(b.owner, api, first=100)
    assert seen and {e["entityId"] for e in seen} == {b_account}
    assert all(e["actor"] in (None, {"email": b.owner.email}) for e in seen)
    assert a.owner.email not in str(seen)


async def test_filters_and_pagination(api, tenants):
    t = await tenants.create(("owner", "admin"))
    first = await account_with_update(t.owner, api, "A", "A2")
    second = await account_with_update(t.admin, api, "B", "B2")
    started = datetime.now(UTC)

    by_admin = await entries(t.owner, api, where={"actor": {"eq": t.admin.user_id}})
    assert {e["entityId"] for e in by_admin} == {second}
    updates = await entries(t.owner, api, where={"action": {"eq": "account.update"}})
    assert [e["entityId"] for e in updates] == [second, first]
    creates = await entries(t.owner, api, where={"action": {"contains": "CREATE"}, "entityType": {"eq": "Account"}})
    assert [e["entityId"] for e in creates] == [second, first]
    either = await entries(t.owner, api, where={"entityId": {"in": [first, second]}})
    assert len(either) == 4
    assert await entries(t.owner, api, where={"createdAt": {"gt": started.isoformat()}}) == []
    recent = await entries(t.owner, api, where={"createdAt": {"gte": (started - timedelta(minutes=5)).isoformat()}})
    assert len(recent) == 4

    # Pages of one, newest first, in the same order as one page of all.
    all_at_once = [e["id"] for e in await entries(t.owner, api)]
    paged, after = [], None
    while True:
        page = (await t.owner.data(api, AUDIT, {"first": 1, "after": after}))["auditEntries"]
        paged += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == all_at_once and len(paged) == 4

    bad = await t.owner.execute(api, AUDIT, {"where": {"entityId": {"eq": "not-an-id"}}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_activity_writes_are_audited(api, tenants):
    t = await tenants.create(("owner", "analyst"))
    account = (await t.owner.data(api, CREATE_ACCOUNT, {"i": {"name": "Клієнт"}}))["createAccount"]["account"]["id"]
    made = await t.owner.data(
        api,
        """mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } errors { code } } }""",
        {"i": {"kind": "TASK", "accountId": account, "subject": "Call back"}},
    )
    task = made["createActivity"]["activity"]["id"]
    await t.owner.data(
        api,
        "mutation($i: UpdateActivityInput!) { updateActivity(input: $i) { errors { code } } }",
        {"i": {"id": task, "version": 1, "subject": "Call back today"}},
    )
    await t.owner.data(
        api,
        "mutation($i: ActivityVersionInput!) { completeTask(input: $i) { errors { code } } }",
        {"i": {"id": task, "version": 2}},
    )
    await t.owner.data(
        api,
        "mutation($i: ActivityVersionInput!) { deleteActivity(input: $i) { errors { code } } }",
        {"i": {"id": task, "version": 3}},
    )
    found = await entries(t.analyst, api, where={"entityId": {"eq": task}})
    assert [e["action"] for e in found] == [
        "activity.delete",
        "activity.complete",
        "activity.update",
        "activity.create",
    ]
    assert found[2]["changes"] == {"subject": ["Call back", "Call back today"]}
    assert found[1]["changes"]["done_at"][0] is None and found[1]["changes"]["done_at"][1]
    assert found[3]["changes"]["kind"] == [None, "task"]
    assert found[0]["changes"]["subject"] == ["Call back today", None]
    assert all(e["entityType"] == "Activity" for e in found)
