"""Checkbox ПРРО simulator: cashier sign-in, shifts, sale and return receipts, the cash
register's info and webhooks (/work/shared/providers/checkbox.md).

* ``X-License-Key`` names the cash register (a wrong one: 403 ``{"message"}``); the cashier signs
  in by ``POST /cashier/signinPinCode`` ``{"pin_code"}`` or ``POST /cashier/signin``
  ``{"login","password"}`` -> 200 ``{"type","token_type","access_token"}``, bad credentials 403
  ``{"message"}``. Every other call needs ``Authorization: Bearer <token>`` (else 403).
* Shifts are asynchronous: ``POST /shifts`` -> 202 ``CREATED``; each ``GET /shifts/{id}`` (or
  ``GET /cashier/shift``) moves it on, ``OPENING`` then ``OPENED`` (``shift_polls`` reads in
  all). ``POST /shifts/close`` -> 202 ``CLOSING``, the next read ``CLOSED`` with ``z_report``;
  with no open shift 400 ``Зміну не відкрито``.
* ``POST /receipts/sell`` (sale, or return when the goods say ``is_return``) -> 201 ``CREATED``;
  each ``GET /receipts/{id}`` moves it on: after ``receipt_polls`` reads it is ``DONE`` with a
  ``fiscal_code`` and ``fiscal_date``, or ``ERROR`` with ``transaction.response_error_message``
  when the test said so (``fail_next_receipt``). Selling without an open shift: 400
  ``Зміну не відкрито``. A malformed body: 422 ``{"message", "detail": [{"loc","msg","type"}]}``.
  Amounts are integer kopiykas, quantities thousandths; the payments must cover the goods.
* Texts Checkbox's documentation does not give (an unknown receipt, a receipt id used twice,
  payments short of the sum, a second shift) are the simulator's own, in the same envelope.
* Webhooks (``POST /webhook`` ``{"url"}`` registers one): a receipt that becomes ``DONE`` is
  queued in ``pending_callbacks`` with ``x-request-signature`` = base64(HMAC-SHA256(key, body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import OutgoingWebhook, SimulatorServer, json_response, read_json

LICENSE_KEY = "test2f8ad4e1c6b34f1a9e0d7c5b3a2f1e0d"
PIN_CODE = "1234567890"
LOGIN, PASSWORD = "cashier_test", "cashier_password"
NO_SHIFT = "Зміну не відкрито"
PAYMENT_TYPES = {"CASH", "CASHLESS", "CARD"}


def _message(text: str, status: int) -> Response:
    return json_response({"message": text}, status)


def _invalid(loc: list, msg: str, kind: str = "value_error") -> Response:
    return json_response(
        {"message": "Validation error", "detail": [{"loc": ["body", *loc], "msg": msg, "type": kind}]}, 422
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


class CheckboxSimulator(SimulatorServer):
    name = "checkbox"

    def seed(self) -> None:
        with self.lock:
            self.registers = {
                LICENSE_KEY: {
                    "id": str(uuid.uuid4()),
                    "fiscal_number": "4000123456",
                    "number": "1",
                    "title": "Каса 1",
                    "address": "м. Київ, вул. Хрещатик, 1",
                    "active": True,
                    "is_test": True,
                }
            }
            self.cashier = {"id": str(uuid.uuid4()), "full_name": "Тестовий Касир"}
            self.tokens: set[str] = set()
            self.shifts: dict[str, dict[str, Any]] = {}
            self.receipts: dict[str, dict[str, Any]] = {}
            self.shift_polls = 2  # reads of a new shift before it is OPENED (CREATED, OPENING)
            self.receipt_polls = 1  # reads of a new receipt before it is DONE
            self.errors_next: list[str] = []  # reasons the next receipts end in ERROR with
            self.next_fiscal = 1
            self.webhook: dict[str, Any] | None = None
            self.pending_callbacks: list[OutgoingWebhook] = []

    def credentials(self) -> dict[str, Any]:
        return {"license_key": LICENSE_KEY, "pin_code": PIN_CODE, "login": LOGIN, "password": PASSWORD}

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message}

    # -- test hooks --------------------------------------------------------------------------

    def fail_next_receipt(self, reason: str) -> None:
        """The next receipt sold is registered with the tax service in ``ERROR`` with ``reason``."""
        with self.lock:
            self.errors_next.append(reason)

    def open_shift_now(self) -> dict:
        """A shift the cashier opened by hand, already ``OPENED``."""
        with self.lock:
            shift = self._new_shift()
            shift.update(status="OPENED", opened_at=self._now(), _polls=0)
            return self._shift_view(shift)

    @property
    def open_shift(self) -> dict | None:
        with self.lock:
            shift = self._current()
            return self._shift_view(shift) if shift else None

    def sold(self) -> list[dict]:
        """Every receipt the cash register holds, oldest first."""
        with self.lock:
            return [self._receipt_view(r) for r in self.receipts.values()]

    # -- helpers -------------------------------------------------------------------------

    def _now(self) -> str:
        return datetime.now(UTC).isoformat()

    def _current(self) -> dict | None:
        for shift in self.shifts.values():
            if shift["status"] in ("CREATED", "OPENING", "OPENED", "CLOSING"):
                return shift
        return None

    def _new_shift(self) -> dict:
        shift = {
            "id": str(uuid.uuid4()),
            "serial": len(self.shifts) + 1,
            "status": "CREATED",
            "z_report": None,
            "opened_at": None,
            "closed_at": None,
            "initial_transaction": {"status": "PENDING", "response_error_message": None},
            "cash_register": {k: v for k, v in self.registers[LICENSE_KEY].items() if k in ("id", "fiscal_number")},
            "cashier": dict(self.cashier),
            "_polls": self.shift_polls,
        }
        self.shifts[shift["id"]] = shift
        return shift

    def _advance_shift(self, shift: dict) -> None:
        if shift["status"] in ("CREATED", "OPENING"):
            shift["_polls"] -= 1
            if shift["_polls"] <= 0:
                shift.update(status="OPENED", opened_at=self._now())
                shift["initial_transaction"]["status"] = "DONE"
            else:
                shift["status"] = "OPENING"
        elif shift["status"] == "CLOSING":
            total = sum(r["total_sum"] for r in self.receipts.values() if r["shift_id"] == shift["id"])
            shift.update(
                status="CLOSED",
                closed_at=self._now(),
                z_report={"id": str(uuid.uuid4()), "serial": shift["serial"], "sell_receipts_count": 0, "sum": total},
            )

    def _shift_view(self, shift: dict) -> dict:
        return {k: v for k, v in shift.items() if not k.startswith("_")}

    def _advance_receipt(self, receipt: dict) -> None:
        if receipt["status"] not in ("CREATED", "PENDING"):
            return
        receipt["_polls"] -= 1
        if receipt["_polls"] > 0:
            receipt["status"] = "PENDING"
            return
        if receipt["_error"]:
            receipt["status"] = "ERROR"
            receipt["transaction"].update(
                status="ERROR", response_status="ERROR", response_error_message=receipt["_error"]
            )
            return
        receipt.update(status="DONE", fiscal_code=f"TEST-{self.next_fiscal:06d}", fiscal_date=self._now())
        receipt["transaction"].update(status="DONE", response_status="OK")
        self.next_fiscal += 1
        if self.webhook:
            body = json.dumps(self._receipt_view(receipt), ensure_ascii=False).encode()
            self.pending_callbacks.append(
                OutgoingWebhook(
                    url=self.webhook["url"],
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "x-request-signature": sign(self.webhook["key"], body),
                    },
                    event="receipt",
                )
            )

    def _receipt_view(self, receipt: dict) -> dict:
        view = {k: v for k, v in receipt.items() if not k.startswith("_") and k != "shift_id"}
        view["shift"] = {"id": receipt["shift_id"]}
        return view

    # -- the API -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/cashier/signinPinCode", self._signin_pin, methods=["POST"]),
            Route("/api/v1/cashier/signin", self._signin, methods=["POST"]),
            Route("/api/v1/cashier/signout", self._signout, methods=["POST"]),
            Route("/api/v1/cashier/shift", self._cashier_shift, methods=["GET"]),
            Route("/api/v1/cash-registers/info", self._register_info, methods=["GET"]),
            Route("/api/v1/shifts", self._open_shift, methods=["POST"]),
            Route("/api/v1/shifts/close", self._close_shift, methods=["POST"]),
            Route("/api/v1/shifts/{shift_id}", self._get_shift, methods=["GET"]),
            Route("/api/v1/receipts/sell", self._sell, methods=["POST"]),
            Route("/api/v1/receipts/{receipt_id}", self._get_receipt, methods=["GET"]),
            Route("/api/v1/webhook", self._webhook, methods=["GET", "POST", "DELETE"]),
        ]

    def _license_ok(self, request: Request) -> bool:
        return request.headers.get("x-license-key", "") in self.registers

    def _authorized(self, request: Request) -> Response | None:
        if not self._license_ok(request):
            return _message("Невірний ключ ліцензії", 403)
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return _message("Not authenticated", 403)
        return None

    def _token(self) -> Response:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens.add(token)
        return json_response({"type": "bearer", "token_type": "bearer", "access_token": token})

    async def _signin_pin(self, request: Request) -> Response:
        if not self._license_ok(request):
            return _message("Невірний ключ ліцензії", 403)
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict) or not isinstance(data.get("pin_code"), str):
            return _invalid(["pin_code"], "field required", "value_error.missing")
        if data["pin_code"] != PIN_CODE:
            return _message("Невірний пін-код", 403)
        return self._token()

    async def _signin(self, request: Request) -> Response:
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict) or not data.get("login") or not data.get("password"):
            return _invalid(["login"], "field required", "value_error.missing")
        if (data["login"], data["password"]) != (LOGIN, PASSWORD):
            return _message("Невірний логін або пароль", 403)
        return self._token()

    async def _signout(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            self.tokens.discard(request.headers["authorization"][7:])
        return Response(status_code=205)

    async def _register_info(self, request: Request) -> Response:
        if not self._license_ok(request):
            return _message("Невірний ключ ліцензії", 403)
        with self.lock:
            return json_response(dict(self.registers[request.headers["x-license-key"]]))

    async def _cashier_shift(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            shift = self._current()
            if shift is None:
                return json_response(None)
            self._advance_shift(shift)
            return json_response(self._shift_view(shift))

    async def _open_shift(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            if self._current() is not None:
                return _message("Касир вже працює з даною касою", 400)
            return json_response(self._shift_view(self._new_shift()), 202)

    async def _get_shift(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            shift = self.shifts.get(request.path_params["shift_id"])
            if shift is None:
                return _message("Зміну не знайдено", 404)
            self._advance_shift(shift)
            return json_response(self._shift_view(shift))

    async def _close_shift(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            shift = self._current()
            if shift is None or shift["status"] != "OPENED":
                return _message(NO_SHIFT, 400)
            shift["status"] = "CLOSING"
            return json_response(self._shift_view(shift), 202)

    def _check_sell(self, data: Any) -> Response | tuple[int, int, bool]:
        """A 422 for a malformed body, else (goods sum, payments sum, is a return)."""
        if not isinstance(data, dict):
            return _invalid([], "value is not a valid dict", "type_error.dict")
        goods = data.get("goods")
        if not isinstance(goods, list) or not goods:
            return _invalid(["goods"], "ensure this value has at least 1 items", "value_error.list.min_items")
        total, returns = 0, set()
        for i, item in enumerate(goods):
            good = item.get("good") if isinstance(item, dict) else None
            if not isinstance(good, dict):
                return _invalid(["goods", i, "good"], "field required", "value_error.missing")
            for key in ("code", "name"):
                if not isinstance(good.get(key), str) or not good[key]:
                    return _invalid(["goods", i, "good", key], "field required", "value_error.missing")
            if not _is_int(good.get("price")) or good["price"] < 0:
                return _invalid(["goods", i, "good", "price"], "value is not a valid integer", "type_error.integer")
            if not _is_int(item.get("quantity")) or item["quantity"] <= 0:
                return _invalid(["goods", i, "quantity"], "value is not a valid integer", "type_error.integer")
            line = (good["price"] * item["quantity"] + 500) // 1000  # kopiykas, half up
            for d, discount in enumerate(item.get("discounts") or []):
                if not isinstance(discount, dict) or not _is_int(discount.get("value")):
                    return _invalid(["goods", i, "discounts", d, "value"], "value is not a valid integer")
                line -= discount["value"] if discount.get("mode", "VALUE") == "VALUE" else 0
            total += line
            returns.add(bool(item.get("is_return")))
        if len(returns) > 1:
            return _invalid(["goods"], "sale and return goods in one receipt")
        for d, discount in enumerate(data.get("discounts") or []):
            if not isinstance(discount, dict) or not _is_int(discount.get("value")):
                return _invalid(["discounts", d, "value"], "value is not a valid integer", "type_error.integer")
            if discount.get("mode", "VALUE") == "VALUE":
                total -= discount["value"] if discount.get("type", "DISCOUNT") == "DISCOUNT" else -discount["value"]
        payments = data.get("payments")
        if not isinstance(payments, list) or not payments:
            return _invalid(["payments"], "ensure this value has at least 1 items", "value_error.list.min_items")
        paid = 0
        for p, payment in enumerate(payments):
            if not isinstance(payment, dict) or payment.get("type") not in PAYMENT_TYPES:
                return _invalid(["payments", p, "type"], "value is not a valid enumeration member", "type_error.enum")
            if not _is_int(payment.get("value")) or payment["value"] <= 0:
                return _invalid(["payments", p, "value"], "value is not a valid integer", "type_error.integer")
            paid += payment["value"]
        return total, paid, returns == {True}

    async def _sell(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        data, ok = await read_json(request)
        if not ok:
            return _invalid([], "Expecting value: JSON decode error", "value_error.jsondecode")
        checked = self._check_sell(data)
        if isinstance(checked, Response):
            return checked
        total, paid, is_return = checked
        with self.lock:
            shift = self._current()
            if shift is None or shift["status"] != "OPENED":
                return _message(NO_SHIFT, 400)
            receipt_id = str(data.get("id") or uuid.uuid4())
            try:
                receipt_id = str(uuid.UUID(receipt_id))
            except ValueError:
                return _invalid(["id"], "value is not a valid uuid", "type_error.uuid")
            if receipt_id in self.receipts:
                return _message("Чек з таким ідентифікатором вже існує", 400)
            if paid < total:
                return _message("Сума оплати менша за суму чека", 400)
            related = data.get("related_receipt_id")
            if related is not None and str(related) not in self.receipts:
                return _message("Пов'язаний чек не знайдено", 400)
            receipt = {
                "id": receipt_id,
                "type": "RETURN" if is_return else "SELL",
                "serial": len(self.receipts) + 1,
                "status": "CREATED",
                "goods": data["goods"],
                "payments": data["payments"],
                "discounts": data.get("discounts") or [],
                "delivery": data.get("delivery"),
                "related_receipt_id": related,
                "total_sum": total,
                "total_payment": paid,
                "total_rest": paid - total,
                "fiscal_code": None,
                "fiscal_date": None,
                "tax_url": None,
                "transaction": {"status": "PENDING", "response_status": None, "response_error_message": None},
                "created_at": self._now(),
                "shift_id": shift["id"],
                "_polls": self.receipt_polls,
                "_error": self.errors_next.pop(0) if self.errors_next else "",
            }
            self.receipts[receipt_id] = receipt
            return json_response(self._receipt_view(receipt), 201)

    async def _get_receipt(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        with self.lock:
            receipt = self.receipts.get(request.path_params["receipt_id"])
            if receipt is None:
                return _message("Чек не знайдено", 404)
            self._advance_receipt(receipt)
            return json_response(self._receipt_view(receipt))

    async def _webhook(self, request: Request) -> Response:
        if not self._license_ok(request):
            return _message("Невірний ключ ліцензії", 403)
        with self.lock:
            if request.method == "DELETE":
                self.webhook = None
                return json_response({"ok": True})
            if request.method == "GET":
                return json_response(self.webhook)
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return _invalid(["url"], "field required", "value_error.missing")
        with self.lock:
            self.webhook = {"url": data["url"], "key": secrets.token_hex(16), "created_at": self._now()}
            return json_response(self.webhook)

    def control_routes(self) -> list[Route]:
        async def receipts(request: Request) -> Response:
            return json_response(self.sold())

        async def fail(request: Request) -> Response:
            data, _ok = await read_json(request)
            self.fail_next_receipt(str((data or {}).get("reason") or "Помилка ДПС"))
            return json_response({"ok": True})

        return [
            Route("/__sim__/receipts", receipts, methods=["GET"]),
            Route("/__sim__/receipts/fail-next", fail, methods=["POST"]),
        ]
