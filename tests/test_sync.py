""" "Changed since": every list filters on updatedAt and sorts by it with keyset cursors, and the
soft-deletable ones (orders, accounts, deals) show deletions to a syncing client."""

import itertools

from tests.test_orders import STATUS, create_order, make_account

SYNC = """query($w: OrderWhere, $a: String, $d: Boolean) {
  orders(where: $w, orderBy: {field: UPDATED_AT, direction: ASC}, first: 2, after: $a, includeDeleted: $d) {
    edges { node { number updatedAt deletedAt status { code } } }
    pageInfo { hasNextPage endCursor } } }"""


async def _sync(member, api, since: str, include_deleted: bool = True) -> list[dict]:
    """What a syncing SPA does: page through everything changed after `since`, oldest change first."""
    seen, after = [], None
    while True:
        data = await member.data(api, SYNC, {"w": {"updatedAt": {"gt": since}}, "a": after, "d": include_deleted})
        conn = data["orders"]
        seen += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return seen
        after = conn["pageInfo"]["endCursor"]


async def test_a_sync_sees_edits_status_changes_and_deletions_in_order(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    orders = [(await create_order(t.owner, api, account))["order"] for _ in range(4)]
    everything = await _sync(t.owner, api, "2000-01-01T00:00:00Z")
    assert [o["number"] for o in everything] == [1, 2, 3, 4]
    last_sync = everything[-1]["updatedAt"]
    assert await _sync(t.owner, api, last_sync) == []

    # Changes after the sync, in this order: #3 changes status, #1 is deleted, #2 gets a comment.
    third, first, second = orders[2], orders[0], orders[1]
    await t.owner.data(api, STATUS, {"input": {"id": third["id"], "version": third["version"], "status": "cancelled"}})
    deleted = await t.owner.data(
        api,
        "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { code } } }",
        {"i": {"id": first["id"], "version": first["version"]}},
    )
    assert deleted["deleteOrder"]["errors"] == []
    await t.owner.data(
        api,
        "mutation($i: UpdateOrderInput!) { updateOrder(input: $i) { errors { code } } }",
        {"i": {"id": second["id"], "version": second["version"], "comment": "call first"}},
    )

    changed = await _sync(t.owner, api, last_sync)
    assert [o["number"] for o in changed] == [3, 1, 2]
    assert changed[0]["status"]["code"] == "cancelled" and changed[0]["deletedAt"] is None
    assert changed[1]["deletedAt"] is not None  # the deletion, for the client to drop its copy
    assert all(a["updatedAt"] < b["updatedAt"] for a, b in itertools.pairwise(changed))
    # Without includeDeleted the deleted order stays out of lists, as before.
    assert [o["number"] for o in await _sync(t.owner, api, last_sync, include_deleted=False)] == [3, 2]
    # Sorted by updatedAt the other way, too.
    newest = await t.owner.data(
        api, "{ orders(orderBy: {field: UPDATED_AT, direction: DESC}, first: 1) { edges { node { number } } } }"
    )
    assert newest["orders"]["edges"][0]["node"]["number"] == 2


async def test_deleted_rows_respect_tenancy_and_row_scope(api, tenants):
    t = await tenants.create(("owner", "manager"))
    other = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    mine = (await create_order(t.manager, api, await make_account(t.manager, api, "Тарас", ("0501112233",))))["order"]
    theirs = (await create_order(t.owner, api, account))["order"]
    for order in (mine, theirs):
        body = await t.owner.data(
            api,
            "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { code } } }",
            {"i": {"id": order["id"], "version": order["version"]}},
        )
        assert body["deleteOrder"]["errors"] == []
    since = "2000-01-01T00:00:00Z"
    assert sorted(o["number"] for o in await _sync(t.owner, api, since)) == [1, 2]
    # The manager sees only own orders (row scope), deleted ones included.
    assert [o["number"] for o in await _sync(t.manager, api, since)] == [mine["number"]]
    assert await _sync(other.owner, api, since) == []


LISTS = {
    # list field: (where type, create mutation, input, payload field)
    "accounts": ("AccountWhere", "createAccount", "CreateAccountInput", "account", lambda acc: {"name": "Нова"}),
    "contacts": (
        "ContactWhere",
        "createContact",
        "CreateContactInput",
        "contact",
        lambda acc: {"accountId": acc, "name": "Ірина"},
    ),
    "deals": ("DealWhere", "createDeal", "CreateDealInput", "deal", lambda acc: {"accountId": acc, "title": "Опт"}),
    "tickets": ("TicketWhere", "createTicket", "CreateTicketInput", "ticket", lambda acc: {"subject": "Не працює"}),
    "activities": (
        "ActivityWhere",
        "createActivity",
        "CreateActivityInput",
        "activity",
        lambda acc: {"kind": "NOTE", "accountId": acc, "body": "Передзвонити"},
    ),
}


async def test_every_list_filters_and_sorts_by_updated_at(api, tenants):
    t = await tenants.create(("owner",))
    other = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    for field, (where_type, mutation, input_type, payload, make_input) in LISTS.items():
        create = f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {payload} {{ id updatedAt }} errors {{ code }} }} }}"
        made = [(await t.owner.data(api, create, {"i": make_input(account)}))[mutation][payload] for _ in range(2)]
        query = f"""query($w: {where_type}) {{ {field}(where: $w, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{
            edges {{ node {{ id }} }} }} }}"""

        async def ids(member, where, query=query, field=field):
            return [e["node"]["id"] for e in (await member.data(api, query, {"w": where}))[field]["edges"]]

        assert await ids(t.owner, {"updatedAt": {"gte": made[0]["updatedAt"]}}) == [m["id"] for m in made], field
        assert await ids(t.owner, {"updatedAt": {"gt": made[0]["updatedAt"]}}) == [made[1]["id"]], field
        assert await ids(t.owner, {"updatedAt": {"gt": made[1]["updatedAt"]}}) == [], field
        assert await ids(other.owner, {"updatedAt": {"gte": "2000-01-01T00:00:00Z"}}) == [], field


async def test_a_merge_moves_orders_and_a_sync_sees_them_move(api, tenants):
    t = await tenants.create(("owner",))
    keep = await make_account(t.owner, api)
    duplicate = await make_account(t.owner, api, "Олена К.", ("0501112233",))
    moved = (await create_order(t.owner, api, duplicate))["order"]
    last_sync = (await _sync(t.owner, api, "2000-01-01T00:00:00Z"))[-1]["updatedAt"]
    version = await t.owner.data(api, "query($id: ID!) { account(id: $id) { version } }", {"id": keep})
    body = await t.owner.data(
        api,
        "mutation($i: MergeAccountsInput!) { mergeAccounts(input: $i) { errors { code message } } }",
        {"i": {"id": keep, "version": version["account"]["version"], "mergeId": duplicate}},
    )
    assert body["mergeAccounts"]["errors"] == []
    assert [o["number"] for o in await _sync(t.owner, api, last_sync)] == [moved["number"]]
