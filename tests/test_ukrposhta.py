"""Ukrposhta through GraphQL with the real ukrposhta plugin against its simulator over HTTP:
registering a barcode made in Ukrposhta's cabinet for an order, tracking that moves the
shipment and the order as events arrive, the refusals (unknown, malformed, duplicate, no
access, another organization, createShipment, the pickers), the connection test; and a Nova
Poshta waybill made in its cabinet registered the same way."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from plugins.simulators.novaposhta import NovaPoshtaSimulator
from plugins.simulators.ukrposhta import BASE, ECOM_TOKEN, UkrposhtaSimulator
from plugins.ukrposhta import plugin
from server.audit.models import AuditEntry
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.registry import REGISTRY
from server.organizations.models import Organization
from server.payments.models import Payment
from server.plugins.testing import INSTALL, TEST_CONNECTION
from server.shipments import service
from server.shipments.models import Shipment
from tests.test_shipments import CREATE, ERRORS, events, install, new_order, read_order

pytestmark = pytest.mark.english

REGISTER = f"""mutation($i: RegisterShipmentInput!) {{ registerShipment(input: $i) {{
    shipment {{ id carrier waybillNumber carrierStatus carrierStatusText status closed
        order {{ id delivery {{ waybillNumber }} }} }} {ERRORS} }} }}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
CITIES = "query($q: String!) { deliveryCities(query: $q) { ref name } }"
BRANCHES = 'query { deliveryBranches(cityRef: "x") { ref } }'


@pytest.fixture(scope="module")
def up_server():
    with UkrposhtaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(up_server):
    up_server.reset()
    return up_server


async def install_ukrposhta(member, api, sim, token=None) -> dict:
    variables = {
        "i": {
            "plugin": "ukrposhta",
            "config": {"api_url": sim.url + BASE, "timeout_seconds": 5.0},
            "secrets": {"token": token or sim.credentials()["token"]},
        }
    }
    payload = (await member.data(api, INSTALL, variables))["installPlugin"]
    assert payload["errors"] == [], payload
    return payload["installation"]


@pytest.fixture
async def shop(api, tenants, sim):
    t = await tenants.create()
    t.installation = await install_ukrposhta(t.owner, api, sim)
    t.org = await Organization.get(slug=t.slug)
    return t


async def register(member, api, order: dict, number: str, **extra) -> dict:
    variables = {"i": {"orderId": order["id"], "waybillNumber": number, **extra}}
    return (await member.data(api, REGISTER, variables))["registerShipment"]


def batch_calls(sim) -> list[list[str]]:
    return [r.json() for r in sim.requests_to(f"{BASE}/statuses/last", "POST")]


def codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


# -- registering and tracking ----------------------------------------------------------------------


async def test_a_barcode_made_at_ukrposhta_is_tracked_and_moves_the_order(api, shop, sim, database):
    order = await new_order(shop.owner, api, status_path=("processing", "picking", "packed", "shipped"))
    barcode = sim.add_parcel()  # the seller made it in Ukrposhta's cabinet and handed it over

    payload = await register(shop.logistics, api, order, f" {barcode[:5]} {barcode[5:]} ")  # pasted with spaces
    assert payload["errors"] == []
    shipment = payload["shipment"]
    assert (shipment["carrier"], shipment["waybillNumber"], shipment["carrierStatus"]) == (
        "ukrposhta",
        barcode,
        "10100",
    )
    assert (shipment["status"], shipment["closed"]) == ("IN_TRANSIT", False)
    assert shipment["carrierStatusText"].startswith("Прийнято")
    assert shipment["order"]["delivery"]["waybillNumber"] == barcode
    # The carrier was asked about this barcode with the tracking token, in one batch call.
    assert batch_calls(sim) == [[barcode]]
    assert sim.requests[-1].headers["authorization"] == f"Bearer {sim.credentials()['token']}"
    [event] = await events(shop.org, "shipment.created")
    assert (event["waybill_number"], event["carrier"], event["registered"]) == (barcode, "ukrposhta", True)
    assert await AuditEntry.filter(organization_id=shop.org.id, action="shipment.register").count() == 1

    # Accepted: the periodic tracking job moves the order by the default rule for in transit.
    await REGISTRY.jobs["shipments.track_open_shipments"]()
    await run_until_idle(database)
    assert (await read_order(shop.owner, api, order["id"]))["status"]["code"] == "in_transit"

    sim.add_event(barcode, "20700")
    sim.add_event(barcode, "21700")  # at the branch
    await service.track_organization(database, shop.org.id)
    seen = await read_order(shop.owner, api, order["id"])
    assert seen["status"]["code"] == "arrived"
    assert seen["shipments"][0]["carrierStatus"] == "21700" and seen["shipments"][0]["status"] == "ARRIVED"
    assert seen["statusHistory"][-1]["reason"].startswith(f"ukrposhta {barcode}: Надійшло у відділення")

    sim.add_event(barcode, "41000")  # handed to the addressee
    await service.track_organization(database, shop.org.id)
    seen = await read_order(shop.owner, api, order["id"])
    assert seen["status"]["code"] == "delivered"
    assert (seen["shipments"][0]["status"], seen["shipments"][0]["closed"]) == ("DELIVERED", True)
    assert [c["to"] for c in await events(shop.org, "order.status_changed")][-3:] == [
        "in_transit",
        "arrived",
        "delivered",
    ]
    # Closed: no longer asked about.
    sim.clear_requests()
    await service.track_organization(database, shop.org.id)
    assert batch_calls(sim) == []


async def test_a_returning_parcel_follows_the_organizations_rule(api, shop, sim, database):
    rules = """mutation($i: SetDeliveryStatusRulesInput!) { setDeliveryStatusRules(input: $i) { errors { code } } }"""
    body = await shop.owner.data(
        api, rules, {"i": {"carrier": "ukrposhta", "rules": [{"carrierStatus": "31200", "orderStatus": "refused"}]}}
    )
    assert body["setDeliveryStatusRules"]["errors"] == []
    order = await new_order(shop.owner, api, status_path=("processing", "picking", "packed", "shipped"))
    barcode = sim.add_parcel()
    assert (await register(shop.owner, api, order, barcode))["errors"] == []
    sim.add_event(barcode, "31200")
    await service.track_organization(database, shop.org.id)
    seen = await read_order(shop.owner, api, order["id"])
    assert seen["status"]["code"] == "refused" and seen["shipments"][0]["status"] == "RETURNING"


# -- refusals ---------------------------------------------------------------------------------------


async def test_unknown_malformed_and_duplicate_numbers_are_refused(api, shop, sim):
    order = await new_order(shop.owner, api)
    unknown = await register(shop.owner, api, order, "0599999999999")
    assert codes(unknown) == [("waybillNumber", "NOT_FOUND")]
    assert "Ukrposhta knows no shipment 0599999999999" in unknown["errors"][0]["message"]

    malformed = await register(shop.owner, api, order, "12345")
    assert codes(malformed) == [("waybillNumber", "INVALID")]
    assert "13 digits" in malformed["errors"][0]["message"]
    assert batch_calls(sim) == [["0599999999999"]]  # the malformed one never reached Ukrposhta

    barcode = sim.add_parcel()
    assert (await register(shop.owner, api, order, barcode))["errors"] == []
    other = await new_order(shop.owner, api)
    again = await register(shop.owner, api, other, barcode.lower())
    assert codes(again) == [("waybillNumber", "DUPLICATE")]
    # The order already has an open shipment, and the number is taken: both said at once.
    both = await register(shop.owner, api, order, barcode)
    assert sorted(codes(both)) == [("orderId", "CONFLICT"), ("waybillNumber", "DUPLICATE")]
    assert await Shipment.filter(organization_id=shop.org.id).count() == 1


async def test_input_errors_come_together(api, shop, sim):
    body = await shop.owner.data(
        api,
        REGISTER,
        {"i": {"orderId": ids.encode("Order", uuid.UUID(int=1)), "waybillNumber": "  "}},
    )
    assert sorted(codes(body["registerShipment"])) == [("orderId", "NOT_FOUND"), ("waybillNumber", "REQUIRED")]
    assert batch_calls(sim) == []


async def test_who_may_register(api, shop, sim):
    order = await new_order(shop.owner, api)
    barcode = sim.add_parcel()
    # A sales manager sees only their own orders: someone else's is not found.
    assert codes(await register(shop.sales, api, order, barcode)) == [("orderId", "NOT_FOUND")]
    body = await shop.support.execute(api, REGISTER, {"i": {"orderId": order["id"], "waybillNumber": barcode}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert batch_calls(sim) == []
    # Their own order they may.
    mine = await new_order(shop.sales, api)
    assert (await register(shop.sales, api, mine, barcode))["errors"] == []


async def test_another_organization_sees_nothing(api, shop, tenants, sim):
    order = await new_order(shop.owner, api)
    barcode = sim.add_parcel()
    shipment = (await register(shop.owner, api, order, barcode))["shipment"]
    stranger = await tenants.create(("owner",))
    await install_ukrposhta(stranger.owner, api, sim)
    assert (await stranger.owner.data(api, NODE, {"id": shipment["id"]}))["node"] is None
    assert codes(await register(stranger.owner, api, order, barcode)) == [("orderId", "NOT_FOUND")]
    # Its own order may carry the same barcode: numbers are unique per organization.
    theirs = await new_order(stranger.owner, api)
    assert (await register(stranger.owner, api, theirs, barcode))["errors"] == []


async def test_create_shipment_and_the_pickers_say_ukrposhta_cannot(api, shop, sim):
    order = await new_order(shop.owner, api)
    body = await shop.owner.data(api, CREATE, {"i": {"orderId": order["id"], "city": "Львів"}})
    [error] = body["createShipment"]["errors"]
    assert error["code"] == "PROVIDER_ERROR"
    assert "cannot be created from the CRM" in error["message"] and "registerShipment" in error["message"]
    assert await Shipment.filter(organization_id=shop.org.id).count() == 0
    cities = await shop.owner.execute(api, CITIES, {"q": "Льв"})
    assert cities["errors"][0]["extensions"]["code"] == "NOT_SUPPORTED"
    assert "Ukrposhta plugin cannot search cities" in cities["errors"][0]["message"]
    branches = await shop.owner.execute(api, BRANCHES)
    assert branches["errors"][0]["extensions"]["code"] == "NOT_SUPPORTED"
    assert sim.requests == []


async def test_connection_test_shows_a_bad_token(api, tenants, sim):
    t = await tenants.create(("owner",))
    good = await install_ukrposhta(t.owner, api, sim)
    ok = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": good["id"]}}))["testPluginConnection"]
    assert ok["ok"] is True, ok
    other = await tenants.create(("owner",))
    wrong = await install_ukrposhta(other.owner, api, sim, token=ECOM_TOKEN)  # the contract's eCom token
    bad = (await other.owner.data(api, TEST_CONNECTION, {"i": {"id": wrong["id"]}}))["testPluginConnection"]
    assert bad["ok"] is False
    assert "rejected the tracking token (HTTP 403)" in bad["message"]
    # Registering a barcode with it says the same on the number.
    order = await new_order(other.owner, api)
    body = await register(other.owner, api, order, sim.add_parcel())
    assert codes(body) == [("waybillNumber", "PROVIDER_ERROR")]


# -- mapping ----------------------------------------------------------------------------------------


def test_event_codes_map_to_delivery_statuses():
    assert [plugin.map_status(c) for c in ("10100", "20700", "21500", "21700", "41000", "31200", "99999")] == [
        "in_transit",
        "in_transit",
        "in_transit",
        "arrived",
        "delivered",
        "returning",
        "unknown",
    ]


# -- a Nova Poshta waybill made in its cabinet --------------------------------------------------


async def test_a_nova_poshta_waybill_made_elsewhere_is_registered(api, tenants, database):
    with NovaPoshtaSimulator() as np:
        t = await tenants.create(("owner",))
        await install(t.owner, api, np)
        org = await Organization.get(slug=t.slug)
        order = await new_order(t.owner, api, status_path=("processing", "picking", "packed", "shipped"))
        made = np.add_waybill()
        bad = await register(t.owner, api, order, "12")
        assert codes(bad) == [("waybillNumber", "INVALID")] and "11 to 14 digits" in bad["errors"][0]["message"]
        assert codes(await register(t.owner, api, order, "20400000000000")) == [("waybillNumber", "NOT_FOUND")]
        payload = await register(t.owner, api, order, made.number)
        assert payload["errors"] == []
        assert (payload["shipment"]["carrier"], payload["shipment"]["waybillNumber"]) == ("novaposhta", made.number)
        np.set_status(made.number, "7")
        await service.track_organization(database, org.id)
        assert (await read_order(t.owner, api, order["id"]))["status"]["code"] == "arrived"


async def test_cancelling_a_registered_waybill_only_detaches_it_and_it_can_go_on_the_right_order(
    api, tenants, database
):
    from tests.test_shipments import CANCEL

    with NovaPoshtaSimulator() as np:
        t = await tenants.create(("owner",))
        await install(t.owner, api, np)
        wrong = await new_order(t.owner, api)
        right = await new_order(t.owner, api)
        made = np.add_waybill()  # made in Nova Poshta's cabinet, not yet handed over
        first = await register(t.owner, api, wrong, made.number)
        assert first["errors"] == []
        shipment = first["shipment"]["id"]
        version = (
            await t.owner.data(
                api, "query($id: ID!) { node(id: $id) { ... on Shipment { version } } }", {"id": shipment}
            )
        )["node"]["version"]
        detached = (await t.owner.data(api, CANCEL, {"i": {"id": shipment, "version": version}}))["cancelShipment"]
        assert detached["errors"] == [] and detached["shipment"]["status"] == "CANCELLED"
        assert detached["shipment"]["order"]["delivery"]["waybillNumber"] is None
        # The carrier was not asked to delete the shop's real waybill.
        assert np.waybills[made.number].status_code == "1"
        again = await register(t.owner, api, right, made.number, cashOnDelivery="900")
        assert again["errors"] == []
        assert again["shipment"]["id"] == shipment and again["shipment"]["closed"] is False
        assert again["shipment"]["order"]["id"] == right["id"]
        assert (await read_order(t.owner, api, right["id"]))["delivery"]["waybillNumber"] == made.number
        # Attached again, it is taken.
        third = await new_order(t.owner, api)
        assert codes(await register(t.owner, api, third, made.number)) == [("waybillNumber", "DUPLICATE")]
        # Sent cash on delivery: the carrier's payout becomes the right order's payment.
        org = await Organization.get(slug=t.slug)
        for code in ("9", "11"):
            np.set_status(made.number, code)
            await service.track_organization(database, org.id)
        [payment] = await Payment.filter(organization_id=org.id, provider_payment_id=f"cod:{made.number}")
        assert payment.order_id == ids.decode(right["id"])[1] and payment.amount == Decimal("900.00")
