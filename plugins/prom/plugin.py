"""Prom.ua API v1 (https://my.prom.ua/api/v1): orders in, status changes out.

Protocol (the provider notes, docs/marketplaces.md#promua and docs/simulators.md#promua):

* ``Authorization: Bearer <API token>`` on every call; the token is made in the Prom.ua
  cabinet. A 401 or 403 is a bad token (or one without the orders right): never retried.
* ``GET /orders/list`` with ``last_modified_from`` and ``limit``, newest first; the next page
  is asked with ``last_id`` = the smallest id seen (Prom pages by id, which never changes, so
  an order changing while we page cannot shift another out of view), until a page is empty.
* ``GET /orders/{id}`` reads one order; ``POST /orders/set_status`` with ``status`` (or
  ``custom_status_id``) and ``ids``; a cancel needs ``cancellation_reason`` and, for
  ``price_changed``, ``not_enough_fields`` and ``another``, a ``cancellation_text``.

Assumed (not confirmed by Prom's notes; the simulator follows the same assumptions): errors
come as ``{"error": "..."}`` with the HTTP status (the plugin also reads ``message``,
``detail`` and ``errors``); ``set_status`` answers ``{"processed_ids": [...], "errors":
{"<id>": "..."}}``; orders carry ``date_modified`` and, in a custom status, ``custom_status_id``.

A status change is a POST, which ``ProviderClient`` never repeats by itself. The push reads
the order first (nothing to do when Prom already has the status, so a rerun of the job never
sets it twice); when Prom fails after the request went out (a 500, a timeout:
``OUTCOME_UNKNOWN``) the plugin reads the order back: applied is success; not applied is a
retryable error, and the job's next try starts again by reading the order. A status set twice
would be harmless anyway, but it is never sent blindly.

State: none. Every call builds its client from the arguments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from server.i18n import _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import OUTCOME_UNKNOWN, ProviderClient
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

NAME = "prom"
PROVIDER = "Prom.ua"
API_URL = "https://my.prom.ua/api/v1"
VERSION = "1.0.0"
KYIV = ZoneInfo("Europe/Kyiv")

#: HTTP timeouts for one request (the CRM gives a hook 30 s in all, retries included).
TIMEOUT: httpx.Timeout | float = httpx.Timeout(8.0, connect=4.0)
#: Tries per GET on 5xx / 429 / timeouts (ProviderClient's backoff, Retry-After honoured).
ATTEMPTS = 3
#: Orders per page (Prom's ``limit``, at most 100) and pages per ``crm_marketplace_fetch_orders``.
LIMIT = 100
PAGES_PER_CALL = 5
#: How far back the first sync looks.
INITIAL_DAYS = 7
#: Each sync re-reads orders changed in this window before the last change seen, so an order
#: changed while the previous sync was paging is never skipped (re-reading is harmless).
OVERLAP = timedelta(minutes=5)

STATUSES = ("pending", "received", "delivered", "canceled", "draft", "paid")
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
#: Reasons Prom accepts only with a ``cancellation_text``.
NEEDS_TEXT = ("price_changed", "not_enough_fields", "another")
DEFAULT_REASON = "buyers_request"
CUSTOM = "custom:"

#: Prom status -> the CRM's default status code (server/organizations/defaults.py). ``paid``
#: and ``draft`` leave the CRM order's status alone (a payment is not a step of the flow).
DEFAULT_TO_CRM: dict[str, str | None] = {
    "pending": "new",
    "received": "processing",
    "delivered": "delivered",
    "canceled": "cancelled",
    "paid": None,
    "draft": None,
}
#: CRM status code -> the Prom status set. Prom has no steps between "accepted" and "done",
#: so the CRM's picking, packing and shipping all mean ``received`` (pushed once).
DEFAULT_FROM_CRM: dict[str, str | None] = {
    "processing": "received",
    "picking": "received",
    "packed": "received",
    "shipped": "received",
    "delivered": "delivered",
    "cancelled": "canceled",
}


# -- hooks: who we are and what we need ---------------------------------------------------------


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        title="Prom.ua",
        version=VERSION,
        capabilities=(MARKETPLACE,),
        api_version=API_VERSION,
        description="Imports Prom.ua marketplace orders and sends your status changes back to Prom.ua.",
        homepage="https://prom.ua/",
    )


@hookimpl
def crm_config_schema() -> list[ConfigField]:
    return [
        ConfigField(
            "token",
            "string",
            required=True,
            secret=True,
            label="API token",
            help="Made in the Prom.ua cabinet (Settings, API management) with access to orders.",
        ),
        ConfigField("api_url", "url", label="API URL", help="Change only for testing.", default=API_URL),
        ConfigField(
            "status_mapping",
            "text",
            label="Status mapping",
            help=(
                'JSON overriding the defaults: {"to_crm": {"<Prom status or custom:<id>>": "<CRM status code>" or '
                'null}, "from_crm": {"<CRM status code>": "<Prom status>", "custom:<id>", "canceled:<reason>" or '
                "null}}. null: do not map."
            ),
        ),
        ConfigField(
            "cancellation_reason",
            "choice",
            label="Cancellation reason",
            help="The reason Prom.ua is given when an order is cancelled in the CRM.",
            default=DEFAULT_REASON,
            choices=CANCELLATION_REASONS,
        ),
        ConfigField(
            "cancellation_text",
            "string",
            label="Cancellation text",
            help="Sent with the reason; Prom.ua requires it for price_changed, not_enough_fields and another.",
        ),
    ]


# -- status mapping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What ``set_status`` is asked to do: a base status (with the cancellation details) or a
    custom status id."""

    status: str | None = None
    custom_status_id: int | None = None
    reason: str | None = None
    text: str | None = None

    def body(self, order_id: int) -> dict[str, Any]:
        if self.custom_status_id is not None:
            return {"custom_status_id": self.custom_status_id, "ids": [order_id]}
        body: dict[str, Any] = {"status": self.status, "ids": [order_id]}
        if self.status == "canceled":
            body["cancellation_reason"] = self.reason
            if self.text:
                body["cancellation_text"] = self.text
        return body

    def label(self) -> str:
        if self.custom_status_id is not None:
            return f"{CUSTOM}{self.custom_status_id}"
        return str(self.status)


def _bad_value(value: str) -> PluginError:
    return PluginError(
        _(
            "'%(value)s' is not a Prom.ua status: use one of %(statuses)s, custom:<id> or canceled:<reason>.",
            value=value,
            statuses=", ".join(STATUSES),
        ),
        code="BAD_CONFIG",
    )


def target_of(value: str, config: dict | None) -> Target:
    """The mapped value (``received``, ``custom:137639``, ``canceled`` or
    ``canceled:<reason>``) as a ``Target``, the cancellation details from the settings.
    Raises ``PluginError(code="BAD_CONFIG")`` for what Prom would refuse."""
    config = config or {}
    value = str(value).strip()
    if value.startswith(CUSTOM):
        number = value[len(CUSTOM) :].strip()
        if not number.isdigit():
            raise _bad_value(value)
        return Target(custom_status_id=int(number))
    status, _sep, reason = value.partition(":")
    if status not in STATUSES or (reason and status != "canceled"):
        raise _bad_value(value)
    if status != "canceled":
        return Target(status=status)
    reason = reason.strip() or str(config.get("cancellation_reason") or DEFAULT_REASON).strip()
    if reason not in CANCELLATION_REASONS:
        raise PluginError(
            _(
                "'%(reason)s' is not a Prom.ua cancellation reason: use one of %(reasons)s.",
                reason=reason,
                reasons=", ".join(CANCELLATION_REASONS),
            ),
            code="BAD_CONFIG",
        )
    text = str(config.get("cancellation_text") or "").strip() or None
    if reason in NEEDS_TEXT and not text:
        raise PluginError(
            _(
                "Prom.ua needs a cancellation text with the reason '%(reason)s': fill in 'Cancellation text' in "
                "the plugin settings, or choose another reason.",
                reason=reason,
            ),
            code="CANCELLATION_TEXT_REQUIRED",
        )
    return Target(status="canceled", reason=reason, text=text)


def mapping(config: dict) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(to_crm, from_crm): the defaults with the installation's ``status_mapping`` applied."""
    problem = PluginError(
        _(
            'The status mapping is not valid: expected JSON like {"to_crm": {"pending": "new"}, "from_crm": '
            '{"cancelled": "canceled"}}.'
        ),
        code="BAD_CONFIG",
    )
    to_crm, from_crm = read_status_mapping(config, DEFAULT_TO_CRM, DEFAULT_FROM_CRM, problem)
    for value in from_crm.values():
        if value is not None:
            target_of(value, {"cancellation_text": "-"})  # the shape only; the text is checked when used
    return to_crm, from_crm


@hookimpl
def crm_marketplace_status_to_crm(config: dict, status: str) -> str | None:
    to_crm = mapping(config)[0]
    status = str(status)
    if status in to_crm:
        return to_crm[status]
    base = status.partition(":")[0]  # "canceled:another" as pushed -> "canceled"
    return to_crm.get(base) if base in STATUSES else None


@hookimpl
def crm_marketplace_status_from_crm(config: dict, status: str) -> str | None:
    return mapping(config)[1].get(str(status))


# -- the API ----------------------------------------------------------------------------------------


def _error_text(response: httpx.Response) -> str:
    """Prom's reason: ``{"error": "..."}`` (assumed), or another usual key, or the status."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "errors"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail") or json.dumps(value, ensure_ascii=False)
            if value:
                return str(value)[:300]
    return f"HTTP {response.status_code}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class Api:
    """One hook call's conversation with Prom.ua for one installation."""

    def __init__(self, config: dict, secrets: dict):
        token = str((secrets or {}).get("token") or "").strip()
        if not token:
            raise PluginError(_("Enter the Prom.ua API token in the plugin settings."), code="BAD_CONFIG")
        self.api_url = str((config or {}).get("api_url") or API_URL).rstrip("/")
        self.client = ProviderClient(
            PROVIDER,
            base_url=self.api_url,
            timeout=TIMEOUT,
            attempts=ATTEMPTS,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    def check(self, response: httpx.Response, path: str) -> dict:
        """The JSON object of a 2xx answer; the token and other refusals as ``PluginError``."""
        status = response.status_code
        if status == 401:
            raise PluginError(
                _(
                    "Prom.ua rejected the API token (%(reason)s): check the token in the plugin settings; a new one "
                    "is made in the Prom.ua cabinet under Settings, API management.",
                    reason=_error_text(response),
                ),
                code="BAD_CREDENTIALS",
            )
        if status == 403:
            raise PluginError(
                _(
                    "Prom.ua refused this API token access (%(reason)s): check the token in the plugin settings and "
                    "that it has the right to read and change orders.",
                    reason=_error_text(response),
                ),
                code="BAD_CREDENTIALS",
            )
        if status == 404 and not ONE_ORDER.fullmatch(path):
            raise PluginError(
                _("Prom.ua has no %(endpoint)s endpoint: check the API URL in the plugin settings.", endpoint=path),
                code="NOT_FOUND",
            )
        if status >= 400:
            raise PluginError(
                _("Prom.ua refused the request: %(reason)s.", reason=_error_text(response)),
                code="NOT_FOUND" if status == 404 else "REFUSED",
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PluginError(
                _(
                    "%(provider)s answered HTTP %(status_code)s with something that is not its API's JSON; check the "
                    "API URL or try again later.",
                    provider=PROVIDER,
                    status_code=status,
                ),
                code="BAD_RESPONSE",
                retryable=True,
            )
        return body

    async def get(self, path: str, params: dict | None = None) -> dict:
        response = await self.client.request("GET", path, params=params)
        return self.check(response, path)

    async def order(self, order_id: int) -> dict:
        try:
            body = await self.get(f"/orders/{order_id}")
        except PluginError as exc:
            if exc.code == "NOT_FOUND":
                raise PluginError(
                    _("Prom.ua has no order %(order_id)s.", order_id=order_id), code="ORDER_NOT_FOUND"
                ) from None
            raise
        order = body.get("order")
        if not isinstance(order, dict):
            raise PluginError(
                _("Prom.ua answered without the order %(order_id)s; try again later.", order_id=order_id),
                code="BAD_RESPONSE",
                retryable=True,
            )
        return order


# -- connection test ---------------------------------------------------------------------------------


@hookimpl
async def crm_test_connection(config: dict, secrets: dict) -> ConnectionResult:
    _to_crm, from_crm = mapping(config)
    targets = [target_of(value, config) for value in from_crm.values() if value is not None]
    async with Api(config, secrets) as api:
        body = await api.get("/orders/list", {"limit": 1})
        orders = body.get("orders") if isinstance(body.get("orders"), list) else []
        wanted = sorted({t.custom_status_id for t in targets if t.custom_status_id is not None})
        if wanted:
            options = await api.get("/order_status_options/list")
            rows = next((v for v in options.values() if isinstance(v, list)), [])
            known = {
                int(r["id"]): _text(r.get("name")) for r in rows if isinstance(r, dict) and str(r.get("id")).isdigit()
            }
            missing = [n for n in wanted if n not in known]
            if missing:
                listed = ", ".join(f"{k} ({v})" for k, v in sorted(known.items())) or "—"
                return ConnectionResult(
                    False,
                    _(
                        "Connected, but the status mapping names custom statuses Prom.ua does not have: %(missing)s. "
                        "The shop's custom statuses: %(listed)s.",
                        missing=", ".join(str(n) for n in missing),
                        listed=listed,
                    ),
                )
    if orders:
        return ConnectionResult(
            True, _("Connected to Prom.ua; the latest order is %(order_id)s.", order_id=orders[0].get("id"))
        )
    return ConnectionResult(True, _("Connected to Prom.ua; no orders yet."))


# -- orders in ---------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """Prom's ISO 8601 stamp (with its offset; none means Kyiv) as an aware datetime."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=KYIV)


def format_time(moment: datetime) -> str:
    return moment.astimezone(KYIV).replace(microsecond=0).isoformat()


_NOT_NUMBER = re.compile(r"[^0-9.,-]")
ONE_ORDER = re.compile(r"/orders/\d+")


def money(value: Any, default: str = "0") -> Decimal:
    """A Prom amount ("201.25"; "1 299,50 грн" read too) as Decimal, never a float."""
    if value is None or value == "":
        return Decimal(default)
    text = _NOT_NUMBER.sub("", str(value))
    if not any(c.isdigit() for c in text):
        raise ValueError(value)  # "за домовленістю", "n/a": no amount at all
    if "," in text and "." in text and text.rfind(".") > text.rfind(","):
        text = text.replace(",", "")  # 1,299.50
    elif "," in text:
        text = text.replace(".", "").replace(",", ".")  # 1299,50 or 1.299,50
    try:
        return Decimal(text.strip(".")) if text else Decimal(default)
    except InvalidOperation:
        raise ValueError(value) from None


def to_order(raw: dict) -> MarketplaceOrder:
    """One Prom order as a ``MarketplaceOrder``."""
    items = []
    for product in raw.get("products") or []:
        quantity = money(product.get("quantity"), "1")
        price = money(product.get("price"))
        if not price and product.get("total_price") and quantity:
            price = (money(product.get("total_price")) / quantity).quantize(Decimal("0.01"))
        items.append(
            MarketplaceOrderItem(
                sku=(_text(product.get("sku")) or _text(product.get("external_id")) or _text(product.get("id")))[:64]
                or "prom",
                title=_text(product.get("name"))[:300] or "—",
                quantity=quantity,
                unit_price=price,
                external_id=_text(product.get("id")),
            )
        )
    total = money(raw.get("price")) if raw.get("price") not in (None, "") else None
    if total is None:
        total = sum((i.unit_price * i.quantity for i in items), Decimal("0"))
    option = raw.get("delivery_option") or {}
    provider = raw.get("delivery_provider_data") or {}
    created = parse_time(raw.get("date_created")) or datetime.now(UTC)
    custom = raw.get("custom_status_id")
    name = " ".join(
        x
        for x in (
            _text(raw.get("client_last_name")),
            _text(raw.get("client_first_name")),
            _text(raw.get("client_second_name")),
        )
        if x
    )
    return MarketplaceOrder(
        external_id=str(raw["id"]),
        status=f"{CUSTOM}{custom}" if custom not in (None, "") else _text(raw.get("status")),
        created_at=created.astimezone(UTC),
        changed_at=(parse_time(raw.get("date_modified")) or created).astimezone(UTC),
        buyer_name=name,
        buyer_phone=_text(raw.get("phone")),
        buyer_email=_text(raw.get("email")),
        total=total,
        currency="UAH",
        items=items,
        delivery={
            "method": _text(option.get("name")),
            "address": _text(raw.get("delivery_address")),
            "waybill_number": _text(provider.get("declaration_number")),
        },
        comment=_text(raw.get("client_notes")),
        raw={
            k: raw.get(k)
            for k in ("id", "status", "status_name", "custom_status_id", "date_created", "date_modified", "price")
        }
        | {"full_price": raw.get("full_price"), "payment_option": (raw.get("payment_option") or {}).get("name")},
    )


def _read_cursor(cursor: str | None) -> dict:
    if cursor:
        try:
            data = json.loads(cursor)
            if isinstance(data, dict) and parse_time(data.get("from")):
                last_id = data.get("last_id")
                return {
                    "from": data["from"],
                    "last_id": int(last_id) if last_id is not None else None,
                    "max": data.get("max") if parse_time(data.get("max")) else None,
                    "began": data.get("began") if parse_time(data.get("began")) else None,
                }
        except (ValueError, TypeError):
            pass
    return {"from": None, "last_id": None, "max": None, "began": None}


@hookimpl
async def crm_marketplace_fetch_orders(config: dict, secrets: dict, cursor: str | None) -> OrderBatch:
    """Orders changed since the cursor, newest first, up to ``PAGES_PER_CALL`` pages.

    The cursor is JSON: ``from`` (Prom's ``last_modified_from``), ``last_id`` (where to go on
    when ``has_more``), ``max`` (the latest ``date_modified`` seen in this window) and ``began``
    (when the window's first page was asked for: an order changed after that may have been
    read before its change, so the next window starts no later than that)."""
    state = _read_cursor(cursor)
    if state["from"] is None:
        state["from"] = format_time(datetime.now(UTC) - timedelta(days=INITIAL_DAYS))
    began = parse_time(state["began"]) or datetime.now(UTC)
    latest = parse_time(state["max"])
    last_id = state["last_id"]
    orders: list[MarketplaceOrder] = []
    async with Api(config, secrets) as api:
        for _page in range(PAGES_PER_CALL):
            params: dict[str, Any] = {"last_modified_from": state["from"], "limit": LIMIT, "sort_dir": "desc"}
            if last_id is not None:
                params["last_id"] = last_id
            body = await api.get("/orders/list", params)
            rows = [r for r in body.get("orders") or [] if isinstance(r, dict) and r.get("id") is not None]
            for raw in rows:
                try:
                    order = to_order(raw)
                except ValueError as exc:  # never a made-up price: the sync stops here, visibly
                    raise PluginError(
                        _("Prom order %(id)s has an amount the CRM cannot read: '%(value)s'.", id=raw["id"], value=exc),
                        code="BAD_RESPONSE",
                    ) from None
                orders.append(order)
                if latest is None or order.changed_at > latest:
                    latest = order.changed_at
            # Only an empty page ends the window: Prom's own cap on ``limit`` is not confirmed, so
            # a short page is not taken for the last one (it costs one request per sync).
            smallest = min((int(r["id"]) for r in rows), default=None)
            if smallest is None or (last_id is not None and smallest >= last_id):
                break
            last_id = smallest
        else:  # PAGES_PER_CALL full pages read: go on below the smallest id next call
            next_state = {
                "from": state["from"],
                "last_id": last_id,
                "max": format_time(latest) if latest else None,
                "began": format_time(began),
            }
            return OrderBatch(orders, json.dumps(next_state, separators=(",", ":")), has_more=True)
    start = parse_time(state["from"])
    new_from = state["from"]
    if latest is not None and start is not None and min(latest, began) - OVERLAP > start:
        new_from = format_time(min(latest, began) - OVERLAP)
    return OrderBatch(orders, json.dumps({"from": new_from}, separators=(",", ":")), has_more=False)


# -- status out --------------------------------------------------------------------------------------


def _reached(order: dict, target: Target) -> bool:
    """Prom already shows what the push asks for, or more: a paid order is accepted, and an
    order in one of the shop's custom statuses keeps it when the push asks for its base status
    (the seller's finer label is not wiped by the CRM's coarser one)."""
    if target.custom_status_id is not None:
        return str(order.get("custom_status_id")) == str(target.custom_status_id)
    current = _text(order.get("status"))
    return current == target.status or (target.status == "received" and current == "paid")


def _shown(order: dict) -> str:
    name = _text(order.get("status_name"))
    status = _text(order.get("status"))
    return f"{name} ({status})" if name and name != status else status


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
        order_id = int(str(external_id).strip())
    except ValueError:
        raise PluginError(
            _("'%(external_id)s' is not a Prom.ua order id.", external_id=external_id), code="INVALID"
        ) from None
    target = target_of(status, config)
    async with Api(config, secrets) as api:
        order = await api.order(order_id)
        if _reached(order, target):
            return  # Prom has it already (a rerun, or the change was made there too)
        before = _shown(order)
        try:
            response = await api.client.request("POST", "/orders/set_status", json=target.body(order_id))
        except PluginError as exc:
            if exc.code != OUTCOME_UNKNOWN:
                raise  # 429, 503, no connection: nothing was done; the job tries again
            await _confirm(api, order_id, target, exc.message)
            return
        try:
            answer = api.check(response, "/orders/set_status")
        except PluginError as exc:
            if exc.code != "REFUSED":
                raise
            raise _refused(order_id, before, target, _error_text(response), "REFUSED") from None
        errors = answer.get("errors") if isinstance(answer.get("errors"), dict) else {}
        refusal = errors.get(str(order_id)) or errors.get(order_id)  # type: ignore[call-overload]
        if refusal:
            raise _refused(order_id, before, target, str(refusal)[:300], "TRANSITION_NOT_ALLOWED")
        processed = answer.get("processed_ids")
        if isinstance(processed, list) and any(str(x) == str(order_id) for x in processed):
            return
        # An answer of another shape than assumed: believe the order, not the answer.
        order = await api.order(order_id)
        if not _reached(order, target):
            raise PluginError(
                _(
                    "Prom.ua answered but did not move order %(order_id)s to %(target)s (it shows %(current)s).",
                    order_id=order_id,
                    target=target.label(),
                    current=_shown(order),
                ),
                code="NOT_APPLIED",
            )


def _refused(order_id: int, current: str, target: Target, reason: str, code: str) -> PluginError:
    return PluginError(
        _(
            "Prom.ua refused to move order %(order_id)s from %(current)s to %(target)s: %(reason)s.",
            order_id=order_id,
            current=current,
            target=target.label(),
            reason=reason,
        ),
        code=code,
    )


async def _confirm(api: Api, order_id: int, target: Target, reason: str) -> None:
    """After an answer that leaves the outcome unknown: read the order back. Applied: done.
    Not (yet) applied, or Prom cannot be read: retryable, and the retry reads first again."""
    try:
        order = await api.order(order_id)
    except PluginError as exc:
        raise PluginError(
            _(
                "%(reason)s The CRM could not check order %(order_id)s (%(error)s); it will check and try again later.",
                reason=reason,
                order_id=order_id,
                error=exc.message,
            ),
            code="UNCONFIRMED",
            retryable=True,
        ) from None
    if _reached(order, target):
        return
    raise PluginError(
        _(
            "%(reason)s Order %(order_id)s still shows %(current)s at Prom.ua, so the CRM will try again later.",
            reason=reason,
            order_id=order_id,
            current=_shown(order),
        ),
        code="UNCONFIRMED",
        retryable=True,
    )
