"""The LiqPay and monobank simulators over real HTTP: their envelopes, signatures and error
shapes, as a plugin (or a curl by hand) meets them."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from plugins.simulators.liqpay import PRIVATE_KEY, PUBLIC_KEY, LiqPaySimulator, sign
from plugins.simulators.monobank import TOKEN, MonobankSimulator


@pytest.fixture(scope="module")
def liqpay_server():
    with LiqPaySimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def mono_server():
    with MonobankSimulator() as sim:
        yield sim


@pytest.fixture
def lp(liqpay_server):
    liqpay_server.reset()
    return liqpay_server


@pytest.fixture
def mono(mono_server):
    mono_server.reset()
    return mono_server


def envelope(params: dict, key: str = PRIVATE_KEY) -> dict:
    data = base64.b64encode(json.dumps(params).encode()).decode()
    return {"data": data, "signature": sign(data, key)}


PAY = {
    "version": 3,
    "public_key": PUBLIC_KEY,
    "action": "pay",
    "amount": "7.30",
    "currency": "UAH",
    "description": "Замовлення №1",
    "order_id": "o-1",
}


def test_liqpay_api_errors(lp):
    api = f"{lp.url}/api/request"
    wrong_key = httpx.post(api, data=envelope({**PAY, "action": "status"}, "other")).json()
    assert wrong_key == {
        "result": "error",
        "status": "error",
        "err_code": "invalid_signature",
        "err_description": "Invalid signature",
    }
    unknown_key = httpx.post(api, data=envelope({**PAY, "action": "status", "public_key": "i1"})).json()
    assert unknown_key["err_code"] == "public_key_not_found"
    unknown = httpx.post(
        api, data=envelope({"version": 3, "public_key": PUBLIC_KEY, "action": "status", "order_id": "x"})
    )
    assert unknown.status_code == 200 and unknown.json()["err_code"] == "payment_not_found"


def test_liqpay_checkout_pay_status_and_refund_limits(lp):
    page = httpx.get(f"{lp.url}/api/3/checkout", params=envelope(PAY))
    assert page.status_code == 200 and "7.30 UAH" in page.text
    bad = httpx.get(f"{lp.url}/api/3/checkout", params=envelope({**PAY, "amount": "7.305"}))
    assert "Invalid data" in bad.text and "o-1" in lp.payments
    hook = lp.customer_pays("o-1")
    callback = json.loads(base64.b64decode(hook.form["data"]), parse_float=Decimal)
    assert hook.form["signature"] == sign(hook.form["data"], PRIVATE_KEY)
    assert (callback["status"], callback["amount"], callback["receiver_commission"]) == (
        "success",
        Decimal("7.30"),
        Decimal("0.11"),  # 1.5 % of 7.30 = 0.1095, half-up
    )
    assert isinstance(callback["payment_id"], int) and isinstance(callback["end_date"], int)
    status = httpx.post(f"{lp.url}/api/request", data=envelope({**PAY, "action": "status"})).json()
    assert status["result"] == "ok" and status["status"] == "success"
    refund = {"version": 3, "public_key": PUBLIC_KEY, "action": "refund", "order_id": "o-1"}
    over = httpx.post(f"{lp.url}/api/request", data=envelope({**refund, "amount": "7.31"})).json()
    assert over["err_code"] == "amount_limit"
    part = httpx.post(f"{lp.url}/api/request", data=envelope({**refund, "amount": "7.00"})).json()
    assert part["status"] == "reversed" and lp.pending_callbacks == []
    httpx.post(f"{lp.url}/api/request", data=envelope({**refund, "amount": "0.30"}))
    [reversed_hook] = lp.pending_callbacks
    assert json.loads(base64.b64decode(reversed_hook.form["data"]))["status"] == "reversed"


def test_monobank_errors_and_signed_webhooks(mono):
    api = httpx.Client(base_url=mono.url, headers={"X-Token": TOKEN})
    forbidden = httpx.post(f"{mono.url}/api/merchant/invoice/create", json={"amount": 4200}, headers={"X-Token": "x"})
    assert (forbidden.status_code, forbidden.json()) == (403, {"errCode": "FORBIDDEN", "errText": "invalid 'X-Token'"})
    for amount in (42.0, "4200", 0):
        bad = api.post("/api/merchant/invoice/create", json={"amount": amount})
        assert bad.status_code == 400 and bad.json()["errCode"] == "BAD_REQUEST"
    missing = api.get("/api/merchant/invoice/status", params={"invoiceId": "nope"})
    assert (missing.status_code, missing.json()["errCode"]) == (404, "NOT_FOUND")
    made = api.post("/api/merchant/invoice/create", json={"amount": 4200, "ccy": 980, "webHookUrl": "https://x"}).json()
    assert set(made) == {"invoiceId", "pageUrl"} and made["pageUrl"].endswith(made["invoiceId"])
    early = api.post("/api/merchant/invoice/cancel", json={"invoiceId": made["invoiceId"]})
    assert early.status_code == 400
    processing, success = mono.customer_pays(made["invoiceId"])
    key = load_pem_public_key(base64.b64decode(api.get("/api/merchant/pubkey").json()["key"]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    for hook in (processing, success):
        key.verify(base64.b64decode(hook.headers["X-Sign"]), hook.body, ec.ECDSA(hashes.SHA256()))
    assert json.loads(processing.body)["modifiedDate"] < json.loads(success.body)["modifiedDate"]
    cancel = api.post("/api/merchant/invoice/cancel", json={"invoiceId": made["invoiceId"], "amount": 5000})
    assert cancel.status_code == 400
    cancel = api.post("/api/merchant/invoice/cancel", json={"invoiceId": made["invoiceId"], "amount": 4200})
    assert cancel.json()["status"] == "processing"
    done = json.loads(mono.complete_refunds(made["invoiceId"]).body)
    assert done["status"] == "reversed" and done["cancelList"][0]["status"] == "success"
