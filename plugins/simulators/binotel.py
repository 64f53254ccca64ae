"""Binotel (cloud PBX) simulator: the REST API and, above all, the webhook sender.

Protocol (see /work/shared/providers/binotel.md and docs/simulators.md; medium confidence):

* REST: ``POST /api/4.0/{section}/{method}.json`` with a JSON body carrying ``key`` and
  ``secret`` next to the method's parameters (a form body is accepted too). Answers
  ``{"status": "success", ...}`` or ``{"status": "error", "code": N, "message": "..."}``
  (HTTP 200). Methods: ``calls/ext-to-phone`` and ``calls/internal-number-to-external-number``
  (click-to-call), ``stats/call-details``, ``stats/call-record``,
  ``stats/all-incoming-calls-since``, ``stats/all-outgoing-calls-since``,
  ``stats/list-of-calls-for-period``.
* Webhooks: form-encoded POSTs (no signature) with ``requestType`` = ``apiCallSettings``,
  ``receivedTheCall``, ``answeredTheCall``, ``hangupTheCall``, ``transferredTheCall``,
  ``apiCallCompleted`` (the last with ``callDetails[...]`` keys). The receiver must answer
  ``{"status": "success"}``; Binotel retries otherwise (``deliver_until_success``).

Test hooks: ``call_events(url, ...)`` builds an event sequence, ``send_call(url, ...)`` sends
it, ``redeliver(webhook)`` sends the same event again.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import DeliveryAttempt, OutgoingWebhook, SimulatorServer, json_response, read_json

API_KEY = "5e1b7c9d0a"
API_SECRET = "3f2a9b8c7d6e5f4a3b2c"  # noqa: S105 - a published test credential
COMPANY_ID = "35227"
PBX_NUMBER = "0443334023"
EMPLOYEES = {
    "901": {"id": "7701", "name": "Олена Коваль", "email": "olena@example.com"},
    "902": {"id": "7702", "name": "Ігор Мельник", "email": "igor@example.com"},
    # More desks, so that every demo member (extensions 901-907) can use click-to-call.
    "903": {"id": "7703", "name": "Марія Шевченко", "email": "maria@example.com"},
    "904": {"id": "7704", "name": "Олег Петренко", "email": "oleh@example.com"},
    "905": {"id": "7705", "name": "Світлана Іваненко", "email": "svitlana@example.com"},
    "906": {"id": "7706", "name": "Василь Гончаренко", "email": "vasyl@example.com"},
    "907": {"id": "7707", "name": "Юлія Савченко", "email": "yulia@example.com"},
}
RECORD_LINK_TTL = 15 * 60
DISPOSITIONS = (
    "ANSWER",
    "TRANSFER",
    "ONLINE",
    "BUSY",
    "NOANSWER",
    "CANCEL",
    "CONGESTION",
    "CHANUNAVAIL",
    "VM",
    "VM-SUCCESS",
    "SUCCESS",
    "FAILED",
)
RECORDED = ("ANSWER", "TRANSFER", "VM-SUCCESS", "SUCCESS")
ERRORS = {
    102: "No such method",
    103: "Not enough data",
    104: "Wrong data",
    105: "Something went wrong",
    106: "Requests are too frequent",
    120: "Your company is disabled",
    121: "Your key or secret is wrong",
    150: "Can't call to the ext",
    151: "Can't call to the external number",
}
_PHONE = re.compile(r"^(0\d{9}|380\d{9}|\+380\d{9})$")


def _error(code: int) -> Response:
    return json_response({"status": "error", "code": code, "message": ERRORS[code]})


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    """PHP-style form keys: {"a": {"b": 1}} -> [("prefix[a][b]", "1")]."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs += _flatten(f"{prefix}[{key}]", item)
        return pairs
    if isinstance(value, list):
        pairs = []
        for index, item in enumerate(value):
            pairs += _flatten(f"{prefix}[{index}]", item)
        return pairs
    return [(prefix, "" if value is None else str(value))]


def is_accepted(attempt: DeliveryAttempt) -> bool:
    """Binotel's success criterion: the receiver answered JSON ``{"status": "success"}``."""
    body = attempt.response_json()
    return attempt.status_code == 200 and isinstance(body, dict) and body.get("status") == "success"


class BinotelSimulator(SimulatorServer):
    name = "binotel"

    def seed(self) -> None:
        with self.lock:
            self.keys: dict[str, str] = {API_KEY: API_SECRET}
            self.calls: dict[str, dict[str, Any]] = {}
            self.record_links: dict[str, tuple[str, float]] = {}
            self._next_call = 4200000
            #: REST answers carry numbers as strings ("startTime": "1700000000") by default;
            #: False switches to JSON integers, the other variant seen in the wild.
            self.numbers_as_strings = True

    def credentials(self) -> dict[str, Any]:
        return {
            "key": API_KEY,
            "secret": API_SECRET,
            "company_id": COMPANY_ID,
            "pbx_number": PBX_NUMBER,
            "internal_numbers": list(EMPLOYEES),
        }

    def error_body(self, status: int, message: str) -> Any:
        if status == 429:
            return {"status": "error", "code": 106, "message": ERRORS[106]}
        return {"status": "error", "code": 105, "message": ERRORS[105]}

    # -- calls (shared by REST and webhooks) -------------------------------------------

    def add_call(
        self,
        *,
        call_type: str = "incoming",
        external_number: str = "0671234567",
        internal_number: str = "901",
        disposition: str = "ANSWER",
        waitsec: int = 5,
        billsec: int = 42,
        start_time: int | None = None,
        general_call_id: str | None = None,
        customer_name: str | None = None,
        is_new_call: bool = False,
    ) -> dict[str, Any]:
        """Record a call in the PBX (visible to stats/* methods) and return it."""
        if call_type not in ("incoming", "outgoing"):
            raise ValueError("call_type must be 'incoming' or 'outgoing'")
        if disposition not in DISPOSITIONS:
            raise ValueError(f"unknown disposition {disposition!r}")
        with self.lock:
            self._next_call += 1
            general_call_id = general_call_id or str(self._next_call)
            employee = EMPLOYEES.get(internal_number, {"id": "0", "name": "", "email": ""})
            call = {
                "companyID": COMPANY_ID,
                "generalCallID": general_call_id,
                "callID": str(int(general_call_id) * 10 + 1) if general_call_id.isdigit() else general_call_id + "1",
                "startTime": int(start_time if start_time is not None else time.time()),
                "callType": 0 if call_type == "incoming" else 1,
                "internalNumber": internal_number,
                "internalAdditionalData": "",
                "externalNumber": external_number,
                "waitsec": int(waitsec),
                "billsec": int(billsec) if disposition in RECORDED else 0,
                "disposition": disposition,
                "recordingStatus": "uploading" if disposition in RECORDED else "",
                "isNewCall": 1 if is_new_call else 0,
                "didNumber": PBX_NUMBER,
                "trunkNumber": PBX_NUMBER,
                "employeeName": employee["name"],
                "employeeEmail": employee["email"],
                "employeeData": {"name": employee["name"], "email": employee["email"]},
                "pbxNumberData": {"number": PBX_NUMBER, "name": "Основна лінія"},
                "customerData": {"id": "", "name": customer_name or ""},
                "historyData": [
                    {
                        "waitsec": int(waitsec),
                        "billsec": int(billsec) if disposition in RECORDED else 0,
                        "disposition": disposition,
                        "internalNumber": internal_number,
                        "internalAdditionalData": "",
                        "employeeName": employee["name"],
                        "employeeEmail": employee["email"],
                    }
                ],
            }
            self.calls[general_call_id] = call
            return call

    def _rest_call(self, call: dict[str, Any]) -> dict[str, Any]:
        if not self.numbers_as_strings:
            return call

        def stringify(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: stringify(v) for k, v in value.items()}
            if isinstance(value, list):
                return [stringify(v) for v in value]
            return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

        return stringify(call)

    # -- webhooks ------------------------------------------------------------------------

    def call_events(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        include_settings: bool = False,
        **call: Any,
    ) -> list[OutgoingWebhook]:
        """Create a call and build the webhooks Binotel would send for it, in order.

        Default sequence: incoming answered -> receivedTheCall, answeredTheCall, hangupTheCall,
        apiCallCompleted; not answered -> no answeredTheCall; outgoing -> answeredTheCall (if
        answered), hangupTheCall, apiCallCompleted. ``events`` picks an explicit sequence.
        """
        record = self.add_call(**call)
        incoming = record["callType"] == 0
        answered = record["disposition"] in RECORDED
        if events is None:
            events = []
            if include_settings and incoming:
                events.append("apiCallSettings")
            if incoming:
                events.append("receivedTheCall")
            if answered:
                events.append("answeredTheCall")
            events += ["hangupTheCall", "apiCallCompleted"]
        return [self.event(url, name, record["generalCallID"]) for name in events]

    def event(self, url: str, request_type: str, general_call_id: str) -> OutgoingWebhook:
        """One form-encoded webhook of ``request_type`` for a call already in the PBX."""
        with self.lock:
            call = self.calls[general_call_id]
        call_type = str(call["callType"])
        common = [
            ("requestType", request_type),
            ("generalCallID", call["generalCallID"]),
            ("callID", call["callID"]),
            ("companyID", COMPANY_ID),
            ("callType", call_type),
        ]
        if request_type == "apiCallSettings":
            params = [
                ("requestType", request_type),
                ("callType", call_type),
                ("companyID", COMPANY_ID),
                ("pbxNumber", PBX_NUMBER),
                ("externalNumber", call["externalNumber"]),
                ("internalNumber", call["internalNumber"]),
                ("generalCallID", call["generalCallID"]),
            ]
        elif request_type == "receivedTheCall":
            params = [
                *common,
                ("didNumber", call["didNumber"]),
                ("srcNumber", call["externalNumber"]),
                ("pbxNumber", PBX_NUMBER),
                ("externalNumber", call["externalNumber"]),
                ("internalNumber", call["internalNumber"]),
                ("method", "ext"),
            ]
        elif request_type in ("answeredTheCall", "transferredTheCall"):
            params = [
                *common,
                ("externalNumber", call["externalNumber"]),
                ("internalNumber", call["internalNumber"]),
                ("employeeName", call["employeeName"]),
            ]
        elif request_type == "hangupTheCall":
            params = [
                *common,
                ("externalNumber", call["externalNumber"]),
                ("internalNumber", call["internalNumber"]),
                ("billsec", str(call["billsec"])),
                ("disposition", call["disposition"]),
            ]
        elif request_type == "apiCallCompleted":
            params = [("requestType", request_type), *_flatten("callDetails", call)]
        else:
            raise ValueError(f"unknown requestType {request_type!r}")
        return OutgoingWebhook(
            url=url,
            body=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            params=params,
            event=request_type,
            meta={"generalCallID": call["generalCallID"]},
        )

    def send_call(self, url: str, *, timeout: float = 5.0, **call: Any) -> list[DeliveryAttempt]:
        """Build a call's event sequence and deliver it, one attempt per event, in order."""
        return [self.deliver(hook, timeout=timeout) for hook in self.call_events(url, **call)]

    async def asend_call(
        self,
        url: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout, passed to httpx
        transport: Any = None,
        **call: Any,
    ) -> list[DeliveryAttempt]:
        return [await self.adeliver(h, timeout=timeout, transport=transport) for h in self.call_events(url, **call)]

    def redeliver(self, webhook: OutgoingWebhook | DeliveryAttempt, *, timeout: float = 5.0) -> DeliveryAttempt:
        """Send the very same event again (same body, byte for byte), as a Binotel retry does."""
        hook = webhook.webhook if isinstance(webhook, DeliveryAttempt) else webhook
        return self.deliver(hook, timeout=timeout)

    def deliver_until_success(
        self, webhook: OutgoingWebhook, *, max_attempts: int = 7, interval: float = 0.0, timeout: float = 5.0
    ) -> list[DeliveryAttempt]:
        """Binotel's retry loop (7 attempts over ~38 h in production; ``interval`` here)."""
        attempts: list[DeliveryAttempt] = []
        for n in range(max_attempts):
            if n and interval:
                time.sleep(interval)
            attempts.append(self.deliver(webhook, timeout=timeout))
            if is_accepted(attempts[-1]):
                break
        return attempts

    # -- REST ------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/api/4.0/{section}/{method}.json", self._api, methods=["POST"]),
            Route("/records/{token}.mp3", self._record, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def calls(request: Request) -> Response:
            data, _ = await read_json(request)
            data = dict(data or {})
            url = data.pop("url", None)
            if not url:
                return json_response({"error": "url is required"}, 400)
            timeout = float(data.pop("timeout", 5))
            try:
                hooks = self.call_events(url, **data)
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)
            attempts = [await self.adeliver(h, timeout=timeout) for h in hooks]
            return json_response([a.as_dict() for a in attempts])

        async def redeliver(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data or {}
            deliveries = self.deliveries
            if not deliveries:
                return json_response({"error": "nothing delivered yet"}, 400)
            try:
                hook = deliveries[int(data.get("index", -1))].webhook
            except (IndexError, ValueError):
                return json_response({"error": "no such delivery"}, 404)
            attempts = []
            for n in range(int(data.get("max_attempts", 1))):
                if n and data.get("interval"):
                    await asyncio.sleep(float(data["interval"]))
                attempts.append(await self.adeliver(hook, timeout=float(data.get("timeout", 5))))
                if is_accepted(attempts[-1]):
                    break
            return json_response([a.as_dict() for a in attempts])

        return [
            Route("/__sim__/calls", calls, methods=["POST"]),
            Route("/__sim__/redeliver", redeliver, methods=["POST"]),
        ]

    async def _api(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            data: Any = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        else:
            data, ok = await read_json(request)
            if not ok:
                return _error(104)
        data = data if isinstance(data, dict) else {}
        key, secret = str(data.get("key") or ""), str(data.get("secret") or "")
        with self.lock:
            if not key or not secret or self.keys.get(key) != secret:
                return _error(121)
        method = f"{request.path_params['section']}/{request.path_params['method']}"
        handler = {
            "calls/ext-to-phone": self._ext_to_phone,
            "calls/internal-number-to-external-number": self._ext_to_phone,
            "stats/call-details": self._call_details,
            "stats/call-record": self._call_record,
            "stats/all-incoming-calls-since": self._since,
            "stats/all-outgoing-calls-since": self._since,
            "stats/list-of-calls-for-period": self._period,
        }.get(method)
        if handler is None:
            return _error(102)
        return handler(method, data, request)

    def _ext_to_phone(self, method: str, data: dict[str, Any], request: Request) -> Response:
        if method == "calls/ext-to-phone":
            ext, phone = data.get("ext_number"), data.get("phone_number")
        else:
            ext, phone = data.get("internalNumber"), data.get("externalNumber")
        if not ext or not phone:
            return _error(103)
        if not _PHONE.match(str(phone)):
            return _error(104)
        if str(ext) not in EMPLOYEES:
            return _error(150)
        call = self.add_call(
            call_type="outgoing",
            external_number=str(phone),
            internal_number=str(ext),
            disposition="ONLINE",
            waitsec=0,
            billsec=0,
        )
        generated: Any = call["generalCallID"] if self.numbers_as_strings else int(call["generalCallID"])
        return json_response({"status": "success", "generalCallID": generated})

    def _details(self, calls: list[dict[str, Any]]) -> Response:
        return json_response(
            {"status": "success", "callDetails": {c["generalCallID"]: self._rest_call(c) for c in calls}}
        )

    def _call_details(self, method: str, data: dict[str, Any], request: Request) -> Response:
        ids = data.get("generalCallID")
        if ids in (None, "", []):
            return _error(103)
        ids = [str(i) for i in (ids if isinstance(ids, list) else [ids])]
        with self.lock:
            return self._details([self.calls[i] for i in ids if i in self.calls])

    def _call_record(self, method: str, data: dict[str, Any], request: Request) -> Response:
        call_id = data.get("generalCallID") or data.get("callID")
        if not call_id:
            return _error(103)
        with self.lock:
            call = self.calls.get(str(call_id)) or next(
                (c for c in self.calls.values() if c["callID"] == str(call_id)), None
            )
            if call is None or call["disposition"] not in RECORDED:
                return _error(104)
            token = secrets.token_urlsafe(16)
            self.record_links[token] = (call["generalCallID"], time.time() + RECORD_LINK_TTL)
        return json_response({"status": "success", "url": f"{request.base_url}records/{token}.mp3"})

    def expire_record_links(self) -> None:
        """Make every recording link handed out so far expire (they live ~15 minutes)."""
        with self.lock:
            self.record_links = {t: (c, 0.0) for t, (c, _) in self.record_links.items()}

    async def _record(self, request: Request) -> Response:
        with self.lock:
            link = self.record_links.get(request.path_params["token"])
        if link is None or link[1] < time.time():
            return Response("Link expired", status_code=403, media_type="text/plain")
        # A tiny MPEG frame header is enough for a client that stores the file.
        return Response(b"ID3\x03\x00\x00\x00\x00\x00\x00" + link[0].encode(), media_type="audio/mpeg")

    def _since(self, method: str, data: dict[str, Any], request: Request) -> Response:
        try:
            since = int(data["timestamp"])
        except (KeyError, TypeError, ValueError):
            return _error(103)
        wanted = 0 if method.endswith("incoming-calls-since") else 1
        with self.lock:
            return self._details(
                [c for c in self.calls.values() if c["callType"] == wanted and c["startTime"] >= since]
            )

    def _period(self, method: str, data: dict[str, Any], request: Request) -> Response:
        try:
            start, stop = int(data["startTime"]), int(data["stopTime"])
        except (KeyError, TypeError, ValueError):
            return _error(103)
        if stop < start or stop - start > 24 * 3600:
            return _error(104)
        with self.lock:
            return self._details([c for c in self.calls.values() if start <= c["startTime"] <= stop])
