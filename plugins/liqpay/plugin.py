"""The ``liqpay`` plugin's hooks (server/plugins/hookspecs.py has the contract).

LiqPay API v3 (/work/shared/providers/liqpay.md): every call is ``data`` = base64(JSON params)
and ``signature`` = base64(sha1(private_key + data + private_key)); the browser goes to
``/api/3/checkout``, the server calls ``/api/request`` and gets plain JSON back. Callbacks
(``server_url``) come as the same data/signature pair, form-encoded.

Amounts go out as decimal strings (``"7.30"``, as in LiqPay's own documented example) and come
back as JSON numbers, parsed as Decimals: no float anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from server.i18n import _
from server.payments.money import exact, loads
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import ProviderClient
from server.plugins.types import (
    PAYMENTS,
    WEBHOOKS,
    Checkout,
    CheckoutRequest,
    ConfigField,
    ConnectionResult,
    PaymentUpdate,
    PluginError,
    PluginInfo,
    RefundResult,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "liqpay"
VERSION = "1.0.0"
DEFAULT_API_URL = "https://www.liqpay.ua"
TRANSPORT = None  # tests may put an httpx transport here

PAID = {"success", "sandbox", "wait_accept"}
FAILED = {"failure", "error"}
REFUNDED = {"reversed"}


def status_of(liqpay_status: str, test_mode: bool = False) -> str:
    """LiqPay's status -> ``types.PAYMENT_STATES``: money taken, refused, given back, or waiting.
    ``sandbox`` (a test payment, nothing charged) is paid only for an installation in test mode:
    test keys used by mistake on a live shop never mark an order paid."""
    if liqpay_status == "sandbox" and not test_mode:
        return "failed"
    if liqpay_status in PAID:
        return "paid"
    if liqpay_status in FAILED:
        return "failed"
    if liqpay_status in REFUNDED:
        return "refunded"
    return "pending"  # *_verify, processing, prepared, wait_* ...


def encode(params: dict) -> str:
    return base64.b64encode(json.dumps(params, ensure_ascii=False).encode()).decode()


def sign(data: str, private_key: str) -> str:
    """base64(sha1(private_key + data + private_key)), over the base64 ``data`` string."""
    digest = hashlib.sha1((private_key + data + private_key).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def verify(data: str, signature: str, private_key: str) -> bool:
    return hmac.compare_digest(sign(data, private_key).encode(), signature.encode())


def decode(data: str) -> dict:
    payload = loads(base64.b64decode(data, validate=True))
    if not isinstance(payload, dict):
        raise ValueError("data is not a JSON object")
    return payload


def _amount(amount: Decimal) -> str:
    return format(amount, "f")


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="LiqPay",
        version=VERSION,
        capabilities=(PAYMENTS, WEBHOOKS),
        api_version=API_VERSION,
        description="Card payments through LiqPay (PrivatBank): checkout links, callbacks, refunds.",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("public_key", required=True, label="Public key", help="From the LiqPay shop settings (i000…)."),
        ConfigField("private_key", secret=True, required=True, label="Private key"),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
        ConfigField("sandbox", type="boolean", default=False, label="Test mode", help="Payments are not charged."),
        ConfigField(
            "result_url", type="url", default="", label="Return page", help="Where the customer lands after paying."
        ),
    ]


async def _request(config: dict, secrets: dict, params: dict, *, retry: bool = False) -> dict:
    body = {"version": 3, "public_key": config["public_key"], **params}
    data = encode(body)
    async with ProviderClient("LiqPay", base_url=config["api_url"], transport=TRANSPORT) as client:
        response = await client.request(
            "POST", "/api/request", data={"data": data, "signature": sign(data, secrets["private_key"])}, retry=retry
        )
    try:
        answer = loads(response.content)
    except ValueError:
        raise PluginError(
            _("LiqPay answered HTTP %(status_code)s without JSON.", status_code=response.status_code), retryable=True
        ) from None
    if not isinstance(answer, dict):
        raise PluginError(_("LiqPay answered something unexpected."), retryable=True)
    if answer.get("result") == "error" or answer.get("status") == "error":
        code = str(answer.get("err_code") or "error")
        text = str(answer.get("err_description") or code)
        if code in ("public_key_not_found", "invalid_signature"):
            raise PluginError(
                _("LiqPay refused the keys (%(text)s): check the public and private key.", text=text), code=code
            )
        raise PluginError(_("LiqPay: %(text)s", text=text), code=code)
    return answer


def _moment(ms: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, tz=UTC) if ms is not None else None
    except (TypeError, ValueError):
        return None


def update_of(payload: dict, test_mode: bool = False) -> PaymentUpdate:
    status = str(payload.get("status") or "")
    return PaymentUpdate(
        reference=str(payload.get("order_id") or ""),
        provider_payment_id=str(payload.get("payment_id") or ""),
        status=status_of(status, test_mode),
        provider_status=status,
        amount=exact(payload.get("amount")),
        fee=exact(payload.get("receiver_commission")),
        currency=str(payload.get("currency") or ""),
        changed_at=_moment(payload.get("end_date") or payload.get("create_date")),
        error=str(payload.get("err_description") or payload.get("err_code") or "")
        or ("a test payment (sandbox): nothing was charged" if status == "sandbox" and not test_mode else ""),
    )


@hookimpl
async def crm_test_connection(config, secrets):
    try:
        await _request(config, secrets, {"action": "status", "order_id": "crm-connection-test"}, retry=True)
    except PluginError as exc:
        if exc.code in ("payment_not_found",):
            return ConnectionResult(ok=True, message=_("Connected to LiqPay: the keys are accepted."))
        return ConnectionResult(ok=False, message=exc.message)
    return ConnectionResult(ok=True, message=_("Connected to LiqPay: the keys are accepted."))


@hookimpl
def crm_payment_create(installation, config, secrets, payment: CheckoutRequest):
    params = {
        "version": 3,
        "public_key": config["public_key"],
        "action": "pay",
        "amount": _amount(payment.amount),
        "currency": payment.currency,
        "description": payment.description,
        "order_id": payment.reference,
        "language": "en" if payment.language == "en" else "uk",
    }
    callback = payment.callback_url or installation.webhook_url
    if callback:
        params["server_url"] = callback
    if config.get("result_url") or payment.result_url:
        params["result_url"] = payment.result_url or config["result_url"]
    if config.get("sandbox"):
        params["sandbox"] = 1
    data = encode(params)
    query = urlencode({"data": data, "signature": sign(data, secrets["private_key"])})
    url = f"{config['api_url'].rstrip('/')}/api/3/checkout?{query}"
    # LiqPay numbers its payment only when the customer pays: until then the order_id is the key.
    return Checkout(url=url, provider_payment_id="", status="pending")


@hookimpl
async def crm_payment_status(config, secrets, reference, provider_payment_id):
    answer = await _request(config, secrets, {"action": "status", "order_id": reference}, retry=True)
    return update_of(answer, bool(config.get("sandbox")))


@hookimpl
async def crm_payment_refund(config, secrets, reference, provider_payment_id, amount, currency, refund_reference):
    answer = await _request(config, secrets, {"action": "refund", "order_id": reference, "amount": _amount(amount)})
    status = str(answer.get("status") or "")
    if status in REFUNDED or status in PAID:
        return RefundResult("succeeded", provider_refund_id=str(answer.get("payment_id") or ""), raw=answer)
    if status in FAILED:
        return RefundResult("failed", error=str(answer.get("err_description") or status), raw=answer)
    return RefundResult("pending", raw=answer)


@hookimpl
def crm_webhook(config, secrets, request: WebhookRequest):
    data = request.form.get("data", "")
    signature = request.form.get("signature", "")
    if not data or not signature or not verify(data, signature, secrets["private_key"]):
        raise WebhookRejected("bad LiqPay signature")
    try:
        payload = decode(data)
    except ValueError:
        raise WebhookRejected("LiqPay data is not base64 JSON", status=400) from None
    update = update_of(payload, bool(config.get("sandbox")))
    moment = payload.get("end_date") or payload.get("create_date") or ""
    key = f"liqpay:{payload.get('order_id')}:{payload.get('action')}:{update.provider_status}:{moment}"
    return WebhookResult(events=[update], dedupe_key=key, response=WebhookResponse(200, "OK"))
