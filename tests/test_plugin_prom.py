"""The Prom.ua plugin against the Prom.ua simulator over real HTTP: first the plugin's contract
(orders, paging, pushes, refusals, errors), then end to end through the CRM as a shop uses it
(installed through GraphQL, synced, status changes pushed by the background jobs, refusals on
the timeline, outages retried without doubling anything)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plugins.prom import plugin
from plugins.simulators.prom import READ_ONLY_TOKEN, TOKEN, PromSimulator, stamp
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.registry import Event
from server.marketplace import service
from server.marketplace.models import MarketplacePush
from server.orders.models import Order
from server.organizations.models import Organization
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation
from server.plugins.testing import INSTALL, short_provider_timeout
from server.plugins.types import Installation, PluginError

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

SECRETS = {"token": TOKEN}


@pytest.fixture(scope="module")
def server():
    with PromSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def config(sim):
    return {"api_url": sim.url}


@pytest.fixture
def installation():
    return Installation(id=str(uuid.uuid4()), organization_id=str(uuid.uuid4()), plugin="prom")


async def fetch(config, cursor=None, secrets=SECRETS):
    return await plugin.crm_marketplace_fetch_orders(config=config, secrets=secrets, cursor=cursor)


async def push(installation, config, external_id, status, secrets=SECRETS):
    return await plugin.crm_marketplace_push_status(
        installation=installation,
        config=config,
        secrets=secrets,
        external_id=str(external_id),
        status=status,
        waybill_number=None,
    )


def seeded(sim) -> list[int]:
    return sorted(sim.orders)


def posts(sim) -> list[dict]:
    return [r.json() for r in sim.requests_to("/orders/set_status", "POST")]


# == the plugin against the simulator ===========================================================


def test_registered_as_an_entry_point_plugin():
    loaded = get_manager().get("prom")
    assert loaded is not None, get_manager().errors
    assert loaded.info.capabilities == ("marketplace",) and "entry point" in loaded.source
    fields = {f.name: f for f in loaded.config_schema}
    assert fields["token"].secret and fields["token"].required
    assert fields["api_url"].default == "https://my.prom.ua/api/v1"
    assert fields["cancellation_reason"].default == "buyers_request"
    assert "another" in fields["cancellation_reason"].choices


async def test_connection(sim, config):
    result = await plugin.crm_test_connection(config=config, secrets=SECRETS)
    assert result.ok and str(max(sim.orders)) in result.message
    request = sim.requests_to("/orders/list")[0]
    assert request.headers["authorization"] == f"Bearer {TOKEN}" and request.query["limit"] == "1"
    with pytest.raises(PluginError) as caught:
        await plugin.crm_test_connection(config=config, secrets={"token": "not-the-token"})
    assert caught.value.code == "BAD_CREDENTIALS" and "check the token" in caught.value.message
    assert not caught.value.retryable and "not-the-token" not in caught.value.message
    # A custom status the shop does not have is worth knowing before the first push.
    custom = {**config, "status_mapping": '{"from_crm": {"packed": "custom:137639", "picking": "custom:999"}}'}
    result = await plugin.crm_test_connection(config=custom, secrets=SECRETS)
    assert not result.ok and "999" in result.message and "137639 (Комплектується)" in result.message


async def test_orders_are_mapped(sim, config):
    external = sim.add_order(
        price="1 250.50",
        phone="+380671234567",
        first_name="Тарас",
        last_name="Шевчук",
        products=[
            {"name": "Чохол", "sku": "CH-1", "price": "300.25", "quantity": 2},
            {"name": "Скло", "sku": "", "external_id": "GL-7", "price": "650.00"},
        ],
        declaration_number="20450000001234",
        client_notes="Подзвоніть перед відправкою",
    )["id"]
    batch = await fetch(config)
    assert not batch.has_more
    assert sorted(int(o.external_id) for o in batch.orders) == seeded(sim)
    order = next(o for o in batch.orders if o.external_id == str(external))
    assert (order.status, order.buyer_name, order.buyer_phone) == ("pending", "Шевчук Тарас", "+380671234567")
    assert order.total == Decimal("1250.50") and order.currency == "UAH"
    assert [(i.sku, i.title, i.quantity, i.unit_price) for i in order.items] == [
        ("CH-1", "Чохол", Decimal("2"), Decimal("300.25")),
        ("GL-7", "Скло", Decimal("1"), Decimal("650.00")),
    ]
    assert all(isinstance(i.unit_price, Decimal) for i in order.items)
    assert order.delivery["method"] == "Нова Пошта" and order.delivery["waybill_number"] == "20450000001234"
    assert order.comment == "Подзвоніть перед відправкою"
    assert order.created_at.tzinfo is not None and order.changed_at >= order.created_at
    query = sim.requests_to("/orders/list")[0].query
    assert query["limit"] == "100" and "last_modified_from" in query and "last_id" not in query
    assert query["sort_dir"] == "desc"  # the paging below the smallest id relies on it


async def test_an_amount_it_cannot_read_stops_the_sync_naming_the_order(sim, config):
    broken = sim.add_order()
    with sim.lock:
        sim.orders[broken["id"]]["price"] = "за домовленістю"  # what Prom serves for this order
    with pytest.raises(PluginError) as info:
        await fetch(config)
    assert str(broken["id"]) in info.value.message and "за домовленістю" in info.value.message
    assert not info.value.retryable  # never a made-up price of 0


async def test_paging_with_last_id_and_the_cursor(sim, config, monkeypatch):
    monkeypatch.setattr(plugin, "LIMIT", 3)
    monkeypatch.setattr(plugin, "PAGES_PER_CALL", 2)
    past = datetime.now(UTC) - timedelta(days=1)
    for n in range(7):  # 11 orders with the seeded ones: pages of 3
        sim.add_order(price=f"{100 + n}.00", created=past + timedelta(minutes=10 * n))
    first = await fetch(config)
    assert first.has_more and len(first.orders) == 6
    second = await fetch(config, first.cursor)
    assert second.has_more and len(second.orders) == 5  # a short page is not taken for the last
    third = await fetch(config, second.cursor)
    assert not third.has_more and third.orders == []
    got = [int(o.external_id) for o in first.orders + second.orders]
    assert sorted(got) == sorted(sim.orders) and len(set(got)) == 11
    lists = sim.requests_to("/orders/list")
    newest = sorted(sim.orders, reverse=True)
    assert [r.query.get("last_id") for r in lists] == [None, *(str(newest[n]) for n in (2, 5, 8, 10))]
    assert len({r.query["last_modified_from"] for r in lists}) == 1  # one window while paging

    # Nothing changed: the next sync reads only the overlap before the latest change.
    again = await fetch(config, third.cursor)
    assert again.orders and all(o.external_id == str(max(sim.orders)) for o in again.orders)
    # A buyer cancels an old order on Prom: it comes with the next sync.
    old = seeded(sim)[0]
    sim.set_order(old, status="canceled")
    later = await fetch(config, again.cursor)
    assert next(o for o in later.orders if o.external_id == str(old)).status == "canceled"


async def test_an_order_changed_while_a_long_window_is_read_comes_in_the_next_window(sim, config, monkeypatch):
    monkeypatch.setattr(plugin, "LIMIT", 3)
    monkeypatch.setattr(plugin, "PAGES_PER_CALL", 1)
    past = datetime.now(UTC) - timedelta(days=1)
    for n in range(4):
        sim.add_order(created=past + timedelta(minutes=10 * n))
    first = await fetch(config)  # the newest page; the window goes on below it
    assert first.has_more
    newest, oldest = max(sim.orders), min(sim.orders)
    later = datetime.now(UTC)
    with sim.lock:  # read already, then changed; and an older order changed well after that
        sim.orders[newest]["status"] = "received"
        sim.orders[newest]["date_modified"] = stamp(later + timedelta(minutes=1))
        sim.orders[oldest]["date_modified"] = stamp(later + timedelta(minutes=30))
    cursor, batch = first.cursor, first
    while batch.has_more:
        batch = await fetch(config, cursor)
        cursor = batch.cursor
    following = await fetch(config, cursor)
    assert newest in [int(o.external_id) for o in following.orders]
    assert next(o.status for o in following.orders if int(o.external_id) == newest) == "received"


async def test_bad_token_is_not_retried(sim, config):
    with pytest.raises(PluginError) as caught:
        await fetch(config, secrets={"token": "wrong"})
    assert (caught.value.code, caught.value.retryable) == ("BAD_CREDENTIALS", False)
    assert "rejected the API token" in caught.value.message
    assert len(sim.requests_to("/orders/list")) == 1


async def test_rate_limit_and_outage(sim, config):
    sim.rate_limit(1, retry_after=1, path="/orders/list")
    assert len((await fetch(config)).orders) == 4
    lists = sim.requests_to("/orders/list")
    assert [r.status for r in lists] == [429, 200, 200] and lists[1].at - lists[0].at >= 0.9
    sim.fail(3, status=502, path="/orders/list")
    with pytest.raises(PluginError) as caught:
        await fetch(config)
    assert caught.value.retryable and caught.value.code == "PROVIDER_UNAVAILABLE"
    sim.fail(1, status=200, path="/orders/list", body="<html>технічні роботи</html>")
    with pytest.raises(PluginError) as caught:
        await fetch(config)
    assert caught.value.retryable and caught.value.code == "BAD_RESPONSE"


async def test_wrong_api_url_says_so(sim, config):
    with pytest.raises(PluginError) as caught:
        await fetch({"api_url": sim.url + "/v9"})
    assert caught.value.code == "NOT_FOUND" and "API URL" in caught.value.message


async def test_push_a_status_once(sim, installation, config):
    order_id = seeded(sim)[0]  # pending
    await push(installation, config, order_id, "received")
    assert sim.orders[order_id]["status"] == "received"
    assert posts(sim) == [{"status": "received", "ids": [order_id]}]
    await push(installation, config, order_id, "received")  # a rerun: Prom has it, nothing is sent
    assert len(posts(sim)) == 1


async def test_a_paid_order_is_not_moved_back_to_received(sim, installation, config):
    order_id = seeded(sim)[3]  # paid
    await push(installation, config, order_id, "received")
    assert posts(sim) == [] and sim.orders[order_id]["status"] == "paid"


async def test_cancel_carries_its_reason(sim, installation, config):
    first, second = seeded(sim)[:2]
    await push(installation, config, first, "canceled")
    assert posts(sim)[-1] == {"status": "canceled", "ids": [first], "cancellation_reason": "buyers_request"}
    assert sim.orders[first]["_cancellation"]["reason"] == "buyers_request"
    # "another" needs a text: without one nothing is sent and the admin is told what to fill in.
    with pytest.raises(PluginError) as caught:
        await push(installation, {**config, "cancellation_reason": "another"}, second, "canceled")
    assert caught.value.code == "CANCELLATION_TEXT_REQUIRED" and not caught.value.retryable
    assert "Cancellation text" in caught.value.message and len(posts(sim)) == 1
    text = {**config, "cancellation_reason": "another", "cancellation_text": "Покупець не відповідає"}
    await push(installation, text, second, "canceled")
    assert posts(sim)[-1]["cancellation_text"] == "Покупець не відповідає"
    assert sim.orders[second]["_cancellation"] == {
        "reason": "another",
        "text": "Покупець не відповідає",
        "initiator": "seller",
    }
    # A reason given in the mapping wins over the setting.
    third = seeded(sim)[2]
    await push(installation, config, third, "canceled:not_available")
    assert posts(sim)[-1]["cancellation_reason"] == "not_available"


async def test_prom_refusal_is_a_clear_non_retryable_error(sim, installation, config):
    order_id = seeded(sim)[0]
    sim.set_order(order_id, status="canceled")  # the buyer cancelled on Prom
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "received")
    assert caught.value.code == "TRANSITION_NOT_ALLOWED" and not caught.value.retryable
    assert f"refused to move order {order_id} from Скасовано (canceled) to received" in caught.value.message
    assert "Неможливо змінити статус" in caught.value.message  # Prom's own words
    assert sim.orders[order_id]["status"] == "canceled"


async def test_custom_status(sim, installation, config):
    order_id = seeded(sim)[2]  # received
    await push(installation, config, order_id, "custom:137639")
    assert posts(sim) == [{"custom_status_id": 137639, "ids": [order_id]}]
    (order,) = [o for o in (await fetch(config)).orders if o.external_id == str(order_id)]
    assert order.status == "custom:137639"
    await push(installation, config, order_id, "custom:137639")
    assert len(posts(sim)) == 1
    # The CRM's coarser "received" does not wipe the shop's own label, whose base it is.
    await push(installation, config, order_id, "received")
    assert len(posts(sim)) == 1 and sim.orders[order_id]["custom_status_id"] == 137639
    await push(installation, config, order_id, "delivered")
    assert sim.orders[order_id]["custom_status_id"] is None and sim.orders[order_id]["status"] == "delivered"


async def test_read_only_token_gets_a_clear_error(sim, installation, config):
    with pytest.raises(PluginError) as caught:
        await push(installation, config, seeded(sim)[0], "received", secrets={"token": READ_ONLY_TOKEN})
    assert caught.value.code == "BAD_CREDENTIALS" and not caught.value.retryable
    assert "right to read and change orders" in caught.value.message


async def test_a_request_prom_refuses_names_the_order(sim, installation, config):
    order_id = seeded(sim)[0]
    sim.fail(1, status=400, path="/orders/set_status", body={"error": "Unknown status: received"})
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "received")
    assert caught.value.code == "REFUSED" and not caught.value.retryable
    assert caught.value.message == (
        f"Prom.ua refused to move order {order_id} from Новий (pending) to received: Unknown status: received."
    )


async def test_unknown_order(sim, installation, config):
    with pytest.raises(PluginError) as caught:
        await push(installation, config, 1, "received")
    assert caught.value.code == "ORDER_NOT_FOUND" and "1" in caught.value.message
    assert posts(sim) == []


async def test_a_status_change_is_never_sent_blindly_twice(sim, installation, config, monkeypatch):
    """In the style of ``server.plugins.testing.check_send_is_never_repeated``: Prom answers the
    POST with a 500, or not in time. The plugin sends it once, reads the order back and says
    whether it went through; the job's retry reads first and never sends what Prom has."""
    first, second = seeded(sim)[:2]
    sim.fail(1, status=500, path="/orders/set_status")
    with pytest.raises(PluginError) as caught:
        await push(installation, config, first, "received")
    assert caught.value.code == "UNCONFIRMED" and caught.value.retryable  # Prom did nothing: try later
    assert "still shows Новий (pending)" in caught.value.message
    assert len(posts(sim)) == 1 and sim.orders[first]["status"] == "pending"
    await push(installation, config, first, "received")  # the retry
    assert len(posts(sim)) == 2 and sim.orders[first]["status"] == "received"

    sim.clear_requests()
    sim.delay(1.5, 1, path="/orders/set_status")
    monkeypatch.setattr(plugin, "TIMEOUT", 0.5)
    with short_provider_timeout(0.5), pytest.raises(PluginError) as caught:
        await push(installation, config, second, "received")
    assert caught.value.code == "UNCONFIRMED" and caught.value.retryable
    assert "did not answer in time" in caught.value.message and len(posts(sim)) == 1
    for _ in range(40):  # Prom goes on with the request after the client gave up
        if sim.orders[second]["status"] == "received":
            break
        await asyncio.sleep(0.05)
    await push(installation, config, second, "received")  # the retry finds it done
    assert len(posts(sim)) == 1


def test_default_status_mapping_uses_the_default_crm_statuses():
    from server.organizations.defaults import ORDER_STATUSES

    codes = {code for code, _name, _group in ORDER_STATUSES}
    assert {v for v in plugin.DEFAULT_TO_CRM.values() if v} <= codes
    assert set(plugin.DEFAULT_FROM_CRM) <= codes
    assert plugin.crm_marketplace_status_to_crm(config={}, status="pending") == "new"
    assert plugin.crm_marketplace_status_to_crm(config={}, status="paid") is None
    assert plugin.crm_marketplace_status_to_crm(config={}, status="canceled:another") == "cancelled"
    assert plugin.crm_marketplace_status_to_crm(config={}, status="custom:137639") is None
    assert plugin.crm_marketplace_status_from_crm(config={}, status="cancelled") == "canceled"
    assert plugin.crm_marketplace_status_from_crm(config={}, status="in_transit") is None


def test_status_mapping_overrides():
    config = {
        "status_mapping": '{"to_crm": {"custom:137639": "picking"}, '
        '"from_crm": {"picking": "custom:137639", "refused": "canceled:another", "shipped": null}}'
    }
    assert plugin.crm_marketplace_status_to_crm(config=config, status="custom:137639") == "picking"
    assert plugin.crm_marketplace_status_from_crm(config=config, status="picking") == "custom:137639"
    assert plugin.crm_marketplace_status_from_crm(config=config, status="refused") == "canceled:another"
    assert plugin.crm_marketplace_status_from_crm(config=config, status="shipped") is None
    with pytest.raises(PluginError, match="not valid"):
        plugin.crm_marketplace_status_to_crm(config={"status_mapping": "{oops"}, status="pending")
    with pytest.raises(PluginError, match=r"not a Prom\.ua status"):
        plugin.crm_marketplace_status_from_crm(
            config={"status_mapping": '{"from_crm": {"new": "shipped"}}'}, status="new"
        )
    with pytest.raises(PluginError, match=r"not a Prom\.ua cancellation reason"):
        plugin.crm_marketplace_status_from_crm(
            config={"status_mapping": '{"from_crm": {"cancelled": "canceled:because"}}'}, status="new"
        )


# == end to end through the CRM ==================================================================

ORDERS = """query($w: OrderWhere) { orders(first: 50, where: $w) { edges { node {
    id number version source externalId status { code } total { amount currency }
    account { id name phones } items { sku title quantity unitPrice { amount } }
    delivery { waybillNumber } } } } }"""
CHANGE = """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) {
    order { id version status { code } } errors { field code message } } }"""
PUSHES = """query($w: MarketplacePushWhere) { marketplacePushes(first: 50, where: $w) { edges { node {
    id plugin crmStatus marketplaceStatus outcome error errorCode attempts order { id number } } } } }"""
SYNC = """mutation($i: SyncMarketplaceInput!) { syncMarketplace(input: $i) {
    imported updated unchanged problems { externalId message } skipped errors { field code message } } }"""
TIMELINE = """query($id: ID!) { node(id: $id) { ... on Account {
    timeline(first: 50) { edges { node { kind subject body data } } } } } }"""
TEST_CONNECTION = """mutation($i: TestPluginConnectionInput!) { testPluginConnection(input: $i) {
    ok message errors { code message } } }"""
CONFIGURE = """mutation($i: ConfigurePluginInput!) { configurePlugin(input: $i) {
    installation { id version } errors { code message } } }"""


@pytest.fixture
async def shop(tenants, api, sim):
    """A tenant with Prom.ua installed through GraphQL, as an admin does it."""
    tenant = await tenants.create(("owner", "admin", "sales"))
    variables = {"i": {"plugin": "prom", "config": {"api_url": sim.url}, "secrets": {"token": TOKEN}}}
    payload = (await tenant.owner.data(api, INSTALL, variables))["installPlugin"]
    assert payload["errors"] == [], payload
    tenant.installation_gid = payload["installation"]["id"]
    tenant.installation = await PluginInstallation.get(id=ids.decode(tenant.installation_gid)[1])
    return tenant


async def prom_orders(tenant, api) -> dict[str, dict]:
    data = await tenant.owner.data(api, ORDERS, {"w": {"source": {"eq": "prom"}}})
    return {e["node"]["externalId"]: e["node"] for e in data["orders"]["edges"]}


async def change(tenant, api, order: dict, status: str) -> dict:
    result = await tenant.owner.data(
        api, CHANGE, {"i": {"id": order["id"], "version": order["version"], "status": status}}
    )
    assert result["changeOrderStatus"]["errors"] == [], result
    return result["changeOrderStatus"]["order"]


async def status_events(tenant, order_gid: str) -> list[Event]:
    org = await Organization.get(slug=tenant.slug)
    pk = str(ids.decode(order_gid)[1])
    rows = await OutboxEvent.filter(organization_id=org.id, topic="order.status_changed").order_by("created_at")
    return [Event(r.id, org.id, r.topic, r.payload, r.created_at) for r in rows if r.payload["order_id"] == pk]


async def sync(tenant, api) -> dict:
    data = (await tenant.admin.data(api, SYNC, {"i": {"installationId": tenant.installation_gid}}))["syncMarketplace"]
    return data


async def test_sync_imports_orders_once(shop, api, sim):
    sim.add_order(phone="+380671234567", price="700.00", declaration_number="20450000009999")
    first = await sync(shop, api)
    assert (first["imported"], first["updated"], first["problems"], first["errors"]) == (5, 0, [], [])
    second = await sync(shop, api)
    assert (second["imported"], second["updated"]) == (0, 0)
    orders = await prom_orders(shop, api)
    assert sorted(orders) == [str(i) for i in sorted(sim.orders)]
    ids_ = sorted(sim.orders)
    assert [orders[str(i)]["status"]["code"] for i in ids_] == ["new", "new", "processing", "new", "new"]
    newest = orders[str(ids_[-1])]
    assert newest["total"] == {"amount": "700.00", "currency": "UAH"}
    assert newest["items"] == [
        {
            "sku": f"TK-{ids_[-1] % 1000}",
            "title": "Термокружка 450 мл",
            "quantity": "1",
            "unitPrice": {"amount": "700.00"},
        }
    ]
    assert newest["delivery"]["waybillNumber"] == "20450000009999"
    assert newest["account"]["phones"] == ["+380671234567"] and newest["account"]["name"] == "Коваль Олена"
    # Buyers are matched by phone: the four seeded orders share one account.
    assert len({orders[str(i)]["account"]["id"] for i in ids_[:4]}) == 1
    org = await Organization.get(slug=shop.slug)
    assert await Order.filter(organization_id=org.id, source="prom").count() == 5


async def test_status_change_in_the_crm_is_pushed_by_the_jobs(shop, api, database, sim):
    await sync(shop, api)
    external = seeded(sim)[0]
    order = (await prom_orders(shop, api))[str(external)]
    processing = await change(shop, api, order, "processing")
    await run_until_idle(database)
    assert sim.orders[external]["status"] == "received"
    assert posts(sim) == [{"status": "received", "ids": [external]}]
    moved = await change(shop, api, processing, "picking")
    assert moved["status"]["code"] == "picking"
    await run_until_idle(database)
    assert len(posts(sim)) == 1  # Prom has no picking step: "received" already says it
    data = await shop.owner.data(api, PUSHES, {"w": {"order": {"eq": order["id"]}}})
    outcomes = [
        (e["node"]["crmStatus"], e["node"]["marketplaceStatus"], e["node"]["outcome"])
        for e in data["marketplacePushes"]["edges"]
    ]
    assert outcomes == [("processing", "received", "OK")]
    # Prom's echo of our own change moves nothing and sends nothing back.
    result = await sync(shop, api)
    assert result["problems"] == [] and len(posts(sim)) == 1
    assert (await prom_orders(shop, api))[str(external)]["status"]["code"] == "picking"


async def test_refused_push_is_recorded_and_shown(shop, api, database, sim):
    await sync(shop, api)
    external = seeded(sim)[0]
    sim.set_order(external, status="canceled")  # the buyer cancels on Prom before our next sync
    order = (await prom_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    await run_until_idle(database)
    data = await shop.owner.data(api, PUSHES, {"w": {"outcome": {"eq": "REFUSED"}}})
    [node] = [e["node"] for e in data["marketplacePushes"]["edges"]]
    assert node["order"]["id"] == order["id"] and node["plugin"] == "prom"
    assert (node["crmStatus"], node["marketplaceStatus"], node["attempts"]) == ("processing", "received", 1)
    # Written by a background job, so in the shop's language (Ukrainian by default), with Prom's reason.
    assert node["errorCode"] == "TRANSITION_NOT_ALLOWED" and "зі статусу Скасовано (canceled)" in node["error"]
    timeline = await shop.owner.data(api, TIMELINE, {"id": order["account"]["id"]})
    refused = [
        e["node"] for e in timeline["node"]["timeline"]["edges"] if e["node"]["data"].get("outcome") == "refused"
    ]
    assert len(refused) == 1 and "prom відхилив статус «processing»" in refused[0]["subject"]  # the shop's language
    assert "Неможливо змінити статус" in refused[0]["body"]
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(hours=1))
    assert len(posts(sim)) == 1  # a refusal is not retried
    # The next sync brings Prom's cancellation in.
    await sync(shop, api)
    assert (await prom_orders(shop, api))[str(external)]["status"]["code"] == "cancelled"


async def test_cancel_in_the_crm_carries_the_configured_reason(shop, api, database, sim):
    configured = await shop.owner.data(
        api,
        CONFIGURE,
        {
            "i": {
                "id": shop.installation_gid,
                "version": 1,
                "config": {"cancellation_reason": "another", "cancellation_text": "Покупець не вийшов на зв'язок"},
            }
        },
    )
    assert configured["configurePlugin"]["errors"] == []
    await sync(shop, api)
    external = seeded(sim)[1]
    order = (await prom_orders(shop, api))[str(external)]
    await change(shop, api, order, "cancelled")
    await run_until_idle(database)
    assert posts(sim) == [
        {
            "status": "canceled",
            "ids": [external],
            "cancellation_reason": "another",
            "cancellation_text": "Покупець не вийшов на зв'язок",
        }
    ]
    assert sim.orders[external]["status"] == "canceled"


async def test_bad_token_is_a_clear_error(shop, api, sim):
    configured = await shop.owner.data(
        api, CONFIGURE, {"i": {"id": shop.installation_gid, "version": 1, "secrets": {"token": "expired-token"}}}
    )
    assert configured["configurePlugin"]["errors"] == []
    result = await sync(shop, api)
    assert result["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert "rejected the API token" in result["errors"][0]["message"]
    tested = (await shop.owner.data(api, TEST_CONNECTION, {"i": {"id": shop.installation_gid}}))["testPluginConnection"]
    assert tested["ok"] is False and "check the token" in tested["message"] and "expired-token" not in str(tested)
    assert len(sim.requests_to("/orders/list")) == 2  # one try each: a bad token is not retried
    assert await prom_orders(shop, api) == {}


async def test_outage_is_retried_later_and_nothing_is_doubled(shop, api, database, sim, monkeypatch):
    monkeypatch.setattr(plugin, "ATTEMPTS", 1)
    # Orders in: Prom is down during the first sync; the job is tried again later.
    sim.fail(1, status=503, path="/orders/list")
    with pytest.raises(PluginError) as caught:
        await service.sync_installation(shop.installation, settings=database)
    assert caught.value.retryable
    assert await prom_orders(shop, api) == {}
    assert (await service.sync_installation(shop.installation, settings=database)).imported == 4
    assert (await service.sync_installation(shop.installation, settings=database)).imported == 0
    assert len(await prom_orders(shop, api)) == 4

    # Status out: Prom refuses the POST with a 503 (nothing done); the job retries it later.
    external = seeded(sim)[0]
    order = (await prom_orders(shop, api))[str(external)]
    await change(shop, api, order, "processing")
    sim.fail(1, status=503, path="/orders/set_status")
    await run_until_idle(database)
    [event] = await status_events(shop, order["id"])
    push = await MarketplacePush.get(event_id=event.id)
    assert (push.outcome, push.attempts) == ("failed", 1) and sim.orders[external]["status"] == "pending"
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(hours=1))
    await push.refresh_from_db()
    assert (push.outcome, push.attempts) == ("ok", 2)
    assert sim.orders[external]["status"] == "received"
    assert [r.status for r in sim.requests_to("/orders/set_status")] == [503, 200]

    # Prom takes the POST and answers 500: the order is read back before anything is sent again.
    second = seeded(sim)[1]
    order = (await prom_orders(shop, api))[str(second)]
    await change(shop, api, order, "processing")
    sim.fail(1, status=500, path="/orders/set_status")
    await run_until_idle(database)
    [event] = await status_events(shop, order["id"])
    push = await MarketplacePush.get(event_id=event.id)
    assert (push.outcome, push.error_code) == ("failed", "UNCONFIRMED")
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(hours=1))
    await push.refresh_from_db()
    assert push.outcome == "ok" and sim.orders[second]["status"] == "received"
    assert len([r for r in sim.requests_to("/orders/set_status") if r.json()["ids"] == [second]]) == 2


CATALOG_LINES = """query($w: OrderWhere) { orders(first: 50, where: $w) { edges { node {
    externalId status { code } margin { amount } items { sku title unitPrice { amount } variant { sku } } } } } }"""


async def test_lines_with_a_catalog_sku_reserve_stock_even_when_the_shelf_is_short(shop, api, sim):
    from tests.test_catalog import UPDATE_VARIANT, adjust, product, stock, variant_version, warehouse

    wh = await warehouse(shop.owner, api)
    kettles = await product(shop.owner, api, "Чайник Bosch", [{"sku": "KETTLE-1", "price": "1299.99", "cost": "800"}])
    kettle = kettles["variants"][0]["id"]
    assert (await adjust(shop.owner, api, kettle, wh, "RECEIVE", "1"))["errors"] == []
    old = (await product(shop.owner, api, "Старий чайник", [{"sku": "OLD-1", "price": "900"}]))["variants"][0]["id"]
    version = await variant_version(shop.owner, api, old)
    archived = await shop.owner.data(api, UPDATE_VARIANT, {"i": {"id": old, "version": version, "isActive": False}})
    assert archived["updateProductVariant"]["variant"]["isActive"] is False
    # Sold on Prom (already accepted there): two kettles, a bag and an archived item.
    placed = sim.add_order(
        status="received",
        products=[
            {"name": "Чайник Bosch білий", "sku": "KETTLE-1", "price": "1200.00", "quantity": 2},
            {"name": "Пакет", "sku": "BAG", "price": "5.00"},
            {"name": "Старий чайник", "sku": "OLD-1", "price": "850.00"},
        ],
    )
    result = await sync(shop, api)
    assert result["problems"] == [] and result["errors"] == [] and result["imported"] == 5
    data = await shop.owner.data(api, CATALOG_LINES, {"w": {"source": {"eq": "prom"}}})
    [order] = [e["node"] for e in data["orders"]["edges"] if e["node"]["externalId"] == str(placed["id"])]
    assert order["status"]["code"] == "processing"
    assert order["items"] == [
        # The marketplace's title and the price the buyer paid; the catalog's variant and cost.
        {
            "sku": "KETTLE-1",
            "title": "Чайник Bosch білий",
            "unitPrice": {"amount": "1200.00"},
            "variant": {"sku": "KETTLE-1"},
        },
        {"sku": "BAG", "title": "Пакет", "unitPrice": {"amount": "5.00"}, "variant": None},
        {"sku": "OLD-1", "title": "Старий чайник", "unitPrice": {"amount": "850.00"}, "variant": None},
    ]
    assert order["margin"] == {"amount": "800.00"}  # 2 × (1200 − 800)
    # One kettle on the shelf, two sold: reserved anyway, and the shortage shows.
    assert await stock(shop.owner, api, kettle) == {"onHand": "1", "reserved": "2", "available": "-1"}
    # Orders made by hand still may not confirm stock that is not there.
    from tests.test_catalog import make_account, move
    from tests.test_catalog import order as new_order

    account = await make_account(shop.owner, api)
    manual = await new_order(shop.owner, api, account, [{"variantId": kettle, "quantity": "1"}])
    refused = await move(shop.owner, api, manual, "processing")
    assert [e["code"] for e in refused["errors"]] == ["OUT_OF_STOCK"]
