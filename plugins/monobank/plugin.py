"""The ``monobank`` plugin's hooks (server/plugins/hookspecs.py has the contract).

monobank acquiring (/work/shared/providers/monobank.md): JSON over HTTPS with ``X-Token``;
amounts are integers in kopiykas (converted exactly by ``server.payments.money``); webhooks
carry ``X-Sign``, a base64 DER ECDSA P-256/SHA-256 signature of the raw body, checked against
monobank's public key from ``GET /api/merchant/pubkey``.

The public key is monobank's, the same for every merchant, so it is cached per API URL in the
process (a plugin's only module-level state) and fetched again only when a signature stops
verifying, once per webhook, as monobank asks. That fetch is the one provider call made while
handling a webhook; it reads and changes nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from server.i18n import _
from server.payments.money import from_minor, loads, to_minor
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

NAME = "monobank"
VERSION = "1.0.0"
DEFAULT_API_URL = "https://api.monobank.ua"
TRANSPORT = None  # tests may put an httpx transport here
CCY = {"UAH": 980, "USD": 840, "EUR": 978}
CCY_CODES = {v: k for k, v in CCY.items()}
STATUS = {
    "created": "pending",
    "processing": "pending",
    "hold": "pending",  # held, not captured: not paid until finalized
    "success": "paid",
    "failure": "failed",
    "expired": "failed",
    "reversed": "refunded",
}

_public_keys: dict[str, bytes] = {}  # API URL -> monobank's PEM public key


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="monobank acquiring",
        version=VERSION,
        capabilities=(PAYMENTS, WEBHOOKS),
        api_version=API_VERSION,
        description="Card payments through monobank (Plata by mono): invoices, signed webhooks, refunds.",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("token", secret=True, required=True, label="X-Token", help="From the monobank business cabinet."),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
        ConfigField("redirect_url", type="url", default="", label="Return page"),
        ConfigField("validity_hours", type="integer", default=24, label="Link valid for, hours"),
    ]


async def _call(config: dict, secrets: dict, method: str, path: str, *, retry: bool | None = None, **kwargs) -> Any:
    async with ProviderClient(
        "monobank", base_url=config["api_url"], headers={"X-Token": secrets["token"]}, transport=TRANSPORT
    ) as client:
        response = await client.request(method, path, retry=retry, **kwargs)
    try:
        body = loads(response.content) if response.content else {}
    except ValueError:
        raise PluginError(
            _("monobank answered HTTP %(status_code)s without JSON.", status_code=response.status_code), retryable=True
        ) from None
    if response.status_code >= 400:
        error = body if isinstance(body, dict) else {}
        code, text = str(error.get("errCode") or response.status_code), str(error.get("errText") or "error")
        if response.status_code == 403:
            raise PluginError(
                _("monobank refused the token (%(text)s): check the X-Token in the settings.", text=text), code=code
            )
        raise PluginError(_("monobank: %(text)s", text=text), code=code)
    return body


async def _public_key(config: dict, secrets: dict, *, fresh: bool = False) -> bytes:
    url = config["api_url"]
    if fresh or url not in _public_keys:
        body = await _call(config, secrets, "GET", "/api/merchant/pubkey")
        _public_keys[url] = base64.b64decode(body["key"])
    return _public_keys[url]


def verify(pem: bytes, body: bytes, x_sign: str) -> bool:
    try:
        key = load_pem_public_key(pem)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(base64.b64decode(x_sign, validate=True), body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def update_of(invoice: dict) -> PaymentUpdate:
    status = str(invoice.get("status") or "")
    state = STATUS.get(status, "pending")
    done = [c for c in invoice.get("cancelList") or [] if isinstance(c, dict) and c.get("status") == "success"]
    refunded = sum((int(c.get("amount") or 0) for c in done), 0)
    refunded_amount = from_minor(refunded) if refunded else None
    if state == "paid" and refunded:
        state = "partially_refunded"
    amount = invoice.get("finalAmount", invoice.get("amount"))
    return PaymentUpdate(
        reference=str(invoice.get("reference") or ""),
        provider_payment_id=str(invoice.get("invoiceId") or ""),
        status=state,
        provider_status=status,
        amount=from_minor(amount) if isinstance(amount, int) and state == "paid" else None,
        currency=CCY_CODES.get(invoice.get("ccy"), ""),
        refunded_amount=refunded_amount,
        refunds_confirmed=tuple(str(c["extRef"]) for c in done if c.get("extRef")),
        changed_at=_moment(invoice.get("modifiedDate")),
        error=str(invoice.get("failureReason") or ""),
    )


@hookimpl
async def crm_test_connection(config, secrets):
    try:
        await _public_key(config, secrets, fresh=True)
    except PluginError as exc:
        return ConnectionResult(ok=False, message=exc.message)
    return ConnectionResult(ok=True, message=_("Connected to monobank: the token is accepted."))


@hookimpl
async def crm_payment_create(installation, config, secrets, payment: CheckoutRequest):
    if payment.currency not in CCY:
        raise PluginError(_("monobank takes UAH, USD or EUR, not %(currency)s.", currency=payment.currency))
    body: dict[str, Any] = {
        "amount": to_minor(payment.amount),
        "ccy": CCY[payment.currency],
        "merchantPaymInfo": {"reference": payment.reference, "destination": payment.description},
        "validity": int(config.get("validity_hours") or 24) * 3600,
        "paymentType": "debit",
    }
    callback = payment.callback_url or installation.webhook_url
    if callback:
        body["webHookUrl"] = callback
    if payment.result_url or config.get("redirect_url"):
        body["redirectUrl"] = payment.result_url or config["redirect_url"]
    answer = await _call(config, secrets, "POST", "/api/merchant/invoice/create", json=body)
    return Checkout(url=str(answer["pageUrl"]), provider_payment_id=str(answer["invoiceId"]), raw=answer)


@hookimpl
async def crm_payment_status(config, secrets, reference, provider_payment_id):
    invoice = await _call(
        config, secrets, "GET", "/api/merchant/invoice/status", params={"invoiceId": provider_payment_id}
    )
    return update_of(invoice)


@hookimpl
async def crm_payment_refund(config, secrets, provider_payment_id, amount, refund_reference):
    body = {"invoiceId": provider_payment_id, "extRef": refund_reference, "amount": to_minor(amount)}
    answer = await _call(config, secrets, "POST", "/api/merchant/invoice/cancel", json=body)
    status = str(answer.get("status") or "")
    result = {"success": "succeeded", "failure": "failed"}.get(status, "pending")
    return RefundResult(result, provider_refund_id=refund_reference, raw=answer)


@hookimpl
async def crm_webhook(config, secrets, request: WebhookRequest):
    x_sign = request.header("x-sign") or ""
    if not x_sign:
        raise WebhookRejected("no X-Sign")
    if not verify(await _public_key(config, secrets), request.body, x_sign):
        # monobank may have rotated its key: fetch it once more before refusing.
        if not verify(await _public_key(config, secrets, fresh=True), request.body, x_sign):
            raise WebhookRejected("bad X-Sign")
    try:
        invoice = loads(request.body)
    except ValueError:
        raise WebhookRejected("body is not JSON", status=400) from None
    if not isinstance(invoice, dict) or not invoice.get("invoiceId"):
        raise WebhookRejected("not an invoice status", status=400)
    update = update_of(invoice)
    key = f"monobank:{invoice['invoiceId']}:{invoice.get('status')}:{invoice.get('modifiedDate')}"
    return WebhookResult(events=[update], dedupe_key=key[:200], response=WebhookResponse(200, {}))
