"""TurboSMS (api.turbosms.ua) simulator: SMS, Viber, hybrid Viber-first with SMS fallback.

Protocol (see /work/shared/providers/turbosms.md and docs/simulators.md):

* ``POST /message/send.json`` and ``POST /message/status.json``, JSON bodies; the token comes
  as ``Authorization: Bearer <token>`` or as ``?token=<token>``.
* Always HTTP 200 (unless a fault is injected); the outcome is in
  ``{"response_code", "response_status", "response_result"}``; per-recipient results carry their
  own ``response_code``/``response_status`` and a ``message_id`` (a UUID string, or null).
* ``POST /user/balance.json`` answers the account balance.

Test hooks: ``set_status(message_id, "Delivered")`` (or over HTTP
``POST /__sim__/messages/{id}/status``), ``add_to_stoplist``, ``set_balance``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import SimulatorServer, json_response, read_json

TEST_TOKEN = "6f1d2b7c9a0e4d3f8b5a1c2e7d9f0a3b4c5d6e7f"  # noqa: S105 - test credential
BLOCKED_TOKEN = "0b10c4ed0b10c4ed0b10c4ed0b10c4ed0b10c4ed"  # noqa: S105 - test credential
SMS_SENDERS = ("MyShop", "Msg")
VIBER_SENDERS = ("MyShop",)
#: A Ukrainian number on the stoplist from the start (code 404 for it).
STOPLISTED_PHONE = "380500000404"
#: The countries the test account may send to (code 406 for every other valid number).
ALLOWED_COUNTRY_PREFIXES = ("380",)
MAX_RECIPIENTS = 5000

STATUS_TEXT = {
    0: "OK",
    103: "REQUIRED_TOKEN",
    104: "REQUIRED_CONTENT",
    105: "REQUIRED_AUTH",
    106: "REQUIRED_ACTIVE_USER",
    200: "REQUIRED_MESSAGE_SENDER",
    201: "REQUIRED_MESSAGE_TEXT",
    202: "REQUIRED_MESSAGE_RECIPIENT",
    203: "REQUIRED_BALANCE",
    205: "REQUIRED_MESSAGE_BUTTON_CAPTION",
    206: "REQUIRED_MESSAGE_BUTTON_ACTION",
    300: "INVALID_REQUEST",
    301: "INVALID_TOKEN",
    302: "INVALID_MESSAGE_SENDER",
    303: "INVALID_START_TIME",
    304: "INVALID_MESSAGE_TEXT",
    305: "INVALID_PHONE",
    306: "INVALID_TTL",
    404: "NOT_ALLOWED_NUMBER_STOPLIST",
    405: "NOT_ALLOWED_RECIPIENTS_LIMIT",
    406: "NOT_ALLOWED_RECIPIENT_COUNTRY",
    407: "NOT_ALLOWED_RECIPIENT_DUPLICATE",
    409: "NOT_ALLOWED_MESSAGE_TTL",
    414: "NOT_ALLOWED_MESSAGE_ID",
    502: "FAILED_PARSE_BODY",
    800: "SUCCESS_MESSAGE_ACCEPTED",
    801: "SUCCESS_MESSAGE_SENT",
    802: "SUCCESS_MESSAGE_PARTIAL_ACCEPTED",
    803: "SUCCESS_MESSAGE_PARTIAL_SENT",
    999: "FATAL_ERROR",
}

#: Statuses a message goes through in status.json; the test may set any string.
MESSAGE_STATUSES = (
    "Queued",
    "Accepted",
    "Sent",
    "Delivered",
    "Read",
    "Expired",
    "Undelivered",
    "Rejected",
    "Unknown",
    "Failed",
    "Cancelled",
)

_PHONE = re.compile(r"^\d{10,15}$")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class TurboMessage:
    message_id: str
    token: str
    recipient: str
    type: str  # "sms" or "viber"
    text: str
    sender: str
    hybrid: bool
    sent: str
    updated: str
    status: str = "Queued"
    rejected_status: str | None = None
    request: dict[str, Any] = field(default_factory=dict)

    def status_item(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "response_code": 0,
            "recipient": self.recipient,
            "sent": self.sent,
            "updated": self.updated,
            "status": self.status,
            "type": self.type,
            "rejected_status": self.rejected_status,
            "response_status": "OK",
        }


def envelope(code: int, result: Any = None) -> Response:
    return json_response({"response_code": code, "response_status": STATUS_TEXT[code], "response_result": result})


def _now() -> str:
    return datetime.now(UTC).strftime(_TIME_FORMAT)


def _message_id() -> str:
    return str(uuid.uuid4())


class TurboSMSSimulator(SimulatorServer):
    name = "turbosms"

    def seed(self) -> None:
        with self.lock:
            self.tokens: dict[str, dict[str, Any]] = {
                TEST_TOKEN: {"active": True, "balance": 1000.0},
                BLOCKED_TOKEN: {"active": False, "balance": 0.0},
            }
            self.stoplist: set[str] = {STOPLISTED_PHONE}
            self.messages: dict[str, TurboMessage] = {}
            self.max_recipients = MAX_RECIPIENTS

    def credentials(self) -> dict[str, Any]:
        return {
            "token": TEST_TOKEN,
            "blocked_token": BLOCKED_TOKEN,
            "sms_senders": list(SMS_SENDERS),
            "viber_senders": list(VIBER_SENDERS),
            "stoplisted_phone": STOPLISTED_PHONE,
        }

    def error_body(self, status: int, message: str) -> Any:
        # TurboSMS answers its own errors with HTTP 200; an HTTP-level error (injected 429/5xx,
        # unknown path) still carries its envelope so a client can log something meaningful.
        return {"response_code": 999, "response_status": "FATAL_ERROR", "response_result": None}

    # -- test hooks ------------------------------------------------------------------

    def set_status(
        self,
        message_id: str,
        status: str,
        *,
        channel: str | None = None,
        rejected_status: str | None = None,
    ) -> TurboMessage:
        """Advance a message: ``status`` e.g. "Delivered", "Read", "Undelivered", "Failed".

        ``channel="sms"`` on a hybrid message simulates the Viber-to-SMS fallback.
        """
        with self.lock:
            message = self.messages[message_id]
            message.status = status
            if channel is not None:
                if channel not in ("sms", "viber"):
                    raise ValueError("channel must be 'sms' or 'viber'")
                message.type = channel
            message.rejected_status = rejected_status
            message.updated = _now()
            return message

    def add_to_stoplist(self, phone: str) -> None:
        with self.lock:
            self.stoplist.add(phone.lstrip("+"))

    def set_balance(self, balance: float, token: str = TEST_TOKEN) -> None:
        with self.lock:
            self.tokens[token]["balance"] = float(balance)

    def message_ids(self) -> list[str]:
        with self.lock:
            return list(self.messages)

    # -- HTTP ------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/message/send.json", self._send, methods=["POST"]),
            Route("/message/status.json", self._status, methods=["POST"]),
            Route("/user/balance.json", self._balance, methods=["POST", "GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def set_status(request: Request) -> Response:
            data, ok = await read_json(request)
            data = data if ok and isinstance(data, dict) else {}
            try:
                message = self.set_status(
                    request.path_params["message_id"],
                    str(data.get("status", "Delivered")),
                    channel=data.get("channel"),
                    rejected_status=data.get("rejected_status"),
                )
            except KeyError:
                return json_response({"error": "unknown message_id"}, 404)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
            return json_response(message.status_item())

        async def messages(request: Request) -> Response:
            with self.lock:
                return json_response([m.status_item() for m in self.messages.values()])

        async def stoplist(request: Request) -> Response:
            data, _ = await read_json(request)
            self.add_to_stoplist(str((data or {}).get("phone", "")))
            return json_response({"ok": True})

        return [
            Route("/__sim__/messages", messages, methods=["GET"]),
            Route("/__sim__/messages/{message_id}/status", set_status, methods=["POST"]),
            Route("/__sim__/stoplist", stoplist, methods=["POST"]),
        ]

    def _auth(self, request: Request) -> tuple[str | None, Response | None]:
        header = request.headers.get("authorization")
        token: str | None = None
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return None, envelope(105)
            token = value.strip()
        elif request.query_params.get("token"):
            token = request.query_params["token"]
        if not token:
            return None, envelope(103)
        with self.lock:
            account = self.tokens.get(token)
        if account is None:
            return None, envelope(301)
        if not account["active"]:
            return None, envelope(106)
        return token, None

    async def _balance(self, request: Request) -> Response:
        token, error = self._auth(request)
        if error:
            return error
        with self.lock:
            return envelope(0, {"balance": round(self.tokens[token]["balance"], 2)})

    async def _send(self, request: Request) -> Response:
        token, error = self._auth(request)
        if error:
            return error
        data, ok = await read_json(request)
        if not ok or (data is not None and not isinstance(data, dict)):
            return envelope(502)
        if not data:
            return envelope(104)

        sms = data.get("sms") if isinstance(data.get("sms"), dict) else None
        viber = data.get("viber") if isinstance(data.get("viber"), dict) else None
        # Recipients at the top level, or (as some clients send them) inside "sms"/"viber".
        recipients = data.get("recipients")
        if recipients is None:
            recipients = (sms or {}).get("recipients", (viber or {}).get("recipients"))
        if isinstance(recipients, str):
            recipients = [recipients]
        if not recipients or not isinstance(recipients, list):
            return envelope(202)
        if sms is None and viber is None:
            return envelope(201)

        for part, senders in ((sms, SMS_SENDERS), (viber, VIBER_SENDERS)):
            if part is None:
                continue
            sender = part.get("sender")
            if not sender:
                return envelope(200)
            text = part.get("text")
            if text is None or text == "":
                return envelope(201)
            if not isinstance(text, str):
                return envelope(304)
            if sender not in senders:
                return envelope(302)
        if viber is not None:
            ttl = viber.get("ttl")
            if ttl is not None:
                if not isinstance(ttl, int) or isinstance(ttl, bool):
                    return envelope(306)
                if not 60 <= ttl <= 86400:
                    return envelope(409)
            if viber.get("caption") and not viber.get("action"):
                return envelope(206)
            if viber.get("action") and not viber.get("caption"):
                return envelope(205)
        start_time = data.get("start_time")
        if start_time is not None:
            try:
                datetime.strptime(str(start_time), "%Y-%m-%d %H:%M")
            except ValueError:
                return envelope(303)

        with self.lock:
            if len(recipients) > self.max_recipients:
                return envelope(405)
            account = self.tokens[token]
            if account["balance"] < len(recipients):
                return envelope(203)

            channel = "viber" if viber is not None else "sms"
            body_part = viber if viber is not None else sms
            results: list[dict[str, Any]] = []
            seen: set[str] = set()
            accepted = 0
            for raw in recipients:
                phone = str(raw).strip()
                digits = phone[1:] if phone.startswith("+") else phone
                code = 0
                if not _PHONE.match(digits):
                    code = 305
                elif digits in seen:
                    code = 407
                elif not digits.startswith(ALLOWED_COUNTRY_PREFIXES):
                    code = 406
                elif digits in self.stoplist:
                    code = 404
                seen.add(digits)
                if code:
                    results.append(
                        {
                            "phone": phone,
                            "response_code": code,
                            "message_id": None,
                            "response_status": STATUS_TEXT[code],
                        }
                    )
                    continue
                message_id = _message_id()
                now = _now()
                self.messages[message_id] = TurboMessage(
                    message_id=message_id,
                    token=token,
                    recipient=digits,
                    type=channel,
                    text=str(body_part["text"]),
                    sender=str(body_part["sender"]),
                    hybrid=sms is not None and viber is not None,
                    sent=now,
                    updated=now,
                    request=data,
                )
                account["balance"] -= 1
                accepted += 1
                results.append({"phone": phone, "response_code": 0, "message_id": message_id, "response_status": "OK"})
        # Every recipient accepted: 800. Any recipient refused: 802, with the per-recipient
        # codes in response_result (also when none was accepted; see docs/simulators.md).
        return envelope(800 if accepted == len(results) else 802, results)

    async def _status(self, request: Request) -> Response:
        token, error = self._auth(request)
        if error:
            return error
        data, ok = await read_json(request)
        if not ok or (data is not None and not isinstance(data, dict)):
            return envelope(502)
        ids = (data or {}).get("messages")
        if isinstance(ids, str):
            ids = [ids]
        if not ids or not isinstance(ids, list):
            return envelope(104)
        items: list[dict[str, Any]] = []
        with self.lock:
            for message_id in ids:
                message = self.messages.get(str(message_id))
                if message is None or message.token != token:
                    items.append({"message_id": message_id, "response_code": 414, "response_status": STATUS_TEXT[414]})
                else:
                    items.append(message.status_item())
        return envelope(0, items)
