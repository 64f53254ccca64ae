"""Prom.ua API v1 simulator: the order list, one order, status changes, custom statuses.

Protocol (/work/shared/providers/prom.md, "medium confidence"; docs/simulators.md):

* Base ``https://my.prom.ua/api/v1``: the simulator serves the same paths at its root
  (``sim.url`` stands for ``https://my.prom.ua/api/v1``).
* Every call carries ``Authorization: Bearer <token>``; JSON bodies.
* ``GET /orders/list`` with ``limit``, ``last_id``, ``status``, ``date_from``, ``date_to``,
  ``last_modified_from``, ``last_modified_to``, ``sort_dir`` answers ``{"orders": [...]}``.
* ``GET /orders/{id}`` answers ``{"order": {...}}``.
* ``POST /orders/set_status`` with ``{"status": ..., "ids": [...]}`` (or ``custom_status_id``
  instead of ``status``), and for ``canceled`` a ``cancellation_reason`` (plus
  ``cancellation_text`` for ``price_changed``, ``not_enough_fields`` and ``another``).
* ``GET /order_status_options/list`` lists the shop's custom statuses.

ASSUMED where the notes are silent or unconfirmed (a plugin written against this simulator
must not rely on more than the notes say without checking against Prom itself):

* **The error envelope**: ``{"error": "<message>"}`` with the HTTP status (401 unknown token,
  403 a token without the right, 400 a bad request, 404 an unknown order or path, 429/5xx).
* **The set_status answer**: HTTP 200 ``{"processed_ids": [<ids changed>], "errors": {"<id>":
  "<why not>"}}`` (the shape Prom's product edit answers with); request-level mistakes (an
  unknown status, a missing or unknown ``cancellation_reason``, a missing
  ``cancellation_text``) are HTTP 400 in the error envelope.
* **Paging**: newest order first (``sort_dir=desc``, the default); ``last_id`` returns orders
  with a smaller id (``sort_dir=asc``: a larger one); ``limit`` 1..100, default 100.
* **Times**: ISO 8601 with the Kyiv offset (``2026-12-06T10:15:00+02:00``); a filter without
  an offset is read as Kyiv time. Every order has ``date_modified`` (changed on every change),
  which ``last_modified_from``/``last_modified_to`` filter on (inclusive).
* **Custom statuses**: ``{"order_status_options": [{"id", "name", "status"}]}``, each belonging
  to a base status; an order in one has that base ``status`` plus ``custom_status_id`` and
  the custom ``status_name``; setting a base status clears ``custom_status_id``.
* **Prom's rules** (which moves the seller may make), as this simulator enforces them:
  ``canceled`` and ``delivered`` are final; ``draft`` is never set through the API;
  ``pending`` only from ``draft``; a paid order does not go back to ``received``; a custom
  status only from ``pending``, ``received``, ``paid`` or another custom status. Setting the
  status an order already has is processed and changes nothing. A refused move is reported
  per order in ``errors`` (HTTP 200).

Test hooks: ``add_order(...)``, ``set_order(id, status=..., declaration_number=..., force)``
(what Prom's side does: a buyer cancels, Prom marks it paid), ``orders`` (the state),
``TOKEN`` (full access) and ``READ_ONLY_TOKEN`` (may read, gets 403 on set_status).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import SimulatorServer, json_response, read_json

TOKEN = "sim-prom-3f9c2b7e41d84a6f9b0c5e2d7a1f4c88"  # noqa: S105 - a published test credential
READ_ONLY_TOKEN = "sim-prom-readonly-0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # noqa: S105
KYIV = ZoneInfo("Europe/Kyiv")
MAX_LIMIT = 100
FIRST_ID = 4066722

STATUSES: dict[str, str] = {
    "pending": "Новий",
    "received": "Прийнято",
    "delivered": "Виконано",
    "canceled": "Скасовано",
    "draft": "Чернетка",
    "paid": "Оплачено",
}
CANCELLATION_REASONS = (
    "not_available",
    "price_changed",
    "buyers_request",
    "not_enough_fields",
    "duplicate",
    "invalid_phone_number",
    "less_than_minimal_price",
    "another",
)
NEEDS_TEXT = ("price_changed", "not_enough_fields", "another")
#: The shop's own statuses: id -> (name, base status).
CUSTOM_STATUSES: dict[int, tuple[str, str]] = {
    137639: ("Комплектується", "received"),
    137640: ("Передано в доставку", "received"),
}
#: Base status -> the base statuses the seller may set from it (the simulator's rules, assumed).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("pending", "received", "canceled"),
    "pending": ("received", "paid", "delivered", "canceled"),
    "received": ("paid", "delivered", "canceled"),
    "paid": ("delivered", "canceled"),
    "delivered": (),
    "canceled": (),
}
CUSTOM_FROM = ("pending", "received", "paid")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """Prom's way of writing a time: ISO 8601 in Kyiv time with its offset."""
    return moment.astimezone(KYIV).replace(microsecond=0).isoformat()


def parse_time(value: str) -> datetime:
    """A filter value: ISO 8601 (a date alone means its midnight); no offset means Kyiv."""
    text = value.strip().replace(" ", "T", 1) if "T" not in value and len(value.strip()) > 10 else value.strip()
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=KYIV)


def _error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)


class PromSimulator(SimulatorServer):
    name = "prom"

    def seed(self) -> None:
        with self.lock:
            self.tokens: dict[str, str] = {TOKEN: "write", READ_ONLY_TOKEN: "read"}
            self.orders: dict[int, dict[str, Any]] = {}
            self._next_id = FIRST_ID
            base = _now() - timedelta(days=3)
            seeded = (("pending", "640.00"), ("pending", "1299.50"), ("received", "215.00"), ("paid", "89.90"))
            for index, (status, price) in enumerate(seeded):
                self.add_order(status=status, price=price, created=base + timedelta(hours=index))

    def credentials(self) -> dict[str, Any]:
        return {
            "token": TOKEN,
            "read_only_token": READ_ONLY_TOKEN,
            "seeded_order_ids": sorted(self.orders)[:4],
            "custom_statuses": {str(k): v[0] for k, v in CUSTOM_STATUSES.items()},
        }

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    # -- test hooks ------------------------------------------------------------------

    def add_order(
        self,
        *,
        status: str = "pending",
        price: str = "640.00",
        phone: str = "+380501112233",
        first_name: str = "Олена",
        last_name: str = "Коваль",
        created: datetime | None = None,
        products: list[dict[str, Any]] | None = None,
        declaration_number: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add an order (as if a buyer placed it) and return it as the API shows it."""
        if status not in STATUSES:
            raise ValueError(f"unknown Prom status {status!r}")
        with self.lock:
            order_id = self._next_id
            self._next_id += 1
            when = stamp(created or _now())
            items = products or [{"name": "Термокружка 450 мл", "sku": f"TK-{order_id % 1000}", "price": price}]
            rows = []
            for n, p in enumerate(items):
                quantity = int(p.get("quantity", 1))
                rows.append(
                    {
                        "id": 900000 + order_id % 10000 * 10 + n,
                        "external_id": p.get("external_id", f"ext-{order_id}-{n}"),
                        "name": p["name"],
                        "name_multilang": {"uk": p["name"], "ru": p["name"]},
                        "sku": p.get("sku", ""),
                        "price": str(p["price"]),
                        "quantity": quantity,
                        "measure_unit": "шт.",
                        "image": "https://images.prom.ua/sim.jpg",
                        "url": f"https://prom.ua/p{order_id}-sim.html",
                        "total_price": str(Decimal(str(p["price"])) * quantity),
                    }
                )
            order: dict[str, Any] = {
                "id": order_id,
                "date_created": when,
                "date_modified": when,
                "client_first_name": first_name,
                "client_second_name": "",
                "client_last_name": last_name,
                "client_id": 52000 + order_id % 1000,
                "client_notes": "",
                "email": "buyer@example.com",
                "phone": phone,
                "products": rows,
                "delivery_option": {"id": 13013934, "name": "Нова Пошта", "shipping_service": "nova_poshta"},
                "delivery_provider_data": {
                    "provider": "nova_poshta",
                    "type": "W2W",
                    "sender_warehouse_id": None,
                    "recipient_warehouse_id": "1ec09d88-e1c2-11e3-8c4a-0050568002cf",
                    "declaration_number": declaration_number,
                    "unified_status": None,
                },
                "delivery_address": "Київ, Відділення №12: вул. Січових Стрільців, 1",
                "delivery_cost": 0,
                "payment_option": {"id": 7547964, "name": "Оплата при отриманні"},
                "payment_data": None,
                "price": price,
                "full_price": price,
                "status": status,
                "status_name": STATUSES[status],
                "custom_status_id": None,
                "source": "portal",
                "has_order_promo_free_delivery": False,
                "cpa_commission": {"amount": "0.00", "is_refunded": False},
                "utm": None,
                "dont_call_customer_back": False,
                "ps_promotion": None,
                "_cancellation": None,
            }
            order.update(fields)
            self.orders[order_id] = order
            return self._public(order)

    def set_order(
        self,
        order_id: int,
        *,
        status: str | None = None,
        declaration_number: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change an order as Prom's side would (a buyer cancels, a payment arrives), no rules."""
        with self.lock:
            order = self.orders[order_id]
            if status is not None:
                if status not in STATUSES:
                    raise ValueError(f"unknown Prom status {status!r}")
                order.update(status=status, status_name=STATUSES[status], custom_status_id=None)
            if declaration_number is not None:
                order["delivery_provider_data"]["declaration_number"] = declaration_number
            order.update(fields)
            order["date_modified"] = stamp(_now())
            return self._public(order)

    def _public(self, order: dict[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in order.items() if not k.startswith("_")}
        result["products"] = [dict(p) for p in order["products"]]
        result["delivery_provider_data"] = dict(order["delivery_provider_data"])
        return result

    # -- HTTP ----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/orders/list", self._list, methods=["GET"]),
            Route("/orders/set_status", self._set_status, methods=["POST"]),
            Route("/orders/{order_id}", self._order, methods=["GET"]),
            Route("/order_status_options/list", self._status_options, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def add(request: Request) -> Response:
            data, _ok = await read_json(request)
            try:
                return json_response(self.add_order(**(data or {})))
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)

        async def change(request: Request) -> Response:
            data, _ok = await read_json(request)
            try:
                return json_response(self.set_order(int(request.path_params["order_id"]), **(data or {})))
            except KeyError:
                return json_response({"error": "unknown order"}, 404)
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)

        return [
            Route("/__sim__/orders", add, methods=["POST"]),
            Route("/__sim__/orders/{order_id}", change, methods=["POST"]),
        ]

    def _authorize(self, request: Request, write: bool = False) -> Response | None:
        scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error("Authorization header with a Bearer token is required", 401)
        with self.lock:
            right = self.tokens.get(token.strip())
        if right is None:
            return _error("Invalid token", 401)
        if write and right != "write":
            return _error("Token has no permission for this action", 403)
        return None

    async def _list(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        q = request.query_params
        try:
            limit = int(q.get("limit") or MAX_LIMIT)
            last_id = int(q["last_id"]) if q.get("last_id") else None
            bounds = {
                key: parse_time(q[key])
                for key in ("date_from", "date_to", "last_modified_from", "last_modified_to")
                if q.get(key)
            }
        except ValueError as exc:
            return _error(f"Bad request: {exc}", 400)
        if not 1 <= limit <= MAX_LIMIT:
            return _error(f"limit must be between 1 and {MAX_LIMIT}", 400)
        if q.get("status") and q["status"] not in STATUSES:
            return _error(f"Unknown status: {q['status']}", 400)
        ascending = (q.get("sort_dir") or "desc").lower() == "asc"

        def within(value: str, low: str, high: str) -> bool:
            moment = datetime.fromisoformat(value)
            if low in bounds and moment < bounds[low]:
                return False
            return not (high in bounds and moment > bounds[high])

        with self.lock:
            rows = [
                o
                for o in self.orders.values()
                if (not q.get("status") or o["status"] == q["status"])
                and within(o["date_created"], "date_from", "date_to")
                and within(o["date_modified"], "last_modified_from", "last_modified_to")
                and (last_id is None or (o["id"] > last_id if ascending else o["id"] < last_id))
            ]
            rows.sort(key=lambda o: o["id"], reverse=not ascending)
            page = [self._public(o) for o in rows[:limit]]
        return json_response({"orders": page})

    async def _order(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        try:
            order_id = int(request.path_params["order_id"])
        except ValueError:
            return _error("Order not found", 404)
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _error("Order not found", 404)
            return json_response({"order": self._public(order)})

    async def _status_options(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        options = [{"id": k, "name": name, "status": base} for k, (name, base) in CUSTOM_STATUSES.items()]
        return json_response({"order_status_options": options})

    async def _set_status(self, request: Request) -> Response:
        denied = self._authorize(request, write=True)
        if denied:
            return denied
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict):
            return _error("Request body must be a JSON object", 400)
        ids = data.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return _error("Field 'ids' is required: a list of order ids", 400)
        status, custom = data.get("status"), data.get("custom_status_id")
        if (status is None) == (custom is None):
            return _error("Give either 'status' or 'custom_status_id'", 400)
        if custom is not None and (not isinstance(custom, int) or custom not in CUSTOM_STATUSES):
            return _error(f"Unknown custom_status_id: {custom}", 400)
        if status is not None and status not in STATUSES:
            return _error(f"Unknown status: {status}", 400)
        reason, text = data.get("cancellation_reason"), str(data.get("cancellation_text") or "").strip()
        if status == "canceled":
            if not reason:
                return _error("Field 'cancellation_reason' is required to cancel an order", 400)
            if reason not in CANCELLATION_REASONS:
                return _error(f"Unknown cancellation_reason: {reason}", 400)
            if reason in NEEDS_TEXT and not text:
                return _error(f"Field 'cancellation_text' is required for cancellation_reason '{reason}'", 400)
        processed: list[int] = []
        errors: dict[str, str] = {}
        with self.lock:
            for order_id in ids:
                order = self.orders.get(order_id)
                if order is None:
                    errors[str(order_id)] = "Замовлення не знайдено"
                    continue
                problem = self._refusal(order, status, custom)
                if problem:
                    errors[str(order_id)] = problem
                    continue
                processed.append(order_id)
                if custom is not None:
                    if order["custom_status_id"] == custom:
                        continue
                    name, base = CUSTOM_STATUSES[custom]
                    order.update(status=base, status_name=name, custom_status_id=custom)
                else:
                    if order["status"] == status and order["custom_status_id"] is None:
                        continue
                    order.update(status=status, status_name=STATUSES[status], custom_status_id=None)
                    if status == "canceled":
                        order["_cancellation"] = {"reason": reason, "text": text or None, "initiator": "seller"}
                order["date_modified"] = stamp(_now())
        return json_response({"processed_ids": processed, "errors": errors})

    @staticmethod
    def _refusal(order: dict[str, Any], status: str | None, custom: int | None) -> str | None:
        current = order["status"]
        name = order["status_name"]
        if custom is not None:
            if order["custom_status_id"] == custom or current in CUSTOM_FROM:
                return None
            return f"Неможливо змінити статус замовлення «{name}» на «{CUSTOM_STATUSES[custom][0]}»"
        assert status is not None
        if current == status:
            return None
        if status == "draft":
            return "Статус «Чернетка» не можна встановити"
        if status not in TRANSITIONS.get(current, ()):
            return f"Неможливо змінити статус замовлення «{name}» на «{STATUSES[status]}»"
        return None
