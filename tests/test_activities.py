"""The timeline through GraphQL: manual activities, tasks, system entries, filters, scoping."""

from datetime import UTC, datetime, timedelta

from server.core.models import OutboxEvent
from server.deals.models import Deal, Pipeline, Stage
from server.graphql import ids
from server.organizations.models import Organization
from server.tickets.models import Ticket

ACTIVITY = """id kind subject body occurredAt dueAt doneAt version isTask isOverdue isSystem data
    account { id } order { id number } deal { id title } ticket { id subject } actor { email }"""
PAYLOAD = f"activity {{ {ACTIVITY} }} errors {{ field code message }}"

CREATE = f"mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($i: UpdateActivityInput!) {{ updateActivity(input: $i) {{ {PAYLOAD} }} }}"
COMPLETE = f"mutation($i: ActivityVersionInput!) {{ completeTask(input: $i) {{ {PAYLOAD} }} }}"
REOPEN = f"mutation($i: ActivityVersionInput!) {{ reopenTask(input: $i) {{ {PAYLOAD} }} }}"
DELETE = f"mutation($i: ActivityVersionInput!) {{ deleteActivity(input: $i) {{ {PAYLOAD} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Activity {{ {ACTIVITY} }} }} }}"
LIST = """query($first: Int, $after: String, $where: ActivityWhere, $orderBy: ActivityOrder) {
    activities(first: $first, after: $after, where: $where, orderBy: $orderBy) {
        edges { cursor node { id kind subject occurredAt isOverdue } }
        pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }"""
TIMELINE = """query($id: ID!, $first: Int, $after: String) { account(id: $id) {
    timeline(first: $first, after: $after) {
        edges { node { id kind subject isSystem order { number } actor { email } } }
        pageInfo { hasNextPage endCursor } } } }"""

MANUAL = ("NOTE", "CALL", "SMS", "EMAIL", "MESSAGE", "TASK")
SYSTEM = ("STATUS_CHANGE", "ORDER", "DEAL", "TICKET")


def iso(dt: datetime) -> str:
    return dt.isoformat()


NOW = datetime.now(UTC)
PAST = iso(NOW - timedelta(days=2))
FUTURE = iso(NOW + timedelta(days=2))


async def make_account(member, api, name="Олена Коваль") -> str:
    data = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": name}},
    )
    assert data["createAccount"]["errors"] == []
    return data["createAccount"]["account"]["id"]


async def create(member, api, **fields) -> dict:
    fields.setdefault("kind", "NOTE")
    if fields["kind"] == "TASK":
        fields.setdefault("subject", "Call back")
    fields.setdefault("body", "Hello")
    return (await member.data(api, CREATE, {"i": fields}))["createActivity"]


async def created(member, api, **fields) -> dict:
    result = await create(member, api, **fields)
    assert result["errors"] == [], result
    return result["activity"]


async def timeline(member, api, account_id, **kw) -> list[dict]:
    data = await member.data(api, TIMELINE, {"id": account_id, **kw})
    return [e["node"] for e in data["account"]["timeline"]["edges"]]


async def listed(member, api, **variables) -> dict:
    return (await member.data(api, LIST, variables))["activities"]


def codes(result: dict) -> list[tuple]:
    return [(e["field"], e["code"]) for e in result["errors"]]


async def org_of(tenant) -> Organization:
    return await Organization.get(slug=tenant.slug)


# -- creating --------------------------------------------------------------------------


async def test_create_each_manual_kind(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    for kind in MANUAL:
        activity = await created(
            t.owner, api, kind=kind, accountId=account, subject=f"{kind} subject", data={"durationSec": 42}
        )
        assert activity["kind"] == kind
        assert activity["account"]["id"] == account
        assert activity["actor"]["email"] == t.owner.email
        assert activity["isTask"] is (kind == "TASK")
        assert activity["isSystem"] is False
        assert activity["version"] == 1
        assert activity["data"] == {"durationSec": 42}
        occurred = datetime.fromisoformat(activity["occurredAt"])
        assert abs(occurred - datetime.now(UTC)) < timedelta(minutes=1)  # defaults to now
    items = await timeline(t.owner, api, account)
    assert [i["kind"] for i in items] == list(reversed(MANUAL))  # newest first


async def test_create_validates_input(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    assert codes(await create(t.owner, api, kind="TASK", accountId=account, subject="  ")) == [("subject", "REQUIRED")]
    assert codes(await create(t.owner, api, accountId=account, subject="", body="")) == [("subject", "REQUIRED")]
    assert codes(await create(t.owner, api, accountId=account, dueAt=FUTURE)) == [("dueAt", "INVALID")]
    assert codes(await create(t.owner, api, accountId=account, occurredAt="2025-01-01T10:00:00")) == [
        ("occurredAt", "INVALID")
    ]
    assert codes(await create(t.owner, api, accountId=account, subject="x" * 301)) == [("subject", "INVALID")]
    assert codes(await create(t.owner, api, accountId=account, data=[1, 2])) == [("data", "INVALID")]
    assert codes(await create(t.owner, api)) == [("accountId", "REQUIRED")]
    assert codes(await create(t.owner, api, accountId="nonsense")) == [("accountId", "INVALID")]
    assert await timeline(t.owner, api, account) == []


async def test_occurred_at_is_stored_in_utc_and_orders_the_timeline(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    late = await created(t.owner, api, accountId=account, subject="late", occurredAt="2025-03-01T12:00:00+02:00")
    await created(t.owner, api, accountId=account, subject="early", occurredAt="2025-02-01T12:00:00Z")
    assert datetime.fromisoformat(late["occurredAt"]) == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert [i["subject"] for i in await timeline(t.owner, api, account)] == ["late", "early"]


async def test_system_kinds_are_refused_on_create(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    for kind in SYSTEM:
        result = await create(t.owner, api, kind=kind, accountId=account)
        assert result["activity"] is None
        assert codes(result) == [("kind", "INVALID")]
    assert await timeline(t.owner, api, account) == []


# -- tasks -------------------------------------------------------------------------------


async def test_task_lifecycle(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    task = await created(t.owner, api, kind="TASK", accountId=account, subject="Send the invoice", dueAt=PAST)
    assert task["isTask"] is True
    assert task["isOverdue"] is True
    assert task["doneAt"] is None

    done = (await t.owner.data(api, COMPLETE, {"i": {"id": task["id"], "version": 1}}))["completeTask"]
    assert done["errors"] == []
    assert done["activity"]["doneAt"] is not None
    assert done["activity"]["isOverdue"] is False
    assert done["activity"]["version"] == 2

    again = (await t.owner.data(api, COMPLETE, {"i": {"id": task["id"], "version": 2}}))["completeTask"]
    assert codes(again) == [("id", "FORBIDDEN_TRANSITION")]

    reopened = (await t.owner.data(api, REOPEN, {"i": {"id": task["id"], "version": 2}}))["reopenTask"]
    assert reopened["errors"] == []
    assert reopened["activity"]["doneAt"] is None
    assert reopened["activity"]["isOverdue"] is True

    # Moving the due date to the future: no longer overdue.
    moved = (await t.owner.data(api, UPDATE, {"i": {"id": task["id"], "version": 3, "dueAt": FUTURE}}))[
        "updateActivity"
    ]
    assert moved["errors"] == []
    assert moved["activity"]["isOverdue"] is False

    # A task without a due date is allowed and never overdue.
    someday = await created(t.owner, api, kind="TASK", accountId=account, subject="Someday")
    assert someday["dueAt"] is None and someday["isOverdue"] is False

    topics = await OutboxEvent.filter(organization=await org_of(t)).values_list("topic", flat=True)
    assert {"activity.created", "task.completed", "task.reopened", "activity.updated"} <= set(topics)


async def test_only_tasks_complete(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    note = await created(t.owner, api, accountId=account)
    result = (await t.owner.data(api, COMPLETE, {"i": {"id": note["id"], "version": 1}}))["completeTask"]
    assert codes(result) == [("id", "INVALID")]


# -- system entries -----------------------------------------------------------------------


async def test_order_and_status_change_on_timeline_and_immutable(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    await created(t.owner, api, accountId=account, subject="First call")
    order = (
        await t.owner.data(
            api,
            """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
                order { id number version } errors { code } } }""",
            {
                "i": {
                    "accountId": account,
                    "items": [{"sku": "A", "title": "Kettle", "quantity": "1", "unitPrice": "10"}],
                }
            },
        )
    )["createOrder"]["order"]
    changed = await t.owner.data(
        api,
        """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) {
            order { status { code } } errors { code } } }""",
        {"i": {"id": order["id"], "version": order["version"], "status": "processing"}},
    )
    assert changed["changeOrderStatus"]["errors"] == []

    items = await timeline(t.owner, api, account)
    assert [i["kind"] for i in items] == ["STATUS_CHANGE", "ORDER", "NOTE"]
    assert all(i["isSystem"] for i in items[:2])
    assert items[0]["order"]["number"] == order["number"]
    assert items[0]["actor"]["email"] == t.owner.email
    assert "→" in items[0]["subject"]

    system_id = items[0]["id"]
    update = await t.owner.data(api, UPDATE, {"i": {"id": system_id, "version": 1, "body": "edited"}})
    assert codes(update["updateActivity"]) == [("id", "FORBIDDEN")]
    delete = await t.owner.data(api, DELETE, {"i": {"id": system_id, "version": 1}})
    assert codes(delete["deleteActivity"]) == [("id", "FORBIDDEN")]
    assert [i["id"] for i in await timeline(t.owner, api, account)] == [i["id"] for i in items]
    node = (await t.owner.data(api, NODE, {"id": system_id}))["node"]
    assert node["body"] == "" and node["version"] == 1

    # The order's own filter finds both entries.
    by_order = await listed(t.owner, api, where={"order": {"eq": order["id"]}})
    assert [e["node"]["kind"] for e in by_order["edges"]] == ["STATUS_CHANGE", "ORDER"]


# -- links to deals, orders and tickets --------------------------------------------------


async def _deal(tenant, account_gid: str, title="Big deal") -> str:
    org = await org_of(tenant)
    pipeline = await Pipeline.get(organization=org, is_default=True)
    stage = await Stage.filter(pipeline=pipeline).order_by("position").first()
    deal = await Deal.create(
        organization=org,
        title=title,
        account_id=ids.decode(account_gid)[1],
        pipeline=pipeline,
        stage=stage,
        currency="UAH",
        owner_id=ids.decode(tenant.owner.user_id)[1],
    )
    return ids.encode("Deal", deal.id)


async def _ticket(tenant, account_gid: str | None, subject="Broken kettle") -> str:
    org = await org_of(tenant)
    ticket = await Ticket.create(
        organization=org,
        number=1,
        subject=subject,
        account_id=ids.decode(account_gid)[1] if account_gid else None,
    )
    return ids.encode("Ticket", ticket.id)


async def test_links_to_deal_order_and_ticket(api, tenants):
    # Deals and tickets have no create mutations yet: this test makes them with the ORM.
    t = await tenants.create(("owner", "support"))
    account = await make_account(t.owner, api)
    other = await make_account(t.owner, api, "Інший клієнт")
    deal = await _deal(t, account)
    ticket = await _ticket(t, account)

    call = await created(t.owner, api, kind="CALL", accountId=account, dealId=deal, ticketId=ticket, subject="Talked")
    assert call["deal"] == {"id": deal, "title": "Big deal"}
    assert call["ticket"] == {"id": ticket, "subject": "Broken kettle"}

    # Without accountId the account comes from the linked record.
    derived = await created(t.owner, api, ticketId=ticket, subject="On the ticket")
    assert derived["account"]["id"] == account

    # Linked records must belong to the same account.
    result = await create(t.owner, api, accountId=other, dealId=deal)
    assert codes(result) == [("dealId", "INVALID")]
    result = await create(t.owner, api, accountId=account, orderId=ids.encode("Order", ids.decode(deal)[1]))
    assert codes(result) == [("orderId", "NOT_FOUND")]
    result = await create(t.owner, api, accountId=account, dealId=account)
    assert codes(result) == [("dealId", "INVALID")]

    # Support may not see deals: linking one is refused, reading the link gives null.
    result = await create(t.support, api, accountId=account, dealId=deal)
    assert codes(result) == [("dealId", "FORBIDDEN")]
    seen = (await t.support.data(api, NODE, {"id": call["id"]}))["node"]
    assert seen["deal"] is None
    assert seen["ticket"]["id"] == ticket

    by_deal = await listed(t.owner, api, where={"deal": {"eq": deal}})
    assert [e["node"]["id"] for e in by_deal["edges"]] == [call["id"]]
    by_ticket = await listed(t.owner, api, where={"ticket": {"in": [ticket]}})
    assert {e["node"]["id"] for e in by_ticket["edges"]} == {call["id"], derived["id"]}


# -- lists ---------------------------------------------------------------------------------


async def test_filters_and_pagination(api, tenants):
    t = await tenants.create(("owner", "support"))
    account = await make_account(t.owner, api)
    other = await make_account(t.owner, api, "Друга")
    base = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    made = {}
    for i, (kind, acc) in enumerate(
        [("NOTE", account), ("CALL", account), ("SMS", other), ("EMAIL", account), ("TASK", account)]
    ):
        made[kind] = await created(t.owner, api, kind=kind, accountId=acc, occurredAt=iso(base + timedelta(days=i)))
    open_task = made["TASK"]
    done_task = await created(t.owner, api, kind="TASK", accountId=account, occurredAt=iso(base), dueAt=PAST)
    await t.owner.data(api, COMPLETE, {"i": {"id": done_task["id"], "version": 1}})
    late_task = await created(t.support, api, kind="TASK", accountId=account, occurredAt=iso(base), dueAt=PAST)

    # Pages of two, newest occurredAt first, until the end.
    seen, after = [], None
    while True:
        page = await listed(t.owner, api, first=2, after=after)
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 7 and len({s["id"] for s in seen}) == 7
    assert [s["kind"] for s in seen[:4]] == ["TASK", "EMAIL", "SMS", "CALL"]
    occurred = [s["occurredAt"] for s in seen]
    assert occurred == sorted(occurred, reverse=True)

    async def ids_of(**variables) -> set[str]:
        return {e["node"]["id"] for e in (await listed(t.owner, api, **variables))["edges"]}

    assert await ids_of(where={"kind": {"in": ["CALL", "SMS"]}}) == {made["CALL"]["id"], made["SMS"]["id"]}
    assert await ids_of(where={"kind": {"eq": "NOTE"}}) == {made["NOTE"]["id"]}
    assert await ids_of(where={"account": {"eq": other}}) == {made["SMS"]["id"]}
    assert await ids_of(where={"done": True}) == {done_task["id"]}
    assert await ids_of(where={"done": False}) == {open_task["id"], late_task["id"]}
    assert await ids_of(where={"overdue": True}) == {late_task["id"]}
    assert late_task["id"] not in await ids_of(where={"overdue": False})
    assert open_task["id"] in await ids_of(where={"overdue": False})
    assert await ids_of(where={"actor": {"eq": t.support.user_id}}) == {late_task["id"]}
    assert await ids_of(where={"dueAt": {"lt": iso(datetime.now(UTC))}}) == {done_task["id"], late_task["id"]}
    window = {"gte": iso(base + timedelta(days=1)), "lt": iso(base + timedelta(days=3))}
    assert await ids_of(where={"occurredAt": window}) == {made["CALL"]["id"], made["SMS"]["id"]}
    either = {"OR": [{"kind": {"eq": "NOTE"}}, {"account": {"eq": other}}]}
    assert await ids_of(where=either) == {made["NOTE"]["id"], made["SMS"]["id"]}
    both = {"AND": [{"kind": {"eq": "TASK"}}, {"done": False}], "actor": {"eq": t.owner.user_id}}
    assert await ids_of(where=both) == {open_task["id"]}

    # orderBy CREATED_AT ascending: the order of creation.
    by_created = await listed(t.owner, api, orderBy={"field": "CREATED_AT", "direction": "ASC"}, first=3)
    assert [e["node"]["id"] for e in by_created["edges"]] == [made[k]["id"] for k in ("NOTE", "CALL", "SMS")]
    assert by_created["pageInfo"]["hasNextPage"] is True

    # The account's timeline pages the same way.
    page = (await t.owner.data(api, TIMELINE, {"id": account, "first": 5}))["account"]["timeline"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await timeline(t.owner, api, account, first=5, after=page["pageInfo"]["endCursor"])
    assert len(page["edges"]) + len(rest) == 6

    bad = await t.owner.execute(api, LIST, {"where": {"account": {"eq": "garbage"}}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    too_many = await t.owner.execute(api, LIST, {"first": 101})
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# -- concurrency and retries ---------------------------------------------------------------


async def test_update_and_version_conflict(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    note = await created(t.owner, api, accountId=account, subject="Draft", body="v1")
    first = (await t.owner.data(api, UPDATE, {"i": {"id": note["id"], "version": 1, "body": "v2", "data": {"a": 1}}}))[
        "updateActivity"
    ]
    assert first["errors"] == []
    assert first["activity"]["body"] == "v2" and first["activity"]["version"] == 2
    assert first["activity"]["data"] == {"a": 1}
    assert first["activity"]["subject"] == "Draft"  # untouched

    stale = (await t.owner.data(api, UPDATE, {"i": {"id": note["id"], "version": 1, "body": "v3"}}))["updateActivity"]
    assert codes(stale) == [("version", "CONFLICT")]
    stale_delete = (await t.owner.data(api, DELETE, {"i": {"id": note["id"], "version": 1}}))["deleteActivity"]
    assert codes(stale_delete) == [("version", "CONFLICT")]
    stale_complete = await created(t.owner, api, kind="TASK", accountId=account)
    result = (await t.owner.data(api, COMPLETE, {"i": {"id": stale_complete["id"], "version": 5}}))["completeTask"]
    assert codes(result) == [("version", "CONFLICT")]
    node = (await t.owner.data(api, NODE, {"id": note["id"]}))["node"]
    assert node["body"] == "v2" and node["version"] == 2


async def test_idempotent_create(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    first = await created(t.owner, api, accountId=account, subject="Once", idempotencyKey="note-1")
    again = await created(t.owner, api, accountId=account, subject="Once", idempotencyKey="note-1")
    assert again["id"] == first["id"]
    assert len(await timeline(t.owner, api, account)) == 1
    assert codes(await create(t.owner, api, accountId=account, idempotencyKey="")) == [("idempotencyKey", "INVALID")]


async def test_delete(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    note = await created(t.owner, api, accountId=account, subject="Oops")
    result = (await t.owner.data(api, DELETE, {"i": {"id": note["id"], "version": 1}}))["deleteActivity"]
    assert result["errors"] == []
    assert (await t.owner.data(api, NODE, {"id": note["id"]}))["node"] is None
    assert await timeline(t.owner, api, account) == []
    again = (await t.owner.data(api, DELETE, {"i": {"id": note["id"], "version": 1}}))["deleteActivity"]
    assert codes(again) == [("id", "NOT_FOUND")]
    topics = await OutboxEvent.filter(organization=await org_of(t)).values_list("topic", flat=True)
    assert "activity.deleted" in topics


# -- permissions and tenants ---------------------------------------------------------------


async def test_sales_sees_only_activities_of_own_accounts(api, tenants):
    t = await tenants.create(("owner", "sales"))
    mine = await make_account(t.sales, api, "Клієнт продавця")
    theirs = await make_account(t.owner, api, "Клієнт власника")
    on_mine = await created(t.owner, api, accountId=mine, subject="On sales account")
    on_theirs = await created(t.owner, api, accountId=theirs, subject="On owner account")
    by_sales = await created(t.sales, api, accountId=mine, kind="CALL", subject="Sales call")

    visible = {e["node"]["id"] for e in (await listed(t.sales, api))["edges"]}
    assert visible == {on_mine["id"], by_sales["id"]}
    assert (await t.sales.data(api, NODE, {"id": on_theirs["id"]}))["node"] is None
    assert (await t.sales.data(api, "query($id: ID!) { activity(id: $id) { id } }", {"id": on_theirs["id"]}))[
        "activity"
    ] is None

    assert codes(await create(t.sales, api, accountId=theirs)) == [("accountId", "NOT_FOUND")]
    update = await t.sales.data(api, UPDATE, {"i": {"id": on_theirs["id"], "version": 1, "body": "x"}})
    assert codes(update["updateActivity"]) == [("id", "NOT_FOUND")]
    # Sales may edit activities on their own accounts, but not delete them.
    own = await t.sales.data(api, UPDATE, {"i": {"id": on_mine["id"], "version": 1, "body": "x"}})
    assert own["updateActivity"]["errors"] == []
    body = await t.sales.execute(api, DELETE, {"i": {"id": by_sales["id"], "version": 1}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_logistics_logs_but_cannot_delete(api, tenants):
    t = await tenants.create(("owner", "logistics"))
    account = await make_account(t.owner, api)
    note = await created(t.logistics, api, accountId=account, kind="CALL", subject="Courier called")
    body = await t.logistics.execute(api, DELETE, {"i": {"id": note["id"], "version": 1}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(await timeline(t.owner, api, account)) == 1


async def test_analyst_reads_but_cannot_write(api, tenants):
    t = await tenants.create(("owner", "analyst"))
    account = await make_account(t.owner, api)
    await created(t.owner, api, accountId=account)
    assert len((await listed(t.analyst, api))["edges"]) == 1
    body = await t.analyst.execute(api, CREATE, {"i": {"kind": "NOTE", "accountId": account, "body": "x"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_other_organization_activities_are_invisible_and_unchangeable(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    account = await make_account(a.owner, api)
    note = await created(a.owner, api, accountId=account, subject="Secret")
    task = await created(a.owner, api, accountId=account, kind="TASK")

    assert (await b.owner.data(api, NODE, {"id": note["id"]}))["node"] is None
    assert (await listed(b.owner, api))["edges"] == []
    assert (await listed(b.owner, api, where={"account": {"eq": account}}))["edges"] == []
    assert (await b.owner.data(api, TIMELINE, {"id": account}))["account"] is None

    update = await b.owner.data(api, UPDATE, {"i": {"id": note["id"], "version": 1, "body": "hacked"}})
    assert codes(update["updateActivity"]) == [("id", "NOT_FOUND")]
    delete = await b.owner.data(api, DELETE, {"i": {"id": note["id"], "version": 1}})
    assert codes(delete["deleteActivity"]) == [("id", "NOT_FOUND")]
    complete = await b.owner.data(api, COMPLETE, {"i": {"id": task["id"], "version": 1}})
    assert codes(complete["completeTask"]) == [("id", "NOT_FOUND")]
    assert codes(await create(b.owner, api, accountId=account)) == [("accountId", "NOT_FOUND")]
    # Same idempotency key in another organization: a new activity, not theirs.
    await created(a.owner, api, accountId=account, idempotencyKey="shared")
    b_account = await make_account(b.owner, api)
    assert (await created(b.owner, api, accountId=b_account, idempotencyKey="shared"))["account"]["id"] == b_account

    node = (await a.owner.data(api, NODE, {"id": note["id"]}))["node"]
    assert node["body"] == "Hello" and node["version"] == 1


# -- cost ------------------------------------------------------------------------------------

ACTIVITIES_PAGE = """query($n: Int!) { activities(first: $n) { edges { node {
    id kind subject occurredAt isOverdue account { id name } order { number } actor { email } } } } }"""


async def test_activities_page_statement_count_does_not_grow_with_page_size(api, tenants):
    from server.accounts.models import Account
    from server.activities.models import Activity
    from server.auth.models import User
    from tests.helpers import QueryCounter

    t = await tenants.create(("owner",))
    org = await org_of(t)
    owner = await User.get(email=t.owner.email)
    await Account.bulk_create([Account(organization=org, name=f"Клієнт {i}", owner=owner) for i in range(30)])
    accounts = await Account.filter(organization=org)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    await Activity.bulk_create(
        [
            Activity(
                organization=org,
                kind=("note", "task")[i % 2],
                account=accounts[i % len(accounts)],
                actor=owner,
                subject=f"#{i}",
                occurred_at=base + timedelta(hours=i),
                due_at=base if i % 2 else None,
            )
            for i in range(100)
        ]
    )
    counts = {}
    for n in (20, 100):
        with QueryCounter() as q:
            edges = (await t.owner.data(api, ACTIVITIES_PAGE, {"n": n}))["activities"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["account"]["name"].startswith("Клієнт") for e in edges)
        assert all(e["node"]["actor"]["email"] == t.owner.email for e in edges)
        counts[n] = q.count
    assert counts[20] >= 3, counts  # the counter sees the statements
    assert counts[20] == counts[100], counts
    assert counts[100] <= 6, counts
