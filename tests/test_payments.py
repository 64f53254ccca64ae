"""Payments end to end: the liqpay and monobank plugins against their simulators over real
HTTP, callbacks through the app's real ``/hooks/<plugin>/<token>/`` route. A customer pays, the
callback is verified and the order moves on by the organization's rule; refunds (partial and
full); forged, replayed and out-of-order callbacks change nothing; money stays exact."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from plugins.liqpay import plugin as liqpay
from plugins.monobank import plugin as monobank
from plugins.simulators.liqpay import PRIVATE_KEY, PUBLIC_KEY, LiqPaySimulator
from plugins.simulators.monobank import TOKEN, MonobankSimulator
from server.app import create_app
from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.orders.models import Order, OrderStatusChange
from server.payments.models import Payment, PaymentRefund
from server.payments.money import exact, from_minor, loads, to_minor
from server.plugins.models import WebhookDelivery
from tests.helpers import Client, TenantFactory
from tests.provider_plugins import app_transport, install
from tests.test_orders import make_account

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

PUBLIC = "https://crm.example.com"
ERRORS = "errors { field code message }"
PAYMENT = """id status provider providerPaymentId providerStatus checkoutUrl error version
    amount { amount currency } fee { amount } refundedAmount { amount }
    refunds { amount { amount } status }"""
LINK = f"""mutation($i: CreatePaymentLinkInput!) {{ createPaymentLink(input: $i) {{
    payment {{ {PAYMENT} }} {ERRORS} }} }}"""
REFUND = f"""mutation($i: RefundPaymentInput!) {{ refundPayment(input: $i) {{
    refund {{ amount {{ amount currency }} status }} payment {{ {PAYMENT} }} {ERRORS} }} }}"""
CHECK = f"""mutation($i: CheckPaymentStatusInput!) {{ checkPaymentStatus(input: $i) {{
    payment {{ {PAYMENT} }} {ERRORS} }} }}"""
RULE = f"""mutation($s: String) {{ setPaymentSettings(input: {{paidOrderStatus: $s}}) {{
    settings {{ paidOrderStatus }} {ERRORS} }} }}"""
ORDER = f"""query($id: ID!) {{ order(id: $id) {{ id version paymentStatus status {{ code }}
    total {{ amount }} paidAmount {{ amount currency }} balance {{ amount currency }}
    payments {{ {PAYMENT} }} }} }}"""
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id version } errors { code } } }"""


# -- money and the documented vectors ----------------------------------------------------------


def test_kopiykas_are_exact():
    assert to_minor(Decimal("0.1") + Decimal("0.2")) == 30
    assert to_minor(Decimal("1360.74")) == 136074
    assert from_minor(30) == Decimal("0.30") and from_minor(136074) == Decimal("1360.74")
    with pytest.raises(TypeError):
        to_minor(0.1 + 0.2)  # type: ignore[arg-type] - a float never gets near an amount
    with pytest.raises(ValueError, match="kopiykas"):
        to_minor(Decimal("0.305"))
    # A provider's JSON number is read as a Decimal, commissions rounded half-up to the kopiyka.
    payload = loads('{"amount": 1360.74, "receiver_commission": 20.405}')
    assert payload["amount"] == Decimal("1360.74") and exact(payload["receiver_commission"]) == Decimal("20.41")
    with pytest.raises(TypeError):
        exact(20.41)


def test_liqpay_documented_signature():
    data = (
        "eyJwdWJsaWNfa2V5IjoiaTAwMDAwMDAwIiwidmVyc2lvbiI6IjMiLCJhY3Rpb24iOiJwYXkiLCJhbW91bnQiOiIzIiwiY3VycmVuY3kiOiJVQU"
        "giLCJkZXNjcmlwdGlvbiI6InRlc3QiLCJvcmRlcl9pZCI6IjAwMDAwMSJ9"
    )
    assert liqpay.sign(data, PRIVATE_KEY) == "wR+UZDC4jjeL/qUOvIsofIWpZh8="
    assert liqpay.verify(data, "wR+UZDC4jjeL/qUOvIsofIWpZh8=", PRIVATE_KEY)
    assert not liqpay.verify(data, "wR+UZDC4jjeL/qUOvIsofIWpZh9=", PRIVATE_KEY)


def test_monobank_documented_signature():
    key = base64.b64decode(
        "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFQUc1LzZ3NnZubGJZb0ZmRHlYWE4vS2"
        "9CbVVjTgo3NWJSUWg4MFBhaEdldnJoanFCQnI3OXNSS0JSbnpHODFUZVQ5OEFOakU1c0R3RmZ5Znhub0ZJcmZBPT0KLS0tLS1FTkQgUFVCTElDIEtF"
        "WS0tLS0tCg=="
    )
    sign = "MEUCIQC/mVKhi8FKoayul2Mim3E2oaIOCNJk5dEXxTqbkeJSOQIgOM0hsW0qcP2H8iXy1aQYpmY0SJWEaWur7nQXlKDCFxA="
    invoice = {
        "invoiceId": "p2_9ZgpZVsl3",
        "status": "created",
        "failureReason": "string",
        "amount": 4200,
        "ccy": 980,
        "finalAmount": 4200,
        "createdDate": "2019-08-24T14:15:22Z",
        "modifiedDate": "2019-08-24T14:15:22Z",
        "reference": "84d0070ee4e44667b31371d8f8813947",
        "cancelList": [
            {
                "status": "processing",
                "amount": 4200,
                "ccy": 980,
                "createdDate": "2019-08-24T14:15:22Z",
                "modifiedDate": "2019-08-24T14:15:22Z",
                "approvalCode": "662476",
                "rrn": "060189181768",
                "extRef": "635ace02599849e981b2cd7a65f417fe",
            }
        ],
    }
    body = json.dumps(invoice, indent=2).encode()
    assert monobank.verify(key, body, sign)
    assert not monobank.verify(key, json.dumps(invoice, indent=4).encode(), sign)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def liqpay_server():
    with LiqPaySimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def mono_server():
    with MonobankSimulator() as sim:
        yield sim


@pytest.fixture
async def proxied(database):
    settings = database.model_copy(update={"public_url": PUBLIC})
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(proxied) -> Client:
    return Client(proxied, language="en")


@pytest.fixture
async def shop(api):
    shop = await TenantFactory(api).create(("owner", "logistics"))
    rule = await shop.owner.data(api, RULE, {"s": "processing"})
    assert rule["setPaymentSettings"] == {"settings": {"paidOrderStatus": "processing"}, "errors": []}
    return shop


@pytest.fixture
def lp(liqpay_server):
    liqpay_server.reset()
    return liqpay_server


@pytest.fixture
def mono(mono_server):
    mono_server.reset()
    monobank._public_keys.clear()
    return mono_server


async def new_order(shop, api, items: list[tuple[str, str]]) -> dict:
    account = await make_account(shop.owner, api)
    lines = [{"sku": f"SKU-{i}", "title": "Товар", "quantity": q, "unitPrice": p} for i, (q, p) in enumerate(items)]
    body = await shop.owner.data(api, CREATE_ORDER, {"i": {"accountId": account, "items": lines}})
    return body["createOrder"]["order"]


async def order_of(shop, api, order_id: str) -> dict:
    return (await shop.owner.data(api, ORDER, {"id": order_id}))["order"]


async def link(shop, api, order_id: str, **extra) -> dict:
    return (await shop.owner.data(api, LINK, {"i": {"orderId": order_id, **extra}}))["createPaymentLink"]


async def customer_opens(payment: dict) -> httpx.Response:
    """The customer's browser opens the checkout link (real HTTP to the simulator)."""
    async with httpx.AsyncClient() as browser:
        return await browser.get(payment["checkoutUrl"])


def reference(payment: dict) -> str:
    return str(ids.decode(payment["id"], "Payment")[1])


async def snapshot(order_id: str) -> tuple:
    """What a change would touch: the order row, its history, payments, refunds, events."""
    order = await Order.get(id=ids.decode(order_id, "Order")[1])
    payments = await Payment.filter(order_id=order.id).order_by("created_at").values()
    refunds = await PaymentRefund.filter(payment__order_id=order.id).values("amount", "status")
    history = await OrderStatusChange.filter(order_id=order.id).count()
    events = await OutboxEvent.filter(organization_id=order.organization_id).count()  # type: ignore[attr-defined]
    return order.version, order.payment_status, history, payments, refunds, events


# -- LiqPay --------------------------------------------------------------------------------------


async def install_liqpay(shop, api, sim) -> dict:
    return await install(
        shop.owner, api, "liqpay", {"public_key": PUBLIC_KEY, "api_url": sim.url}, {"private_key": PRIVATE_KEY}
    )


async def test_liqpay_customer_pays_and_the_order_moves_on(shop, api, lp, proxied):
    installed = await install_liqpay(shop, api, lp)
    order = await new_order(shop, api, [("2", "450")])
    made = await link(shop, api, order["id"])
    assert made["errors"] == []
    payment = made["payment"]
    assert (payment["status"], payment["amount"]) == ("PENDING", {"amount": "900.00", "currency": "UAH"})
    # The link is LiqPay's checkout with data + signature, server_url = the installation's webhook.
    url = urlsplit(payment["checkoutUrl"])
    assert payment["checkoutUrl"].startswith(lp.url + "/api/3/checkout?")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    params = json.loads(base64.b64decode(query["data"]))
    assert query["signature"] == liqpay.sign(query["data"], PRIVATE_KEY)
    assert params["order_id"] == reference(payment) and params["amount"] == "900.00"
    assert params["server_url"] == installed["webhookUrl"]
    # The customer opens it (real HTTP) and pays; LiqPay calls back.
    async with httpx.AsyncClient() as browser:
        page = await browser.get(payment["checkoutUrl"])
    assert page.status_code == 200 and "900.00 UAH" in page.text
    hook = lp.customer_pays(reference(payment))
    attempt = await lp.adeliver(hook, transport=app_transport(proxied))
    assert attempt.status_code == 200
    paid = await order_of(shop, api, order["id"])
    assert paid["paymentStatus"] == "PAID" and paid["status"]["code"] == "processing"
    assert paid["paidAmount"] == {"amount": "900.00", "currency": "UAH"}
    assert paid["balance"] == {"amount": "0.00", "currency": "UAH"}
    [p] = paid["payments"]
    assert (p["status"], p["providerStatus"], p["fee"]) == ("PAID", "success", {"amount": "13.50"})
    assert p["providerPaymentId"]
    org = (await Order.get(id=ids.decode(order["id"], "Order")[1])).organization_id  # type: ignore[attr-defined]
    moved = await OutboxEvent.filter(organization_id=org, topic="order.status_changed").values_list(
        "payload", flat=True
    )
    assert [(e["from"], e["to"]) for e in moved] == [("new", "processing")]
    # Nothing left to pay: no second link.
    again = await link(shop, api, order["id"])
    assert again["payment"] is None and again["errors"][0]["field"] == "amount"

    # A replayed callback, and the same state delivered again, change nothing.
    before = await snapshot(order["id"])
    for replay in (hook, lp.callback(reference(payment))):
        assert (await lp.adeliver(replay, transport=app_transport(proxied))).status_code == 200
    assert await snapshot(order["id"]) == before
    # The status API agrees and applies nothing new.
    checked = (await shop.owner.data(api, CHECK, {"i": {"paymentId": payment["id"]}}))["checkPaymentStatus"]
    assert checked["payment"]["status"] == "PAID" and await snapshot(order["id"]) == before


async def test_a_payment_is_kept_when_the_paid_status_cannot_reserve_the_stock(shop, api, lp, proxied):
    """The paid rule moves orders to "processing", which reserves catalog lines; with none in
    stock that move is refused, but the customer's money is recorded all the same."""
    from tests.test_catalog import product, warehouse

    await install_liqpay(shop, api, lp)
    await warehouse(shop.owner, api)
    [cup] = (await product(shop.owner, api, "Чашки", [{"sku": "CUP-6", "title": "Чашки", "price": "349.50"}]))[
        "variants"
    ]
    account = await make_account(shop.owner, api)
    line = {"variantId": cup["id"], "quantity": "1"}
    created = await shop.owner.data(api, CREATE_ORDER, {"i": {"accountId": account, "items": [line]}})
    order = created["createOrder"]["order"]
    payment = (await link(shop, api, order["id"]))["payment"]
    assert (await customer_opens(payment)).status_code == 200
    attempt = await lp.adeliver(lp.customer_pays(reference(payment)), transport=app_transport(proxied))
    assert attempt.status_code == 200
    paid = await order_of(shop, api, order["id"])
    assert (paid["paymentStatus"], paid["status"]["code"]) == ("PAID", "new")  # paid, not moved: no stock
    assert [p["status"] for p in paid["payments"]] == ["PAID"]


async def test_liqpay_forged_and_failed_callbacks(shop, api, lp, proxied):
    await install_liqpay(shop, api, lp)
    order = await new_order(shop, api, [("1", "100")])
    payment = (await link(shop, api, order["id"], amount="40"))["payment"]
    assert (await customer_opens(payment)).status_code == 200
    before = await snapshot(order["id"])
    forged = lp.forge(lp.customer_pays(reference(payment)))
    assert (await lp.adeliver(forged, transport=app_transport(proxied))).status_code == 403
    tampered = lp.customer_pays(reference(payment))
    data, signature = tampered.form["data"], tampered.form["signature"]
    changed = {**json.loads(base64.b64decode(data)), "amount": 4}
    other = base64.b64encode(json.dumps(changed).encode()).decode()
    response = await proxied.post(urlsplit(tampered.url).path, data={"data": other, "signature": signature})
    assert response.status_code == 403
    assert await snapshot(order["id"]) == before
    organization = (await Order.get(id=ids.decode(order["id"], "Order")[1])).organization_id  # type: ignore[attr-defined]
    assert await WebhookDelivery.filter(organization_id=organization).count() == 0
    # A real failure is recorded on the payment; the order stays unpaid.
    assert (
        await lp.adeliver(lp.customer_fails(reference(payment)), transport=app_transport(proxied))
    ).status_code == 200
    state = await order_of(shop, api, order["id"])
    assert state["payments"][0]["status"] == "FAILED" and state["payments"][0]["error"] == "Exceeded the limit"
    assert state["paymentStatus"] == "UNPAID" and state["balance"]["amount"] == "100.00"


async def test_liqpay_partial_then_full_refund(shop, api, lp, proxied):
    await install_liqpay(shop, api, lp)
    order = await new_order(shop, api, [("2", "450")])
    payment = (await link(shop, api, order["id"]))["payment"]
    assert (await customer_opens(payment)).status_code == 200
    await lp.adeliver(lp.customer_pays(reference(payment)), transport=app_transport(proxied))
    # Logistics may not refund; nobody may refund more than was paid.
    refused = await shop.logistics.execute(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "1"}})
    assert "orders:refund" in json.dumps(refused)
    too_much = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "900.01"}}))[
        "refundPayment"
    ]
    assert too_much["errors"][0]["field"] == "amount" and lp.requests_to("/api/request") == []

    part = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "300"}}))["refundPayment"]
    assert part["errors"] == [] and part["refund"] == {
        "amount": {"amount": "300.00", "currency": "UAH"},
        "status": "SUCCEEDED",
    }
    assert part["payment"]["status"] == "PARTIALLY_REFUNDED"
    # An order with money kept cannot be deleted: the money would sit on an order nobody sees.
    delete = "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { field code message } } }"
    version = await shop.owner.data(api, "query($id: ID!) { order(id: $id) { version } }", {"id": order["id"]})
    refused = await shop.owner.data(api, delete, {"i": {"id": order["id"], "version": version["order"]["version"]}})
    assert [(e["field"], e["code"]) for e in refused["deleteOrder"]["errors"]] == [("id", "FORBIDDEN_TRANSITION")]
    sent = json.loads(base64.b64decode(lp.requests_to("/api/request")[-1].form()["data"]))
    assert (sent["action"], sent["amount"], sent["order_id"]) == ("refund", "300.00", reference(payment))
    state = await order_of(shop, api, order["id"])
    assert state["paymentStatus"] == "PARTIALLY_PAID"
    assert (state["paidAmount"]["amount"], state["balance"]["amount"]) == ("600.00", "300.00")

    rest = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "600"}}))["refundPayment"]
    assert rest["errors"] == [] and rest["payment"]["status"] == "REFUNDED"
    assert [r["amount"]["amount"] for r in rest["payment"]["refunds"]] == ["300.00", "600.00"]
    state = await order_of(shop, api, order["id"])
    assert (state["paymentStatus"], state["paidAmount"]["amount"], state["balance"]["amount"]) == (
        "REFUNDED",
        "0.00",
        "900.00",
    )
    # LiqPay's "reversed" callback after the full refund changes nothing more.
    before = await snapshot(order["id"])
    [reversed_hook] = lp.pending_callbacks
    assert (await lp.adeliver(reversed_hook, transport=app_transport(proxied))).status_code == 200
    assert await snapshot(order["id"]) == before
    actions = await AuditEntry.filter(
        action__startswith="payment.", entity_id=ids.decode(payment["id"])[1]
    ).values_list("action", flat=True)
    assert sorted(actions) == ["payment.create", "payment.refund", "payment.refund", "payment.status"]
    # All of it given back: now the order may go.
    version = await shop.owner.data(api, "query($id: ID!) { order(id: $id) { version } }", {"id": order["id"]})
    deleted = await shop.owner.data(api, delete, {"i": {"id": order["id"], "version": version["order"]["version"]}})
    assert deleted["deleteOrder"]["errors"] == []


# -- monobank ------------------------------------------------------------------------------------


async def install_mono(shop, api, sim) -> dict:
    return await install(shop.owner, api, "monobank", {"api_url": sim.url}, {"token": TOKEN})


async def test_monobank_exact_kopiykas_out_of_order_and_forged(shop, api, mono, proxied):
    await install_mono(shop, api, mono)
    order = await new_order(shop, api, [("1", "0.1"), ("1", "0.2")])  # 0.1 + 0.2, exactly 0.30
    made = await link(shop, api, order["id"])
    assert made["errors"] == [] and made["payment"]["amount"]["amount"] == "0.30"
    payment = made["payment"]
    [create] = mono.requests_to("/api/merchant/invoice/create")
    sent = create.json()
    assert sent["amount"] == 30 and sent["ccy"] == 980 and sent["merchantPaymInfo"]["reference"] == reference(payment)
    assert create.headers["x-token"] == TOKEN and sent["webHookUrl"].startswith(PUBLIC + "/hooks/monobank/")
    invoice_id = payment["providerPaymentId"]
    assert payment["checkoutUrl"] == f"{mono.url}/pay/{invoice_id}"

    # monobank does not keep order: "success" arrives before "processing".
    processing, success = mono.customer_pays(invoice_id)
    assert (await mono.adeliver(success, transport=app_transport(proxied))).status_code == 200
    assert (await mono.adeliver(processing, transport=app_transport(proxied))).status_code == 200
    state = await order_of(shop, api, order["id"])
    assert state["payments"][0]["status"] == "PAID" and state["paymentStatus"] == "PAID"
    assert state["status"]["code"] == "processing" and state["paidAmount"]["amount"] == "0.30"
    assert len(mono.requests_to("/api/merchant/pubkey")) == 1  # fetched once, then cached

    before = await snapshot(order["id"])
    assert (await mono.adeliver(success, transport=app_transport(proxied))).status_code == 200  # replayed
    forged = mono.forge(mono.callback(invoice_id))
    assert (await mono.adeliver(forged, transport=app_transport(proxied))).status_code == 403
    assert await snapshot(order["id"]) == before
    # monobank changed its key: the first webhook that fails with the cached key fetches it again.
    mono.rotate_key()
    assert (await mono.adeliver(mono.callback(invoice_id), transport=app_transport(proxied))).status_code == 200
    assert len(mono.requests_to("/api/merchant/pubkey")) == 3  # 1 + the forged one's retry + this one
    assert await snapshot(order["id"]) == before


async def test_monobank_partial_and_full_refund(shop, api, mono, proxied):
    await install_mono(shop, api, mono)
    order = await new_order(shop, api, [("3", "33.33")])  # 99.99
    payment = (await link(shop, api, order["id"]))["payment"]
    invoice_id = payment["providerPaymentId"]
    for hook in mono.customer_pays(invoice_id):
        await mono.adeliver(hook, transport=app_transport(proxied))

    part = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "0.10"}}))["refundPayment"]
    assert part["errors"] == [] and part["refund"]["status"] == "PENDING"
    [cancel] = mono.requests_to("/api/merchant/invoice/cancel")
    assert cancel.json()["amount"] == 10 and cancel.json()["invoiceId"] == invoice_id
    assert (await order_of(shop, api, order["id"]))["balance"]["amount"] == "0.10"
    assert (await mono.adeliver(mono.complete_refunds(invoice_id), transport=app_transport(proxied))).status_code == 200
    state = await order_of(shop, api, order["id"])
    [p] = state["payments"]
    assert p["status"] == "PARTIALLY_REFUNDED" and [r["status"] for r in p["refunds"]] == ["SUCCEEDED"]
    assert (state["paymentStatus"], state["paidAmount"]["amount"]) == ("PARTIALLY_PAID", "99.89")

    rest = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "99.89"}}))["refundPayment"]
    assert rest["errors"] == [] and mono.requests_to("/api/merchant/invoice/cancel")[-1].json()["amount"] == 9989
    assert (await mono.adeliver(mono.complete_refunds(invoice_id), transport=app_transport(proxied))).status_code == 200
    state = await order_of(shop, api, order["id"])
    [p] = state["payments"]
    assert (p["status"], p["providerStatus"]) == ("REFUNDED", "reversed")
    assert [r["status"] for r in p["refunds"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert (state["paymentStatus"], state["paidAmount"]["amount"], state["balance"]["amount"]) == (
        "REFUNDED",
        "0.00",
        "99.99",
    )


async def test_monobank_refuses_a_wrong_token(shop, api, mono):
    await install(shop.owner, api, "monobank", {"api_url": mono.url}, {"token": "wrong"})
    order = await new_order(shop, api, [("1", "10")])
    made = await link(shop, api, order["id"])
    assert made["payment"] is None and "refused the token" in made["errors"][0]["message"]
    [failed] = await Payment.filter(order__id=ids.decode(order["id"], "Order")[1])
    assert failed.status == "failed" and "invalid 'X-Token'" in failed.error


async def test_the_paid_order_rule_only_follows_allowed_moves(shop, api, lp, proxied):
    unknown = (await shop.owner.data(api, RULE, {"s": "nope"}))["setPaymentSettings"]
    assert unknown["settings"] is None and unknown["errors"][0]["field"] == "paidOrderStatus"
    refused = await shop.logistics.execute(api, RULE, {"s": None})
    assert "order_statuses:update" in json.dumps(refused)
    # "delivered" cannot follow "new": the order is paid but stays where it is.
    assert (await shop.owner.data(api, RULE, {"s": "delivered"}))["setPaymentSettings"]["errors"] == []
    await install_liqpay(shop, api, lp)
    order = await new_order(shop, api, [("1", "10")])
    deposit = (await link(shop, api, order["id"], amount="4"))["payment"]
    await customer_opens(deposit)
    await lp.adeliver(lp.customer_pays(reference(deposit)), transport=app_transport(proxied))
    state = await order_of(shop, api, order["id"])
    assert (state["paymentStatus"], state["balance"]["amount"]) == ("PARTIALLY_PAID", "6.00")
    rest = (await link(shop, api, order["id"]))["payment"]
    assert rest["amount"]["amount"] == "6.00"
    await customer_opens(rest)
    await lp.adeliver(lp.customer_pays(reference(rest)), transport=app_transport(proxied))
    state = await order_of(shop, api, order["id"])
    assert (state["paymentStatus"], state["paidAmount"]["amount"], state["status"]["code"]) == ("PAID", "10.00", "new")


async def test_monobank_news_about_another_invoice_with_our_reference_changes_nothing(shop, api, mono, proxied):
    """monobank signs every merchant's webhooks with one key: a genuinely signed webhook of an
    invoice someone else made (1 kopiyka, our payment's reference, our webhook URL) is not ours."""
    await install_mono(shop, api, mono)
    order = await new_order(shop, api, [("1", "500.00")])
    payment = (await link(shop, api, order["id"]))["payment"]
    [create] = mono.requests_to("/api/merchant/invoice/create")
    theirs = {
        "amount": 1,
        "ccy": 980,
        "merchantPaymInfo": {"reference": reference(payment)},
        "webHookUrl": create.json()["webHookUrl"],
    }
    async with httpx.AsyncClient() as client:
        made = await client.post(f"{mono.url}/api/merchant/invoice/create", json=theirs, headers={"X-Token": TOKEN})
    other_invoice = made.json()["invoiceId"]
    assert other_invoice != payment["providerPaymentId"]
    before = await snapshot(order["id"])
    for hook in mono.customer_pays(other_invoice):
        assert (await mono.adeliver(hook, transport=app_transport(proxied))).status_code == 200
    assert await snapshot(order["id"]) == before
    state = await order_of(shop, api, order["id"])
    assert state["paymentStatus"] != "PAID" and state["paidAmount"]["amount"] == "0.00"


def test_a_liqpay_test_payment_is_paid_only_for_an_installation_in_test_mode():
    from plugins.liqpay import plugin as liqpay

    news = {"status": "sandbox", "order_id": "p-1", "payment_id": 42, "amount": 10, "currency": "UAH"}
    assert liqpay.update_of(news, test_mode=True).status == "paid"
    live = liqpay.update_of(news)
    assert live.status == "failed" and "nothing was charged" in live.error
