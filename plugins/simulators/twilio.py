"""Twilio REST API 2010-04-01 simulator: Messages and Calls, with signed status callbacks.

Protocol (see /work/shared/providers/twilio.md and the OpenAPI spec next to it):

* HTTP Basic auth with ``AccountSid:AuthToken`` (or an API key ``SK...:secret``); form bodies.
* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` answers 201 with the Message
  resource (``num_segments`` and ``num_media`` are strings, dates are RFC 2822);
  ``GET .../Messages.json`` lists, ``GET``/``DELETE .../Messages/{Sid}.json`` fetch / delete.
* ``POST .../Calls.json`` and ``GET .../Calls/{Sid}.json`` for voice.
* Errors: ``{"code", "message", "more_info", "status"}`` with the HTTP status; 401/20003 for
  bad credentials, 404/20404 for an unknown resource, 400/21211 for an invalid ``To``.
* Status callbacks: a form POST to the ``StatusCallback`` URL given at create time, signed with
  ``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + sorted name+value pairs)).
  No callback for the initial status. ``signature_mode`` ("valid", "invalid", "none") switches
  the signing; each send call may override it.

Twilio's documented test numbers behave as with test credentials: To +15005550001 (21211),
+15005550002 (21612), +15005550003 (21408), +15005550004 (21610), +15005550009 (21614);
From +15005550001 (21212), +15005550007 (21606), +15005550008 (21611); +15005550006 is valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import (
    DeliveryAttempt,
    OutgoingWebhook,
    SimulatorServer,
    json_response,
    read_form,
    read_json,
)

API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
AUTH_TOKEN = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f"  # noqa: S105 - test credential
OTHER_ACCOUNT_SID = "AC" + "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
OTHER_AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # noqa: S105 - test credential
API_KEY_SID = "SK" + "5a5a5a5a6b6b6b6b7c7c7c7c8d8d8d8d"
API_KEY_SECRET = "simApiKeySecret0123456789abcdefX"  # noqa: S105 - test credential
MESSAGING_SERVICE_SID = "MG" + "1234567890abcdef1234567890abcdef"
FROM_NUMBER = "+15005550006"

MESSAGE_STATUSES = (
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
)
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled")
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
_TERMINAL_CALL = ("completed", "busy", "failed", "no-answer", "canceled")

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ALPHA_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_SID = {"SM": re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$"), "CA": re.compile(r"^CA[0-9a-fA-F]{32}$")}
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)

TO_MAGIC = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number {to} is not a valid mobile number"),
}
FROM_MAGIC = {
    "+15005550001": (
        21212,
        "The 'From' number {frm} is not a valid phone number, shortcode, or alphanumeric sender ID.",
    ),
    "+15005550007": (
        21606,
        "The 'From' phone number provided ({frm}) is not a valid message-capable Twilio phone number "
        "for this destination/account.",
    ),
    "+15005550008": (21611, "This 'From' number has exceeded the maximum number of queued messages."),
}

#: Delivery error codes a test may pass to set_message_status (error_message as Twilio words it).
DELIVERY_ERRORS = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Carrier violation",
    30008: "Unknown error",
}

# ------------------------------------------------------------------ pure helpers


def rfc2822(moment: datetime | None = None) -> str:
    """Twilio's date format: ``Thu, 30 Jul 2015 20:12:31 +0000``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return format_datetime(moment)


def compute_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + name1value1 + ...)), names sorted."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def num_segments(body: str) -> int:
    if not body:
        return 1
    if all(ch in _GSM7 for ch in body):
        units = sum(2 if ch in "^{}\\[~]|€" else 1 for ch in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _error(code: int, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status,
        headers,
    )


def _valid_address(value: str) -> bool:
    if ":" in value and not value.startswith("+"):  # channel address, e.g. whatsapp:+15552229999
        _, _, value = value.partition(":")
    return bool(_E164.match(value))


# ------------------------------------------------------------------ the simulator


class TwilioSimulator(SimulatorServer):
    name = "twilio"

    def seed(self) -> None:
        with self.lock:
            self.accounts: dict[str, str] = {ACCOUNT_SID: AUTH_TOKEN, OTHER_ACCOUNT_SID: OTHER_AUTH_TOKEN}
            self.api_keys: dict[str, tuple[str, str]] = {API_KEY_SID: (API_KEY_SECRET, ACCOUNT_SID)}
            self.messaging_services: dict[str, str] = {MESSAGING_SERVICE_SID: ACCOUNT_SID}
            self.messages: dict[str, dict[str, Any]] = {}
            self.calls: dict[str, dict[str, Any]] = {}
            #: "valid", "invalid" (signed with the wrong key) or "none" (no X-Twilio-Signature).
            self.signature_mode = "valid"

    def credentials(self) -> dict[str, Any]:
        return {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "api_key_sid": API_KEY_SID,
            "api_key_secret": API_KEY_SECRET,
            "messaging_service_sid": MESSAGING_SERVICE_SID,
            "from_number": FROM_NUMBER,
            "other_account_sid": OTHER_ACCOUNT_SID,
            "other_auth_token": OTHER_AUTH_TOKEN,
        }

    def error_body(self, status: int, message: str) -> Any:
        code = {404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}.get(status, 20000 + status)
        return {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def not_found_body(self, request: Request) -> Any:
        return self.error_body(404, f"The requested resource {request.url.path} was not found")

    # -- test hooks: status changes and callbacks -----------------------------------------

    def set_message_status(
        self, sid: str, status: str, *, error_code: int | None = None, sign: str | None = None
    ) -> OutgoingWebhook | None:
        """Move a message to ``status``; returns the signed callback to send (None without StatusCallback)."""
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        with self.lock:
            message = self.messages[sid]
            now = rfc2822()
            message["status"] = status
            message["date_updated"] = now
            if status in ("sent", "delivered", "read", "undelivered", "failed") and message["from"] is None:
                message["from"] = FROM_NUMBER
            if status in ("sent", "delivered", "read", "undelivered") and message["date_sent"] is None:
                message["date_sent"] = now
            if status in ("sent", "delivered", "read", "undelivered"):
                message["price"] = f"-{0.0079 * int(message['num_segments']):.5f}"
            if status in ("failed", "undelivered"):
                message["error_code"] = error_code or 30008
                message["error_message"] = DELIVERY_ERRORS.get(message["error_code"], "Unknown error")
            callback = message["_status_callback"]
            if not callback:
                return None
            params = [
                ("SmsSid", sid),
                ("SmsStatus", status),
                ("MessageStatus", status),
                ("To", message["to"]),
                ("MessageSid", sid),
                ("AccountSid", message["account_sid"]),
                ("From", message["from"] or ""),
                ("ApiVersion", API_VERSION),
            ]
            if message["messaging_service_sid"]:
                params.append(("MessagingServiceSid", message["messaging_service_sid"]))
            if status in ("failed", "undelivered"):
                params.append(("ErrorCode", str(message["error_code"])))
            token = self.accounts[message["account_sid"]]
        return self._callback(callback, "POST", params, token, sign, event=f"message.{status}", sid=sid)

    def send_message_status(
        self, sid: str, status: str, *, error_code: int | None = None, sign: str | None = None, timeout: float = 5.0
    ) -> DeliveryAttempt | None:
        """``set_message_status`` and deliver the callback now; returns the DeliveryAttempt (or None)."""
        hook = self.set_message_status(sid, status, error_code=error_code, sign=sign)
        return self.deliver(hook, timeout=timeout) if hook else None

    async def asend_message_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        sign: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout, passed to httpx
        transport: Any = None,
    ) -> DeliveryAttempt | None:
        hook = self.set_message_status(sid, status, error_code=error_code, sign=sign)
        return await self.adeliver(hook, timeout=timeout, transport=transport) if hook else None

    def set_call_status(
        self, sid: str, status: str, *, duration: int | None = None, sign: str | None = None
    ) -> OutgoingWebhook | None:
        """Move a call to ``status`` (or fire the ``initiated`` event with status="initiated").

        Returns the callback if the call subscribed to the matching StatusCallbackEvent.
        """
        if status != "initiated" and status not in CALL_STATUSES:
            raise ValueError(f"unknown call status {status!r}")
        with self.lock:
            call = self.calls[sid]
            now = datetime.now(UTC)
            if status != "initiated":
                call["status"] = status
                call["date_updated"] = rfc2822(now)
            if status == "in-progress" and call["start_time"] is None:
                call["start_time"] = rfc2822(now)
                call["_started"] = now
            if status in _TERMINAL_CALL:
                call["end_time"] = rfc2822(now)
                if duration is None:
                    started = call.get("_started")
                    duration = int((now - started).total_seconds()) if started else 0
                call["duration"] = str(duration)
                if status == "completed":
                    call["price"] = f"-{0.013 * max(1, -(-duration // 60)):.5f}"
            event = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}.get(
                status, "completed" if status in _TERMINAL_CALL else None
            )
            callback = call["_status_callback"]
            if not callback or event is None or event not in call["_events"]:
                return None
            call["_sequence"] += 1
            params = [
                ("Called", call["to"]),
                ("ToState", ""),
                ("CallerCountry", "US"),
                ("Direction", call["direction"]),
                ("Timestamp", rfc2822(now)),
                ("CallbackSource", "call-progress-events"),
                ("SequenceNumber", str(call["_sequence"] - 1)),
                ("CallSid", sid),
                ("To", call["to"]),
                ("CallStatus", status),
                ("From", call["from"]),
                ("AccountSid", call["account_sid"]),
                ("Caller", call["from"]),
                ("ApiVersion", API_VERSION),
            ]
            if status in _TERMINAL_CALL:
                params += [
                    ("CallDuration", call["duration"]),
                    ("Duration", str(max(1, -(-int(call["duration"]) // 60)))),
                ]
            token = self.accounts[call["account_sid"]]
            method = call["_status_callback_method"]
        return self._callback(callback, method, params, token, sign, event=f"call.{event}", sid=sid)

    def send_call_status(
        self, sid: str, status: str, *, duration: int | None = None, sign: str | None = None, timeout: float = 5.0
    ) -> DeliveryAttempt | None:
        hook = self.set_call_status(sid, status, duration=duration, sign=sign)
        return self.deliver(hook, timeout=timeout) if hook else None

    async def asend_call_status(
        self,
        sid: str,
        status: str,
        *,
        duration: int | None = None,
        sign: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout, passed to httpx
        transport: Any = None,
    ) -> DeliveryAttempt | None:
        hook = self.set_call_status(sid, status, duration=duration, sign=sign)
        return await self.adeliver(hook, timeout=timeout, transport=transport) if hook else None

    def _callback(
        self, url: str, method: str, params: list[tuple[str, str]], token: str, sign: str | None, **meta: Any
    ) -> OutgoingWebhook:
        mode = sign or self.signature_mode
        if mode not in ("valid", "invalid", "none"):
            raise ValueError("sign must be 'valid', 'invalid' or 'none'")
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if method.upper() == "GET":
            url = url + ("&" if urlsplit(url).query else "?") + urlencode(params)
            body, signed = b"", []
        else:
            body, signed = urlencode(params).encode(), params
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        if mode != "none":
            key = token if mode == "valid" else token[::-1] + "wrong"
            headers["X-Twilio-Signature"] = compute_signature(url, signed, key)
        return OutgoingWebhook(
            url=url,
            body=body,
            headers=headers,
            method=method.upper(),
            params=params,
            event=meta.pop("event"),
            meta={"signature": mode, **meta},
        )

    # -- routes ------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        base = "/2010-04-01/Accounts/{account_sid}"
        return [
            Route(base + "/Messages.json", self._messages, methods=["POST", "GET"]),
            Route(base + "/Messages/{sid}.json", self._message, methods=["GET", "DELETE", "POST"]),
            Route(base + "/Calls.json", self._create_call, methods=["POST"]),
            Route(base + "/Calls/{sid}.json", self._call, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def message_status(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data if isinstance(data, dict) else {}
            try:
                hook = self.set_message_status(
                    request.path_params["sid"],
                    str(data.get("status", "delivered")),
                    error_code=data.get("error_code"),
                    sign=data.get("sign"),
                )
            except KeyError:
                return json_response({"error": "unknown sid"}, 404)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
            if hook is None:
                return json_response({"delivered": False, "reason": "no StatusCallback"})
            attempt = await self.adeliver(hook, timeout=float(data.get("timeout", 5)))
            return json_response(attempt.as_dict())

        async def call_status(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data if isinstance(data, dict) else {}
            try:
                hook = self.set_call_status(
                    request.path_params["sid"],
                    str(data.get("status", "completed")),
                    duration=data.get("duration"),
                    sign=data.get("sign"),
                )
            except KeyError:
                return json_response({"error": "unknown sid"}, 404)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
            if hook is None:
                return json_response({"delivered": False, "reason": "no StatusCallback for this event"})
            attempt = await self.adeliver(hook, timeout=float(data.get("timeout", 5)))
            return json_response(attempt.as_dict())

        async def signature(request: Request) -> Response:
            data, _ = await read_json(request)
            mode = (data or {}).get("mode", "valid")
            if mode not in ("valid", "invalid", "none"):
                return json_response({"error": "mode must be valid, invalid or none"}, 400)
            self.signature_mode = mode
            return json_response({"signature_mode": mode})

        return [
            Route("/__sim__/messages/{sid}/status", message_status, methods=["POST"]),
            Route("/__sim__/calls/{sid}/status", call_status, methods=["POST"]),
            Route("/__sim__/signature", signature, methods=["POST"]),
        ]

    def _authenticate(self, request: Request) -> tuple[str | None, Response | None]:
        """The account the credentials belong to, or a 401 in Twilio's envelope."""
        fail = _error(20003, "Authenticate", 401, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None, fail
        try:
            username, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except ValueError:
            return None, fail
        with self.lock:
            if username in self.accounts and hmac.compare_digest(self.accounts[username], password):
                account = username
            elif username in self.api_keys and hmac.compare_digest(self.api_keys[username][0], password):
                account = self.api_keys[username][1]
            else:
                return None, fail
        if account != request.path_params["account_sid"]:
            return None, fail
        return account, None

    def _headers(self) -> dict[str, str]:
        return {"Twilio-Request-Id": "RQ" + secrets.token_hex(16), "Twilio-Concurrent-Requests": "1"}

    def _not_found(self, request: Request) -> Response:
        return _error(20404, f"The requested resource {request.url.path} was not found", 404, self._headers())

    async def _messages(self, request: Request) -> Response:
        account, error = self._authenticate(request)
        if error:
            return error
        if request.method == "GET":
            return self._list_messages(request, account)
        form = await read_form(request)
        fields = dict(form)
        to = fields.get("To", "").strip()
        frm = fields.get("From", "").strip()
        service = fields.get("MessagingServiceSid", "").strip()
        body = fields.get("Body", "")
        media = [value for name, value in form if name == "MediaUrl"]
        if not to:
            return _error(21604, "A 'To' phone number is required.", 400)
        if not frm and not service:
            return _error(21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.", 400)
        if not body and not media and not fields.get("ContentSid"):
            return _error(21602, "Message body is required.", 400)
        if len(body) > 1600:
            return _error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
        if to in TO_MAGIC:
            code, text = TO_MAGIC[to]
            return _error(code, text.format(to=to), 400)
        if not _valid_address(to):
            return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if frm:
            if frm in FROM_MAGIC:
                code, text = FROM_MAGIC[frm]
                return _error(code, text.format(frm=frm), 400)
            if not _valid_address(frm) and not _ALPHA_SENDER.match(frm):
                return _error(
                    21212,
                    f"The 'From' number {frm} is not a valid phone number, shortcode, or alphanumeric sender ID.",
                    400,
                )
        if service:
            with self.lock:
                owner = self.messaging_services.get(service)
            if owner != account:
                return _error(21701, f"The Messaging Service Sid {service} is invalid.", 400)

        sid = _sid("MM" if media else "SM")
        now = rfc2822()
        message = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": frm or None,
            "messaging_service_sid": service or None,
            "num_media": str(len(media)),
            "num_segments": str(num_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not frm else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            "_status_callback": fields.get("StatusCallback") or None,
            "_media": media,
        }
        with self.lock:
            self.messages[sid] = message
        return json_response(self._public(message), 201, self._headers())

    def _list_messages(self, request: Request, account: str) -> Response:
        query = request.query_params
        try:
            page = int(query.get("Page", 0))
            page_size = max(1, min(1000, int(query.get("PageSize", 50))))
        except ValueError:
            return _error(20001, "Invalid paging parameters", 400)
        with self.lock:
            rows = [
                self._public(m)
                for m in reversed(self.messages.values())
                if m["account_sid"] == account
                and (not query.get("To") or m["to"] == query["To"])
                and (not query.get("From") or m["from"] == query["From"])
            ]
        chunk = rows[page * page_size : (page + 1) * page_size]
        path = request.url.path
        first = f"{path}?PageSize={page_size}&Page=0"
        has_next = (page + 1) * page_size < len(rows)
        return json_response(
            {
                "end": page * page_size + max(0, len(chunk) - 1),
                "first_page_uri": first,
                "next_page_uri": f"{path}?PageSize={page_size}&Page={page + 1}" if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": f"{path}?PageSize={page_size}&Page={page - 1}" if page > 0 else None,
                "start": page * page_size,
                "uri": f"{path}?PageSize={page_size}&Page={page}",
                "messages": chunk,
            },
            200,
            self._headers(),
        )

    async def _message(self, request: Request) -> Response:
        account, error = self._authenticate(request)
        if error:
            return error
        sid = request.path_params["sid"]
        with self.lock:
            message = self.messages.get(sid)
            if message is None or message["account_sid"] != account:
                return self._not_found(request)
            if request.method == "DELETE":
                del self.messages[sid]
                return Response(status_code=204, headers=self._headers())
            if request.method == "POST":  # UpdateMessage: redact the body
                fields = dict(await read_form(request))
                if "Body" in fields:
                    if fields["Body"] != "":
                        return _error(21602, "Message body can only be redacted to an empty string.", 400)
                    message["body"] = ""
                    message["date_updated"] = rfc2822()
            return json_response(self._public(message), 200, self._headers())

    async def _create_call(self, request: Request) -> Response:
        account, error = self._authenticate(request)
        if error:
            return error
        form = await read_form(request)
        fields = dict(form)
        to, frm = fields.get("To", "").strip(), fields.get("From", "").strip()
        if not to:
            return _error(21201, "No 'To' number is specified", 400)
        if not frm:
            return _error(21213, "No 'From' number is specified", 400)
        if not (fields.get("Url") or fields.get("Twiml") or fields.get("ApplicationSid")):
            return _error(21205, "Url parameter is required.", 400)
        if not _valid_address(to) or to == "+15005550001":
            return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if not _valid_address(frm):
            return _error(21212, f"The 'From' number {frm} is not a valid phone number.", 400)
        events: list[str] = []
        for name, value in form:
            if name == "StatusCallbackEvent":
                events.extend(value.split())
        unknown = [e for e in events if e not in CALL_EVENTS]
        if unknown:
            return _error(21626, f"Invalid StatusCallbackEvent: {unknown[0]}", 400)
        sid = _sid("CA")
        now = rfc2822()
        uri = f"/2010-04-01/Accounts/{account}/Calls/{sid}"
        call = {
            "account_sid": account,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": frm,
            "from_formatted": frm,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + "6" * 32,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                name: f"{uri}/{name.title().replace('_', '')}.json"
                for name in ("notifications", "recordings", "payments", "events", "siprec", "streams")
            },
            "to": to,
            "to_formatted": to,
            "trunk_sid": None,
            "uri": uri + ".json",
            "_status_callback": fields.get("StatusCallback") or None,
            "_status_callback_method": (fields.get("StatusCallbackMethod") or "POST").upper(),
            "_events": events or ["completed"],
            "_sequence": 0,
            "_started": None,
        }
        with self.lock:
            self.calls[sid] = call
        return json_response(self._public(call), 201, self._headers())

    async def _call(self, request: Request) -> Response:
        account, error = self._authenticate(request)
        if error:
            return error
        with self.lock:
            call = self.calls.get(request.path_params["sid"])
            if call is None or call["account_sid"] != account:
                return self._not_found(request)
            return json_response(self._public(call), 200, self._headers())

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if not k.startswith("_")}
