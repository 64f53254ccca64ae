"""monobank acquiring simulator: invoices, status, cancel (refund), remove, the public key,
and webhooks signed with ECDSA ``X-Sign`` (/work/shared/providers/monobank.md).

* ``X-Token`` on every call; a wrong or missing one: 403 ``{"errCode": "FORBIDDEN",
  "errText": "invalid 'X-Token'"}``. Bad input: 400 ``BAD_REQUEST`` (the text is the
  simulator's; monobank's texts are unconfirmed); an unknown invoice: 404 ``NOT_FOUND``.
* ``POST /api/merchant/invoice/create`` (``amount`` integer kopiykas, ``ccy`` 980/840/978) ->
  ``{"invoiceId", "pageUrl"}``; ``GET /api/merchant/invoice/status?invoiceId=`` -> the status
  object; ``POST /api/merchant/invoice/cancel`` (full or partial ``amount``, ``extRef``) ->
  ``{"status": "processing", "createdDate", "modifiedDate"}``, finished by ``complete_refunds``;
  ``POST /api/merchant/invoice/remove``; ``GET /api/merchant/pubkey`` -> ``{"key": base64 PEM}``.
* Webhooks (the status object, to ``webHookUrl``, on every change but ``expired``) carry
  ``X-Sign`` = base64 DER ECDSA P-256 SHA-256 of the raw body, with the simulator's own key.
* Test hooks: ``customer_pays(id)`` returns the ``processing`` and ``success`` webhooks (deliver
  them in any order: monobank does not guarantee it), ``customer_fails(id)``,
  ``complete_refunds(id)``, ``callback(id)`` (the current state again), ``forge(hook)`` (signed
  with another key), ``rotate_key()`` (monobank changed its key: cached keys stop verifying).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import OutgoingWebhook, SimulatorServer, json_response, read_json

TOKEN = "uSimMonoTestTokenA1b2C3d4E5f6G7h8I9j0kLmNoPq"  # noqa: S105 - test credential
CCY = {980, 840, 978}
ALPHABET = string.ascii_letters + string.digits


def _forbidden() -> Response:
    return json_response({"errCode": "FORBIDDEN", "errText": "invalid 'X-Token'"}, 403)


def _bad(text: str) -> Response:
    return json_response({"errCode": "BAD_REQUEST", "errText": text}, 400)


def _not_found() -> Response:
    return json_response({"errCode": "NOT_FOUND", "errText": "invoice not found"}, 404)


def sign(key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


class MonobankSimulator(SimulatorServer):
    name = "monobank"

    def seed(self) -> None:
        with self.lock:
            self.tokens = {TOKEN}
            self.key = ec.generate_private_key(ec.SECP256R1())
            self.invoices: dict[str, dict[str, Any]] = {}
            self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    def credentials(self) -> dict[str, Any]:
        return {"token": TOKEN}

    def error_body(self, status: int, message: str) -> Any:
        return {"errCode": str(status), "errText": message}

    # -- helpers -------------------------------------------------------------------------

    def public_key_b64(self) -> str:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(pem).decode()

    def _now(self) -> str:
        # A strictly increasing clock, so every change has its own modifiedDate.
        self.clock = max(self.clock + timedelta(seconds=1), datetime.now(UTC).replace(microsecond=0))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _status(self, invoice: dict) -> dict:
        body = {
            "invoiceId": invoice["invoiceId"],
            "status": invoice["status"],
            "amount": invoice["amount"],
            "ccy": invoice["ccy"],
            "finalAmount": invoice["finalAmount"],
            "createdDate": invoice["createdDate"],
            "modifiedDate": invoice["modifiedDate"],
            "reference": invoice["reference"],
        }
        if invoice.get("failureReason"):
            body["failureReason"] = invoice["failureReason"]
        if invoice["cancelList"]:
            body["cancelList"] = [dict(c) for c in invoice["cancelList"]]
        return body

    def _hook(self, invoice: dict, key: ec.EllipticCurvePrivateKey | None = None) -> OutgoingWebhook:
        body = json.dumps(self._status(invoice), indent=2).encode()
        return OutgoingWebhook(
            url=invoice.get("webHookUrl", ""),
            body=body,
            headers={"Content-Type": "application/json", "X-Sign": sign(key or self.key, body)},
            event=invoice["status"],
        )

    def _move(self, invoice_id: str, status: str, **extra: Any) -> OutgoingWebhook:
        invoice = self.invoices[invoice_id]
        invoice.update(status=status, modifiedDate=self._now(), **extra)
        return self._hook(invoice)

    # -- test hooks ------------------------------------------------------------------------

    def customer_pays(self, invoice_id: str) -> list[OutgoingWebhook]:
        with self.lock:
            return [self._move(invoice_id, "processing"), self._move(invoice_id, "success")]

    def customer_fails(self, invoice_id: str) -> list[OutgoingWebhook]:
        with self.lock:
            return [
                self._move(invoice_id, "processing"),
                self._move(invoice_id, "failure", failureReason="Недостатньо коштів"),
            ]

    def complete_refunds(self, invoice_id: str) -> OutgoingWebhook:
        """The refunds in processing go through; the invoice is ``reversed`` once nothing is left."""
        with self.lock:
            invoice = self.invoices[invoice_id]
            now = self._now()
            for cancel in invoice["cancelList"]:
                if cancel["status"] == "processing":
                    cancel.update(status="success", modifiedDate=now)
            done = sum(c["amount"] for c in invoice["cancelList"] if c["status"] == "success")
            invoice["modifiedDate"] = now
            if done >= invoice["finalAmount"]:
                invoice["status"] = "reversed"
            return self._hook(invoice)

    def callback(self, invoice_id: str) -> OutgoingWebhook:
        with self.lock:
            return self._hook(self.invoices[invoice_id])

    def forge(self, hook: OutgoingWebhook) -> OutgoingWebhook:
        other = ec.generate_private_key(ec.SECP256R1())
        return OutgoingWebhook(hook.url, hook.body, {**hook.headers, "X-Sign": sign(other, hook.body)}, hook.event)

    def rotate_key(self) -> None:
        with self.lock:
            self.key = ec.generate_private_key(ec.SECP256R1())

    # -- the API -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/api/merchant/invoice/create", self._create, methods=["POST"]),
            Route("/api/merchant/invoice/status", self._get_status, methods=["GET"]),
            Route("/api/merchant/invoice/cancel", self._cancel, methods=["POST"]),
            Route("/api/merchant/invoice/remove", self._remove, methods=["POST"]),
            Route("/api/merchant/pubkey", self._pubkey, methods=["GET"]),
            Route("/pay/{invoice_id}", self._page, methods=["GET"]),
        ]

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("x-token", "") in self.tokens

    async def _body(self, request: Request) -> tuple[dict | None, Response | None]:
        if not self._authorized(request):
            return None, _forbidden()
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict):
            return None, _bad("invalid request body")
        return data, None

    async def _create(self, request: Request) -> Response:
        data, refused = await self._body(request)
        if refused is not None:
            return refused
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _bad("invalid 'amount'")
        ccy = data.get("ccy", 980)
        if ccy not in CCY:
            return _bad("invalid 'ccy'")
        info = data.get("merchantPaymInfo") or {}
        if not isinstance(info, dict):
            return _bad("invalid 'merchantPaymInfo'")
        invoice_id = "".join(secrets.choice(ALPHABET) for _ in range(20))
        with self.lock:
            now = self._now()
            self.invoices[invoice_id] = {
                "invoiceId": invoice_id,
                "status": "created",
                "amount": amount,
                "finalAmount": amount,
                "ccy": ccy,
                "reference": str(info.get("reference") or ""),
                "destination": str(info.get("destination") or ""),
                "webHookUrl": str(data.get("webHookUrl") or ""),
                "redirectUrl": str(data.get("redirectUrl") or ""),
                "createdDate": now,
                "modifiedDate": now,
                "cancelList": [],
            }
        return json_response({"invoiceId": invoice_id, "pageUrl": f"{self.url}/pay/{invoice_id}"})

    async def _get_status(self, request: Request) -> Response:
        if not self._authorized(request):
            return _forbidden()
        invoice_id = request.query_params.get("invoiceId", "")
        if not invoice_id:
            return _bad("missing 'invoiceId'")
        with self.lock:
            invoice = self.invoices.get(invoice_id)
            return json_response(self._status(invoice)) if invoice else _not_found()

    async def _cancel(self, request: Request) -> Response:
        data, refused = await self._body(request)
        if refused is not None:
            return refused
        with self.lock:
            invoice = self.invoices.get(str(data.get("invoiceId") or ""))
            if invoice is None:
                return _not_found()
            if invoice["status"] != "success":
                return _bad("invoice is not in a cancellable status")
            taken = sum(c["amount"] for c in invoice["cancelList"] if c["status"] != "failure")
            amount = data.get("amount", invoice["finalAmount"] - taken)
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                return _bad("invalid 'amount'")
            if amount > invoice["finalAmount"] - taken:
                return _bad("amount exceeds the amount left to refund")
            now = self._now()
            invoice["cancelList"].append(
                {
                    "status": "processing",
                    "amount": amount,
                    "ccy": invoice["ccy"],
                    "createdDate": now,
                    "modifiedDate": now,
                    "approvalCode": "662476",
                    "rrn": "060189181768",
                    "extRef": str(data.get("extRef") or ""),
                }
            )
            return json_response({"status": "processing", "createdDate": now, "modifiedDate": now})

    async def _remove(self, request: Request) -> Response:
        data, refused = await self._body(request)
        if refused is not None:
            return refused
        with self.lock:
            invoice = self.invoices.get(str(data.get("invoiceId") or ""))
            if invoice is None:
                return _not_found()
            if invoice["status"] not in ("created", "processing"):
                return _bad("invoice cannot be removed")
            invoice.update(status="expired", modifiedDate=self._now())
        return json_response({})

    async def _pubkey(self, request: Request) -> Response:
        if not self._authorized(request):
            return _forbidden()
        return json_response({"key": self.public_key_b64()})

    async def _page(self, request: Request) -> Response:
        invoice = self.invoices.get(request.path_params["invoice_id"])
        if invoice is None:
            return Response("Not found", status_code=404)
        amount = f"{invoice['amount'] // 100}.{invoice['amount'] % 100:02d}"
        return Response(f"<h1>Plata by mono</h1><p class=amount>{amount}</p>", media_type="text/html")

    def control_routes(self) -> list[Route]:
        async def invoices(request: Request) -> Response:
            with self.lock:
                return json_response({k: self._status(v) for k, v in self.invoices.items()})

        async def pay(request: Request) -> Response:
            hooks = self.customer_pays(request.path_params["invoice_id"])
            codes = [(await self.adeliver(h)).status_code for h in hooks]
            return json_response({"delivered": codes})

        return [
            Route("/__sim__/invoices", invoices, methods=["GET"]),
            Route("/__sim__/invoices/{invoice_id}/pay", pay, methods=["POST"]),
        ]
