"""Shipments through GraphQL with the real novaposhta plugin against the Nova Poshta
simulator over HTTP: creating and cancelling waybills, permissions, the order form pickers,
tracking that moves orders along (rules, skipped steps, idempotency, closed shipments,
batches) and what happens when the CRM cannot record a waybill it made."""

from __future__ import annotations

import re

import pytest

from plugins.simulators.novaposhta import NovaPoshtaSimulator
from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.registry import REGISTRY
from server.orders.models import Order, OrderStatusChange
from server.organizations.models import Organization
from server.plugins.testing import INSTALL
from server.shipments import service
from server.shipments.models import Shipment
from tests.test_orders import make_account

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ENDPOINT = "/v2.0/json/"
ERRORS = "errors { field code message }"
SHIPMENT_FIELDS = """id carrier waybillNumber carrierStatus carrierStatusText status closed version
    estimatedDelivery cost { amount currency } order { id delivery { waybillNumber } }"""
CREATE = f"""mutation($i: CreateShipmentInput!) {{ createShipment(input: $i) {{
    shipment {{ {SHIPMENT_FIELDS} }} {ERRORS} }} }}"""
CANCEL = f"""mutation($i: CancelShipmentInput!) {{ cancelShipment(input: $i) {{
    shipment {{ {SHIPMENT_FIELDS} }} {ERRORS} }} }}"""
RULES = f"""mutation($i: SetDeliveryStatusRulesInput!) {{ setDeliveryStatusRules(input: $i) {{
    rules {{ carrierStatus orderStatus }} {ERRORS} }} }}"""
ORDER = """query($id: ID!) { order(id: $id) { id version status { code }
    delivery { waybillNumber } statusHistory { from { code } to { code } reason }
    shipments { id waybillNumber status carrierStatus closed } } }"""
CITIES = "query($q: String!) { deliveryCities(query: $q) { ref name region } }"
BRANCHES = "query($c: String!, $q: String!) { deliveryBranches(cityRef: $c, query: $q) { ref name number cityRef } }"
STATUS = f"""mutation($i: ChangeOrderStatusInput!) {{ changeOrderStatus(input: $i) {{
    order {{ version status {{ code }} }} {ERRORS} }} }}"""


@pytest.fixture(scope="module")
def np_server():
    with NovaPoshtaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(np_server):
    np_server.reset()
    return np_server


def np_settings(sim, api_key=None):
    creds = sim.credentials()
    config = {
        "api_url": sim.url + ENDPOINT,
        "sender_ref": creds["sender_ref"],
        "contact_sender_ref": creds["contact_sender_ref"],
        "senders_phone": "+" + creds["senders_phone"],
        "city_sender_ref": creds["city_sender_ref"],
        "sender_address_ref": creds["sender_address_ref"],
        "timeout_seconds": 5.0,
    }
    return config, {"api_key": api_key or creds["api_key"]}


async def install(member, api, sim, api_key=None) -> dict:
    config, secrets = np_settings(sim, api_key)
    payload = (await member.data(api, INSTALL, {"i": {"plugin": "novaposhta", "config": config, "secrets": secrets}}))[
        "installPlugin"
    ]
    assert payload["errors"] == [], payload
    return payload["installation"]


@pytest.fixture
async def shop(api, tenants, sim):
    t = await tenants.create()
    t.installation = await install(t.owner, api, sim)
    t.org = await Organization.get(slug=t.slug)
    return t


async def new_order(member, api, *, phone="0671112233", status_path=("processing", "picking", "packed")) -> dict:
    account = await make_account(member, api, phones=(phone,))
    body = await member.data(
        api,
        """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id version } errors { code } } }""",
        {
            "i": {
                "accountId": account,
                "items": [{"sku": "BOOK-1", "title": "Кобзар", "quantity": "2", "unitPrice": "450"}],
                "delivery": {"recipientName": "Петренко Іван", "recipientPhone": phone, "city": "Львів"},
            }
        },
    )
    order = body["createOrder"]["order"]
    for code in status_path:
        order = await move(member, api, order, code)
    return order


async def move(member, api, order: dict, code: str) -> dict:
    result = (await member.data(api, STATUS, {"i": {"id": order["id"], "version": order["version"], "status": code}}))[
        "changeOrderStatus"
    ]
    assert result["errors"] == [], result
    return {"id": order["id"], **result["order"]}


async def read_order(member, api, order_id: str) -> dict:
    return (await member.data(api, ORDER, {"id": order_id}))["order"]


async def ship(member, api, order: dict, **fields) -> dict:
    city = (await member.data(api, CITIES, {"q": "Льв"}))["deliveryCities"][0]
    branch = (await member.data(api, BRANCHES, {"c": city["ref"], "q": ""}))["deliveryBranches"][0]
    variables = {"i": {"orderId": order["id"], "cityRef": city["ref"], "branchRef": branch["ref"], **fields}}
    return (await member.data(api, CREATE, variables))["createShipment"]


def saves(sim) -> list[dict]:
    return [r.json() for r in sim.requests_to(ENDPOINT) if r.json()["calledMethod"] == "save"]


def tracked_numbers(sim) -> list[list[str]]:
    return [
        [d["DocumentNumber"] for d in r.json()["methodProperties"]["Documents"]]
        for r in sim.requests_to(ENDPOINT)
        if r.json()["calledMethod"] == "getStatusDocuments"
    ]


async def events(org, topic: str) -> list[dict]:
    return list(
        await OutboxEvent.filter(organization_id=org.id, topic=topic)
        .order_by("created_at")
        .values_list("payload", flat=True)
    )


# -- creating ------------------------------------------------------------------------------------


async def test_logistics_creates_a_waybill_for_an_order(api, shop, sim):
    order = await new_order(shop.owner, api)
    payload = await ship(shop.logistics, api, order, weightKg="1.5", description="Книги", idempotencyKey="ship-1")
    assert payload["errors"] == []
    shipment = payload["shipment"]
    assert re.fullmatch(r"\d{14}", shipment["waybillNumber"])
    assert (shipment["carrier"], shipment["status"], shipment["closed"]) == ("novaposhta", "CREATED", False)
    assert shipment["cost"]["currency"] == "UAH" and float(shipment["cost"]["amount"]) > 0
    assert shipment["estimatedDelivery"]
    assert shipment["order"]["delivery"]["waybillNumber"] == shipment["waybillNumber"]

    # What Nova Poshta got: the order's recipient, the order total as declared value.
    [sent] = saves(sim)
    props = sent["methodProperties"]
    assert (props["RecipientsPhone"], props["RecipientName"], props["RecipientCityName"]) == (
        "380671112233",
        "Петренко Іван",
        "Львів",
    )
    assert (props["Cost"], props["Weight"], props["Description"]) == ("900.00", "1.5", "Книги")

    seen = await read_order(shop.owner, api, order["id"])
    assert [s["waybillNumber"] for s in seen["shipments"]] == [shipment["waybillNumber"]]
    [event] = await events(shop.org, "shipment.created")
    assert event["order_id"] == str(ids.decode(order["id"])[1])
    assert event["waybill_number"] == shipment["waybillNumber"]
    assert (await events(shop.org, "order.updated"))[-1]["fields"] == ["waybill_number"]
    assert await AuditEntry.filter(organization_id=shop.org.id, action="shipment.create").count() == 1

    # The same idempotency key again: the first shipment, no second waybill at Nova Poshta.
    again = await ship(shop.logistics, api, order, weightKg="1.5", description="Книги", idempotencyKey="ship-1")
    assert again["shipment"]["id"] == shipment["id"]
    assert len(saves(sim)) == 1
    # The key reused for other input is a client bug, refused before calling Nova Poshta.
    reused = await ship(shop.logistics, api, order, weightKg="3", idempotencyKey="ship-1")
    assert [(e["field"], e["code"]) for e in reused["errors"]] == [("idempotencyKey", "IDEMPOTENCY_MISMATCH")]
    assert len(saves(sim)) == 1
    # Without the key, a second waybill for an order with an open one is refused.
    second = await ship(shop.logistics, api, order)
    assert [(e["field"], e["code"]) for e in second["errors"]] == [("orderId", "CONFLICT")]
    assert len(saves(sim)) == 1


async def test_who_may_create_shipments(api, shop, sim):
    order = await new_order(shop.owner, api)
    for role in ("support", "analyst"):
        body = await getattr(shop, role).execute(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    # Sales see only their own orders: someone else's is not found.
    body = await shop.sales.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    assert [e["code"] for e in body["createShipment"]["errors"]] == ["NOT_FOUND"]
    # Managers work on their team's orders only: the owner's order is not theirs.
    body = await shop.manager.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    assert [e["code"] for e in body["createShipment"]["errors"]] == ["NOT_FOUND"]
    assert saves(sim) == []
    # Admins may; the shipment is then visible to those who see the order, and only to them.
    mine = (await ship(shop.admin, api, order))["shipment"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await shop.support.data(api, node, {"id": mine["id"]}))["node"] == {"id": mine["id"]}
    assert (await shop.manager.data(api, node, {"id": mine["id"]}))["node"] is None
    assert len(saves(sim)) == 1


async def test_foreign_tenant_sees_nothing(api, shop, tenants, sim):
    order = await new_order(shop.owner, api)
    shipment = (await ship(shop.owner, api, order))["shipment"]
    stranger = await tenants.create(("owner",))
    await install(stranger.owner, api, sim)
    node = await stranger.owner.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": shipment["id"]})
    assert node["node"] is None
    body = await stranger.owner.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    assert [e["code"] for e in body["createShipment"]["errors"]] == ["NOT_FOUND"]
    cancel = await stranger.owner.data(api, CANCEL, {"i": {"id": shipment["id"], "version": shipment["version"]}})
    assert [e["code"] for e in cancel["cancelShipment"]["errors"]] == ["NOT_FOUND"]


async def test_provider_refusal_is_a_user_error_and_writes_nothing(api, tenants, sim):
    t = await tenants.create(("owner",))
    await install(t.owner, api, sim, api_key="f" * 32)
    org = await Organization.get(slug=t.slug)
    order = await new_order(t.owner, api)
    body = await t.owner.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    [error] = body["createShipment"]["errors"]
    assert error["code"] == "PROVIDER_ERROR" and "rejected the API key" in error["message"]
    assert await Shipment.filter(organization_id=org.id).count() == 0
    assert await events(org, "shipment.created") == []
    # The order form's pickers say the same as a GraphQL error.
    cities = await t.owner.execute(api, CITIES, {"q": "Київ"})
    assert cities["errors"][0]["extensions"]["code"] == "PROVIDER_ERROR"
    assert "rejected the API key" in cities["errors"][0]["message"]


async def test_missing_recipient_phone_is_refused_before_calling_the_carrier(api, shop, sim):
    order = await new_order(shop.owner, api)
    await Order.filter(id=ids.decode(order["id"])[1]).update(recipient_phone=None)
    body = await shop.owner.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    assert [(e["field"], e["code"]) for e in body["createShipment"]["errors"]] == [("recipientPhone", "REQUIRED")]
    assert saves(sim) == []


async def test_a_waybill_the_crm_cannot_record_is_cancelled(api, shop, sim, monkeypatch):
    order = await new_order(shop.owner, api)
    real_emit = service.outbox.emit

    async def broken_emit(organization_id, topic, payload):
        if topic == "shipment.created":
            raise RuntimeError("database went away")
        return await real_emit(organization_id, topic, payload)

    monkeypatch.setattr(service.outbox, "emit", broken_emit)
    body = await shop.owner.execute(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    assert body["errors"]  # an internal error, masked for the caller
    [sent] = saves(sim)
    monkeypatch.undo()
    made = [w for w in sim.requests if w.json()["calledMethod"] == "delete"]
    assert len(made) == 1  # the waybill was deleted at Nova Poshta
    waybills = {w.number: w.status_code for w in sim.waybills.values()}
    assert "2" in waybills.values() and "1" not in waybills.values()
    # And nothing of it stayed in the CRM: no shipment, the order has no waybill number.
    assert await Shipment.filter(organization_id=shop.org.id).count() == 0
    assert (await read_order(shop.owner, api, order["id"]))["delivery"]["waybillNumber"] is None
    assert sent["methodProperties"]["RecipientsPhone"] == "380671112233"


async def test_when_even_the_cancel_fails_the_error_names_the_waybill(api, shop, sim, monkeypatch):
    order = await new_order(shop.owner, api)
    real_emit = service.outbox.emit

    async def broken_emit(organization_id, topic, payload):
        if topic == "shipment.created":
            sim.fail(10, status=500)  # and Nova Poshta goes down right after making the waybill
            raise RuntimeError("database went away")
        return await real_emit(organization_id, topic, payload)

    monkeypatch.setattr(service.outbox, "emit", broken_emit)
    body = await shop.owner.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    [error] = body["createShipment"]["errors"]
    [number] = [w.number for w in sim.waybills.values() if w.status_code == "1"]
    assert error["code"] == "PROVIDER_ERROR"
    assert error["message"].startswith(f"Waybill {number} was created at the carrier but could not be saved")
    assert await Shipment.filter(organization_id=shop.org.id).count() == 0


# -- cancelling --------------------------------------------------------------------------------


async def test_cancel_shipment(api, shop, sim):
    order = await new_order(shop.owner, api)
    shipment = (await ship(shop.logistics, api, order))["shipment"]
    payload = (await shop.logistics.data(api, CANCEL, {"i": {"id": shipment["id"], "version": shipment["version"]}}))[
        "cancelShipment"
    ]
    assert payload["errors"] == []
    assert (payload["shipment"]["status"], payload["shipment"]["closed"]) == ("CANCELLED", True)
    assert payload["shipment"]["order"]["delivery"]["waybillNumber"] is None
    assert sim.waybills[shipment["waybillNumber"]].status_code == "2"
    assert [e["waybill_number"] for e in await events(shop.org, "shipment.cancelled")] == [shipment["waybillNumber"]]
    # Cancelled shipments do not block a new waybill.
    assert (await ship(shop.logistics, api, order))["errors"] == []


async def test_cancel_after_handover_is_refused(api, shop, sim):
    order = await new_order(shop.owner, api)
    shipment = (await ship(shop.owner, api, order))["shipment"]
    sim.set_status(shipment["waybillNumber"], "5")
    payload = (await shop.owner.data(api, CANCEL, {"i": {"id": shipment["id"], "version": shipment["version"]}}))[
        "cancelShipment"
    ]
    [error] = payload["errors"]
    assert error["code"] == "PROVIDER_ERROR" and "cannot be cancelled" in error["message"]
    assert (await read_order(shop.owner, api, order["id"]))["shipments"][0]["closed"] is False


# -- the order form -----------------------------------------------------------------------------


async def test_cities_and_branches_for_the_order_form(api, shop, sim):
    cities = (await shop.logistics.data(api, CITIES, {"q": "Київ"}))["deliveryCities"]
    assert [(c["name"], c["region"]) for c in cities] == [("Київ", "Київська")]
    branches = (await shop.sales.data(api, BRANCHES, {"c": cities[0]["ref"], "q": "Поштомат"}))["deliveryBranches"]
    assert [(b["number"], b["cityRef"]) for b in branches] == [("4", cities[0]["ref"])]


async def test_pickers_need_a_delivery_installation(api, tenants):
    t = await tenants.create(("owner",))
    body = await t.owner.data(
        api, CREATE, {"i": {"orderId": (await new_order(t.owner, api, status_path=()))["id"], "city": "Київ"}}
    )
    assert [(e["field"], e["code"]) for e in body["createShipment"]["errors"]] == [("installationId", "NOT_FOUND")]


# -- tracking ---------------------------------------------------------------------------------


async def shipped(member, api, sim, *, status_path=("processing", "picking", "packed", "shipped")):
    order = await new_order(member, api, status_path=status_path)
    shipment = (await ship(member, api, order))["shipment"]
    return order, shipment


async def history(member, api, order) -> list[str]:
    return [h["to"]["code"] for h in (await read_order(member, api, order["id"]))["statusHistory"]]


async def test_tracking_moves_orders_by_the_default_rules(api, shop, sim, database):
    arrived_order, arrived = await shipped(shop.owner, api, sim)
    delivered_order, delivered = await shipped(shop.owner, api, sim)
    refused_order, refused = await shipped(shop.owner, api, sim)
    moving_order, moving = await shipped(shop.owner, api, sim)
    sim.set_status(arrived["waybillNumber"], "7")
    sim.set_status(delivered["waybillNumber"], "9")  # shipped -> delivered directly (allowed)
    sim.set_status(refused["waybillNumber"], "103")
    sim.set_status(moving["waybillNumber"], "5")
    sim.clear_requests()

    report = await service.track_organization(database, shop.org.id)
    assert report.errors == {} and report.tracked == 4 and report.changed == 4
    assert len(tracked_numbers(sim)) == 1  # one call for the four
    assert (await read_order(shop.owner, api, arrived_order["id"]))["status"]["code"] == "arrived"
    assert (await read_order(shop.owner, api, delivered_order["id"]))["status"]["code"] == "delivered"
    assert (await read_order(shop.owner, api, refused_order["id"]))["status"]["code"] == "refused"
    assert (await read_order(shop.owner, api, moving_order["id"]))["status"]["code"] == "in_transit"
    seen = await read_order(shop.owner, api, delivered_order["id"])
    assert seen["shipments"][0] == {**seen["shipments"][0], "status": "DELIVERED", "carrierStatus": "9", "closed": True}
    assert seen["statusHistory"][-1]["reason"].startswith(f"novaposhta {delivered['waybillNumber']}: ")
    changes = await events(shop.org, "order.status_changed")
    assert {(c["from"], c["to"]) for c in changes[-4:]} == {
        ("shipped", "arrived"),
        ("shipped", "delivered"),
        ("shipped", "refused"),
        ("shipped", "in_transit"),
    }
    # The audit trail names the tracker, not a person.
    entry = await AuditEntry.filter(organization_id=shop.org.id, action="order.status").order_by("-created_at").first()
    assert (entry.actor_kind, entry.actor_id) == ("app", "delivery:novaposhta")

    # Running again changes nothing; closed shipments are no longer asked about.
    history_count = await OrderStatusChange.filter(organization_id=shop.org.id).count()
    event_count = await OutboxEvent.filter(organization_id=shop.org.id).count()
    sim.clear_requests()
    again = await service.track_organization(database, shop.org.id)
    assert (again.changed, again.orders_moved) == (0, [])
    assert await OrderStatusChange.filter(organization_id=shop.org.id).count() == history_count
    assert await OutboxEvent.filter(organization_id=shop.org.id).count() == event_count
    assert sorted(tracked_numbers(sim)[0]) == sorted([arrived["waybillNumber"], moving["waybillNumber"]])

    # The parcel at the branch is picked up: arrived -> delivered, and tracking stops.
    sim.set_status(arrived["waybillNumber"], "9")
    await service.track_organization(database, shop.org.id)
    assert await history(shop.owner, api, arrived_order) == [
        "new", "processing", "picking", "packed", "shipped", "arrived", "delivered"
    ]  # fmt: skip


async def test_tracking_walks_through_shipping_statuses_and_never_backwards(api, shop, sim, database):
    packed_order, packed = await shipped(shop.owner, api, sim, status_path=("processing", "picking", "packed"))
    done_order, done = await shipped(shop.owner, api, sim)
    done_order = await move(
        shop.owner, api, {**done_order, **(await read_order(shop.owner, api, done_order["id"]))}, "delivered"
    )
    sim.set_status(packed["waybillNumber"], "9")  # packed -> delivered is not allowed: via shipped
    sim.set_status(done["waybillNumber"], "7")  # a stale "arrived" for an order already delivered

    report = await service.track_organization(database, shop.org.id)
    assert await history(shop.owner, api, packed_order) == [
        "new",
        "processing",
        "picking",
        "packed",
        "shipped",
        "delivered",
    ]
    assert (await read_order(shop.owner, api, done_order["id"]))["status"]["code"] == "delivered"
    assert [why for _, why in report.skipped] == ["no allowed move from 'delivered' to 'arrived'"]


async def test_organization_rules_override_the_defaults(api, shop, sim, database):
    # Logistics may not change the rules; admins may.
    body = await shop.logistics.execute(api, RULES, {"i": {"carrier": "novaposhta", "rules": []}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    rules = [{"carrierStatus": "7", "orderStatus": None}, {"carrierStatus": "5", "orderStatus": "delayed"}]
    payload = (await shop.admin.data(api, RULES, {"i": {"carrier": "novaposhta", "rules": rules}}))[
        "setDeliveryStatusRules"
    ]
    assert payload["errors"] == [] and payload["rules"] == rules
    bad = (
        await shop.admin.data(
            api, RULES, {"i": {"carrier": "novaposhta", "rules": [{"carrierStatus": "9", "orderStatus": "nope"}]}}
        )
    )["setDeliveryStatusRules"]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("rules.0.orderStatus", "NOT_FOUND")]
    listed = await shop.logistics.data(
        api, 'query { deliveryStatusRules(carrier: "novaposhta") { carrierStatus orderStatus } }'
    )
    assert sorted(listed["deliveryStatusRules"], key=lambda r: r["carrierStatus"]) == sorted(
        rules, key=lambda r: r["carrierStatus"]
    )

    at_branch_order, at_branch = await shipped(shop.owner, api, sim)
    sim.set_status(at_branch["waybillNumber"], "7")
    await service.track_organization(database, shop.org.id)
    order = await read_order(shop.owner, api, at_branch_order["id"])
    assert order["status"]["code"] == "shipped"  # left alone by the rule
    assert order["shipments"][0]["carrierStatus"] == "7"  # but the shipment knows


async def test_one_bad_order_does_not_stop_the_batch(api, shop, sim, database, monkeypatch):
    first_order, first = await shipped(shop.owner, api, sim)
    second_order, second = await shipped(shop.owner, api, sim)
    sim.set_status(first["waybillNumber"], "9")
    sim.set_status(second["waybillNumber"], "9")
    broken_id = ids.decode(first_order["id"])[1]
    real_change = service.orders.change_status

    async def change_status(scope, order_id, *args, **kw):
        if order_id == broken_id:
            raise RuntimeError("deadlock detected")
        return await real_change(scope, order_id, *args, **kw)

    monkeypatch.setattr(service.orders, "change_status", change_status)
    report = await service.track_organization(database, shop.org.id)
    assert (await read_order(shop.owner, api, second_order["id"]))["status"]["code"] == "delivered"
    assert (await read_order(shop.owner, api, first_order["id"]))["status"]["code"] == "shipped"
    assert report.changed == 2 and report.closed == 1
    assert report.skipped == [(str(broken_id), "internal error")]
    # The failed move stays due: the next run (the database is fine again) makes it.
    monkeypatch.undo()
    again = await service.track_organization(database, shop.org.id)
    assert (await read_order(shop.owner, api, first_order["id"]))["status"]["code"] == "delivered"
    assert (again.changed, again.closed, again.orders_moved) == (0, 1, [(str(broken_id), "delivered")])
    assert await Shipment.filter(organization_id=shop.org.id, closed=False).count() == 0


async def test_track_in_batches_of_100(api, shop, sim, database):
    _order, first = await shipped(shop.owner, api, sim)
    row = await Shipment.get(organization_id=shop.org.id, waybill_number=first["waybillNumber"])
    # 149 more open shipments of the same installation (made at the carrier outside the form).
    numbers = [sim.add_waybill(status_code="5").number for _ in range(149)]
    await Shipment.bulk_create(
        [
            Shipment(
                organization_id=shop.org.id,
                order_id=row.order_id,
                installation_id=row.installation_id,
                carrier="novaposhta",
                waybill_number=n,
            )
            for n in numbers
        ]
    )
    sim.clear_requests()
    report = await service.track_organization(database, shop.org.id)
    assert [len(b) for b in tracked_numbers(sim)] == [100, 50]
    assert report.tracked == 150
    assert await Shipment.filter(organization_id=shop.org.id, carrier_status="5").count() == 149


async def test_tracking_survives_provider_failures(api, shop, sim, database):
    order, shipment = await shipped(shop.owner, api, sim)
    sim.set_status(shipment["waybillNumber"], "7")
    sim.fail(3, status=503)
    report = await service.track_organization(database, shop.org.id)
    [message] = report.errors.values()
    assert message == "Nova Poshta answered 503 3 times; try again later."
    row = await Shipment.get(organization_id=shop.org.id, waybill_number=shipment["waybillNumber"])
    assert row.carrier_status is None and "503" in row.tracking_error
    # Next run, Nova Poshta is back: the status lands and the error is cleared.
    await service.track_organization(database, shop.org.id)
    row = await Shipment.get(organization_id=shop.org.id, waybill_number=shipment["waybillNumber"])
    assert (row.carrier_status, row.tracking_error) == ("7", None)
    assert (await read_order(shop.owner, api, order["id"]))["status"]["code"] == "arrived"


async def test_periodic_job_tracks_every_organization(api, tenants, shop, sim, database):
    other = await tenants.create(("owner",))
    await install(other.owner, api, sim)
    mine_order, mine = await shipped(shop.owner, api, sim)
    theirs_order, theirs = await shipped(other.owner, api, sim)
    sim.set_status(mine["waybillNumber"], "9")
    sim.set_status(theirs["waybillNumber"], "8")
    assert REGISTRY.schedules["shipments.track_open_shipments"] == service.TRACK_EVERY_SECONDS
    job = REGISTRY.jobs["shipments.track_open_shipments"]
    await job()  # one tracking job per installation
    await run_until_idle(database)
    assert (await read_order(shop.owner, api, mine_order["id"]))["status"]["code"] == "delivered"
    assert (await read_order(other.owner, api, theirs_order["id"]))["status"]["code"] == "arrived"


async def test_concurrent_creates_leave_one_waybill(api, shop, sim):
    """Two clicks at once, no idempotency key: one shipment; the other waybill is cancelled."""
    import asyncio

    order = await new_order(shop.owner, api)
    city = (await shop.owner.data(api, CITIES, {"q": "Льв"}))["deliveryCities"][0]
    variables = {"i": {"orderId": order["id"], "cityRef": city["ref"]}}
    first, second = await asyncio.gather(
        shop.owner.data(api, CREATE, variables), shop.owner.data(api, CREATE, variables)
    )
    outcomes = [first["createShipment"], second["createShipment"]]
    made = [o["shipment"]["waybillNumber"] for o in outcomes if o["shipment"]]
    refused = [e["code"] for o in outcomes for e in o["errors"]]
    assert len(made) == 1 and refused == ["CONFLICT"]
    assert await Shipment.filter(organization_id=shop.org.id).count() == 1
    statuses = {w.number: w.status_code for w in sim.waybills.values() if w.number.startswith("2045")}
    assert statuses[made[0]] == "1"
    assert sorted(statuses.values()) in (["1"], ["1", "2"])  # a second waybill, if made, was deleted


async def test_two_workers_tracking_at_once_record_each_change_once(api, shop, sim, database):
    import asyncio

    pairs = [await shipped(shop.owner, api, sim) for _ in range(3)]
    for _, shipment in pairs:
        sim.set_status(shipment["waybillNumber"], "9")
    await asyncio.gather(
        service.track_organization(database, shop.org.id), service.track_organization(database, shop.org.id)
    )
    assert len(await events(shop.org, "shipment.status_changed")) == 3
    for order, _ in pairs:
        assert await history(shop.owner, api, order) == [
            "new",
            "processing",
            "picking",
            "packed",
            "shipped",
            "delivered",
        ]
