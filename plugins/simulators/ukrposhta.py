"""Ukrposhta status-tracking simulator (/work/shared/providers/ukrposhta.md).

* Base path ``/status-tracking/0.0.1``; every call needs ``Authorization: Bearer <token>``.
  No or an unknown token: 401; a token of the contract that is not for tracking (the eCom
  token, ``ECOM_TOKEN``): 403.
* ``GET /statuses?barcode=...&lang=UA|EN``: every event of the parcel, oldest first;
  ``GET /statuses/last?barcode=...``: its last event; ``GET /barcodes/{barcode}/route``:
  ``{"from": index, "to": index}``. An unknown barcode: 404.
* ``POST /statuses/last`` with a JSON array of barcodes: the last event of each known barcode,
  in the order asked; unknown ones are left out (the provider notes do not say; this is the
  simulator's reading). A body that is not an array of strings: 400.
* Event fields exactly as documented: ``barcode, step, date (ISO 8601), index, name, event,
  eventName, country, eventReason, eventReason_id, mailType, indexOrder``. Codes: 10100
  accepted, 20700 / 21500 in transit, 21700 at the branch, 41000 handed over, 31200 returning.
* Error bodies (``{"code": ..., "message": ...}``) and the values of ``mailType`` and
  ``indexOrder`` are the simulator's own: the notes do not show them.

Test hooks: ``add_parcel()`` makes a parcel accepted at a post office (event 10100), as if the
seller had created it in Ukrposhta's cabinet and handed it over; ``add_event(barcode, "21700")``
moves it along. ``KNOWN_BARCODE`` exists from the start, at its branch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import SimulatorServer, json_response, read_json

BASE = "/status-tracking/0.0.1"
TOKEN = "sim-ukrposhta-tracking-7f3e9a1c-44b2-4d8e-9a0b-5c6d7e8f9a01"  # noqa: S105 - test credential
ECOM_TOKEN = "sim-ukrposhta-ecom-2b4d6f80-1a3c-4e5f-8a9b-0c1d2e3f4a5b"  # noqa: S105 - test credential
KYIV = ZoneInfo("Europe/Kyiv")
KNOWN_BARCODE = "0500000000017"
SENDER_INDEX, SENDER_CITY = "01001", "Київ"
RECIPIENT_INDEX, RECIPIENT_CITY = "79000", "Львів"

EVENT_NAMES: dict[str, tuple[str, str]] = {
    "10100": ("Прийнято", "Accepted"),
    "20700": ("Відправлення прямує до відділення зв'язку", "In transit"),
    "21500": ("Відправлення передано для доставки", "Out for delivery"),
    "21700": ("Надійшло у відділення зв'язку", "Arrived at the post office"),
    "41000": ("Вручено адресату", "Delivered to the addressee"),
    "31200": ("Повернення відправнику", "Returning to the sender"),
}


@dataclass
class Parcel:
    barcode: str
    sender_index: str = SENDER_INDEX
    recipient_index: str = RECIPIENT_INDEX
    events: list[dict[str, Any]] = field(default_factory=list)


class UkrposhtaSimulator(SimulatorServer):
    name = "ukrposhta"

    def seed(self) -> None:
        with self.lock:
            self.tokens = {TOKEN}
            self.other_tokens = {ECOM_TOKEN}  # the contract's tokens for other APIs: 403 here
            self.parcels: dict[str, Parcel] = {}
            self.clock = datetime(2026, 3, 2, 9, 0, tzinfo=KYIV)
            self.add_parcel(KNOWN_BARCODE)
            self.add_event(KNOWN_BARCODE, "20700")
            self.add_event(KNOWN_BARCODE, "21700")

    def credentials(self) -> dict[str, Any]:
        return {"token": TOKEN, "other_token": ECOM_TOKEN, "known_barcode": KNOWN_BARCODE}

    def error_body(self, status: int, message: str) -> Any:
        return {"code": status, "message": message}

    # -- test hooks --------------------------------------------------------------------------

    def add_parcel(self, barcode: str | None = None, *, recipient_index: str = RECIPIENT_INDEX) -> str:
        """A parcel accepted at the sender's post office (event 10100); its barcode."""
        with self.lock:
            number = barcode or self._next_barcode()
            self.parcels[number] = Parcel(number, recipient_index=recipient_index)
            self.add_event(number, "10100")
            return number

    def add_event(self, barcode: str, code: str | int, *, reason: str = "", reason_id: int | None = None) -> dict:
        """The next event of the parcel; KeyError for an unknown barcode."""
        code = str(code)
        if code not in EVENT_NAMES:
            raise ValueError(f"unknown event code {code}; known: {sorted(EVENT_NAMES)}")
        with self.lock:
            parcel = self.parcels[barcode]
            self.clock += timedelta(hours=3)
            at_sender = code in ("10100", "20700") or (code == "31200" and not parcel.events)
            index = parcel.sender_index if at_sender else parcel.recipient_index
            city = SENDER_CITY if index == SENDER_INDEX else RECIPIENT_CITY
            step = len(parcel.events) + 1
            event = {
                "barcode": parcel.barcode,
                "step": step,
                "date": self.clock.isoformat(timespec="seconds"),
                "index": index,
                "name": city,
                "event": code,
                "eventName": EVENT_NAMES[code][0],
                "country": "Україна",
                "eventReason": reason,
                "eventReason_id": reason_id,
                "mailType": 8,
                "indexOrder": step,
            }
            parcel.events.append(event)
            return dict(event)

    def _next_barcode(self) -> str:
        while True:
            number = "05" + "".join(random.choice("0123456789") for _ in range(11))
            if number not in self.parcels:
                return number

    # -- the API -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route(f"{BASE}/statuses", self._statuses, methods=["GET"]),
            Route(f"{BASE}/statuses/last", self._last, methods=["GET"]),
            Route(f"{BASE}/statuses/last", self._batch, methods=["POST"]),
            Route(f"{BASE}/barcodes/{{barcode}}/route", self._route, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def parcels(request: Request) -> Response:
            if request.method == "POST":
                data, _ = await read_json(request)
                barcode = self.add_parcel((data or {}).get("barcode") if isinstance(data, dict) else None)
                return json_response({"barcode": barcode})
            with self.lock:
                return json_response({b: [dict(e) for e in p.events] for b, p in self.parcels.items()})

        async def event(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data if isinstance(data, dict) else {}
            try:
                return json_response(self.add_event(request.path_params["barcode"], data.get("event", "")))
            except KeyError:
                return json_response({"error": "unknown barcode"}, 404)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)

        return [
            Route("/__sim__/parcels", parcels, methods=["GET", "POST"]),
            Route("/__sim__/parcels/{barcode}/events", event, methods=["POST"]),
        ]

    def _refused(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return json_response(self.error_body(401, "Unauthorized"), 401)
        token = token.strip()
        if token in self.tokens:
            return None
        if token in self.other_tokens:
            return json_response(self.error_body(403, "Forbidden"), 403)
        return json_response(self.error_body(401, "Unauthorized"), 401)

    def _unknown(self, barcode: str) -> Response:
        return json_response(self.error_body(404, f"Barcode {barcode} not found"), 404)

    def _events(self, barcode: str, lang: str = "UA") -> list[dict[str, Any]] | None:
        parcel = self.parcels.get(barcode)
        if parcel is None:
            return None
        english = lang.upper() == "EN"
        return [{**e, "eventName": EVENT_NAMES[e["event"]][1]} if english else dict(e) for e in parcel.events]

    async def _statuses(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        barcode = request.query_params.get("barcode", "")
        with self.lock:
            events = self._events(barcode, request.query_params.get("lang", "UA"))
        return json_response(events) if events is not None else self._unknown(barcode)

    async def _last(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        barcode = request.query_params.get("barcode", "")
        with self.lock:
            events = self._events(barcode)
        return json_response(events[-1]) if events else self._unknown(barcode)

    async def _batch(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        data, ok = await read_json(request)
        if not ok or not isinstance(data, list) or not all(isinstance(b, str) for b in data):
            return json_response(self.error_body(400, "The body must be a JSON array of barcodes"), 400)
        with self.lock:
            found = [self._events(b) for b in data]
        return json_response([events[-1] for events in found if events])

    async def _route(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        barcode = request.path_params["barcode"]
        with self.lock:
            parcel = self.parcels.get(barcode)
            if parcel is None:
                return self._unknown(barcode)
            return json_response({"from": parcel.sender_index, "to": parcel.recipient_index})
