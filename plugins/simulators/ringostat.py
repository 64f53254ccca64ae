"""Ringostat (call tracking, virtual PBX) simulator: the call log, click-to-call and the
cabinet-configured webhooks.

Protocol (/work/shared/providers/ringostat.md; the API with medium confidence, the webhook
field names with low confidence, so they are configurable here as in the cabinet):

* ``Auth-key: <project key>`` header on every request; a missing or unknown key is HTTP 401
  ``{"error": "Unauthorized"}`` on REST (the shape is not documented: an assumption) and a
  JSON-RPC ``error`` on ``/a/v2``.
* ``GET /calls/list``: ``export_type`` (``json`` | ``csv``, ``;``-separated), ``from``/``to``
  (``YYYY-MM-DD HH:MM:SS`` in the project's time zone, default from = to - 24 h), ``fields``
  (comma list), ``filters`` (``name=value``), ``order`` (``calldate desc``). At most
  ``max_calls`` (6,500) calls per answer, the earliest first as Ringostat cuts: the client must
  split the period. Numbers and flags are strings, as in the wild.
* ``POST /callback/outward_call`` (form or JSON ``extension``, ``destination``; ``extension``
  must be a project number connected as incoming) and ``POST /a/v2`` JSON-RPC
  ``Api\\V2\\Callback.external`` (``caller``, ``callee``, ``projectId``, ``direction``,
  ``manager_dst``...). Failures are HTTP 200 with a JSON-RPC ``error`` member.
* Webhooks: one per call moment (``start``, ``answer``, ``end``, ``rated``, ``forward``;
  outgoing ``out/start``, ``out/end``: the path the admin appends to the URL), method GET or
  POST, parameters as query, form or JSON, with the names of a ``field_map``: ``classic``
  (``call_id``, ``caller``, ``callee``, ``status``) or ``v2`` (``cdr_id``, ``caller``, ``dst``,
  ``disposition``, the call-log names otherwise). No signature; a failed delivery is never
  retried (``is_accepted`` only says whether the cabinet would mark it "with error").
* Recordings: ``GET /recordings/<uniqueid>.mp3`` (the ``recording`` link of a call).

Test hooks: ``add_call(...)``, ``webhook(url, moment, uniqueid, ...)``,
``send_call(url, ...)`` / ``asend_call(url, ...)`` (the cabinet's webhooks of a whole call).
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import DeliveryAttempt, OutgoingWebhook, SimulatorServer, json_response, read_json

AUTH_KEY = "rs-7f3c9a1e5b2d4c6e8f0a"  # a published test credential
PROJECT_ID = "48213"
TIMEZONE = ZoneInfo("Europe/Kyiv")
TRACKING_NUMBER = "380443334455"  # a number of the site's pool, connected as incoming
EMPLOYEES = {
    "380501110001": "Олена Коваль",
    "380501110002": "Ігор Мельник",
}
SIP_LOGINS = {"olena": "380501110001", "igor": "380501110002"}
MAX_CALLS = 6500
DISPOSITIONS = (
    "ANSWERED",
    "PROPER",
    "REPEATED",
    "NO ANSWER",
    "BUSY",
    "FAILED",
    "NO-FORWARD",
    "VOICEMAIL",
    "CLIENT NO ANSWER",
    "DECLINE",
)
ANSWERED = ("ANSWERED", "PROPER", "REPEATED")
FIELD_MAPS = {
    # Webhooks configured the classic way.
    "classic": {"uniqueid": "call_id", "dst": "callee", "disposition": "status"},
    # Webhooks 2.0: the call-log names, with the cdr id.
    "v2": {"uniqueid": "cdr_id"},
    # Exactly the call-log names.
    "log": {},
}
MOMENT_FIELDS = {
    "start": (
        "uniqueid",
        "calldate",
        "caller",
        "dst",
        "call_type",
        "pool_name",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "client_id",
        "landing",
        "refferrer",
    ),
    "answer": ("uniqueid", "calldate", "caller", "dst", "call_type", "employee_number", "employee_fio"),
    "forward": ("uniqueid", "calldate", "caller", "dst", "call_type", "employee_number"),
    "end": None,  # everything
    "rated": ("uniqueid", "caller", "dst", "call_type", "employee_number", "rating"),
}
JSONRPC_ERRORS = {
    -32700: "Parse error",
    -32600: "Invalid Request",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32001: "Unauthorized",
    -32002: "Callee is not available",
}


def is_accepted(attempt: DeliveryAttempt) -> bool:
    """What the cabinet records: any HTTP 200 is success, anything else "with error" (no retry)."""
    return attempt.status_code == 200


def _stamp(moment: datetime) -> str:
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def _parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TIMEZONE)
    except ValueError:
        return None


def _rpc_error(code: int, request_id: Any = None) -> Response:
    return json_response({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": JSONRPC_ERRORS[code]}})


class RingostatSimulator(SimulatorServer):
    name = "ringostat"

    def seed(self) -> None:
        with self.lock:
            self.keys = {AUTH_KEY: PROJECT_ID}
            self.calls: dict[str, dict[str, str]] = {}
            self.callbacks: list[dict[str, Any]] = []
            self.max_calls = MAX_CALLS
            self._next = 1700000000

    def credentials(self) -> dict[str, Any]:
        return {
            "auth_key": AUTH_KEY,
            "project_id": PROJECT_ID,
            "tracking_number": TRACKING_NUMBER,
            "employees": list(EMPLOYEES),
        }

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    # -- calls -------------------------------------------------------------------------------

    def add_call(
        self,
        *,
        caller: str = "380671234567",
        call_type: str = "in",
        disposition: str = "ANSWERED",
        billsec: int = 42,
        waittime: int = 6,
        employee_number: str = "380501110001",
        calldate: datetime | None = None,
        utm: dict[str, str] | None = None,
        landing: str = "https://shop.example.com/sale",
        referrer: str = "https://www.google.com/",
        client_id: str = "1234567890.1700000000",
        pool_name: str = "Google Ads",
        uniqueid: str | None = None,
    ) -> dict[str, str]:
        """Record a call in the project's call log (as strings, like Ringostat) and return it."""
        if disposition not in DISPOSITIONS:
            raise ValueError(f"unknown disposition {disposition!r}")
        if call_type not in ("in", "out", "callback", "transitin", "transitout"):
            raise ValueError(f"unknown call_type {call_type!r}")
        utm = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand"} if utm is None else utm
        with self.lock:
            self._next += 1
            uniqueid = uniqueid or f"{self._next}.{self._next % 977}"
            answered = disposition in ANSWERED
            outgoing = call_type in ("out", "transitout")
            call = {
                "uniqueid": uniqueid,
                "calldate": _stamp(calldate or datetime.now(UTC)),
                "caller": employee_number if outgoing else caller,
                "caller_number": employee_number if outgoing else caller,
                "dst": caller if outgoing else TRACKING_NUMBER,
                "call_type": call_type,
                "disposition": disposition,
                "duration": str(billsec + waittime if answered else waittime),
                "billsec": str(billsec if answered else 0),
                "waittime": str(waittime),
                "duration_ms": str((billsec + waittime) * 1000 if answered else waittime * 1000),
                "pool_name": "" if outgoing else pool_name,
                "utm_source": "" if outgoing else utm.get("utm_source", ""),
                "utm_medium": "" if outgoing else utm.get("utm_medium", ""),
                "utm_campaign": "" if outgoing else utm.get("utm_campaign", ""),
                "utm_content": "" if outgoing else utm.get("utm_content", ""),
                "utm_term": "" if outgoing else utm.get("utm_term", ""),
                "client_id": "" if outgoing else client_id,
                "landing": "" if outgoing else landing,
                "refferrer": "" if outgoing else referrer,  # sic
                "remote_ip": "" if outgoing else "93.175.1.10",
                "has_recording": "1" if answered else "0",
                "recording": f"{self.url}/recordings/{uniqueid}.mp3" if answered and self.running else "",
                "recording_wav": f"{self.url}/recordings/{uniqueid}.wav" if answered and self.running else "",
                "call_card": f"https://app.ringostat.com/calls/{uniqueid}",
                "employee_number": employee_number if answered or outgoing else "",
                "employee_fio": EMPLOYEES.get(employee_number, "") if answered or outgoing else "",
                "department": "Sales",
                "scheme_name": "Main",
                "proper_flag": "1" if disposition == "PROPER" else "0",
                "repeated_flag": "1" if disposition == "REPEATED" else "0",
                "connected_with": employee_number if answered else "",
                "rating": "",
            }
            self.calls[uniqueid] = call
            return call

    # -- webhooks ----------------------------------------------------------------------------

    def webhook(
        self,
        url: str,
        moment: str,
        uniqueid: str,
        *,
        field_map: str = "v2",
        method: str = "POST",
        as_json: bool = False,
        rating: str | None = None,
    ) -> OutgoingWebhook:
        """The webhook the cabinet sends for ``moment`` of a call, to ``url`` + the moment's path."""
        with self.lock:
            call = dict(self.calls[uniqueid])
        if rating is not None:
            call["rating"] = rating
        bare = moment.removeprefix("out/")
        names = MOMENT_FIELDS[bare] or tuple(call)
        renames = FIELD_MAPS[field_map]
        params = [(renames.get(name, name), call.get(name, "")) for name in names]
        target = url.rstrip("/") + "/" + moment
        if method == "GET":
            return OutgoingWebhook(
                url=f"{target}?{urlencode(params)}",
                body=b"",
                headers={},
                method="GET",
                params=params,
                event=moment,
                meta={"uniqueid": uniqueid},
            )
        if as_json:
            body = json.dumps(dict(params), ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json"}
        else:
            body, headers = urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        return OutgoingWebhook(
            url=target,
            body=body,
            headers=headers,
            method=method,
            params=params,
            event=moment,
            meta={"uniqueid": uniqueid},
        )

    def call_webhooks(
        self, url: str, *, field_map: str = "v2", method: str = "POST", as_json: bool = False, **call: Any
    ) -> list[OutgoingWebhook]:
        """A call and the webhooks of its moments, in order: incoming start, answer (if answered),
        end; outgoing out/start, out/end."""
        record = self.add_call(**call)
        if record["call_type"] in ("out", "transitout"):
            moments = ["out/start", "out/end"]
        else:
            moments = ["start", *(["answer"] if record["disposition"] in ANSWERED else []), "end"]
        return [
            self.webhook(url, m, record["uniqueid"], field_map=field_map, method=method, as_json=as_json)
            for m in moments
        ]

    def send_call(self, url: str, *, timeout: float = 5.0, **call: Any) -> list[DeliveryAttempt]:
        return [self.deliver(h, timeout=timeout) for h in self.call_webhooks(url, **call)]

    async def asend_call(
        self,
        url: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout
        transport: Any = None,
        **call: Any,
    ) -> list[DeliveryAttempt]:
        return [await self.adeliver(h, timeout=timeout, transport=transport) for h in self.call_webhooks(url, **call)]

    # -- HTTP --------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/calls/list", self._calls_list, methods=["GET"]),
            Route("/callback/outward_call", self._outward_call, methods=["POST"]),
            Route("/a/v2", self._rpc, methods=["POST"]),
            Route("/recordings/{name}", self._recording, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def calls(request: Request) -> Response:
            data, _ = await read_json(request)
            data = dict(data or {})
            url = data.pop("url", None)
            if not url:
                return json_response({"error": "url is required"}, 400)
            try:
                hooks = self.call_webhooks(url, **data)
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)
            return json_response([(await self.adeliver(h)).as_dict() for h in hooks])

        async def log_only(request: Request) -> Response:
            data, _ = await read_json(request)
            try:
                return json_response(self.add_call(**(data or {})))
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)

        return [
            Route("/__sim__/calls", calls, methods=["POST"]),
            Route("/__sim__/log", log_only, methods=["POST"]),
        ]

    def _project(self, request: Request) -> str | None:
        with self.lock:
            return self.keys.get(request.headers.get("auth-key", ""))

    def _calls_list(self, request: Request) -> Response:
        if self._project(request) is None:
            return json_response({"error": "Unauthorized"}, 401)
        q = request.query_params
        now = datetime.now(UTC)
        until = _parse_stamp(q["to"]) if q.get("to") else now
        since = _parse_stamp(q["from"]) if q.get("from") else (until - timedelta(hours=24) if until else None)
        if since is None or until is None:
            return json_response({"error": "from and to must be YYYY-MM-DD HH:MM:SS"}, 400)
        export = q.get("export_type", "json")
        if export not in ("json", "csv"):
            return json_response({"error": "export_type must be json or csv"}, 400)
        filters = dict(parse_qsl(q.get("filters", ""), keep_blank_values=True))
        with self.lock:
            rows = [
                c
                for c in self.calls.values()
                if since <= _parse_stamp(c["calldate"]) <= until  # type: ignore[operator]
                and all(c.get(k) == v for k, v in filters.items())
            ]
            limit = self.max_calls
        rows.sort(key=lambda c: c["calldate"])
        rows = rows[:limit]  # Ringostat cuts at its cap: split the period to get the rest
        if q.get("order", "").lower().endswith("desc"):
            rows.reverse()
        fields = [f for f in q.get("fields", "").split(",") if f] or list(rows[0] if rows else [])
        picked = [{f: r.get(f, "") for f in fields} for r in rows]
        if export == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=fields, delimiter=";")
            writer.writeheader()
            writer.writerows(picked)
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        return json_response(picked)

    async def _outward_call(self, request: Request) -> Response:
        if self._project(request) is None:
            return json_response({"error": "Unauthorized"}, 401)
        if request.headers.get("content-type", "").startswith("application/json"):
            data, ok = await read_json(request)
            if not ok or not isinstance(data, dict):
                return json_response({"status": "error", "message": "Bad request"}, 400)
        else:
            data = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        extension, destination = str(data.get("extension") or ""), str(data.get("destination") or "")
        if not extension or not destination:
            return json_response({"status": "error", "message": "extension and destination are required"})
        if extension != TRACKING_NUMBER:
            return json_response({"status": "error", "message": "extension is not a number connected as incoming"})
        return json_response({"status": "ok", **self._start_callback(destination, extension)})

    def _start_callback(self, client: str, employee: str) -> dict[str, str]:
        call = self.add_call(
            caller=client, call_type="callback", disposition="ANSWERED", employee_number=employee, utm={}
        )
        with self.lock:
            self.callbacks.append({"client": client, "employee": employee, "uniqueid": call["uniqueid"]})
        return {"uniqueid": call["uniqueid"]}

    async def _rpc(self, request: Request) -> Response:
        data, ok = await read_json(request)
        if not ok:
            return _rpc_error(-32700)
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0" or "method" not in data:
            return _rpc_error(-32600, data.get("id") if isinstance(data, dict) else None)
        request_id = data.get("id")
        project = self._project(request)
        if project is None:
            return _rpc_error(-32001, request_id)
        if data["method"] != "Api\\V2\\Callback.external":
            return _rpc_error(-32601, request_id)
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        caller, callee = str(params.get("caller") or ""), str(params.get("callee") or "")
        if not caller.isdigit() or len(caller) < 10 or not callee or str(params.get("projectId")) != project:
            return _rpc_error(-32602, request_id)
        employee = SIP_LOGINS.get(callee, callee)
        if employee not in EMPLOYEES:
            return _rpc_error(-32002, request_id)
        return json_response({"jsonrpc": "2.0", "id": request_id, "result": self._start_callback(caller, employee)})

    async def _recording(self, request: Request) -> Response:
        name = request.path_params["name"]
        uniqueid = name.rsplit(".", 1)[0]
        with self.lock:
            call = self.calls.get(uniqueid)
        if call is None or call["has_recording"] != "1":
            return Response("Not found", status_code=404, media_type="text/plain")
        media = "audio/wav" if name.endswith(".wav") else "audio/mpeg"
        return Response(
            b"ID3\x03\x00\x00\x00\x00\x00\x00" + uniqueid.encode() + str(time.time()).encode(), media_type=media
        )
