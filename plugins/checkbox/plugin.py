"""The ``checkbox`` plugin's hooks (server/plugins/hookspecs.py has the contract).

Checkbox ПРРО API (/work/shared/providers/checkbox.md): JSON over HTTPS; the cash register's
``X-License-Key`` on every call, the cashier's ``Authorization: Bearer`` after signing in by PIN
(``/cashier/signinPinCode``) or login and password (``/cashier/signin``). Amounts are integer
kopiykas (converted exactly by ``server.payments.money``), quantities thousandths (1 pc = 1000).

The plugin keeps no state: every hook call signs in anew (the token's lifetime is unconfirmed;
a sign-in is one cheap call next to a receipt that waits for the tax service anyway).

Exactly once: the receipt's ``id`` is the CRM's receipt id, so a sale whose answer was lost is
found by ``GET /receipts/{id}`` (``crm_fiscal_receipt_status``) instead of being sold again. For
the same reason a sale whose outcome is unknown (a timeout after it went out) is a *retryable*
error here, unlike a message: the CRM looks the receipt up before issuing it again.

Shifts: a sale refused with ``Зміну не відкрито`` opens one (``POST /shifts``, polled until
``OPENED``) and is sent once more. Tax codes go on goods only when configured (``tax_codes``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from server.i18n import _
from server.payments.money import loads, to_minor
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import OUTCOME_UNKNOWN, ProviderClient
from server.plugins.types import (
    FISCAL,
    ConfigField,
    ConnectionResult,
    PluginError,
    PluginInfo,
    ReceiptRequest,
    ReceiptResult,
    ShiftResult,
)

NAME = "checkbox"
VERSION = "1.0.0"
DEFAULT_API_URL = "https://api.checkbox.ua/api/v1"
# Where integrations send customers; not in Checkbox's documentation (unconfirmed), so configurable.
DEFAULT_RECEIPT_URL = "https://check.checkbox.ua"
TRANSPORT = None  # tests may put an httpx transport here
POLL_SECONDS = 0.75  # checkbox-sdk's pace; tests set 0
RECEIPT_POLLS = 10  # then the receipt stays pending and the CRM asks again later
SHIFT_POLLS = 20
NO_SHIFT = "Зміну не відкрито"
# Refusals that pass (checkbox.md: the texts SDKs match): the cash register is taken for now.
BUSY = ("Каса зайнята іншим касиром", "Касир вже працює з даною касою")


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Checkbox (ПРРО)",
        version=VERSION,
        capabilities=(FISCAL,),
        api_version=API_VERSION,
        description="Fiscal receipts through the Checkbox software cash register: sales, returns, daily shifts.",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField(
            "license_key", secret=True, required=True, label="License key", help="The cash register's X-License-Key."
        ),
        ConfigField("pin_code", secret=True, label="Cashier PIN", help="Or the cashier's login and password."),
        ConfigField("login", secret=True, label="Cashier login"),
        ConfigField("password", secret=True, label="Cashier password"),
        ConfigField(
            "shift_close_time",
            default="23:50",
            label="Close the shift at",
            help="HH:MM, the organization's local time; empty: the CRM never closes it.",
        ),
        ConfigField(
            "tax_codes",
            default="",
            label="Tax codes",
            help="Up to 2 Checkbox tax codes put on every good (e.g. 8 or A); empty: none are sent.",
        ),
        ConfigField(
            "sms_receipts",
            type="boolean",
            default=False,
            label="Checkbox texts the receipt",
            help="Pass the customer's phone so Checkbox sends the receipt by SMS (Checkbox bills its SMS).",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
        ConfigField("receipt_url", type="url", default=DEFAULT_RECEIPT_URL, label="Receipt page host"),
        ConfigField("client_name", default="CRM", label="X-Client-Name"),
    ]


class _Session:
    """One hook call's conversation with Checkbox: the headers and, once signed in, the token."""

    def __init__(self, config: dict, secrets: dict):
        self.config = config
        self.secrets = secrets
        self.token = ""

    def headers(self) -> dict[str, str]:
        headers = {
            "X-License-Key": str(self.secrets.get("license_key") or ""),
            "X-Client-Name": str(self.config.get("client_name") or "CRM"),
            "X-Client-Version": VERSION,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def request(self, method: str, path: str, *, retry: bool | None = None, **kwargs) -> tuple[int, Any]:
        async with ProviderClient(
            "Checkbox", base_url=self.config["api_url"], headers=self.headers(), transport=TRANSPORT
        ) as client:
            response = await client.request(method, path, retry=retry, **kwargs)
        try:
            body = loads(response.content) if response.content else None
        except ValueError:
            raise PluginError(
                _("Checkbox answered HTTP %(status_code)s without JSON.", status_code=response.status_code),
                retryable=response.status_code >= 500,
            ) from None
        return response.status_code, body

    async def sign_in(self) -> None:
        if self.secrets.get("pin_code"):
            path, body = "/cashier/signinPinCode", {"pin_code": str(self.secrets["pin_code"])}
        elif self.secrets.get("login") and self.secrets.get("password"):
            path, body = "/cashier/signin", {"login": self.secrets["login"], "password": self.secrets["password"]}
        else:
            raise PluginError(_("Checkbox: enter the cashier's PIN, or login and password, in the settings."))
        status, answer = await self.request("POST", path, json=body, retry=True)  # a sign-in changes nothing
        if status in (401, 403):
            raise PluginError(
                _(
                    "Checkbox refused the cashier's sign-in (%(message)s): check the license key and the PIN or "
                    "login and password.",
                    message=message_of(answer),
                ),
                code="AUTH",
            )
        if status >= 400 or not isinstance(answer, dict) or not answer.get("access_token"):
            raise PluginError(_("Checkbox: %(message)s", message=message_of(answer)), code=str(status))
        self.token = str(answer["access_token"])


def message_of(body: Any) -> str:
    """Checkbox's error text: ``message``, and for a 422 each ``detail`` item's place and text."""
    if not isinstance(body, dict):
        return "error"
    text = str(body.get("message") or "").strip()
    details = body.get("detail")
    if isinstance(details, list):
        parts = []
        for item in details:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
                parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        if parts:
            text = f"{text} ({'; '.join(parts)})" if text else "; ".join(parts)
    return text or "error"


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def receipt_url(config: dict, receipt_id: str) -> str:
    return f"{str(config.get('receipt_url') or DEFAULT_RECEIPT_URL).rstrip('/')}/{receipt_id}"


def result_of(config: dict, receipt: dict) -> ReceiptResult:
    status = str(receipt.get("status") or "")
    receipt_id = str(receipt.get("id") or "")
    if status == "DONE":
        return ReceiptResult(
            "done",
            receipt_id,
            fiscal_code=str(receipt.get("fiscal_code") or ""),
            fiscal_date=_moment(receipt.get("fiscal_date")),
            url=receipt_url(config, receipt_id),
            raw=receipt,
        )
    if status in ("ERROR", "CANCELLED", "CANCELLATION"):
        transaction = receipt.get("transaction") if isinstance(receipt.get("transaction"), dict) else {}
        reason = str(transaction.get("response_error_message") or transaction.get("response_status") or status)
        return ReceiptResult("failed", receipt_id, error=reason, raw=receipt)
    return ReceiptResult("pending", receipt_id, raw=receipt)


def _taxes(config: dict) -> list:
    codes = [c.strip() for c in str(config.get("tax_codes") or "").split(",") if c.strip()]
    return [int(c) if c.isdigit() else c for c in codes[:2]]


def _quantity(value) -> int:
    thousandths = value * 1000
    if thousandths != thousandths.to_integral_value():
        raise PluginError(_("Checkbox takes quantities with at most 3 decimals, not %(quantity)s.", quantity=value))
    return int(thousandths)


def sell_body(config: dict, receipt: ReceiptRequest) -> dict:
    is_return = receipt.kind == "return"
    taxes = _taxes(config)
    goods = []
    for line in receipt.lines:
        good: dict[str, Any] = {"code": line.code[:64] or "-", "name": line.name[:256], "price": to_minor(line.price)}
        if taxes:
            good["tax"] = taxes
        item: dict[str, Any] = {"good": good, "quantity": _quantity(line.quantity), "is_return": is_return}
        if line.discount:
            item["discounts"] = [
                {"type": "DISCOUNT", "mode": "VALUE", "value": to_minor(line.discount), "name": _("Discount")}
            ]
        goods.append(item)
    body: dict[str, Any] = {
        "id": receipt.receipt_id,
        "goods": goods,
        "payments": [{"type": p.type, "value": to_minor(p.amount)} for p in receipt.payments],
    }
    if receipt.discount:
        body["discounts"] = [
            {"type": "DISCOUNT", "mode": "VALUE", "value": to_minor(receipt.discount), "name": _("Discount")}
        ]
    if is_return and receipt.related_receipt_id:
        body["related_receipt_id"] = receipt.related_receipt_id
    delivery: dict[str, Any] = {}
    if receipt.email:
        delivery["emails"] = [receipt.email]
    if receipt.phone and config.get("sms_receipts"):
        delivery["phone"] = receipt.phone.lstrip("+")
    if delivery:
        body["delivery"] = delivery
    return body


async def _open_shift(session: _Session) -> None:
    """Open the cash register's shift and wait until it is OPENED. Every failure here is worth
    another try later (opening twice is harmless: the second is refused while one is open)."""
    try:
        status, answer = await session.request("POST", "/shifts", json={})
    except PluginError as exc:
        raise PluginError(exc.message, code=exc.code, retryable=True) from None
    if status >= 400:
        # Another job of the same cash register may be opening it right now, or has opened it.
        current_status, current = await session.request("GET", "/cashier/shift")
        state = str(current.get("status") or "") if current_status == 200 and isinstance(current, dict) else ""
        if state == "OPENED":
            return
        if state not in ("CREATED", "OPENING"):
            raise PluginError(
                _("Checkbox could not open the shift: %(message)s", message=message_of(answer)),
                code=str(status),
                retryable=True,
            )
        answer = current
    shift_id = str((answer or {}).get("id") or "")
    for _poll in range(SHIFT_POLLS):
        state = str((answer or {}).get("status") or "")
        if state == "OPENED":
            return
        if state == "CLOSED":
            transaction = (answer or {}).get("initial_transaction") or {}
            reason = transaction.get("response_error_message") or state
            raise PluginError(_("Checkbox could not open the shift: %(message)s", message=reason), code="SHIFT")
        await asyncio.sleep(POLL_SECONDS)
        _status, answer = await session.request("GET", f"/shifts/{shift_id}")
    raise PluginError(_("Checkbox is still opening the shift; the receipt is tried again later."), retryable=True)


async def _sell(session: _Session, body: dict) -> tuple[int, Any]:
    try:
        return await session.request("POST", "/receipts/sell", json=body, retry=False)
    except PluginError as exc:
        if exc.code == OUTCOME_UNKNOWN:
            # Safe to try again: the CRM looks the receipt up by its id first.
            raise PluginError(exc.message, code=OUTCOME_UNKNOWN, retryable=True) from None
        raise


async def _poll(session: _Session, config: dict, receipt_id: str) -> ReceiptResult | None:
    status, answer = await session.request("GET", f"/receipts/{receipt_id}")
    if status == 404:
        return None
    if status >= 400 or not isinstance(answer, dict):
        raise PluginError(_("Checkbox: %(message)s", message=message_of(answer)), code=str(status), retryable=True)
    return result_of(config, answer)


@hookimpl
async def crm_test_connection(config, secrets):
    session = _Session(config, secrets)
    try:
        await session.sign_in()
        status, info = await session.request("GET", "/cash-registers/info")
    except PluginError as exc:
        return ConnectionResult(ok=False, message=exc.message)
    if status >= 400 or not isinstance(info, dict):
        return ConnectionResult(ok=False, message=_("Checkbox: %(message)s", message=message_of(info)))
    note = _(
        "Connected to Checkbox: cash register %(number)s (fiscal number %(fiscal)s).",
        number=info.get("title") or info.get("number") or info.get("id") or "?",
        fiscal=info.get("fiscal_number") or "?",
    )
    if info.get("is_test"):
        note += " " + _("It is a test cash register: its receipts are not fiscal.")
    return ConnectionResult(ok=True, message=note)


@hookimpl
async def crm_fiscal_issue_receipt(config, secrets, receipt: ReceiptRequest):
    if receipt.currency != "UAH":
        return ReceiptResult(
            "failed", "", error=_("Checkbox issues receipts in UAH only, not %(currency)s.", currency=receipt.currency)
        )
    session = _Session(config, secrets)
    await session.sign_in()
    body = sell_body(config, receipt)
    status, answer = await _sell(session, body)
    if status == 400 and NO_SHIFT in message_of(answer):
        await _open_shift(session)
        status, answer = await _sell(session, body)
    if status in (401, 403):
        raise PluginError(_("Checkbox refused the request: %(message)s", message=message_of(answer)), code="AUTH")
    if status == 400 and any(text in message_of(answer) for text in BUSY):
        # Someone else works at the cash register right now: it frees up, so try again later.
        raise PluginError(_("Checkbox: %(message)s", message=message_of(answer)), code="BUSY", retryable=True)
    if status >= 400 or not isinstance(answer, dict):
        # Refused for its content (422 validation, a 400 rule): retrying the same receipt cannot help.
        return ReceiptResult("failed", "", error=message_of(answer), raw=answer if isinstance(answer, dict) else {})
    result = result_of(config, answer)
    for _poll_number in range(RECEIPT_POLLS):
        if result.status != "pending":
            return result
        await asyncio.sleep(POLL_SECONDS)
        found = await _poll(session, config, receipt.receipt_id)
        if found is not None:
            result = found
    return result


@hookimpl
async def crm_fiscal_receipt_status(config, secrets, receipt_id):
    session = _Session(config, secrets)
    await session.sign_in()
    return await _poll(session, config, receipt_id)


@hookimpl
async def crm_fiscal_close_shift(config, secrets):
    session = _Session(config, secrets)
    await session.sign_in()
    status, answer = await session.request("POST", "/shifts/close", json={}, retry=False)
    if status == 400 and NO_SHIFT in message_of(answer):
        return ShiftResult("not_open", message=message_of(answer))
    if status >= 400 or not isinstance(answer, dict):
        return ShiftResult("failed", message=message_of(answer), raw=answer if isinstance(answer, dict) else {})
    shift_id = str(answer.get("id") or "")
    for _poll_number in range(SHIFT_POLLS):
        state = str(answer.get("status") or "")
        if state == "CLOSED":
            return ShiftResult("closed", shift_id, raw=answer)
        if state == "OPENED":  # checkbox-sdk: still open after closing = the close failed
            return ShiftResult("failed", shift_id, message=_("Checkbox did not close the shift."), raw=answer)
        await asyncio.sleep(POLL_SECONDS)
        _status, polled = await session.request("GET", f"/shifts/{shift_id}")
        answer = polled if isinstance(polled, dict) else answer
    return ShiftResult("closing", shift_id, raw=answer)
