"""Rozetka Seller API simulator: login, order search, order status changes.

Protocol (see /work/shared/providers/rozetka.md and docs/simulators.md):

* ``POST /sites`` with ``{"username", "password": base64(password)}`` (JSON, or a form body as
  some clients send) answers ``{"success": true, "content": {"access_token", ...}}``; a plain
  or wrong password answers HTTP 200, ``success: false``, code 1004.
* Later calls carry ``Authorization: Bearer <access_token>``; the token lives 24 h; an expired
  one answers HTTP 401 with code 6001 ``session_expired``, a missing or unknown one HTTP 401
  with code 5401 ``invalid_credentials``.
* ``GET /orders/search`` (filters, ``expand``, pages of 20 with ``_meta``), ``GET /orders/{id}``,
  ``PUT /orders/{id}`` (status changes under Rozetka's transition rules),
  ``GET /order-statuses/search`` (``expand=status_available`` lists the allowed transitions).
* Errors: ``{"success": false, "errors": {"message", "code", "description", "details"}}``.

Test hooks: ``add_order(...)``, ``set_order(id, status=..., force=True)``, ``expire_token``.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import SimulatorServer, json_response, read_json

USERNAME = "sim_seller"
PASSWORD = "sim-password-123"  # noqa: S105 - a published test credential
SELLER_ID = 4242
MARKET_ID = 3131
TOKEN_TTL = timedelta(hours=24)
PER_PAGE = 20
_TIME = "%Y-%m-%d %H:%M:%S"

ERRORS = {
    1001: ("required_parameter", "Не передано обов'язковий параметр"),
    1003: ("status_change_not_allowed", "Перехід у цей статус заборонено"),
    1004: ("incorrect_username_password", "Неправильний логін або пароль"),
    1010: ("access_denied", "Доступ заборонено"),
    1019: ("entity_not_found", "Об'єкт не знайдено"),
    5401: ("invalid_credentials", "Потрібна авторизація"),
    5404: ("not_found", "Сторінку не знайдено"),
    6001: ("session_expired", "Сесія закінчилася"),
}

# id: (name ru, name uk, name en, status group, color)
STATUSES: dict[int, tuple[str, str, str, int, str]] = {
    1: ("Новый заказ", "Нове замовлення", "New order", 1, "#00a046"),
    2: ("Данные подтверждены. Ожидает отправки", "Дані підтверджено. Очікує відправлення", "Confirmed", 1, "#00a046"),
    3: ("Передан в службу доставки", "Передано до служби доставки", "Handed to carrier", 1, "#3e77aa"),
    4: ("Доставляется", "Доставляється", "Being delivered", 1, "#3e77aa"),
    5: ("Ожидает в пункте самовывоза", "Чекає в пункті самовивозу", "Waiting at pickup point", 1, "#3e77aa"),
    6: ("Посылка получена", "Посилку отримано", "Completed", 2, "#00a046"),
    7: ("Не обработан продавцом", "Не оброблено продавцем", "Not processed by seller", 3, "#f84147"),
    11: ("Посылка не забрана", "Посилку не забрано", "Not collected", 3, "#f84147"),
    12: ("Отказ при получении", "Відмова при отриманні", "Refused on receipt", 3, "#f84147"),
    13: ("Отменен администратором", "Скасовано адміністратором", "Cancelled by administrator", 3, "#f84147"),
    15: ("Некорректная ТТН", "Некоректна ТТН", "Wrong waybill", 1, "#ffa900"),
    16: ("Нет в наличии/брак", "Немає в наявності/брак", "Out of stock / defect", 3, "#f84147"),
    17: ("Отмена. Не устраивает оплата", "Скасування. Не влаштовує оплата", "Payment terms", 3, "#f84147"),
    18: ("Не удалось связаться с покупателем", "Не вдалося зв'язатися з покупцем", "Unreachable", 3, "#f84147"),
    19: ("Возврат", "Повернення", "Returned", 3, "#f84147"),
    26: ("Обрабатывается менеджером", "Обробляється менеджером", "Processed by a manager", 1, "#00a046"),
    40: ("Покупатель передумал", "Покупець передумав", "Customer changed mind", 3, "#f84147"),
    42: ("Товар закончился", "Товар закінчився", "Out of stock", 3, "#f84147"),
    45: ("Отменен покупателем", "Скасовано покупцем", "Cancelled by buyer", 3, "#f84147"),
    49: ("Дубликат заказа", "Дублікат замовлення", "Duplicate order", 3, "#f84147"),
    61: (
        "Запланирована передача в службу доставки",
        "Заплановано передачу до служби доставки",
        "Handover to carrier scheduled",
        1,
        "#3e77aa",
    ),
}

#: What a seller may move an order to from each status (the simulator's table; the real one is
#: served by /order-statuses/search?expand=status_available and this simulator serves its own).
TRANSITIONS: dict[int, tuple[int, ...]] = {
    1: (2, 26, 16, 17, 18, 40, 42, 49),
    26: (2, 16, 17, 18, 40, 42, 49),
    2: (3, 61, 16, 18, 40, 42),
    61: (3, 16, 40),
    15: (3, 61),
    3: (4, 15),
    4: (5, 6, 12, 19),
    5: (6, 11, 12),
}
#: Statuses that need a waybill number (``ttn``) in the request or already on the order.
NEEDS_TTN = (3, 61)
#: types filter of /orders/search: 2 processing, 3 succeeded, 4 new, 5 delivering, 6 failed.
TYPES = {
    2: lambda o: o["status_group"] == 1,
    3: lambda o: o["status_group"] == 2,
    4: lambda o: o["status"] == 1,
    5: lambda o: o["status"] in (3, 4, 5),
    6: lambda o: o["status_group"] == 3,
}


def _error(code: int, status: int = 200, details: Any = None) -> Response:
    message, description = ERRORS[code]
    return json_response(
        {
            "success": False,
            "errors": {"message": message, "code": code, "description": description, "details": details},
        },
        status,
    )


def _ok(content: Any) -> Response:
    return json_response({"success": True, "content": content})


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def status_data(status: int) -> dict[str, Any]:
    name, name_uk, name_en, group, color = STATUSES[status]
    return {"id": status, "name": name, "name_uk": name_uk, "name_en": name_en, "status_group": group, "color": color}


class RozetkaSimulator(SimulatorServer):
    name = "rozetka"

    def seed(self) -> None:
        with self.lock:
            self.users: dict[str, str] = {USERNAME: PASSWORD}
            self.tokens: dict[str, datetime] = {}
            self.orders: dict[int, dict[str, Any]] = {}
            self._next_id = 780000001
            base = _now() - timedelta(days=3)
            for index, (status, amount) in enumerate(((1, "640.00"), (1, "1299.50"), (26, "215.00"), (2, "89.90"))):
                self.add_order(status=status, amount=amount, created=base + timedelta(hours=index))

    def credentials(self) -> dict[str, Any]:
        return {
            "username": USERNAME,
            "password": PASSWORD,
            "password_base64": base64.b64encode(PASSWORD.encode()).decode(),
            "seeded_order_ids": sorted(self.orders)[:4],
        }

    def error_body(self, status: int, message: str) -> Any:
        code = 5404 if status == 404 else 0
        text = ERRORS[5404][0] if status == 404 else message
        return {"success": False, "errors": {"message": text, "code": code, "description": message, "details": None}}

    # -- test hooks ------------------------------------------------------------------

    def add_order(
        self,
        *,
        status: int = 1,
        amount: str = "640.00",
        user_phone: str = "380501112233",
        created: datetime | None = None,
        ttn: str | None = None,
        delivery_service_id: int = 1,
        items: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add an order (as if a buyer placed it) and return it."""
        if status not in STATUSES:
            raise ValueError(f"unknown Rozetka status {status}")
        with self.lock:
            order_id = self._next_id
            self._next_id += 1
            created = (created or _now()).replace(microsecond=0)
            stamp = created.strftime(_TIME)
            purchases = items or [
                {
                    "item_id": 100000 + order_id % 1000,
                    "item_name": "Навушники бездротові",
                    "price": amount,
                    "quantity": 1,
                }
            ]
            order = {
                "id": order_id,
                "market_id": MARKET_ID,
                "created": stamp,
                "changed": stamp,
                "amount": amount,
                "amount_with_discount": amount,
                "cost": amount,
                "cost_with_discount": amount,
                "status": status,
                "status_group": STATUSES[status][3],
                "seller_comment": [],
                "current_seller_comment": "",
                "comment": "",
                "user_phone": user_phone,
                "user_title": {
                    "full_name": "Петренко Іван",
                    "first_name": "Іван",
                    "last_name": "Петренко",
                    "second_name": "",
                },
                "from_warehouse": 0,
                "ttn": ttn,
                "total_quantity": sum(int(p.get("quantity", 1)) for p in purchases),
                "can_copy": False,
                "created_type": 0,
                "callback_off": 0,
                "duplicate_order_id": None,
                "_status_updated": stamp,
                "_history": [{"status_id": status, "created": stamp}],
                "_delivery": {
                    "delivery_service_id": delivery_service_id,
                    "delivery_service_name": "Нова Пошта" if delivery_service_id == 1 else "Rozetka Delivery",
                    "recipient_title": "Петренко Іван",
                    "recipient_first_name": "Іван",
                    "recipient_last_name": "Петренко",
                    "place_id": 1,
                    "place_street": "вул. Хрещатик",
                    "place_number": "1",
                    "place_house": "22",
                    "place_flat": "",
                    "cost": None,
                    "city": {"id": 1, "name": "Киев", "name_ua": "Київ", "region_title": "Київська"},
                    "delivery_method_id": 1,
                    "ref_id": None,
                    "name_logo": "nova-post",
                    "reserve_date": None,
                },
                "_purchases": [
                    {
                        "id": order_id * 10 + n,
                        "cost": p["price"],
                        "price": p["price"],
                        "price_with_discount": p["price"],
                        "quantity": int(p.get("quantity", 1)),
                        "item_id": p["item_id"],
                        "item_name": p["item_name"],
                        "item": {
                            "id": p["item_id"],
                            "name": p["item_name"],
                            "name_ua": p["item_name"],
                            "article": f"SKU-{p['item_id']}",
                            "price": p["price"],
                        },
                        "status": 0,
                    }
                    for n, p in enumerate(purchases)
                ],
            }
            order.update(fields)
            self.orders[order_id] = order
            return self._public(order, "delivery,purchases,status_data,order_status_history")

    def set_order(self, order_id: int, *, status: int | None = None, **fields: Any) -> dict[str, Any]:
        """Change an order as Rozetka's side would (buyer cancel, delivery progress), no rules applied."""
        with self.lock:
            order = self.orders[order_id]
            if status is not None:
                self._move(order, status)
            order.update(fields)
            order["changed"] = _now().strftime(_TIME)
            return self._public(order, "status_data")

    def expire_token(self, token: str | None = None) -> None:
        """Expire one token (or all of them): the next call answers 401 / 6001 session_expired."""
        with self.lock:
            for key in [token] if token else list(self.tokens):
                self.tokens[key] = _now() - timedelta(seconds=1)

    def _move(self, order: dict[str, Any], status: int) -> None:
        stamp = _now().strftime(_TIME)
        order["status"] = status
        order["status_group"] = STATUSES[status][3]
        order["_status_updated"] = stamp
        order["changed"] = stamp
        order["_history"].append({"status_id": status, "created": stamp})

    # -- HTTP ----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/sites", self._login, methods=["POST"]),
            Route("/orders/search", self._search, methods=["GET"]),
            Route("/orders/{order_id}", self._order, methods=["GET", "PUT"]),
            Route("/order-statuses/search", self._statuses, methods=["GET"]),
        ]

    def control_routes(self) -> list[Route]:
        async def add(request: Request) -> Response:
            data, _ = await read_json(request)
            try:
                return json_response(self.add_order(**(data or {})))
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)

        async def change(request: Request) -> Response:
            data, _ = await read_json(request)
            try:
                return json_response(self.set_order(int(request.path_params["order_id"]), **(data or {})))
            except KeyError:
                return json_response({"error": "unknown order"}, 404)
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)

        async def expire(request: Request) -> Response:
            data, _ = await read_json(request)
            self.expire_token((data or {}).get("token"))
            return json_response({"ok": True})

        return [
            Route("/__sim__/orders", add, methods=["POST"]),
            Route("/__sim__/orders/{order_id}", change, methods=["POST"]),
            Route("/__sim__/tokens/expire", expire, methods=["POST"]),
        ]

    def not_found_body(self, request: Request) -> Any:
        return {
            "success": False,
            "errors": {"message": "not_found", "code": 5404, "description": ERRORS[5404][1], "details": None},
        }

    async def _login(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            data: Any = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        else:
            data, ok = await read_json(request)
            if not ok:
                data = None
        data = data if isinstance(data, dict) else {}
        for name in ("username", "password"):
            if not data.get(name):
                return _error(1001, details={"field": name})
        try:
            password = base64.b64decode(str(data["password"]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return _error(1004)
        with self.lock:
            if self.users.get(str(data["username"])) != password:
                return _error(1004)
            token = secrets.token_urlsafe(24)
            self.tokens[token] = _now() + TOKEN_TTL
        return _ok(
            {
                "id": SELLER_ID,
                "access_token": token,
                "permissions": ["orders", "orders_update", "items", "ttn"],
                "roles": ["seller_admin"],
                "seller": {"id": SELLER_ID, "title": "Sim Shop", "username": USERNAME, "email": "shop@example.com"},
                "market": {"id": MARKET_ID, "title": "Sim Shop", "url": "https://rozetka.com.ua/seller/sim-shop/"},
                "lang": "ru",
            }
        )

    def _authorize(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(5401, 401)
        with self.lock:
            expires = self.tokens.get(token.strip())
        if expires is None:
            return _error(5401, 401)
        if expires <= _now():
            return _error(6001, 401)
        return None

    def _public(self, order: dict[str, Any], expand: str | None) -> dict[str, Any]:
        parts = {p.strip() for p in (expand or "").split(",") if p.strip()}
        result = {k: v for k, v in order.items() if not k.startswith("_")}
        if "status_data" in parts:
            result["status_data"] = status_data(order["status"])
        if "delivery" in parts:
            result["delivery"] = dict(order["_delivery"], ttn=order["ttn"])
        if "purchases" in parts:
            result["purchases"] = [dict(p) for p in order["_purchases"]]
        if "order_status_history" in parts:
            result["order_status_history"] = [dict(h) for h in order["_history"]]
        return result

    async def _search(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        q = request.query_params
        try:
            page = max(1, int(q.get("page") or 1))
            types = int(q["types"]) if q.get("types") else 1
            wanted_ids = {int(x) for x in q["id"].split(",")} if q.get("id") else None
            wanted_status = {int(x) for x in q["status"].split(",")} if q.get("status") else None
        except ValueError:
            return _error(1001, details={"field": "page/types/id/status"})

        def in_range(value: str, low: str | None, high: str | None) -> bool:
            # Dates come as "YYYY-mm-dd" or "YYYY-mm-dd HH:MM:SS"; string order matches time order.
            if low and value < low:
                return False
            return not (high and value > (high if len(high) > 10 else high + " 23:59:59"))

        with self.lock:
            rows = [
                o
                for o in self.orders.values()
                if (wanted_ids is None or o["id"] in wanted_ids)
                and (wanted_status is None or o["status"] in wanted_status)
                and (types == 1 or TYPES.get(types, lambda _o: True)(o))
                and (not q.get("ttn") or o["ttn"] == q["ttn"])
                and in_range(o["created"], q.get("created_from"), q.get("created_to"))
                and in_range(o["changed"], q.get("changed_from"), q.get("changed_to"))
                and in_range(o["_status_updated"], q.get("status_updated_from"), q.get("status_updated_to"))
            ]
            sort = q.get("sort") or "-id"
            key = sort.lstrip("-")
            if key not in ("id", "created", "changed", "amount", "status"):
                key = "id"
            rows.sort(key=lambda o: float(o[key]) if key == "amount" else o[key], reverse=sort.startswith("-"))
            total = len(rows)
            chunk = [self._public(o, q.get("expand")) for o in rows[(page - 1) * PER_PAGE : page * PER_PAGE]]
        return _ok(
            {
                "orders": chunk,
                "_meta": {
                    "totalCount": total,
                    "pageCount": math.ceil(total / PER_PAGE),
                    "currentPage": page,
                    "perPage": PER_PAGE,
                },
            }
        )

    async def _order(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        try:
            order_id = int(request.path_params["order_id"])
        except ValueError:
            return _error(1019)
        if request.method == "GET":
            with self.lock:
                order = self.orders.get(order_id)
                if order is None:
                    return _error(1019)
                return _ok(self._public(order, request.query_params.get("expand")))
        data, ok = await read_json(request)
        data = data if ok and isinstance(data, dict) else {}
        if data.get("status") in (None, ""):
            return _error(1001, details={"field": "status"})
        try:
            status = int(data["status"])
        except (TypeError, ValueError):
            return _error(1001, details={"field": "status"})
        ttn = str(data["ttn"]).strip() if data.get("ttn") not in (None, "") else None
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _error(1019)
            current = order["status"]
            if status == current == 2 and ttn:
                status = 61  # adding a waybill while "being assembled" schedules the handover
            if status != current:
                if status not in STATUSES or status not in TRANSITIONS.get(current, ()):
                    return _error(1003, details={"from": current, "to": status})
                if status in NEEDS_TTN and not (ttn or order["ttn"]):
                    return _error(1001, details={"field": "ttn"})
                if status == 49 and not data.get("duplicate_order_id"):
                    return _error(1001, details={"field": "duplicate_order_id"})
            if ttn:
                order["ttn"] = ttn
            if data.get("seller_comment"):
                comment = str(data["seller_comment"])
                order["seller_comment"].append({"comment": comment, "created": _now().strftime(_TIME)})
                order["current_seller_comment"] = comment
            if status == 49:
                order["duplicate_order_id"] = int(data["duplicate_order_id"])
            if status != current:
                self._move(order, status)
            order["changed"] = _now().strftime(_TIME)
            return _ok(self._public(order, "status_data"))

    async def _statuses(self, request: Request) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        expand = {p.strip() for p in (request.query_params.get("expand") or "").split(",")}
        rows = []
        for status in STATUSES:
            row = status_data(status)
            if "status_available" in expand:
                row["status_available"] = [
                    {"parent_id": status, "child_id": child, "delivery_type": None}
                    for child in TRANSITIONS.get(status, ())
                ]
            rows.append(row)
        return _ok(
            {
                "orderStatuses": rows,
                "_meta": {"totalCount": len(rows), "pageCount": 1, "currentPage": 1, "perPage": len(rows)},
            }
        )
