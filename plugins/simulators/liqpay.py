"""LiqPay API v3 simulator: the checkout page, server-to-server status and refund, and the
signed server callbacks (/work/shared/providers/liqpay.md).

* Envelope: form-encoded ``data`` (base64 JSON) + ``signature`` (base64 sha1 of
  private_key + data + private_key), on ``/api/3/checkout`` (GET query or POST form, the
  customer's browser) and ``POST /api/request`` (the merchant's server; the answer is plain JSON).
* Request errors answer ``{"result": "error", "status": "error", "err_code", "err_description"}``
  with HTTP 200: ``invalid_signature``, ``public_key_not_found``, ``payment_not_found`` (an
  unknown order_id: the notes say this code is unconfirmed), ``invalid_data`` (missing/bad fields),
  ``amount_limit`` (a refund above what is left).
* Amounts and commissions are JSON numbers written from Decimals (``1360.74``), ids integers,
  dates epoch milliseconds, as in LiqPay's logged callbacks.
* Test hooks: ``customer_pays(order_id)`` (``success``, or ``sandbox`` for sandbox=1 checkouts)
  and ``customer_fails(order_id)`` return the callback to deliver; ``callback(order_id)`` builds the
  current state again (a replay); ``forge(hook)`` re-signs it with a wrong key.
* Refunds (``action: refund``, full or partial ``amount``) answer ``status: reversed`` (the
  refund operation); the payment itself becomes ``reversed`` only when nothing is left, and only
  then is a callback queued (``pending_callbacks``). Whether LiqPay calls back for a partial
  refund is not documented: this simulator does not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import simplejson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server.plugins.simulator import OutgoingWebhook, SimulatorServer, json_response, read_form

PUBLIC_KEY = "i00000000"
PRIVATE_KEY = "a4825234f4bae72a0be04eafe9e8e2bada209255"
COMMISSION = Decimal("0.015")  # 1.5 %, the simulator's merchant rate
CENT = Decimal("0.01")
REQUIRED = ("version", "public_key", "action", "amount", "currency", "description", "order_id")
CURRENCIES = {"UAH", "USD", "EUR"}


def sign(data: str, private_key: str) -> str:
    return base64.b64encode(hashlib.sha1((private_key + data + private_key).encode()).digest()).decode()  # noqa: S324


def encode(payload: dict) -> str:
    return base64.b64encode(simplejson.dumps(payload, use_decimal=True, ensure_ascii=False).encode()).decode()


def _error(code: str, description: str) -> Response:
    return json_response({"result": "error", "status": "error", "err_code": code, "err_description": description})


def _decimal_response(payload: dict) -> Response:
    body = simplejson.dumps(payload, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type="application/json; charset=utf-8")


class LiqPaySimulator(SimulatorServer):
    name = "liqpay"

    def seed(self) -> None:
        with self.lock:
            self.keys = {PUBLIC_KEY: PRIVATE_KEY}
            self.payments: dict[str, dict[str, Any]] = {}  # order_id -> state
            self.pending_callbacks: list[OutgoingWebhook] = []
            self.next_payment_id = 2460231630

    def credentials(self) -> dict[str, Any]:
        return {"public_key": PUBLIC_KEY, "private_key": PRIVATE_KEY}

    def error_body(self, status: int, message: str) -> Any:
        return {"result": "error", "status": "error", "err_code": str(status), "err_description": message}

    # -- the envelope ------------------------------------------------------------------

    def _open(self, data: str, signature: str) -> tuple[dict | None, Response | None]:
        try:
            params = json.loads(base64.b64decode(data, validate=True), parse_float=Decimal)
        except ValueError:
            return None, _error("invalid_data", "Invalid data")
        if not isinstance(params, dict):
            return None, _error("invalid_data", "Invalid data")
        private = self.keys.get(str(params.get("public_key", "")))
        if private is None:
            return None, _error("public_key_not_found", "Public key not found")
        if sign(data, private) != signature:
            return None, _error("invalid_signature", "Invalid signature")
        return params, None

    def _payload(self, state: dict, **extra: Any) -> dict:
        payload = {
            "payment_id": state["payment_id"],
            "action": state["action"],
            "status": state["status"],
            "version": 3,
            "type": "buy",
            "paytype": "card",
            "public_key": state["public_key"],
            "acq_id": 414963,
            "order_id": state["order_id"],
            "liqpay_order_id": f"SIM{state['created']}",
            "description": state["description"],
            "sender_card_mask2": "424242*42",
            "amount": state["amount"],
            "currency": state["currency"],
            "receiver_commission": state["commission"],
            "is_3ds": False,
            "create_date": state["created"],
            "end_date": state["end_date"],
            "transaction_id": state["payment_id"],
            **extra,
        }
        if state.get("err_code"):
            payload["err_code"] = state["err_code"]
            payload["err_description"] = state["err_description"]
        return payload

    def _hook(self, state: dict, private_key: str | None = None) -> OutgoingWebhook:
        data = encode(self._payload(state))
        params = [("data", data), ("signature", sign(data, private_key or self.keys[state["public_key"]]))]
        return OutgoingWebhook(
            url=state.get("server_url", ""),
            body=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            event=state["status"],
            params=params,
        )

    # -- test hooks --------------------------------------------------------------------

    def _finish(self, order_id: str, status: str, **extra: Any) -> OutgoingWebhook:
        with self.lock:
            state = self.payments[order_id]
            if state.get("payment_id") is None:
                self.next_payment_id += 1
                state["payment_id"] = self.next_payment_id
            state["status"] = status
            state["end_date"] = int(time.time() * 1000)
            state.update(extra)
            return self._hook(state)

    def customer_pays(self, order_id: str) -> OutgoingWebhook:
        """The customer pays on the checkout page: the callback LiqPay sends to server_url."""
        state = self.payments[order_id]
        status = "sandbox" if state.get("sandbox") else "success"
        commission = (state["amount"] * COMMISSION).quantize(CENT, rounding=ROUND_HALF_UP)
        return self._finish(order_id, status, commission=commission, err_code=None)

    def customer_fails(self, order_id: str) -> OutgoingWebhook:
        return self._finish(order_id, "failure", err_code="limit", err_description="Exceeded the limit")

    def callback(self, order_id: str) -> OutgoingWebhook:
        """The callback of the payment's current state, again (a provider's redelivery)."""
        with self.lock:
            return self._hook(self.payments[order_id])

    def forge(self, hook: OutgoingWebhook) -> OutgoingWebhook:
        """The same callback signed with a key that is not the merchant's."""
        data = dict(hook.params or [])["data"]
        params = [("data", data), ("signature", sign(data, "not-the-private-key"))]
        return OutgoingWebhook(hook.url, urlencode(params).encode(), dict(hook.headers), hook.event, params=params)

    # -- the API -------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/api/3/checkout", self._checkout, methods=["GET", "POST"]),
            Route("/api/request", self._api, methods=["POST"]),
        ]

    async def _checkout(self, request: Request) -> Response:
        fields = dict(request.query_params) if request.method == "GET" else dict(await read_form(request))
        params, refused = self._open(fields.get("data", ""), fields.get("signature", ""))
        if refused is not None:
            answer = json.loads(refused.body)
            return HTMLResponse(f"<h1>LiqPay</h1><p class=error>{answer['err_description']}</p>", status_code=200)
        missing = [f for f in REQUIRED if params.get(f) in (None, "")]
        amount = _amount(params.get("amount"))
        if missing or amount is None or str(params.get("currency")) not in CURRENCIES:
            return HTMLResponse("<h1>LiqPay</h1><p class=error>Invalid data</p>", status_code=200)
        order_id = str(params["order_id"])
        with self.lock:
            known = self.payments.get(order_id)
            if known is not None and known["status"] in ("success", "sandbox", "reversed"):
                return HTMLResponse("<h1>LiqPay</h1><p class=error>Order already paid</p>", status_code=200)
            self.payments[order_id] = {
                "order_id": order_id,
                "public_key": params["public_key"],
                "action": params["action"],
                "amount": amount,
                "currency": params["currency"],
                "description": str(params["description"]),
                "server_url": params.get("server_url", ""),
                "result_url": params.get("result_url", ""),
                "sandbox": str(params.get("sandbox", "")) == "1",
                "status": "wait_secure",
                "payment_id": None,
                "commission": Decimal("0.00"),
                "refunded": Decimal("0.00"),
                "created": int(time.time() * 1000),
                "end_date": None,
            }
        return HTMLResponse(
            f"<h1>LiqPay</h1><p>{params['description']}</p><p class=amount>{amount} {params['currency']}</p>"
            "<form><input name=card><button>Pay</button></form>"
        )

    async def _api(self, request: Request) -> Response:
        fields = dict(await read_form(request))
        params, refused = self._open(fields.get("data", ""), fields.get("signature", ""))
        if refused is not None:
            return refused
        action = params.get("action")
        order_id = str(params.get("order_id", ""))
        if action not in ("status", "refund") or not order_id:
            return _error("invalid_data", "Invalid data")
        with self.lock:
            state = self.payments.get(order_id)
            if state is None or state["public_key"] != params["public_key"]:
                return _error("payment_not_found", "Payment not found")
            if action == "status":
                return _decimal_response({"result": "ok", **self._payload(state)})
            amount = _amount(params.get("amount"))
            if amount is None:
                return _error("invalid_data", "Invalid data")
            if state["status"] not in ("success", "sandbox"):
                return _error("payment_not_found", "Payment is not in a refundable status")
            left = state["amount"] - state["refunded"]
            if amount > left:
                return _error("amount_limit", "Amount exceeds the payment amount")
            state["refunded"] += amount
            if state["refunded"] >= state["amount"]:
                state["status"] = "reversed"
                state["end_date"] = int(time.time() * 1000)
                self.pending_callbacks.append(self._hook(state))
            return _decimal_response(
                {
                    "result": "ok",
                    "payment_id": state["payment_id"],
                    "action": "refund",
                    "status": "reversed",
                    "amount": amount,
                    "order_id": order_id,
                }
            )

    def control_routes(self) -> list[Route]:
        async def payments(request: Request) -> Response:
            with self.lock:
                return _decimal_response({k: {**v} for k, v in self.payments.items()})

        async def pay(request: Request) -> Response:
            if request.path_params["order_id"] not in self.payments:  # no checkout opened for it
                return json_response({"error": "no checkout for this order_id"}, status_code=404)
            hook = self.customer_pays(request.path_params["order_id"])
            attempt = await self.adeliver(hook)
            return json_response({"delivered": attempt.status_code})

        return [
            Route("/__sim__/payments", payments, methods=["GET"]),
            Route("/__sim__/payments/{order_id}/pay", pay, methods=["POST"]),
        ]


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except Exception:
        return None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return amount.quantize(CENT)
