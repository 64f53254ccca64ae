"""Rozetka Seller API (https://api-seller.rozetka.com.ua): orders in, status changes out.

Protocol (the provider notes in docs/marketplaces.md and docs/simulators.md):

* ``POST /sites`` with ``{"username", "password": base64(password)}`` gives a bearer token
  (``content.access_token``) living about 24 h. Every later call sends
  ``Authorization: Bearer <token>``. An expired token answers 6001 ``session_expired``, an
  unknown one 5401 ``invalid_credentials`` (HTTP 401): the plugin signs in again ONCE and
  repeats the call.
* Answers are envelopes ``{"success": true, "content": ...}`` or ``{"success": false,
  "errors": {"message", "code", "details"}}``, usually with HTTP 200: the ``success`` flag
  decides, not the HTTP status.
* ``GET /orders/search`` (pages of 20) lists orders changed since the cursor;
  ``PUT /orders/{id}`` changes the status under Rozetka's transition rules, which the plugin
  reads from ``GET /order-statuses/search?expand=status_available`` and checks before
  calling, so a forbidden move fails with a clear message without touching the order.

State: the only thing kept between calls is the bearer token, in ``_TOKENS`` keyed by the
installation id, the API URL, the username and a hash of the password (so a changed password
is a new key), with its expiry. It is a per-process cache, never written anywhere, never
logged; losing it only costs one extra sign-in. Everything else comes from the arguments.

Times: Rozetka stamps are ``YYYY-mm-dd HH:MM:SS`` without a zone; they are read as Kyiv time
(``time_zone`` setting). The sync cursor keeps Rozetka's own stamps, so the zone never
affects which orders are fetched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from plugins.rozetka.statuses import NAMES
from server.i18n import _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import ProviderClient
from server.plugins.status_mapping import read_status_mapping
from server.plugins.types import (
    MARKETPLACE,
    ConfigField,
    ConnectionResult,
    Installation,
    MarketplaceOrder,
    MarketplaceOrderItem,
    OrderBatch,
    PluginError,
    PluginInfo,
)

NAME = "rozetka"
PROVIDER = "Rozetka"
API_URL = "https://api-seller.rozetka.com.ua"
VERSION = "1.0.0"

#: HTTP timeouts for one request (the CRM gives a hook 30 s in all, retries included).
TIMEOUT: httpx.Timeout | float = httpx.Timeout(8.0, connect=4.0)
#: Tries per request on 5xx / 429 / timeouts (ProviderClient's backoff, Retry-After honoured).
ATTEMPTS = 3
#: Pages of 20 orders read per ``crm_marketplace_fetch_orders`` call; more -> ``has_more``.
PAGES_PER_CALL = 5
#: How far back the first sync looks.
INITIAL_DAYS = 7
#: Each sync re-reads orders changed in this window before the last stamp seen, so an order
#: changed while the previous sync was paging is never skipped (re-reading is harmless).
OVERLAP = timedelta(minutes=5)
TOKEN_TTL = 23 * 3600.0  # Rozetka says about 24 h; renew a little earlier
EXPAND = "delivery,purchases,status_data"
STAMP = "%Y-%m-%d %H:%M:%S"

# Error codes of the Seller API.
REQUIRED_PARAMETER = 1001
INCORRECT_USERNAME_PASSWORD = 1004
ACCESS_DENIED = 1010
ENTITY_NOT_FOUND = 1019
INVALID_CREDENTIALS = 5401
NOT_FOUND = 5404
SESSION_EXPIRED = 6001
TOKEN_ERRORS = (INVALID_CREDENTIALS, SESSION_EXPIRED)

#: Statuses that need a waybill number (``ttn``) on the order or in the request.
NEEDS_TTN = (3, 61)
#: Needs ``duplicate_order_id``, which the CRM does not know: refused locally.
DUPLICATE = 49

#: Rozetka status id -> the CRM's default status code (server/organizations/defaults.py).
DEFAULT_TO_CRM: dict[str, str] = {
    "1": "new",  # new order
    "26": "processing",  # processed by a manager
    "2": "processing",  # data confirmed, waiting to be sent
    "61": "packed",  # handover to the carrier scheduled
    "3": "shipped",  # handed to the carrier
    "4": "in_transit",
    "5": "arrived",  # waiting at the pickup point
    "6": "delivered",
    "7": "cancelled",  # not processed by the seller within a day
    "13": "cancelled",
    "16": "cancelled",
    "17": "cancelled",
    "18": "cancelled",
    "40": "cancelled",
    "42": "cancelled",
    "45": "cancelled",
    "49": "cancelled",
    "11": "refused",  # not collected
    "12": "refused",  # refused on receipt
    "19": "returned",
}
#: CRM status code -> the Rozetka status the seller moves the order to. Statuses Rozetka learns
#: from the carrier itself (in transit, delivered, returned...) are not pushed.
DEFAULT_FROM_CRM: dict[str, str] = {
    "processing": "26",
    "picking": "2",
    "packed": "2",
    "shipped": "3",
    "cancelled": "40",
}

_TOKENS: dict[tuple[str, str, str, str], tuple[str, float]] = {}


def forget_tokens() -> None:
    """Drop every cached token (tests; a process that wants a clean slate)."""
    _TOKENS.clear()


# -- hooks: who we are and what we need ---------------------------------------------------------


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        title="Rozetka",
        version=VERSION,
        capabilities=(MARKETPLACE,),
        api_version=API_VERSION,
        description="Imports Rozetka marketplace orders and sends your status changes back to Rozetka.",
        homepage="https://seller.rozetka.com.ua/",
    )


@hookimpl
def crm_config_schema() -> list[ConfigField]:
    return [
        ConfigField(
            "username", "string", required=True, label="Username", help="The seller cabinet login (Rozetka Seller API)."
        ),
        ConfigField(
            "password",
            "string",
            required=True,
            secret=True,
            label="Password",
            help="The seller cabinet password as you type it; the plugin encodes it as Rozetka requires.",
        ),
        ConfigField("api_url", "url", label="API URL", help="Change only for testing.", default=API_URL),
        ConfigField(
            "status_mapping",
            "text",
            label="Status mapping",
            help=(
                'JSON overriding the defaults: {"to_crm": {"<Rozetka status id>": "<CRM status code>" or null}, '
                '"from_crm": {"<CRM status code>": "<Rozetka status id>" or null}}. null: do not map.'
            ),
        ),
        ConfigField(
            "time_zone", "string", label="Time zone", help="The zone of Rozetka's time stamps.", default="Europe/Kyiv"
        ),
    ]


# -- status mapping ---------------------------------------------------------------------------------


def mapping(config: dict) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(to_crm, from_crm): the defaults with the installation's ``status_mapping`` applied."""
    problem = PluginError(
        _(
            'The status mapping is not valid: expected JSON like {"to_crm": {"1": "new"}, "from_crm": {"shipped": '
            '"3"}}.'
        ),
        code="BAD_CONFIG",
    )
    to_crm, from_crm = read_status_mapping(config, DEFAULT_TO_CRM, DEFAULT_FROM_CRM, problem)
    for value in from_crm.values():
        if value is not None and not value.isdigit():
            raise PluginError(
                _("from_crm maps to '%(value)s', which is not a Rozetka status id.", value=value), code="BAD_CONFIG"
            )
    return to_crm, from_crm


@hookimpl
def crm_marketplace_status_to_crm(config: dict, status: str) -> str | None:
    return mapping(config)[0].get(str(status))


@hookimpl
def crm_marketplace_status_from_crm(config: dict, status: str) -> str | None:
    return mapping(config)[1].get(str(status))


# -- the API session ---------------------------------------------------------------------------------


@dataclass
class Answer:
    """An envelope: ``ok`` with ``content``, or the error ``code``/``message``/``details``."""

    ok: bool
    content: Any = None
    code: int | None = None
    message: str = ""
    details: Any = None
    http_status: int = 200


def _envelope(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "success" not in body:
        raise PluginError(
            _(
                "%(provider)s answered HTTP %(status_code)s with something that is not its API envelope; check the "
                "API URL or try again later.",
                provider=PROVIDER,
                status_code=response.status_code,
            ),
            code="BAD_RESPONSE",
            retryable=response.status_code >= 500 or response.status_code in (200, 502),
        )
    if body.get("success") is True:
        return Answer(True, body.get("content"), http_status=response.status_code)
    errors = body.get("errors") or {}
    if not isinstance(errors, dict):
        errors = {"message": str(errors)}
    code = errors.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return Answer(
        False,
        code=code,
        message=str(errors.get("message") or errors.get("description") or "error"),
        details=errors.get("details"),
        http_status=response.status_code,
    )


def _describe(answer: Answer) -> str:
    message = str(answer.message)[:200]
    return f"{message} (code {answer.code})" if answer.code is not None else message


class Session:
    """One hook call's conversation with Rozetka for one installation."""

    def __init__(self, installation: Installation | None, config: dict, secrets: dict):
        self.username = str(config.get("username") or "").strip()
        self.password = str(secrets.get("password") or "")
        if not self.username or not self.password:
            raise PluginError(_("Enter the Rozetka username and password in the plugin settings."), code="BAD_CONFIG")
        self.api_url = str(config.get("api_url") or API_URL).rstrip("/")
        digest = hashlib.sha256(self.password.encode()).hexdigest()
        self.key = (installation.id if installation else "", self.api_url, self.username, digest)
        self.client = ProviderClient(PROVIDER, base_url=self.api_url, timeout=TIMEOUT, attempts=ATTEMPTS)
        self.login_content: dict | None = None

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def login(self) -> str:
        encoded = base64.b64encode(self.password.encode()).decode()
        # Signing in creates nothing: safe to retry (POSTs are tried once unless told).
        response = await self.client.request(
            "POST", "/sites", json={"username": self.username, "password": encoded}, retry=True
        )
        answer = _envelope(response)
        if not answer.ok:
            if answer.code == INCORRECT_USERNAME_PASSWORD:
                raise PluginError(
                    _(
                        "Rozetka rejected the username or password: check them in the plugin settings "
                        "(enter the password as you type it in the seller cabinet)."
                    ),
                    code="BAD_CREDENTIALS",
                )
            raise PluginError(
                _("Rozetka refused to sign in: %(describe)s.", describe=_describe(answer)), code=str(answer.code or "")
            )
        content = answer.content if isinstance(answer.content, dict) else {}
        token = content.get("access_token")
        if not token:
            raise PluginError(_("Rozetka signed in but sent no access token; try again later."), retryable=True)
        self.login_content = content
        _TOKENS[self.key] = (str(token), time.monotonic() + TOKEN_TTL)
        return str(token)

    async def token(self) -> str:
        cached = _TOKENS.get(self.key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return await self.login()

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        """An authorized call; on an expired or unknown token, sign in again once and repeat."""
        for attempt in (1, 2):
            token = await self.token()
            response = await self.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            answer = _envelope(response)
            if not answer.ok and answer.code in TOKEN_ERRORS:
                _TOKENS.pop(self.key, None)
                if attempt == 1:
                    continue
                raise PluginError(
                    _(
                        "Rozetka does not accept a fresh sign-in token: %(describe)s; try again later.",
                        describe=_describe(answer),
                    ),
                    code="SESSION",
                    retryable=True,
                )
            if not answer.ok and answer.code == NOT_FOUND:
                raise PluginError(
                    _(
                        "Rozetka has no %(endpoint)s endpoint: check the API URL in the plugin settings.",
                        endpoint=path.split("?")[0],
                    ),
                    code="NOT_FOUND",
                )
            if not answer.ok and answer.code == ACCESS_DENIED:
                raise PluginError(
                    _("Rozetka denied access: the seller account needs the orders permissions."), code="ACCESS_DENIED"
                )
            return answer
        raise AssertionError("unreachable")  # pragma: no cover


# -- connection test ---------------------------------------------------------------------------------


@hookimpl
async def crm_test_connection(installation: Installation, config: dict, secrets: dict) -> ConnectionResult:
    mapping(config)  # a broken mapping is worth knowing now
    _zone(config)
    async with Session(installation, config, secrets) as session:
        await session.login()
        answer = await session.call("GET", "/orders/search", params={"page": 1})
        if not answer.ok:
            return ConnectionResult(
                False, _("Signed in, but listing orders failed: %(reason)s.", reason=_describe(answer))
            )
        market = ((session.login_content or {}).get("market") or {}).get("title") or ""
        total = ((answer.content or {}).get("_meta") or {}).get("totalCount")
        if total is None:
            message = _("Connected to %(shop)s; some orders visible.", shop=market or "Rozetka")
        else:
            message = _("Connected to %(shop)s; %(n)s orders visible.", shop=market or "Rozetka", n=total)
        return ConnectionResult(True, message)


# -- orders in ---------------------------------------------------------------------------------------


def _zone(config: dict) -> ZoneInfo:
    name = str((config or {}).get("time_zone") or "Europe/Kyiv")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PluginError(
            _("'%(name)s' is not a time zone (e.g. Europe/Kyiv).", name=name), code="BAD_CONFIG"
        ) from None


def _parse_stamp(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value)[:19], STAMP)
    except (TypeError, ValueError):
        return None


def _aware(value: Any, zone: ZoneInfo) -> datetime:
    moment = _parse_stamp(value)
    return moment.replace(tzinfo=zone).astimezone(UTC) if moment else datetime.now(UTC)


def _decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else default))
    except InvalidOperation:
        return Decimal(default)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def to_order(raw: dict, zone: ZoneInfo) -> MarketplaceOrder:
    """One Rozetka order (with ``expand=delivery,purchases``) as a ``MarketplaceOrder``."""
    user = raw.get("user_title") or {}
    delivery = raw.get("delivery") or {}
    city = delivery.get("city") or {}
    items = []
    for purchase in raw.get("purchases") or []:
        item = purchase.get("item") or {}
        items.append(
            MarketplaceOrderItem(
                sku=_text(item.get("article") or purchase.get("item_id") or item.get("id"))[:64] or "rozetka",
                title=_text(purchase.get("item_name") or item.get("name_ua") or item.get("name"))[:300] or "—",
                quantity=_decimal(purchase.get("quantity"), "1"),
                unit_price=_decimal(purchase.get("price_with_discount") or purchase.get("price")),
                external_id=_text(purchase.get("id")),
            )
        )
    address = ", ".join(x for x in (_text(delivery.get("place_street")), _text(delivery.get("place_house"))) if x)
    if _text(delivery.get("place_flat")):
        address += f", кв. {_text(delivery.get('place_flat'))}"
    return MarketplaceOrder(
        external_id=str(raw["id"]),
        status=str(raw.get("status")),
        created_at=_aware(raw.get("created"), zone),
        changed_at=_aware(raw.get("changed") or raw.get("created"), zone),
        buyer_name=_text(user.get("full_name"))
        or " ".join(x for x in (_text(user.get("last_name")), _text(user.get("first_name"))) if x),
        buyer_phone=_text(raw.get("user_phone")),
        total=_decimal(raw.get("amount_with_discount") or raw.get("amount") or raw.get("cost")),
        currency="UAH",
        items=items,
        delivery={
            "method": _text(delivery.get("delivery_service_name")),
            "recipient_name": _text(delivery.get("recipient_title")),
            "city": _text(city.get("name_ua") or city.get("name")),
            "branch": _text(delivery.get("place_number")),
            "address": address,
            "waybill_number": _text(raw.get("ttn") or delivery.get("ttn")),
        },
        comment=_text(raw.get("comment")),
        raw={k: raw.get(k) for k in ("id", "status", "status_group", "created", "changed", "amount", "ttn")},
    )


def _read_cursor(cursor: str | None) -> dict:
    if cursor:
        try:
            data = json.loads(cursor)
            if isinstance(data, dict) and _parse_stamp(data.get("from")):
                return {"from": data["from"], "page": max(1, int(data.get("page") or 1)), "max": data.get("max")}
        except (ValueError, TypeError):
            pass
        if _parse_stamp(cursor):  # a bare stamp
            return {"from": str(cursor)[:19], "page": 1, "max": None}
    return {"from": None, "page": 1, "max": None}


@hookimpl
async def crm_marketplace_fetch_orders(
    installation: Installation, config: dict, secrets: dict, cursor: str | None
) -> OrderBatch:
    """Orders changed since the cursor, oldest id first, up to ``PAGES_PER_CALL`` pages.

    Pages are ordered by id, which never changes, so an order changing while we page cannot
    shift another one out of view. The cursor is JSON: ``from`` (Rozetka's ``changed_from``),
    ``page`` (where to go on when ``has_more``) and ``max`` (the latest ``changed`` seen)."""
    zone = _zone(config)
    state = _read_cursor(cursor)
    if state["from"] is None:
        state["from"] = (datetime.now(zone) - timedelta(days=INITIAL_DAYS)).strftime(STAMP)
    latest = state["max"]
    orders: list[MarketplaceOrder] = []
    page = state["page"]
    async with Session(installation, config, secrets) as session:
        for _page in range(PAGES_PER_CALL):
            params = {"changed_from": state["from"], "sort": "id", "page": page, "expand": EXPAND}
            answer = await session.call("GET", "/orders/search", params=params)
            if not answer.ok:
                raise PluginError(
                    _("Rozetka refused the order search: %(describe)s.", describe=_describe(answer)),
                    code=str(answer.code),
                )
            content = answer.content or {}
            for raw in content.get("orders") or []:
                orders.append(to_order(raw, zone))
                changed = _text(raw.get("changed"))
                if _parse_stamp(changed) and (latest is None or changed > latest):
                    latest = changed
            meta = content.get("_meta") or {}
            page_count = int(meta.get("pageCount") or 0)
            if page >= page_count:
                break
            page += 1
        else:  # PAGES_PER_CALL pages read and more are left: go on from the next one
            next_state = {"from": state["from"], "page": page, "max": latest}
            return OrderBatch(orders, json.dumps(next_state, separators=(",", ":")), has_more=True)
    start = _parse_stamp(state["from"])
    seen = _parse_stamp(latest) if latest else None
    new_from = state["from"]
    if seen is not None and start is not None:
        new_from = max(start, seen - OVERLAP).strftime(STAMP)
    return OrderBatch(orders, json.dumps({"from": new_from}, separators=(",", ":")), has_more=False)


# -- status out --------------------------------------------------------------------------------------


async def allowed_transitions(session: Session) -> dict[int, list[tuple[int, Any]]]:
    """Rozetka's table: status -> [(next status, delivery_type or None)]."""
    answer = await session.call("GET", "/order-statuses/search", params={"expand": "status_available"})
    if not answer.ok:
        raise PluginError(
            _("Rozetka did not list its status rules: %(describe)s.", describe=_describe(answer)), retryable=True
        )
    table: dict[int, list[tuple[int, Any]]] = {}
    for row in (answer.content or {}).get("orderStatuses") or []:
        for move in row.get("status_available") or []:
            try:
                table.setdefault(int(move["parent_id"]), []).append((int(move["child_id"]), move.get("delivery_type")))
            except (KeyError, TypeError, ValueError):
                continue
    return table


def _status_name(status: int) -> str:
    return f"{NAMES.get(status, 'status')} ({status})"


@hookimpl
async def crm_marketplace_push_status(
    installation: Installation,
    config: dict,
    secrets: dict,
    external_id: str,
    status: str,
    waybill_number: str | None,
) -> None:
    try:
        order_id, target = int(str(external_id).strip()), int(str(status).strip())
    except ValueError:
        raise PluginError(
            _(
                "'%(external_id)s' / '%(status)s' is not a Rozetka order id / status id.",
                external_id=external_id,
                status=status,
            ),
            code="INVALID",
        ) from None
    ttn = _text(waybill_number) or None
    async with Session(installation, config, secrets) as session:
        found = await session.call("GET", f"/orders/{order_id}", params={"expand": "delivery"})
        if not found.ok:
            if found.code == ENTITY_NOT_FOUND:
                raise PluginError(_("Rozetka has no order %(order_id)s.", order_id=order_id), code="ORDER_NOT_FOUND")
            raise PluginError(
                _(
                    "Rozetka did not show order %(order_id)s: %(describe)s.",
                    order_id=order_id,
                    describe=_describe(found),
                ),
                code=str(found.code),
            )
        order = found.content or {}
        current = int(order.get("status") or 0)
        if current == target:
            return  # already there (a repeated push): nothing to do
        rules = await allowed_transitions(session)
        delivery = order.get("delivery") or {}
        kinds = {delivery.get("delivery_service_id"), delivery.get("delivery_method_id")}
        allowed = sorted({child for child, kind in rules.get(current, []) if kind is None or kind in kinds})
        if target not in allowed:
            what = ", ".join(_status_name(s) for s in allowed) if allowed else "nothing (the status is final)"
            raise PluginError(
                _(
                    "Rozetka does not allow moving order %(order_id)s from %(current)s to %(target)s; from there the "
                    "seller may set: %(allowed)s.",
                    order_id=order_id,
                    current=_status_name(current),
                    target=_status_name(target),
                    allowed=what,
                ),
                code="TRANSITION_NOT_ALLOWED",
            )
        if target in NEEDS_TTN and not (ttn or _text(order.get("ttn"))):
            raise PluginError(
                _(
                    "Rozetka needs the waybill number (TTN) to set %(status_name)s: add it to the order first.",
                    status_name=_status_name(target),
                ),
                code="WAYBILL_REQUIRED",
            )
        if target == DUPLICATE:
            raise PluginError(
                _("Marking a Rozetka order as a duplicate needs the other order's id: do it in the seller cabinet."),
                code="DUPLICATE_ID_REQUIRED",
            )
        body: dict[str, Any] = {"status": target}
        if ttn and target in NEEDS_TTN:
            body["ttn"] = ttn
        answer = await session.call("PUT", f"/orders/{order_id}", json=body)
        if not answer.ok:
            if answer.code == ENTITY_NOT_FOUND:
                raise PluginError(_("Rozetka has no order %(order_id)s.", order_id=order_id), code="ORDER_NOT_FOUND")
            raise PluginError(
                _(
                    "Rozetka refused to move order %(order_id)s to %(status_name)s: %(describe)s.",
                    order_id=order_id,
                    status_name=_status_name(target),
                    describe=_describe(answer),
                ),
                code=str(answer.code or "REFUSED"),
            )
