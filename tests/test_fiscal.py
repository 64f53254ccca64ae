"""Fiscal receipts end to end: the checkbox plugin against the Checkbox simulator over real HTTP,
driven by the CRM's own jobs (the outbox relay and the in-process job runner). A paid card
payment gets one sale receipt, cash on delivery a CASH one, a refund a return receipt linked to
the sale; a missing shift is opened on the way; a job that died after selling does not sell
again; a refused receipt says why; other organizations see nothing; the cron closes the shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from tortoise.transactions import in_transaction

from plugins.checkbox import plugin as checkbox
from plugins.simulators.checkbox import LICENSE_KEY, PIN_CODE, CheckboxSimulator
from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.fiscal import jobs as fiscal_jobs
from server.fiscal import service as fiscal
from server.fiscal.models import FiscalReceipt, FiscalShiftClose
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.orders.models import Order
from server.organizations.models import Organization
from server.payments import service as payments
from server.payments.models import Payment
from server.plugins.models import PluginInstallation
from tests import test_payments
from tests.helpers import QueryCounter
from tests.provider_plugins import app_transport, check_connection, install
from tests.test_payments import customer_opens, install_liqpay, link, new_order, reference

# The LiqPay simulator, the app and the shop of the payment tests.
liqpay_server, lp, proxied, api, shop = (
    test_payments.liqpay_server,
    test_payments.lp,
    test_payments.proxied,
    test_payments.api,
    test_payments.shop,
)

pytestmark = pytest.mark.english

RECEIPTS = """query($id: ID!) { order(id: $id) { id payments { id status fiscalReceipts {
    kind status paymentType fiscalCode fiscalDate url error providerReceiptId amount { amount currency } } } } }"""
REFUND = """mutation($i: RefundPaymentInput!) { refundPayment(input: $i) {
    refund { status } errors { field code message } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
SELL = "/api/v1/receipts/sell"


@pytest.fixture(scope="module")
def checkbox_server():
    with CheckboxSimulator() as sim:
        yield sim


@pytest.fixture
def ck(checkbox_server, monkeypatch):
    checkbox_server.reset()
    monkeypatch.setattr(checkbox, "POLL_SECONDS", 0)
    return checkbox_server


async def install_checkbox(shop, api, sim, label: str = "", **secrets) -> dict:
    return await install(
        shop.owner,
        api,
        "checkbox",
        {"api_url": sim.url + "/api/v1"},
        {"license_key": LICENSE_KEY, "pin_code": PIN_CODE, **secrets},
        **({"label": label} if label else {}),
    )


async def paid_card_order(shop, api, lp, proxied, items=(("2", "450"),)) -> tuple[dict, dict]:
    order = await new_order(shop, api, list(items))
    payment = (await link(shop, api, order["id"]))["payment"]
    assert (await customer_opens(payment)).status_code == 200
    attempt = await lp.adeliver(lp.customer_pays(reference(payment)), transport=app_transport(proxied))
    assert attempt.status_code == 200
    return order, payment


async def receipts_of(shop, api, order_id: str) -> list[dict]:
    order = (await shop.owner.data(api, RECEIPTS, {"id": order_id}))["order"]
    return [r for p in order["payments"] for r in p["fiscalReceipts"]]


def later(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def test_connection_signs_in_and_reads_the_cash_register(shop, api, ck):
    installed = await install_checkbox(shop, api, ck)
    result = await check_connection(shop.owner, api, installed)
    assert result["ok"] is True and "4000123456" in result["message"]
    wrong = await install_checkbox(shop, api, ck, pin_code="0000", label="wrong pin")
    result = await check_connection(shop.owner, api, wrong)
    assert result["ok"] is False and "Невірний пін-код" in result["message"]


async def test_a_paid_card_payment_gets_one_receipt_and_the_shift_is_opened(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    assert ck.open_shift is None  # nobody opened a shift today
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)

    [receipt] = await receipts_of(shop, api, order["id"])
    [sold] = ck.sold()
    assert (receipt["kind"], receipt["status"], receipt["paymentType"]) == ("SELL", "DONE", "CASHLESS")
    assert receipt["fiscalCode"] == sold["fiscal_code"] and receipt["fiscalCode"].startswith("TEST-")
    assert receipt["fiscalDate"] and receipt["error"] == ""
    assert receipt["url"] == f"https://check.checkbox.ua/{sold['id']}"
    assert receipt["amount"] == {"amount": "900.00", "currency": "UAH"}
    # Exactly the documented wire format: kopiykas, thousandths, CASHLESS for a card.
    assert sold["type"] == "SELL" and sold["id"] == receipt["providerReceiptId"]
    assert [(g["good"]["code"], g["good"]["price"], g["quantity"], g["is_return"]) for g in sold["goods"]] == [
        ("SKU-0", 45000, 2000, False)
    ]
    assert "tax" not in sold["goods"][0]["good"]  # no tax codes configured: none sent
    assert sold["payments"] == [{"type": "CASHLESS", "value": 90000}]
    # No open shift: the first sale was refused with "Зміну не відкрито", a shift was opened
    # (polled until OPENED) and the sale sent once more.
    sells = ck.requests_to(SELL)
    assert [r.status for r in sells] == [400, 201]
    assert sells[0].json()["id"] == sells[1].json()["id"] == sold["id"]
    assert len(ck.requests_to("/api/v1/shifts", "POST")) == 1 and ck.open_shift["status"] == "OPENED"

    # The payment's events again (a replayed callback, a rerun) issue nothing more.
    await lp.adeliver(lp.callback(reference(payment)), transport=app_transport(proxied))
    await run_until_idle(database)
    assert len(ck.sold()) == 1 and len(ck.requests_to(SELL)) == 2


async def test_with_an_open_shift_the_receipt_goes_at_once(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    order, _payment = await paid_card_order(shop, api, lp, proxied, items=(("1.5", "100.01"),))
    await run_until_idle(database)
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "DONE"
    assert ck.requests_to("/api/v1/shifts", "POST") == [] and [r.status for r in ck.requests_to(SELL)] == [201]
    [sold] = ck.sold()
    assert sold["goods"][0]["quantity"] == 1500 and sold["goods"][0]["good"]["price"] == 10001
    assert sold["payments"] == [{"type": "CASHLESS", "value": 15002}]  # 1.5 × 100.01 = 150.015 → 150.02


async def test_cash_on_delivery_gets_a_cash_receipt(shop, api, ck, database):
    await install_checkbox(shop, api, ck)
    order = await new_order(shop, api, [("1", "40")])
    organization = await Organization.get(slug=shop.slug)
    parcel = SimpleNamespace(
        waybill_number="20450000000001",
        order_id=ids.decode(order["id"], "Order")[1],
        carrier="novaposhta",
        installation_id=None,
        cash_on_delivery=Decimal("40.00"),
    )
    async with in_transaction():  # as the shipment tracker records the carrier's payout
        await payments.record_cash_on_delivery(organization, parcel, datetime.now(UTC))
    await run_until_idle(database)
    [receipt] = await receipts_of(shop, api, order["id"])
    assert (receipt["kind"], receipt["status"], receipt["paymentType"]) == ("SELL", "DONE", "CASH")
    [sold] = ck.sold()
    assert sold["payments"] == [{"type": "CASH", "value": 4000}] and sold["total_sum"] == 4000


async def test_a_refund_gets_a_return_receipt_linked_to_the_sale(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    part = (await shop.owner.data(api, REFUND, {"i": {"paymentId": payment["id"], "amount": "300"}}))["refundPayment"]
    assert part["errors"] == [] and part["refund"]["status"] == "SUCCEEDED"
    await run_until_idle(database)

    sale, back = await receipts_of(shop, api, order["id"])
    assert (sale["kind"], back["kind"], back["status"]) == ("SELL", "RETURN", "DONE")
    assert back["amount"]["amount"] == "300.00" and back["fiscalCode"] and back["fiscalCode"] != sale["fiscalCode"]
    _, returned = ck.sold()
    assert returned["type"] == "RETURN" and returned["related_receipt_id"] == sale["providerReceiptId"]
    assert all(g["is_return"] for g in returned["goods"])  # a part: one line for the amount
    assert returned["payments"] == [{"type": "CASHLESS", "value": 30000}]


async def test_a_job_that_died_after_selling_does_not_sell_again(shop, api, lp, ck, proxied, database, monkeypatch):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    real = fiscal.record
    crashes = []

    async def dies_once(receipt, result):
        if not crashes:
            crashes.append(result)
            raise RuntimeError("worker killed between Checkbox's answer and our write")
        return await real(receipt, result)

    monkeypatch.setattr(fiscal, "record", dies_once)
    order, _payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    assert crashes and crashes[0].status == "done"  # Checkbox has it; we never wrote it down
    [receipt] = await receipts_of(shop, api, order["id"])
    assert (receipt["status"], receipt["fiscalCode"]) == ("PENDING", "")

    await run_until_idle(database, now=later(hours=1))  # the job's retry
    [receipt] = await receipts_of(shop, api, order["id"])
    [sold] = ck.sold()
    assert receipt["status"] == "DONE" and receipt["fiscalCode"] == sold["fiscal_code"]
    assert len(ck.requests_to(SELL)) == 1  # looked up by our id, not sold twice
    assert len(ck.requests_to(f"/api/v1/receipts/{sold['id']}", "GET")) >= 2


async def test_a_receipt_in_error_shows_its_reason_and_is_not_retried(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    ck.fail_next_receipt("Невірний формат фіскального номера")
    order, _payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    await run_until_idle(database, now=later(days=1))
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "FAILED" and receipt["fiscalCode"] == ""
    # In the organization's language (Ukrainian here), Checkbox's own words inside.
    assert receipt["error"] == "Чек відхилено: Невірний формат фіскального номера"
    assert len(ck.requests_to(SELL)) == 1


async def test_a_provider_that_stays_down_fails_the_receipt_after_the_jobs_tries(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    ck.fail(50, status=503, path="/api/v1/cashier", retry_after=0)  # every sign-in: Checkbox is away
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    for hours in range(1, database.job_max_tries + 2):
        await run_until_idle(database, now=later(hours=hours))
    [receipt] = await receipts_of(shop, api, order["id"])
    # Nothing was sold, but the CRM cannot know that while Checkbox does not answer: the receipt
    # waits, saying why, and is issued once Checkbox is back.
    assert receipt["status"] == "PENDING" and "503" in receipt["error"]
    row = await FiscalReceipt.get(payment_id=ids.decode(payment["id"])[1])
    assert row.tries == database.job_max_tries and ck.requests_to(SELL) == []
    ck.clear_faults()
    assert row.id in [r for r, _org in await fiscal.receipts_to_follow(later(hours=12))]
    await fiscal_jobs.follow_receipts(now=later(hours=12))
    await run_until_idle(database, now=later(hours=12))
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "DONE" and len(ck.requests_to(SELL)) == 1


async def test_other_organizations_see_no_receipts(shop, api, lp, ck, proxied, database, tenants):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    assert len(await receipts_of(shop, api, order["id"])) == 1
    other = await tenants.create(("owner",))
    assert (await other.owner.data(api, RECEIPTS, {"id": order["id"]}))["order"] is None
    assert (await other.owner.data(api, NODE, {"id": payment["id"]}))["node"] is None


async def test_the_cron_closes_the_open_shift_once_a_day(shop, api, lp, ck, proxied, database):
    installed = await install_checkbox(shop, api, ck)
    mine = ids.decode(installed["installation"]["id"])[1]
    await PluginInstallation.filter(plugin="checkbox").exclude(id=mine).update(enabled=False)  # earlier tests'
    await install_liqpay(shop, api, lp)
    await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    assert ck.open_shift["status"] == "OPENED"

    kyiv_evening = datetime(2026, 12, 7, 21, 55, tzinfo=UTC)  # 23:55 in Kyiv, after the 23:50 default
    kyiv_afternoon = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert [i.id for i, _day in await fiscal.due_shift_closes(kyiv_afternoon)] == []
    assert await fiscal_jobs.schedule_shift_closes(now=kyiv_evening) == 1
    await run_until_idle(database)
    assert ck.open_shift is None
    [closed] = [s for s in ck.shifts.values() if s["status"] == "CLOSED"]
    assert closed["z_report"] is not None
    [row] = await FiscalShiftClose.filter(installation_id=mine)
    assert (row.status, str(row.day)) == ("closed", "2026-12-07")
    # Later the same evening: nothing more to do; the next evening closes again.
    assert await fiscal_jobs.schedule_shift_closes(now=kyiv_evening + timedelta(minutes=5)) == 0
    assert [i.id for i, day in await fiscal.due_shift_closes(kyiv_evening + timedelta(days=1))] == [mine]


async def test_finding_the_shifts_to_close_costs_the_same_for_one_shop_or_many(shop, api, ck, tenants):
    await install_checkbox(shop, api, ck)
    kyiv_evening = datetime(2026, 12, 7, 21, 55, tzinfo=UTC)
    with QueryCounter() as one:
        due = await fiscal.due_shift_closes(kyiv_evening)
    for _n in range(3):
        other = await tenants.create(("owner",))
        await install_checkbox(other, api, ck)
    with QueryCounter() as four:
        assert len(await fiscal.due_shift_closes(kyiv_evening)) == len(due) + 3
    assert four.count == one.count


async def test_a_wrong_pin_fails_the_receipt_with_the_reason_at_once(shop, api, lp, ck, proxied, database):
    await install_checkbox(shop, api, ck, pin_code="0000")
    await install_liqpay(shop, api, lp)
    order, _payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "FAILED" and "Невірний пін-код" in receipt["error"]
    assert "перевірте ключ ліцензії" in receipt["error"] and ck.requests_to(SELL) == []
    assert len(ck.requests_to("/api/v1/cashier/signinPinCode")) == 1  # not retried: it cannot pass later


AGAIN = """mutation($i: IssueFiscalReceiptAgainInput!) { issueFiscalReceiptAgain(input: $i) {
    receipt { id kind status } errors { field code message } } }"""
CONFIGURE = """mutation($i: ConfigurePluginInput!) { configurePlugin(input: $i) { errors { message } } }"""
RECEIPT_IDS = """query($id: ID!) { order(id: $id) { payments { fiscalReceipts { id status error } } } }"""


async def test_a_failed_receipt_is_issued_again_once_the_pin_is_fixed(shop, api, lp, ck, proxied, database):
    installed = (await install_checkbox(shop, api, ck, pin_code="0000"))["installation"]
    await install_liqpay(shop, api, lp)
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    [failed] = (await shop.owner.data(api, RECEIPT_IDS, {"id": order["id"]}))["order"]["payments"][0]["fiscalReceipts"]
    assert failed["status"] == "FAILED"

    # Only who may refund may ask; the logistics role may not.
    refused = await shop.logistics.execute(api, AGAIN, {"i": {"id": failed["id"]}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    # A payment the provider later reports failed (a reversal) has nothing to issue a receipt for.
    paid = await Payment.get(id=ids.decode(payment["id"])[1])
    await Payment.filter(id=paid.id).update(status="failed")
    unpaid = (await shop.owner.data(api, AGAIN, {"i": {"id": failed["id"]}}))["issueFiscalReceiptAgain"]
    assert unpaid["errors"][0]["code"] == "CONFLICT" and "no longer paid" in unpaid["errors"][0]["message"]
    await Payment.filter(id=paid.id).update(status=paid.status)
    fixed = {"id": installed["id"], "version": installed["version"], "secrets": {"pin_code": PIN_CODE}}
    assert (await shop.owner.data(api, CONFIGURE, {"i": fixed}))["configurePlugin"]["errors"] == []
    again = (await shop.owner.data(api, AGAIN, {"i": {"id": failed["id"]}}))["issueFiscalReceiptAgain"]
    assert again["errors"] == [] and (again["receipt"]["kind"], again["receipt"]["status"]) == ("SELL", "PENDING")
    await run_until_idle(database)

    receipts = (await shop.owner.data(api, RECEIPT_IDS, {"id": order["id"]}))["order"]["payments"][0]["fiscalReceipts"]
    assert [(r["id"], r["status"]) for r in receipts] == [(failed["id"], "FAILED"), (again["receipt"]["id"], "DONE")]
    [sold] = ck.sold()
    assert sold["id"] != ids.decode(failed["id"])[1]  # a new receipt id: the cash register never saw it
    # Neither the failed one (replaced) nor the done one can be asked for again; a rerun sells nothing more.
    for receipt_id, message in ((failed["id"], "issued again already"), (again["receipt"]["id"], "Only a failed")):
        twice = (await shop.owner.data(api, AGAIN, {"i": {"id": receipt_id}}))["issueFiscalReceiptAgain"]
        assert twice["errors"][0]["code"] == "CONFLICT" and message in twice["errors"][0]["message"], twice
    await lp.adeliver(lp.callback(reference(payment)), transport=app_transport(proxied))
    await run_until_idle(database, now=later(hours=1))
    assert len(ck.sold()) == 1


async def test_line_discounts_tax_codes_and_the_customers_email_go_on_the_receipt(shop, api, lp, ck, proxied, database):
    await install(
        shop.owner,
        api,
        "checkbox",
        {"api_url": ck.url + "/api/v1", "tax_codes": "8", "sms_receipts": True},
        {"license_key": LICENSE_KEY, "pin_code": PIN_CODE},
    )
    await install_liqpay(shop, api, lp)
    created = await shop.owner.data(
        api,
        """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } } }""",
        {"i": {"name": "Ірина", "phones": ["0501112233"], "emails": ["iryna@example.com"]}},
    )
    account = created["createAccount"]["account"]["id"]
    lines = [
        {"sku": "CUP", "title": "Чашка", "quantity": "3", "unitPrice": "120", "discount": "60"},
        {"sku": "TEA", "title": "Чай", "quantity": "0.25", "unitPrice": "800"},
    ]
    body = await shop.owner.data(
        api,
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } errors { code } } }",
        {"i": {"accountId": account, "items": lines}},
    )
    order = body["createOrder"]["order"]
    payment = (await link(shop, api, order["id"]))["payment"]
    assert payment["amount"]["amount"] == "500.00"  # 360 − 60 + 200
    assert (await customer_opens(payment)).status_code == 200
    await lp.adeliver(lp.customer_pays(reference(payment)), transport=app_transport(proxied))
    await run_until_idle(database)

    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "DONE"
    [sold] = ck.sold()
    cup, tea = sold["goods"]
    assert cup["good"] == {"code": "CUP", "name": "Чашка", "price": 12000, "tax": [8]} and cup["quantity"] == 3000
    assert cup["discounts"] == [{"type": "DISCOUNT", "mode": "VALUE", "value": 6000, "name": "Знижка"}]
    assert tea["good"]["price"] == 80000 and tea["quantity"] == 250 and "discounts" not in tea
    assert sold["total_sum"] == 50000 and sold["payments"] == [{"type": "CASHLESS", "value": 50000}]
    assert sold["delivery"] == {"emails": ["iryna@example.com"], "phone": "380501112233"}


async def test_the_simulator_answers_a_malformed_receipt_with_the_documented_422(ck):
    async with httpx.AsyncClient(base_url=ck.url + "/api/v1", headers={"X-License-Key": LICENSE_KEY}) as http:
        signed = await http.post("/cashier/signinPinCode", json={"pin_code": PIN_CODE})
        assert signed.status_code == 200 and signed.json()["token_type"] == "bearer"
        http.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
        bad = await http.post("/receipts/sell", json={"goods": [{"good": {"code": "A", "name": "A", "price": 1.5}}]})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert detail[0]["loc"] == ["body", "goods", 0, "good", "price"] and detail[0]["msg"] and detail[0]["type"]
    assert checkbox.message_of(bad.json()) == "Validation error (goods.0.good.price: value is not a valid integer)"


async def test_a_receipt_whose_worker_died_mid_try_is_picked_up_by_the_sweep(
    shop, api, lp, ck, proxied, database, monkeypatch
):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()

    async def taken_then_killed(settings, organization_id, payment_id, *, manager=None):
        # The receipt is planned and claimed, then the worker is killed: nothing runs its finally.
        payment = await Payment.get(id=payment_id)
        [receipt] = await fiscal.plan_receipts(payment, await fiscal.fiscal_installation(organization_id))
        await fiscal._claim(receipt.id)
        return {}

    monkeypatch.setattr(fiscal, "issue_for_payment", taken_then_killed)
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    monkeypatch.undo()
    row = await FiscalReceipt.get(payment_id=ids.decode(payment["id"])[1])
    assert (row.status, row.tries, ck.requests_to(SELL)) == ("pending", 1, [])
    # While the dead worker's hold lasts nobody touches it; after it, the sweep does.
    assert row.id not in [r for r, _org in await fiscal.receipts_to_follow(later(minutes=2))]
    await FiscalReceipt.filter(id=row.id).update(claimed_until=datetime.now(UTC) - timedelta(seconds=1))  # run out
    assert row.id in [r for r, _org in await fiscal.receipts_to_follow(later(minutes=2))]
    await fiscal_jobs.follow_receipts(now=later(minutes=2))
    await run_until_idle(database, now=later(minutes=2))
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "DONE" and len(ck.requests_to(SELL)) == 1
    assert row.id not in [r for r, _org in await fiscal.receipts_to_follow(later(hours=1))]  # done


async def test_a_receipt_checkbox_has_not_confirmed_is_never_failed_and_is_followed(
    shop, api, lp, ck, proxied, database
):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    ck.open_shift_now()
    ck.receipt_polls = 10_000  # the tax service is slow today: the receipt stays CREATED
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    row = await FiscalReceipt.get(payment_id=ids.decode(payment["id"])[1])
    for hours in range(1, database.job_max_tries + 2):
        await run_until_idle(database, now=later(hours=hours))
    [receipt] = await receipts_of(shop, api, order["id"])
    # Checkbox has it and may still register it: failing it would invite a second sale by hand.
    assert receipt["status"] == "PENDING" and receipt["error"] and receipt["fiscalCode"] == ""
    [sold] = ck.sold()
    sold_receipt = ck.receipts[sold["id"]]
    sold_receipt["_polls"] = 1  # registered now
    assert row.id in [r for r, _org in await fiscal.receipts_to_follow(later(hours=2))]
    await fiscal_jobs.follow_receipts(now=later(hours=2))
    await run_until_idle(database, now=later(hours=2))
    [receipt] = await receipts_of(shop, api, order["id"])
    assert receipt["status"] == "DONE" and receipt["fiscalCode"] == ck.receipts[sold["id"]]["fiscal_code"]
    assert receipt["error"] == "" and len(ck.requests_to(SELL)) == 1
    assert row.id not in [r for r, _org in await fiscal.receipts_to_follow(later(days=fiscal.FOLLOW_DAYS + 1))]


# -- the customer's receipt link ------------------------------------------------------------------

NOTIFICATION_SETTINGS = """mutation($i: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $i) {
    errors { message } } }"""
NOTIFICATIONS = """query($id: ID!) { orderNotifications(orderId: $id) { trigger channel state text } }"""
RULE = """mutation($i: UpdateNotificationRuleInput!) { updateNotificationRule(input: $i) { errors { message } } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
async def texts(shop, api, turbo_server):
    """The shop's customers hear from it by Viber (TurboSMS), at any hour and without delay."""
    turbo_server.reset()
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": turbo_server.url, "viber_sms_fallback": False}
    assert (await install(shop.owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    quiet = {"quietStart": "00:00", "quietEnd": "00:00", "sendDelaySeconds": 0}
    assert (await shop.owner.data(api, NOTIFICATION_SETTINGS, {"i": quiet}))["updateNotificationSettings"][
        "errors"
    ] == []
    return turbo_server


def receipt_texts(sim) -> list[str]:
    """What the customer's phone got about receipts (the link in it is the CRM's tracked link)."""
    with sim.lock:
        return [m.text for m in sim.messages.values() if m.recipient == "380671234567" and m.text.startswith("Чек")]


async def test_the_customer_gets_each_receipts_link_once_over_their_channel(
    shop, api, lp, ck, proxied, database, texts
):
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    order, payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    [sale] = await receipts_of(shop, api, order["id"])
    name = (await Organization.get(slug=shop.slug)).name
    number = (await Order.get(id=ids.decode(order["id"], "Order")[1])).number
    [got] = receipt_texts(texts)
    assert got.startswith(f"Чек до замовлення №{number} на 900.00 UAH: http") and got.endswith(f" {name}")
    # The link in the message leads to the receipt's page at Checkbox.
    link = got.split(": ", 1)[1].split()[0]
    opened = await proxied.get(httpx.URL(link).path)
    assert opened.status_code in (302, 303, 307) and opened.headers["location"] == sale["url"]

    refund = {"i": {"paymentId": payment["id"], "amount": "300"}}
    assert (await shop.owner.data(api, REFUND, refund))["refundPayment"]["errors"] == []
    await run_until_idle(database)
    _, back = await receipts_of(shop, api, order["id"])
    assert [t.split(": http")[0] for t in receipt_texts(texts)] == [
        f"Чек до замовлення №{number} на 900.00 UAH",
        f"Чек повернення до замовлення №{number} на 300.00 UAH",
    ]
    # On the order, like any message to the customer, with the receipt's own link; a rerun of
    # the jobs sends nothing more.
    sent = (await shop.owner.data(api, NOTIFICATIONS, {"id": order["id"]}))["orderNotifications"]
    assert [(n["channel"], n["state"], n["text"].split(": ")[1]) for n in sent if n["trigger"] == "fiscal_receipt"] == [
        ("viber", "sent", f"{sale['url']} {name}"),
        ("viber", "sent", f"{back['url']} {name}"),
    ]
    await run_until_idle(database, now=later(hours=1))
    assert len(receipt_texts(texts)) == 2


async def test_a_shop_that_switched_the_receipt_message_off_sends_none(shop, api, lp, ck, proxied, database, texts):
    off = {"i": {"trigger": "fiscal_receipt", "enabled": False}}
    assert (await shop.owner.data(api, RULE, off))["updateNotificationRule"]["errors"] == []
    await install_checkbox(shop, api, ck)
    await install_liqpay(shop, api, lp)
    order, _payment = await paid_card_order(shop, api, lp, proxied)
    await run_until_idle(database)
    assert [r["status"] for r in await receipts_of(shop, api, order["id"])] == ["DONE"]
    assert receipt_texts(texts) == []
