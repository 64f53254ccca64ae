"""Bulk actions: a background job over a selection or a filter, each record through its single
change's service (permissions, row scope, versions, transitions, audit, events, timeline), with
per-record results; retried without applying anything twice; another organization never seen."""

from __future__ import annotations

import pytest

from server.activities.models import Activity
from server.audit.models import AuditEntry
from server.bulk import jobs as bulk_jobs
from server.bulk import service as bulk_service
from server.bulk.models import BulkJob
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.orders.models import OrderStatusChange

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ERRORS = "errors { field code message }"
JOB = """id objectType action state total succeeded refused processed finishedAt requestedBy { email }"""
START = f"""mutation($i: BulkActionInput!) {{ bulkAction(input: $i) {{ job {{ {JOB} }} {ERRORS} }} }}"""
GET_JOB = f"""query($id: ID!, $state: BulkItemState, $first: Int, $after: String) {{ bulkJob(id: $id) {{ {JOB}
    items(state: $state, first: $first, after: $after) {{
        edges {{ node {{ position targetId state error {{ field code message }} }} }}
        pageInfo {{ hasNextPage endCursor }} }} }} }}"""
JOBS = "{ bulkJobs(first: 10) { edges { node { id } } } }"

ITEMS = [{"sku": "KETTLE-1", "title": "Чайник", "quantity": "1", "unitPrice": "1000"}]


async def make_account(member, api, name="Олена", **extra) -> dict:
    body = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id version tags } errors { code } } }",
        {"i": {"name": name, **extra}},
    )
    assert body["createAccount"]["errors"] == [], body
    return body["createAccount"]["account"]


async def make_order(member, api, account_id) -> dict:
    body = await member.data(
        api,
        """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
            order { id number version status { code } } errors { code } } }""",
        {"i": {"accountId": account_id, "items": ITEMS}},
    )
    assert body["createOrder"]["errors"] == [], body
    return body["createOrder"]["order"]


async def order_status(member, api, order_id) -> str:
    body = await member.data(api, "query($id: ID!) { order(id: $id) { status { code } } }", {"id": order_id})
    return body["order"]["status"]["code"]


async def start(member, api, **fields) -> dict:
    return (await member.data(api, START, {"i": fields}))["bulkAction"]


async def job_of(member, api, job_id, **variables) -> dict | None:
    return (await member.data(api, GET_JOB, {"id": job_id, "first": 100, **variables}))["bulkJob"]


def results(job: dict) -> dict[str, tuple[str, str | None]]:
    return {
        e["node"]["targetId"]: (e["node"]["state"], e["node"]["error"] and e["node"]["error"]["code"])
        for e in job["items"]["edges"]
    }


async def test_per_item_refusals_while_the_rest_succeed(api, tenants, database):
    t = await tenants.create(("owner", "sales"))
    mine = await make_account(t.sales, api, "Мій клієнт")
    theirs = await make_account(t.owner, api, "Клієнт власника")
    ok1, ok2, stale, cancelled = [await make_order(t.sales, api, mine["id"]) for _ in range(4)]
    hidden = await make_order(t.owner, api, theirs["id"])
    # One of the salesperson's orders is cancelled already: cancelled -> processing is not allowed.
    moved = await t.sales.data(
        api,
        "mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) { errors { code } } }",
        {"i": {"id": cancelled["id"], "version": cancelled["version"], "status": "cancelled"}},
    )
    assert moved["changeOrderStatus"]["errors"] == []

    payload = await start(
        t.sales,
        api,
        objectType="ORDERS",
        action="CHANGE_STATUS",
        status="processing",
        ids=[
            {"id": ok1["id"]},
            {"id": ok2["id"], "version": ok2["version"]},
            {"id": stale["id"], "version": stale["version"] - 1 + 5},  # not the version it has
            {"id": cancelled["id"]},
            {"id": hidden["id"]},  # outside the salesperson's rows
        ],
    )
    assert payload["errors"] == []
    job = payload["job"]
    assert {k: job[k] for k in ("objectType", "action", "state", "total", "processed")} == {
        "objectType": "ORDERS",
        "action": "CHANGE_STATUS",
        "state": "QUEUED",
        "total": 5,
        "processed": 0,
    }
    # Nothing happens until the worker runs it.
    assert await order_status(t.sales, api, ok1["id"]) == "new"

    await run_until_idle(database)
    done = await job_of(t.sales, api, job["id"])
    assert (done["state"], done["succeeded"], done["refused"], done["processed"]) == ("DONE", 2, 3, 5)
    assert done["finishedAt"] is not None
    assert done["requestedBy"] == {"email": t.sales.email}
    assert results(done) == {
        ok1["id"]: ("SUCCEEDED", None),
        ok2["id"]: ("SUCCEEDED", None),
        stale["id"]: ("REFUSED", "CONFLICT"),
        cancelled["id"]: ("REFUSED", "FORBIDDEN_TRANSITION"),
        hidden["id"]: ("REFUSED", "NOT_FOUND"),  # indistinguishable from a missing order
    }
    refused = await job_of(t.sales, api, job["id"], state="REFUSED")
    messages = {e["node"]["targetId"]: e["node"]["error"] for e in refused["items"]["edges"]}
    assert messages[cancelled["id"]] == {
        "field": "status",
        "code": "FORBIDDEN_TRANSITION",
        "message": "An order cannot go from 'cancelled' to 'processing'.",
    }
    assert await order_status(t.sales, api, ok1["id"]) == "processing"
    assert await order_status(t.sales, api, stale["id"]) == "new"
    assert await order_status(t.owner, api, hidden["id"]) == "new"

    # Each success went through changeOrderStatus's road: history, audit, event, timeline.
    for order in (ok1, ok2):
        pk = ids.decode(order["id"])[1]
        assert await OrderStatusChange.filter(order_id=pk, from_status_id__isnull=False).count() == 1
        assert await AuditEntry.filter(entity_id=pk, action="order.status").count() == 1
        events = await OutboxEvent.filter(topic="order.status_changed").values_list("payload", flat=True)
        assert sum(1 for p in events if p["order_id"] == str(pk)) == 1
        assert await Activity.filter(order_id=pk, kind="status_change").count() == 1
    job_pk = ids.decode(job["id"])[1]
    assert await AuditEntry.filter(entity_id=job_pk).order_by("created_at").values_list("action", flat=True) == [
        "bulk.start",
        "bulk.finish",
    ]

    # Run again (a retry, a second worker): nothing is applied twice, the results stay.
    await BulkJob.filter(id=job_pk).update(state="running")
    await bulk_jobs.run(str(job_pk))
    assert await OrderStatusChange.filter(order_id=ids.decode(ok1["id"])[1], from_status_id__isnull=False).count() == 1
    again = await job_of(t.sales, api, job["id"])
    assert (again["succeeded"], again["refused"]) == (2, 3)
    assert results(again) == results(done)


async def test_filter_based_change_and_assign(api, tenants, database):
    t = await tenants.create(("owner", "support"))
    account = await make_account(t.owner, api, "Клієнт")
    create_ticket = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
        ticket { id status } errors { code } } }"""
    urgent = [
        (
            await t.owner.data(
                api,
                create_ticket,
                {"i": {"subject": f"Терміново {i}", "accountId": account["id"], "priority": "URGENT"}},
            )
        )["createTicket"]["ticket"]
        for i in range(3)
    ]
    calm = (await t.owner.data(api, create_ticket, {"i": {"subject": "Питання", "priority": "LOW"}}))["createTicket"][
        "ticket"
    ]
    other = await tenants.create(("owner",))
    foreign = (await other.owner.data(api, create_ticket, {"i": {"subject": "Чуже", "priority": "URGENT"}}))[
        "createTicket"
    ]["ticket"]

    payload = await start(
        t.support,
        api,
        objectType="TICKETS",
        action="ASSIGN",
        userId=t.support.user_id,
        ticketWhere={"priority": {"eq": "URGENT"}},
    )
    assert payload["errors"] == []
    assert payload["job"]["total"] == 3  # the other organization's urgent ticket is not in it
    await run_until_idle(database)
    done = await job_of(t.support, api, payload["job"]["id"])
    assert (done["succeeded"], done["refused"]) == (3, 0)
    assert set(results(done)) == {tk["id"] for tk in urgent}
    assignees = await t.support.data(api, "{ tickets(first: 10) { edges { node { id assignee { email } } } } }")
    by_id = {e["node"]["id"]: e["node"]["assignee"] for e in assignees["tickets"]["edges"]}
    assert all(by_id[tk["id"]] == {"email": t.support.email} for tk in urgent)
    assert by_id[calm["id"]] is None
    foreign_now = await other.owner.data(
        api, "query($id: ID!) { ticket(id: $id) { assignee { email } } }", {"id": foreign["id"]}
    )
    assert foreign_now["ticket"]["assignee"] is None
    assert (
        await AuditEntry.filter(
            action="ticket.assign", entity_id__in=[ids.decode(tk["id"])[1] for tk in urgent]
        ).count()
        == 3
    )

    # Tags on accounts by filter: added once, removed again.
    tagged = await start(
        t.owner,
        api,
        objectType="ACCOUNTS",
        action="ADD_TAGS",
        tags=["VIP", " опт "],
        accountWhere={"name": {"eq": "Клієнт"}},
    )
    assert tagged["errors"] == [] and tagged["job"]["total"] == 1
    await run_until_idle(database)
    got = await t.owner.data(api, "query($id: ID!) { account(id: $id) { tags version } }", {"id": account["id"]})
    assert got["account"]["tags"] == ["vip", "опт"]
    untag = await start(
        t.owner,
        api,
        objectType="ACCOUNTS",
        action="REMOVE_TAGS",
        tags=["vip"],
        ids=[{"id": account["id"], "version": got["account"]["version"]}],
    )
    await run_until_idle(database)
    assert (await job_of(t.owner, api, untag["job"]["id"]))["succeeded"] == 1
    got = await t.owner.data(api, "query($id: ID!) { account(id: $id) { tags } }", {"id": account["id"]})
    assert got["account"]["tags"] == ["опт"]


async def test_field_rules_refuse_each_item_and_bad_requests_refuse_the_whole(api, tenants, database, monkeypatch):
    t = await tenants.create(("owner", "logistics"))
    account = await make_account(t.owner, api)
    orders = [await make_order(t.owner, api, account["id"]) for _ in range(2)]
    # Logistics may change orders' status and delivery, not their manager.
    payload = await start(
        t.logistics,
        api,
        objectType="ORDERS",
        action="ASSIGN",
        userId=t.owner.user_id,
        ids=[{"id": o["id"]} for o in orders],
    )
    assert payload["errors"] == []
    await run_until_idle(database)
    done = await job_of(t.logistics, api, payload["job"]["id"])
    assert set(results(done).values()) == {("REFUSED", "FORBIDDEN")}
    assert done["items"]["edges"][0]["node"]["error"]["field"] == "managerId"

    # Bad requests: all problems at once, nothing queued.
    bad = await start(t.owner, api, objectType="ACCOUNTS", action="CHANGE_STATUS", ids=[])
    assert bad["job"] is None
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("action", "INVALID"), ("ids", "REQUIRED")]
    both = await start(
        t.owner,
        api,
        objectType="ORDERS",
        action="DELETE",
        ids=[{"id": orders[0]["id"]}],
        orderWhere={"number": {"eq": 1}},
    )
    assert [(e["field"], e["code"]) for e in both["errors"]] == [("ids", "INVALID")]
    wrong_type = await start(t.owner, api, objectType="ORDERS", action="DELETE", ids=[{"id": account["id"]}])
    assert [(e["field"], e["code"]) for e in wrong_type["errors"]] == [("ids.0.id", "INVALID")]
    # The cap on the selection size.
    monkeypatch.setattr(bulk_service, "MAX_ITEMS", 1)
    too_many = await start(t.owner, api, objectType="ORDERS", action="DELETE", ids=[{"id": o["id"]} for o in orders])
    assert [(e["field"], e["code"]) for e in too_many["errors"]] == [("ids", "INVALID")]
    assert "1" in too_many["errors"][0]["message"] and "2" in too_many["errors"][0]["message"]
    # A role without the permission is refused before anything is queued.
    no_right = await t.logistics.execute(
        api, START, {"i": {"objectType": "ORDERS", "action": "DELETE", "ids": [{"id": orders[0]["id"]}]}}
    )
    assert no_right["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_delete_is_idempotent_by_key_and_jobs_stay_in_their_organization(api, tenants, database):
    t = await tenants.create(("owner", "sales"))
    account = await make_account(t.owner, api)
    deal = await t.owner.data(
        api,
        "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id version } errors { code } } }",
        {"i": {"accountId": account["id"], "title": "Опт"}},
    )
    deal_id = deal["createDeal"]["deal"]["id"]
    fields = {"objectType": "DEALS", "action": "DELETE", "ids": [{"id": deal_id}], "idempotencyKey": "bulk-1"}
    first = await start(t.owner, api, **fields)
    second = await start(t.owner, api, **fields)
    assert first["job"]["id"] == second["job"]["id"]
    await run_until_idle(database)
    assert (await job_of(t.owner, api, first["job"]["id"]))["succeeded"] == 1
    gone = await t.owner.data(api, "query($id: ID!) { deal(id: $id) { id } }", {"id": deal_id})
    assert gone["deal"] is None
    assert await AuditEntry.filter(entity_id=ids.decode(deal_id)[1], action="deal.delete").count() == 1

    other = await tenants.create(("owner",))
    assert await job_of(other.owner, api, first["job"]["id"]) is None
    assert (await other.owner.data(api, JOBS))["bulkJobs"]["edges"] == []
    # Another organization's IDs are simply not found, item by item.
    foreign = await start(other.owner, api, objectType="DEALS", action="DELETE", ids=[{"id": deal_id}])
    await run_until_idle(database)
    assert set(results(await job_of(other.owner, api, foreign["job"]["id"])).values()) == {("REFUSED", "NOT_FOUND")}
    # A salesperson sees their own jobs only; the owner (all rows) sees everyone's.
    assert (await t.sales.data(api, JOBS))["bulkJobs"]["edges"] == []
    assert [e["node"]["id"] for e in (await t.owner.data(api, JOBS))["bulkJobs"]["edges"]] == [first["job"]["id"]]


async def test_deals_move_stage_with_the_single_changes_rules(api, tenants, database):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    stages = (await t.owner.data(api, "{ pipelines { isDefault stages { id kind } } }"))["pipelines"]
    lost = next(s["id"] for p in stages if p["isDefault"] for s in p["stages"] if s["kind"] == "LOST")
    create_deal = "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id } errors { code } } }"
    deals = [
        (await t.owner.data(api, create_deal, {"i": {"accountId": account["id"], "title": f"Угода {i}"}}))[
            "createDeal"
        ]["deal"]["id"]
        for i in range(2)
    ]
    # Lost needs a reason: each deal is refused as its single move would be.
    no_reason = await start(
        t.owner, api, objectType="DEALS", action="CHANGE_STATUS", stageId=lost, ids=[{"id": d} for d in deals]
    )
    await run_until_idle(database)
    refused = await job_of(t.owner, api, no_reason["job"]["id"])
    assert set(results(refused).values()) == {("REFUSED", "REQUIRED")}
    assert refused["items"]["edges"][0]["node"]["error"]["field"] == "lostReason"
    with_reason = await start(
        t.owner,
        api,
        objectType="DEALS",
        action="CHANGE_STATUS",
        stageId=lost,
        reason="Дорого",
        ids=[{"id": d} for d in deals],
    )
    await run_until_idle(database)
    assert (await job_of(t.owner, api, with_reason["job"]["id"]))["succeeded"] == 2
    got = await t.owner.data(api, "query($id: ID!) { deal(id: $id) { stage { kind } lostReason } }", {"id": deals[0]})
    assert got["deal"] == {"stage": {"kind": "LOST"}, "lostReason": "Дорого"}


async def test_a_member_removed_before_the_job_runs_changes_nothing(api, tenants, database):
    from server.auth.models import Membership

    t = await tenants.create(("owner", "manager"))
    account = await make_account(t.manager, api, "Клієнт менеджера")
    order = await make_order(t.manager, api, account["id"])
    payload = await start(t.manager, api, objectType="ORDERS", action="DELETE", ids=[{"id": order["id"]}])
    assert payload["errors"] == []
    # The job acts with the member's rights as they are when it runs, not when it was queued.
    await Membership.filter(user_id=ids.decode(t.manager.user_id)[1]).update(is_active=False)
    await run_until_idle(database)
    job = await job_of(t.owner, api, payload["job"]["id"])
    assert (job["state"], job["succeeded"], job["refused"]) == ("DONE", 0, 1)
    assert job["items"]["edges"][0]["node"]["error"] == {
        "field": None,
        "code": "FORBIDDEN",
        "message": "You are no longer a member of this organization.",
    }
    assert (await t.owner.data(api, "query($id: ID!) { order(id: $id) { id } }", {"id": order["id"]}))["order"]
