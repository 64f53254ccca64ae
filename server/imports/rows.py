"""What one row (an account) or one group of rows (an order and its lines) of a file becomes,
through the same services as the API, so every check and event is the usual one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.expressions import Subquery

from server.accounts import service as accounts
from server.accounts.models import Account, AccountIdentifier
from server.auth.scope import Scope
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.phones import try_e164
from server.i18n import _
from server.imports.mapping import custom_texts
from server.imports.models import ImportBatch, ImportRecord
from server.orders import service as orders
from server.orders.models import Order, OrderStatus

DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


@dataclass
class Outcome:
    object_id: UUID
    created: bool


def number(raw: str, field: str) -> Decimal:
    """A number as people type it in Ukraine too: "1 299,50" is 1299.50."""
    text = raw.replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise UserInputError(ErrorCode.INVALID, _("'%(value)s' is not a number.", value=raw[:40]), field) from None
    if not value.is_finite():
        raise UserInputError(ErrorCode.INVALID, _("'%(value)s' is not a number.", value=raw[:40]), field)
    return value


def moment(raw: str, zone: str, field: str) -> datetime:
    """A date or date and time of the file, in the organization's time zone."""
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise UserInputError(ErrorCode.INVALID, _("'%(value)s' is not a date.", value=raw[:40]), field)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(zone))


async def _recorded(scope: Scope, system: str, kind: str, external_id: str) -> ImportRecord | None:
    return await ImportRecord.get_or_none(
        organization_id=scope.organization_id, system=system, kind=kind, external_id=external_id
    )


async def _record(scope: Scope, batch: ImportBatch, kind: str, external_id: str, outcome: Outcome) -> None:
    await ImportRecord.create(
        organization_id=scope.organization_id,
        batch_id=batch.id,
        system=batch.system,
        kind=kind,
        external_id=external_id,
        object_id=outcome.object_id,
        created=outcome.created,
    )


async def _current_account(record: ImportRecord) -> UUID:
    """The account a record points at, or the one it was merged into since (the record follows)."""
    current, seen = record.object_id, set()
    while current not in seen:
        seen.add(current)
        row = await Account.filter(id=current).values("merged_into_id", "deleted_at")
        if not row or row[0]["deleted_at"] is None or row[0]["merged_into_id"] is None:
            break
        current = row[0]["merged_into_id"]
    if current != record.object_id:
        await ImportRecord.filter(id=record.id).update(object_id=current)
    return current


async def _existing_account(scope: Scope, phones: list[str], emails: list[str]) -> Account | None:
    """The caller's oldest account with the first of these phones or e-mails that is known: a
    duplicate is matched, not made. One statement whatever the number of keys. Matching sees what
    the importer may see (their row scope), as a search would: an import never reveals or attaches
    to a record its author cannot read."""
    keys = [("phone", p) for p in phones] + [("email", e.lower()) for e in emails]
    if not keys:
        return None
    rank = {key: n for n, key in reversed(list(enumerate(keys)))}
    hits = (
        await AccountIdentifier.filter(
            organization_id=scope.organization_id,
            value__in=[value for _, value in keys],
            account_id__in=Subquery(scope.queryset(Account).values("id")),
        )
        .order_by("account__created_at")
        .values_list("kind", "value", "account_id")
    )
    ranked = [
        (rank[(kind, value)], n, account_id)
        for n, (kind, value, account_id) in enumerate(hits)
        if (kind, value) in rank
    ]
    if not ranked:
        return None
    return await Account.get(id=min(ranked)[2])


def _name(values: dict[str, list[str]]) -> str | None:
    if values.get("name"):
        return values["name"][0]
    parts = [values[f][0] for f in ("first_name", "middle_name", "last_name") if values.get(f)]
    return " ".join(parts) or None


def _phones(raws: list[str]) -> list[str]:
    # A cell may hold several numbers ("+380501234567, 067 123 45 67"); ones that are not
    # phone numbers are left for the service to report.
    out = []
    for raw in raws:
        out += [p.strip() for p in re.split(r"[,;\n]", raw) if p.strip()]
    return out


async def account_row(scope: Scope, batch: ImportBatch, values: dict[str, list[str]]) -> Outcome:
    external_id = (values.get("external_id") or [""])[0][:128]
    if external_id:
        known = await _recorded(scope, batch.system, "account", external_id)
        if known is not None:
            return Outcome(await _current_account(known), False)
    phones = _phones(values.get("phone", []))
    emails = [e for raw in values.get("email", []) for e in re.split(r"[,;\s]+", raw) if e]
    problems = Problems()
    data: dict = {"name": _name(values) or (phones[0] if phones else None), "phones": phones, "emails": emails}
    if values.get("address"):
        data["addresses"] = values["address"]
    if values.get("tags"):
        data["tags"] = [t.strip() for raw in values["tags"] for t in raw.split(",") if t.strip()]
    if values.get("source"):
        data["source"] = values["source"][0]
    if values.get("kind"):
        data["kind"] = values["kind"][0].lower()
    if custom_texts(values) is not None:
        data["custom_field_texts"] = custom_texts(values)
    if data["name"] is None:
        problems.add(ErrorCode.REQUIRED, _("The row has no name."), "name")
    problems.raise_if_any()
    normalized = [p for p in (try_e164(p) for p in phones) if p]
    existing = await _existing_account(scope, normalized, emails)
    if existing is not None:
        outcome = Outcome(existing.id, False)
    else:
        outcome = Outcome((await accounts.create_account(scope, data)).id, True)
    if external_id:
        await _record(scope, batch, "account", external_id, outcome)
    return outcome


async def _customer(scope: Scope, batch: ImportBatch, values: dict[str, list[str]]) -> Account:
    """The order's customer: by the buyer's id in the source system, phone or e-mail; made when new."""
    first = {k: v[0] for k, v in values.items() if v}
    account_values = {
        "external_id": [first["customer_external_id"]] if first.get("customer_external_id") else [],
        "name": [first["customer_name"]] if first.get("customer_name") else [],
        "phone": [first["customer_phone"]] if first.get("customer_phone") else [],
        "email": [first["customer_email"]] if first.get("customer_email") else [],
    }
    if not any(account_values[k] for k in ("name", "phone", "email")):
        raise UserInputError(ErrorCode.REQUIRED, _("The order has no customer name, phone or e-mail."), "customer")
    outcome = await account_row(scope, batch, account_values)
    return await scope.get(Account, outcome.object_id)


def _status(statuses: list[OrderStatus], raw: str | None) -> OrderStatus:
    if not raw:
        return next(s for s in statuses if s.is_initial)
    wanted = raw.strip().casefold()
    for status in statuses:
        if wanted in (status.code.casefold(), status.name.casefold()):
            return status
    known = ", ".join(s.name for s in statuses)
    raise UserInputError(
        ErrorCode.INVALID,
        _("Unknown order status '%(status)s'; known: %(known)s.", status=raw[:60], known=known),
        "status",
    )


def _amount(raw: str | None) -> object:
    # "1 299,50" -> Decimal; anything else is passed on as written, for the order's own check to report.
    try:
        return number(raw or "", "")
    except UserInputError:
        return raw or ""


def _line(values: dict[str, list[str]]) -> dict:
    first = {k: v[0] for k, v in values.items() if v}
    return {
        "sku": first.get("item_sku") or "-",
        "title": first.get("item_title") or first.get("item_sku"),
        "quantity": _amount(first.get("item_quantity", "1")),
        "unit_price": _amount(first.get("item_price")),
    }


async def order_rows(
    scope: Scope,
    batch: ImportBatch,
    statuses: list[OrderStatus],
    external_id: str,
    rows: list[dict[str, list[str]]],
    touched: set[UUID],
) -> Outcome:
    """One order from its rows (a row per line, the order's own columns on the first); its
    customer's id goes into ``touched``, whose figures the caller refreshes."""
    known = await _recorded(scope, batch.system, "order", external_id)
    if known is not None:
        return Outcome(known.object_id, False)
    existing = await Order.get_or_none(
        organization_id=scope.organization_id, source=batch.system, external_id=external_id
    )
    if existing is not None:  # e.g. already synced by a marketplace plugin: not made twice
        return Outcome(existing.id, False)
    head = {k: v[0] for k, v in rows[0].items() if v}
    problems = Problems()
    status = created_at = account = None
    with problems:
        status = _status(statuses, head.get("status"))
    with problems:
        created_at = (
            moment(head["created_at"], scope.organization.timezone, "createdAt")
            if head.get("created_at")
            else datetime.now(ZoneInfo("UTC"))
        )
    data: dict = {"items": [_line(row) for row in rows]}
    for field in (
        "delivery_method",
        "delivery_city",
        "delivery_branch",
        "delivery_address",
        "waybill_number",
        "recipient_name",
        "recipient_phone",
        "comment",
    ):
        if head.get(field):
            data[field] = head[field]
    if head.get("payment_status"):
        data["payment_status"] = head["payment_status"].lower()
    if head.get("currency"):
        data["currency"] = head["currency"].upper()
    if rows[0].get("tags"):
        data["tags"] = [t.strip() for raw in rows[0]["tags"] for t in raw.split(",") if t.strip()]
    if custom_texts(rows[0]) is not None:
        data["custom_field_texts"] = custom_texts(rows[0])
    with problems:
        account = await _customer(scope, batch, rows[0])
    order = await orders.import_order(
        scope,
        account,
        data,
        status=status,
        created_at=created_at,
        source=batch.system,
        external_id=external_id,
        problems=problems,
        refresh_figures=False,  # once per customer per chunk of rows (service.run)
    )
    touched.add(account.id)
    outcome = Outcome(order.id, True)
    await _record(scope, batch, "order", external_id, outcome)
    return outcome
