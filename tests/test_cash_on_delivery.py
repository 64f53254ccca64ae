"""Cash on delivery, end to end with the real novaposhta plugin against the Nova Poshta
simulator over HTTP: a waybill made with cash on delivery keeps being tracked after delivery
until the carrier pays the money out; then the order gets its payment (once, however often
tracking runs) and the reconciliation report moves the parcel from "awaiting payout" to
"paid out". Refused parcels show as coming back; other shops' parcels never show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.organizations.models import Organization
from server.payments.models import Payment
from server.shipments import service
from server.shipments.models import Shipment
from tests import test_shipments
from tests.helpers import QueryCounter
from tests.test_orders import make_account
from tests.test_shipments import events, install, new_order, read_order, ship

# The Nova Poshta simulator, shared with the shipment tests.
np_server, sim = test_shipments.np_server, test_shipments.sim

REPORT = """query($day: Date, $first: Int) { cashOnDeliveryReport(day: $day, first: $first) { since
    awaitingPayout { count totals { amount currency } parcels { amount { amount currency } daysWaiting
        shipment { waybillNumber carrierStatus closed order { id } } } }
    returning { count totals { amount currency } parcels { amount { amount } shipment { waybillNumber } } }
    paidOut { count totals { amount currency } parcels { amount { amount } since shipment {
        waybillNumber cashOnDelivery { amount currency } cashOnDeliveryPaidAt closed } } } } }"""
PAYMENT_IDS = "query($id: ID!) { order(id: $id) { payments { id } } }"
REFUND = """mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { errors { field code message } } }"""
WAYBILL_ORDER = "query($id: ID!) { order(id: $id) { id version } }"
DELETE = "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { field code message } } }"
EURO_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id version } errors { code } } }"""
ITEMS = [{"sku": "BOOK-1", "title": "Кобзар", "quantity": "1", "unitPrice": "40"}]
PAID = """query($id: ID!) { order(id: $id) { paymentStatus status { code } paidAmount { amount currency }
    balance { amount } payments { status provider providerPaymentId providerStatus amount { amount currency } } } }"""


def waybills(section: dict) -> list[str]:
    return [p["shipment"]["waybillNumber"] for p in section["parcels"]]


async def cod_parcel(member, api, amount: str = "900") -> tuple[dict, dict]:
    order = await new_order(member, api, status_path=("processing", "picking", "packed", "shipped"))
    made = await ship(member, api, order, cashOnDelivery=amount)
    assert made["errors"] == [], made
    return order, made["shipment"]


async def test_the_carriers_payout_becomes_the_orders_payment_once(api, tenants, sim, database):
    shop = await tenants.create(("owner", "manager"))
    await install(shop.owner, api, sim)
    organization = await Organization.get(slug=shop.slug)
    organization_id = organization.id
    order, shipment = await cod_parcel(shop.owner, api)
    number = shipment["waybillNumber"]
    # The carrier was asked to collect the money (Nova Poshta's BackwardDeliveryData).
    [save] = [r.json() for r in sim.requests_to("/v2.0/json/") if r.json()["calledMethod"] == "save"]
    backward = save["methodProperties"]["BackwardDeliveryData"]
    assert backward == [{"PayerType": "Recipient", "CargoType": "Money", "RedeliveryString": "900.00"}]

    # Delivered: the order moves on, but the parcel stays tracked until the money comes.
    sim.set_status(number, "9")
    await service.track_organization(database, organization_id)
    seen = await read_order(shop.owner, api, order["id"])
    assert seen["status"]["code"] == "delivered"
    assert seen["shipments"][0]["closed"] is False
    paid = (await shop.owner.data(api, PAID, {"id": order["id"]}))["order"]
    assert (paid["paymentStatus"], paid["payments"]) == ("UNPAID", [])
    report = (await shop.owner.data(api, REPORT, {}))["cashOnDeliveryReport"]
    assert waybills(report["awaitingPayout"]) == [number] and report["awaitingPayout"]["count"] == 1
    assert report["awaitingPayout"]["totals"] == [{"amount": "900.00", "currency": "UAH"}]
    assert report["awaitingPayout"]["parcels"][0]["daysWaiting"] == 0
    assert (report["paidOut"]["count"], report["returning"]["count"]) == (0, 0)

    # The money is on its way (10), then paid out (11): one payment, and the order is paid.
    sim.set_status(number, "10")
    await service.track_organization(database, organization_id)
    assert not await Payment.filter(organization_id=organization_id, order__shipments__waybill_number=number).exists()
    sim.set_status(number, "11")
    await service.track_organization(database, organization_id)
    paid = (await shop.owner.data(api, PAID, {"id": order["id"]}))["order"]
    assert paid["paymentStatus"] == "PAID" and paid["balance"] == {"amount": "0.00"}
    assert paid["paidAmount"] == {"amount": "900.00", "currency": "UAH"}
    assert paid["payments"] == [
        {
            "status": "PAID",
            "provider": "novaposhta",
            "providerPaymentId": f"cod:{number}",
            "providerStatus": "cash_on_delivery",
            "amount": {"amount": "900.00", "currency": "UAH"},
        }
    ]
    [created] = await events(organization, "payment.created")
    assert (created["status"], created["waybill_number"], created["cash_on_delivery"]) == ("paid", number, True)
    report = (await shop.owner.data(api, REPORT, {}))["cashOnDeliveryReport"]
    assert report["awaitingPayout"]["count"] == 0
    [parcel] = report["paidOut"]["parcels"]
    assert parcel["shipment"]["cashOnDelivery"] == {"amount": "900.00", "currency": "UAH"}
    assert parcel["shipment"]["closed"] is True and parcel["shipment"]["cashOnDeliveryPaidAt"]
    assert report["paidOut"]["totals"] == [{"amount": "900.00", "currency": "UAH"}]

    # The carrier took this money, not a payment plugin: the CRM cannot refund it through one.
    payment_id = (await shop.owner.data(api, PAYMENT_IDS, {"id": order["id"]}))["order"]["payments"][0]["id"]
    refund = await shop.owner.data(api, REFUND, {"i": {"paymentId": payment_id, "amount": "100"}})
    assert [(e["field"], e["code"]) for e in refund["refundPayment"]["errors"]] == [("paymentId", "INVALID")]

    # Tracking again (the parcel is closed now, and even if it were asked again) adds nothing.
    await service.track_organization(database, organization_id)
    await Shipment.filter(organization_id=organization_id, waybill_number=number).update(closed=False)
    await service.track_organization(database, organization_id)
    # (Scoped to this shop: another test's simulator may have handed out the same number.)
    assert await Payment.filter(organization_id=organization_id, provider_payment_id=f"cod:{number}").count() == 1
    # A day the report cannot be about is a clear error, not a crash.
    for day in ("0001-01-01", "1999-12-31", (datetime.now(UTC) + timedelta(days=3)).date().isoformat()):
        wrong = await shop.owner.execute(api, REPORT, {"day": day})
        assert wrong["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "day"}, (day, wrong)
    # Tomorrow's report no longer lists today's payout.
    # The shop's tomorrow (Kyiv), which from 21:00 UTC on is the day after UTC's tomorrow.
    tomorrow = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=1)).date().isoformat()
    later = (await shop.owner.data(api, REPORT, {"day": tomorrow}))["cashOnDeliveryReport"]
    assert (later["paidOut"]["count"], later["awaitingPayout"]["count"]) == (0, 0)


async def test_refused_parcels_come_back_and_no_other_shop_sees_them(api, tenants, sim, database):
    shop = await tenants.create(("owner", "admin", "manager"))
    other = await tenants.create(("owner",))
    await install(shop.owner, api, sim)
    await install(other.owner, api, sim)
    _, refused = await cod_parcel(shop.owner, api, "450")
    _, waiting = await cod_parcel(shop.owner, api, "300.50")
    no_cod = await new_order(shop.owner, api, status_path=("processing", "picking", "packed", "shipped"))
    plain = (await ship(shop.owner, api, no_cod))["shipment"]
    _, foreign = await cod_parcel(other.owner, api, "999")
    organization_id = (await Organization.get(slug=shop.slug)).id
    sim.set_status(refused["waybillNumber"], "103")
    sim.set_status(waiting["waybillNumber"], "9")
    sim.set_status(plain["waybillNumber"], "9")
    sim.set_status(foreign["waybillNumber"], "9")
    await service.track_organization(database, organization_id)
    await service.track_organization(database, (await Organization.get(slug=other.slug)).id)

    report = (await shop.owner.data(api, REPORT, {}))["cashOnDeliveryReport"]
    assert waybills(report["returning"]) == [refused["waybillNumber"]]
    assert report["returning"]["totals"] == [{"amount": "450.00", "currency": "UAH"}]
    assert waybills(report["awaitingPayout"]) == [waiting["waybillNumber"]]  # not the parcel without COD
    assert report["awaitingPayout"]["totals"] == [{"amount": "300.50", "currency": "UAH"}]
    # The delivered parcel without cash on delivery is done; the one with it is still tracked.
    closed = dict(await Shipment.filter(organization_id=organization_id).values_list("waybill_number", "closed"))
    assert closed == {refused["waybillNumber"]: True, waiting["waybillNumber"]: False, plain["waybillNumber"]: True}
    foreign_report = (await other.owner.data(api, REPORT, {}))["cashOnDeliveryReport"]
    assert waybills(foreign_report["awaitingPayout"]) == [foreign["waybillNumber"]]
    # A manager sees the report too (orders:read); the statements do not grow with the parcels.
    # An admin sees every parcel; a manager only those of their own orders (none here). The
    # statements do not grow with the parcels listed.
    with QueryCounter() as one:
        admins = (await shop.admin.data(api, REPORT, {"first": 1}))["cashOnDeliveryReport"]
    with QueryCounter() as all_of_them:
        await shop.admin.data(api, REPORT, {"first": 100})
    assert one.count == all_of_them.count, (one.count, all_of_them.count)
    assert waybills(admins["awaitingPayout"]) == [waiting["waybillNumber"]]
    managers = (await shop.manager.data(api, REPORT, {}))["cashOnDeliveryReport"]
    assert (managers["awaitingPayout"]["count"], managers["returning"]["count"]) == (0, 0)
    cut = (await shop.owner.data(api, REPORT, {"first": 1}))["cashOnDeliveryReport"]
    assert cut["awaitingPayout"]["count"] == 1 and len(cut["awaitingPayout"]["parcels"]) == 1
    # A deleted order's parcel leaves the report with it.
    order = (await shop.owner.data(api, WAYBILL_ORDER, {"id": waiting["order"]["id"]}))["order"]
    deleted = await shop.owner.data(api, DELETE, {"i": {"id": order["id"], "version": order["version"]}})
    assert deleted["deleteOrder"]["errors"] == []
    assert (await shop.owner.data(api, REPORT, {}))["cashOnDeliveryReport"]["awaitingPayout"]["count"] == 0


async def test_nova_poshta_collects_hryvnias_only(api, tenants, sim):
    shop = await tenants.create(("owner",))
    await install(shop.owner, api, sim)
    account = await make_account(shop.owner, api, phones=("0671112233",))
    delivery = {"recipientName": "Петренко Іван", "recipientPhone": "0671112233", "city": "Львів"}
    euro = {"accountId": account, "currency": "EUR", "items": ITEMS, "delivery": delivery}
    made = await shop.owner.data(api, EURO_ORDER, {"i": euro})
    order = made["createOrder"]["order"]
    refused = await ship(shop.owner, api, order, cashOnDelivery="40")
    assert [e["code"] for e in refused["errors"]] == ["PROVIDER_ERROR"]
    assert refused["errors"][0]["message"].startswith("Нова пошта приймає накладений платіж лише в гривнях")
    assert [r for r in sim.requests_to("/v2.0/json/") if r.json()["calledMethod"] == "save"] == []
