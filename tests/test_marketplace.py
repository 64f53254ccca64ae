"""Marketplace sync end to end: the Rozetka plugin against the Rozetka simulator over real HTTP,
the real database, GraphQL as a user sees it. Orders in (idempotent, phone matching, statuses
following Rozetka), our status changes out (exactly once, refusals recorded and shown), tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.rozetka import plugin as rozetka
from plugins.simulators.rozetka import PASSWORD, USERNAME, RozetkaSimulator
from server.accounts.models import Account
from server.activities.models import Activity
from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.models import JobRun
from server.jobs.registry import REGISTRY, Event, handlers_for
from server.marketplace import service
from server.marketplace.models import MarketplacePush, MarketplaceSyncState
from server.orders.models import Order
from server.organizations.models import Organization
from server.plugins.models import PluginInstallation
from server.plugins.testing import INSTALL
from server.plugins.types import PluginError

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ORDERS = """query($w: OrderWhere) { orders(first: 50, where: $w) { edges { node {
    id number version source externalId status { code } total { amount currency }
    account { id name phones } items { sku title quantity unitPrice { amount } }
    delivery { city waybillNumber } } } } }"""
CHANGE = """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) {
    order { id version status { code } } errors { field code message } } }"""
PUSHES = """query($w: MarketplacePushWhere) { marketplacePushes(first: 50, where: $w) { edges { node {
    id plugin crmStatus marketplaceStatus outcome error errorCode attempts order { id number } } } } }"""
SYNC = """mutation($i: SyncMarketplaceInput!) { syncMarketplace(input: $i) {
    imported updated unchanged problems { externalId message } skipped errors { field code message } } }"""
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"""
TIMELINE = """query($id: ID!) { node(id: $id) { ... on Account {
    timeline(first: 50) { edges { node { kind subject body data } } } } } }"""


@pytest.fixture(scope="module")
def server():
    with RozetkaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    rozetka.forget_tokens()
    return server


@pytest.fixture
async def shop(tenants, api, sim):
    """A tenant with Rozetka installed (through GraphQL, like an admin does)."""
    tenant = await tenants.create(("owner", "admin", "sales"))
    variables = {
        "i": {
            "plugin": "rozetka",
            "config": {"username": USERNAME, "api_url": sim.url},
            "secrets": {"password": PASSWORD},
        }
    }
    payload = (await tenant.owner.data(api, INSTALL, variables))["installPlugin"]
    assert payload["errors"] == [], payload
    tenant.installation_gid = payload["installation"]["id"]
    tenant.installation = await PluginInstallation.get(id=ids.decode(tenant.installation_gid)[1])
    return tenant


async def rozetka_orders(tenant, api) -> list[dict]:
    data = await tenant.owner.data(api, ORDERS, {"w": {"source": {"eq": "rozetka"}}})
    return [e["node"] for e in data["orders"]["edges"]]


def by_external(orders: list[dict]) -> dict[str, dict]:
    return {o["externalId"]: o for o in orders}


async def status_events(tenant, order_gid: str) -> list[Event]:
    org = await Organization.get(slug=tenant.slug)
    pk = str(ids.decode(order_gid)[1])
    rows = await OutboxEvent.filter(organization_id=org.id, topic="order.status_changed").order_by("created_at")
    return [Event(r.id, org.id, r.topic, r.payload, r.created_at) for r in rows if r.payload["order_id"] == pk]


async def change(tenant, api, order: dict, status: str) -> dict:
    result = await tenant.owner.data(
        api, CHANGE, {"i": {"id": order["id"], "version": order["version"], "status": status}}
    )
    assert result["changeOrderStatus"]["errors"] == [], result
    return result["changeOrderStatus"]["order"]


def test_jobs_are_registered():
    assert REGISTRY.schedules["marketplace.sync_orders"] == service.SYNC_EVERY_SECONDS
    assert "marketplace.push_status" in handlers_for("order.status_changed")


async def test_import_is_idempotent_and_follows_rozetka_statuses(shop, api, database, sim):
    first = await service.sync_installation(shop.installation, settings=database)
    assert (first.imported, first.updated, first.problems) == (4, 0, [])
    second = await service.sync_installation(shop.installation, settings=database)
    assert (second.imported, second.updated) == (0, 0)

    orders = by_external(await rozetka_orders(shop, api))
    assert sorted(orders) == [str(i) for i in sorted(sim.orders)]
    ids_ = sorted(sim.orders)
    assert [orders[str(i)]["status"]["code"] for i in ids_] == ["new", "new", "processing", "processing"]
    one = orders[str(ids_[1])]
    assert one["total"] == {"amount": "1299.50", "currency": "UAH"}
    assert one["items"] == [
        {
            "sku": f"SKU-{100000 + ids_[1] % 1000}",
            "title": "Навушники бездротові",
            "quantity": "1",
            "unitPrice": {"amount": "1299.50"},
        }
    ]
    assert one["delivery"]["city"] == "Київ"
    # Every order went through the orders service: one order.created event and audit entry each.
    org = await Organization.get(slug=shop.slug)
    created = await OutboxEvent.filter(organization_id=org.id, topic="order.created").count()
    assert created == 4
    audits = await AuditEntry.filter(organization_id=org.id, action="order.create").values_list("actor_id", flat=True)
    assert audits == ["plugin:rozetka"] * 4
    # The cursor is stored and used: the second sync asked for changes since the first one's latest.
    searches = sim.requests_to("/orders/search")
    assert (
        "changed_from" in searches[-1].query and searches[-1].query["changed_from"] != searches[0].query["changed_from"]
    )


async def test_buyer_matched_by_phone_or_created(shop, api, database, sim):
    created = await shop.owner.data(
        api, CREATE_ACCOUNT, {"i": {"name": "Іван (постійний)", "phones": ["050 111 22 33"]}}
    )
    known = created["createAccount"]["account"]["id"]
    new_id = sim.add_order(user_phone="380671234567")["id"]
    again_id = sim.add_order(user_phone="380671234567", amount="10.00")["id"]
    await service.sync_installation(shop.installation, settings=database)
    orders = by_external(await rozetka_orders(shop, api))
    assert {orders[str(i)]["account"]["id"] for i in sorted(sim.orders)[:4]} == {known}
    newcomer = orders[str(new_id)]["account"]
    assert newcomer["phones"] == ["+380671234567"] and newcomer["name"] == "Петренко Іван"
    assert orders[str(again_id)]["account"]["id"] == newcomer["id"]
    org = await Organization.get(slug=shop.slug)
    assert await Account.filter(organization_id=org.id).count() == 2


async def test_status_change_pushed_exactly_once(shop, api, database, sim):
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[0]  # new (1) at Rozetka and in the CRM
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    [event] = await status_events(shop, order["id"])
    push = await service.push_status_change(event, settings=database)
    assert push.outcome == "ok" and push.marketplace_status == "26" and push.attempts == 1
    assert sim.orders[external]["status"] == 26
    # The job runs again (a worker died, the relay redelivered): nothing is pushed twice.
    again = await service.push_status_change(event, settings=database)
    assert again.id == push.id and again.attempts == 1
    assert len(sim.requests_to(f"/orders/{external}", "PUT")) == 1
    org = await Organization.get(slug=shop.slug)
    assert await OutboxEvent.filter(organization_id=org.id, topic="marketplace.status_pushed").count() == 1
    assert await AuditEntry.filter(organization_id=org.id, action="marketplace.push").count() == 1

    # Rozetka's echo of our own change updates nothing and pushes nothing back.
    result = await service.sync_installation(shop.installation, settings=database)
    assert result.problems == []
    assert len(sim.requests_to(f"/orders/{external}", "PUT")) == 1


async def test_changes_from_rozetka_are_not_pushed_back(shop, api, database, sim):
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[3]  # 2 at Rozetka, processing here
    sim.set_order(external, status=3, ttn="20450000000077")  # handed to the carrier
    result = await service.sync_installation(shop.installation, settings=database)
    assert result.updated >= 1 and result.problems == []
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    assert order["status"]["code"] == "shipped"  # processing -> picking -> packed -> shipped
    assert order["delivery"]["waybillNumber"] == "20450000000077"
    events = await status_events(shop, order["id"])
    assert [e.payload["to"] for e in events] == ["processing", "picking", "packed", "shipped"]
    for event in events:
        push = await service.push_status_change(event, settings=database)
        assert push is not None and push.outcome == "skipped"
    assert sim.requests_to(f"/orders/{external}", "PUT") == []


async def test_refused_push_is_recorded_and_shown(shop, api, database, sim):
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[0]
    sim.set_order(external, status=45)  # the buyer cancels on Rozetka before our next sync
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    [event] = await status_events(shop, order["id"])
    push = await service.push_status_change(event, settings=database)
    assert push.outcome == "refused" and push.error_code == "TRANSITION_NOT_ALLOWED"
    assert sim.requests_to(f"/orders/{external}", "PUT") == []
    assert (await service.push_status_change(event, settings=database)).attempts == 1  # not retried

    data = await shop.owner.data(api, PUSHES, {"w": {"outcome": {"eq": "REFUSED"}}})
    [node] = [e["node"] for e in data["marketplacePushes"]["edges"]]
    assert node["order"]["id"] == order["id"] and node["plugin"] == "rozetka"
    assert (node["crmStatus"], node["marketplaceStatus"], node["attempts"]) == ("processing", "26", 1)
    assert "does not allow" in node["error"] and "cancelled by the buyer (45)" in node["error"]
    timeline = await shop.owner.data(api, TIMELINE, {"id": order["account"]["id"]})
    refused = [
        n["node"] for n in timeline["node"]["timeline"]["edges"] if n["node"]["data"].get("outcome") == "refused"
    ]
    assert (
        len(refused) == 1 and "rozetka відхилив статус «processing»" in refused[0]["subject"]
    )  # the organization's language

    # The next sync brings Rozetka's cancellation in.
    await service.sync_installation(shop.installation, settings=database)
    assert by_external(await rozetka_orders(shop, api))[str(external)]["status"]["code"] == "cancelled"


async def test_unreachable_marketplace_is_retried(shop, api, database, sim, monkeypatch):
    monkeypatch.setattr(rozetka, "ATTEMPTS", 1)
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[0]
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    [event] = await status_events(shop, order["id"])
    sim.fail(1, status=503, path=f"/orders/{external}", method="PUT")
    with pytest.raises(PluginError) as caught:
        await service.push_status_change(event, settings=database)
    assert caught.value.retryable
    push = await MarketplacePush.get(event_id=event.id)
    assert (push.outcome, push.attempts) == ("failed", 1)
    retried = await service.push_status_change(event, settings=database)
    assert (retried.outcome, retried.attempts) == ("ok", 2)
    assert sim.orders[external]["status"] == 26


async def test_one_bad_order_does_not_stop_the_batch(shop, api, database, sim):
    sim.add_order(user_phone="", user_title={"full_name": "", "first_name": "", "last_name": ""})
    result = await service.sync_installation(shop.installation, settings=database)
    assert result.imported == 4 and len(result.problems) == 1
    assert "neither a buyer name nor a phone" in result.problems[0]["message"]


async def test_sync_mutation_for_admins(shop, api, sim):
    data = await shop.admin.data(api, SYNC, {"i": {"installationId": shop.installation_gid}})
    assert data["syncMarketplace"]["errors"] == []
    assert (data["syncMarketplace"]["imported"], data["syncMarketplace"]["updated"]) == (4, 0)
    sim.set_order(sorted(sim.orders)[0], status=26)
    data = await shop.admin.data(api, SYNC, {"i": {"installationId": shop.installation_gid}})
    assert (data["syncMarketplace"]["imported"], data["syncMarketplace"]["updated"]) == (0, 1)
    denied = await shop.sales.execute(api, SYNC, {"i": {"installationId": shop.installation_gid}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    sim.rate_limit(3, retry_after=0, path="/orders/search")
    data = await shop.admin.data(api, SYNC, {"i": {"installationId": shop.installation_gid}})
    assert data["syncMarketplace"]["errors"][0]["code"] == "INVALID"
    assert "rate limiting" in data["syncMarketplace"]["errors"][0]["message"]


async def test_other_tenants_see_nothing(shop, tenants, api, database, sim):
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[0]
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    [event] = await status_events(shop, order["id"])
    await service.push_status_change(event, settings=database)
    mine = await shop.owner.data(api, PUSHES)
    outcomes = sorted(e["node"]["outcome"] for e in mine["marketplacePushes"]["edges"])
    assert outcomes == ["OK", "SKIPPED", "SKIPPED"]  # ours, and the two imported orders moved to processing

    other = await tenants.create(("owner",))
    theirs = await other.owner.data(api, PUSHES)
    assert theirs["marketplacePushes"]["edges"] == []
    push_id = mine["marketplacePushes"]["edges"][0]["node"]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on MarketplacePush { outcome } } }"
    assert (await shop.owner.data(api, node, {"id": push_id}))["node"] is not None
    assert (await other.owner.data(api, node, {"id": push_id}))["node"] is None
    assert await rozetka_orders(other, api) == []
    sync = await other.owner.data(api, SYNC, {"i": {"installationId": shop.installation_gid}})
    assert sync["syncMarketplace"]["errors"][0]["code"] == "NOT_FOUND"


async def test_periodic_sync_covers_every_installation(shop, database, sim):
    assert await service.schedule_marketplace_syncs() >= 1  # one job per installation
    await run_until_idle(database)
    assert (await MarketplaceSyncState.get(installation_id=shop.installation.id)).last_result["imported"] == 4
    org = await Organization.get(slug=shop.slug)
    assert await Order.filter(organization_id=org.id, source="rozetka").count() == 4
    assert await Activity.filter(organization_id=org.id, kind="order").count() == 4


SYNC_STATUS = """query($i: ID!) { marketplaceSyncStatus(installationId: $i) {
    running lastStartedAt lastFinishedAt imported updated unchanged problems { externalId message } } }"""


async def test_sync_status_shows_the_last_run_and_its_problems(shop, api, database, sim):
    assert (await shop.owner.data(api, SYNC_STATUS, {"i": shop.installation_gid}))["marketplaceSyncStatus"] is None
    bad = sim.add_order(user_phone="", user_title={"full_name": "", "first_name": "", "last_name": ""})["id"]
    await service.sync_installation(shop.installation, settings=database)
    status = (await shop.owner.data(api, SYNC_STATUS, {"i": shop.installation_gid}))["marketplaceSyncStatus"]
    assert status["running"] is False and status["lastFinishedAt"] >= status["lastStartedAt"]
    assert (status["imported"], status["updated"]) == (4, 0)
    assert [p["externalId"] for p in status["problems"]] == [str(bad)]
    denied = await shop.sales.execute(api, SYNC_STATUS, {"i": shop.installation_gid})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_one_sync_at_a_time(shop, database, sim):
    from datetime import UTC, datetime, timedelta

    from server.marketplace.models import MarketplaceSyncState

    await service.sync_installation(shop.installation, settings=database)
    await MarketplaceSyncState.filter(installation_id=shop.installation.id).update(
        locked_until=datetime.now(UTC) + timedelta(minutes=5)
    )
    before = len(sim.requests_to("/orders/search"))
    result = await service.sync_installation(shop.installation, settings=database)
    assert result.skipped and "running" in result.skipped
    assert len(sim.requests_to("/orders/search")) == before  # the running sync is left alone
    # An expired lease (a worker died mid-sync) does not block the next run.
    await MarketplaceSyncState.filter(installation_id=shop.installation.id).update(
        locked_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await service.sync_installation(shop.installation, settings=database)).skipped is None


async def test_order_deleted_in_the_crm_stays_deleted(shop, api, database, sim):
    await service.sync_installation(shop.installation, settings=database)
    external = sorted(sim.orders)[0]
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    deleted = await shop.owner.data(
        api,
        "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { code } } }",
        {"i": {"id": order["id"], "version": order["version"]}},
    )
    assert deleted["deleteOrder"]["errors"] == []
    sim.set_order(external, status=26)
    result = await service.sync_installation(shop.installation, settings=database)
    assert result.problems == [] and result.imported == 0
    assert str(external) not in by_external(await rozetka_orders(shop, api))


TEST_CONNECTION = """mutation($i: TestPluginConnectionInput!) { testPluginConnection(input: $i) {
    ok message errors { code message } } }"""
CONFIGURE = """mutation($i: ConfigurePluginInput!) { configurePlugin(input: $i) {
    installation { id version secretsSet } errors { code message } } }"""


async def test_connection_through_graphql(shop, api, sim):
    result = (await shop.owner.data(api, TEST_CONNECTION, {"i": {"id": shop.installation_gid}}))["testPluginConnection"]
    assert result["ok"] is True and "Sim Shop" in result["message"]
    configured = await shop.owner.data(
        api, CONFIGURE, {"i": {"id": shop.installation_gid, "version": 1, "secrets": {"password": "not-it"}}}
    )
    assert configured["configurePlugin"]["errors"] == []
    result = (await shop.owner.data(api, TEST_CONNECTION, {"i": {"id": shop.installation_gid}}))["testPluginConnection"]
    assert result["ok"] is False and "username or password" in result["message"]
    assert "not-it" not in str(result)


async def test_order_level_discount_keeps_the_buyers_total(shop, api, database, sim):
    items = [
        {"item_id": 1, "item_name": "Чохол", "price": "300.00", "quantity": 2},
        {"item_id": 2, "item_name": "Скло", "price": "150.00", "quantity": 1},
    ]
    external = sim.add_order(items=items, amount="750.00", amount_with_discount="700.00")["id"]
    await service.sync_installation(shop.installation, settings=database)
    order = by_external(await rozetka_orders(shop, api))[str(external)]
    assert order["total"]["amount"] == "700.00"
    assert [(i["title"], i["quantity"]) for i in order["items"]] == [("Чохол", "2"), ("Скло", "1")]


# -- one sync job per installation ---------------------------------------------------------------


async def install_rozetka(tenant, api, url: str) -> PluginInstallation:
    variables = {
        "i": {"plugin": "rozetka", "config": {"username": USERNAME, "api_url": url}, "secrets": {"password": PASSWORD}}
    }
    payload = (await tenant.owner.data(api, INSTALL, variables))["installPlugin"]
    assert payload["errors"] == [], payload
    return await PluginInstallation.get(id=ids.decode(payload["installation"]["id"])[1])


async def test_a_tenant_whose_marketplace_hangs_does_not_hold_up_another(tenants, api, database, sim):
    # Before: one job synced every installation in turn, so a marketplace that hangs used up
    # the job's time limit and the installations after it were never synced.
    with RozetkaSimulator() as hanging:
        slow = await tenants.create(("owner",))
        slow_installation = await install_rozetka(slow, api, hanging.url)
        hanging.delay(30, count=20)  # every request of the slow tenant, past the job's limit
        fine = await tenants.create(("owner",))
        fine_installation = await install_rozetka(fine, api, sim.url)
        short = database.model_copy(update={"job_timeout_seconds": 2})

        await service.schedule_marketplace_syncs()
        await run_until_idle(short)

        assert len(await rozetka_orders(fine, api)) == 4
        assert (await MarketplaceSyncState.get(installation_id=fine_installation.id)).last_result["imported"] == 4
        slow_job = await JobRun.get(job_id__startswith=f"marketplace.sync_installation:{slow_installation.id}:")
        assert slow_job.state == "queued" and "TimeoutError" in slow_job.last_error  # tried again later
        assert await rozetka_orders(slow, api) == []


async def test_scheduling_twice_in_a_period_queues_each_installation_once(shop, database, sim):
    now = datetime.now(UTC)
    await service.schedule_marketplace_syncs(now=now)
    await service.schedule_marketplace_syncs(now=now)  # a second worker, or a rerun
    mine = [
        r for r in await JobRun.filter(name="marketplace.sync_installation") if str(shop.installation.id) in r.job_id
    ]
    assert len(mine) == 1
    await service.schedule_marketplace_syncs(now=now + timedelta(seconds=service.SYNC_EVERY_SECONDS))
    mine = [
        r for r in await JobRun.filter(name="marketplace.sync_installation") if str(shop.installation.id) in r.job_id
    ]
    assert len(mine) == 2  # the next period


async def test_an_installation_disabled_before_its_job_runs_is_not_synced(shop, api, database, sim):
    await service.schedule_marketplace_syncs()
    await PluginInstallation.filter(id=shop.installation.id).update(enabled=False)
    await run_until_idle(database)
    assert await rozetka_orders(shop, api) == []
    assert await MarketplaceSyncState.get_or_none(installation_id=shop.installation.id) is None  # never started
