"""What one row (an account) or one group of rows (an order and its lines) of a file becomes,
through the same services as the API, so every check and event is the usual one."""

from __future__ import annotations

import hashlib
import json
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
from server.deals import service as deals
from server.deals.models import Pipeline, Stage
from server.i18n import _
from server.imports.mapping import custom_texts
from server.imports.models import ImportBatch, ImportRecord
from server.orders import service as orders
from server.orders.models import Order, OrderStatus
from server.tickets import service as tickets
from server.tickets.models import CHANNELS, PRIORITIES, STATUSES

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


async def _customer(scope: Scope, batch: ImportBatch, values: dict[str, list[str]], what: str = "order") -> Account:
    """The order's (deal's, ticket's) customer: by the buyer's id in the source system, phone or
    e-mail; made when new."""
    first = {k: v[0] for k, v in values.items() if v}
    account_values = {
        "external_id": [first["customer_external_id"]] if first.get("customer_external_id") else [],
        "name": [first["customer_name"]] if first.get("customer_name") else [],
        "phone": [first["customer_phone"]] if first.get("customer_phone") else [],
        "email": [first["customer_email"]] if first.get("customer_email") else [],
    }
    if not account_values["external_id"] and any(account_values.values()):
        # A customer without the source's id is known by its name, phone and e-mail: recorded
        # with the import (undo removes it if made) and found again by the next run.
        digest = hashlib.sha256(json.dumps(account_values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        account_values["external_id"] = [f"customer:{digest}"]
    if not any(account_values[k] for k in ("name", "phone", "email")):
        message = (
            _("The order has no customer name, phone or e-mail.")
            if what == "order"
            else _("The row has no customer name, phone or e-mail.")
        )
        raise UserInputError(ErrorCode.REQUIRED, message, "customer")
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


# -- deals and tickets: a row each, through create_deal / create_ticket ----------------------


@dataclass
class Pipelines:
    """The organization's pipelines with their stages, read once per slice of the file."""

    pipelines: list[Pipeline]
    stages: dict[UUID, list[Stage]]

    @classmethod
    async def load(cls, scope: Scope) -> Pipelines:
        pipelines = await scope.queryset(Pipeline).order_by("-is_default", "position", "id")
        stages: dict[UUID, list[Stage]] = {p.id: [] for p in pipelines}
        for stage in await Stage.filter(pipeline_id__in=list(stages)).order_by("position", "id"):
            stages[stage.pipeline_id].append(stage)
        return cls(pipelines, stages)


def _pipeline(known: Pipelines, raw: str | None) -> Pipeline:
    if not raw:
        default = next((p for p in known.pipelines if p.is_default), None)
        if default is None:
            raise UserInputError(ErrorCode.REQUIRED, _("The organization has no default pipeline."), "pipeline")
        return default
    wanted = raw.strip().casefold()
    for pipeline in known.pipelines:
        if pipeline.name.casefold() == wanted:
            return pipeline
    raise UserInputError(
        ErrorCode.INVALID,
        _(
            "Unknown pipeline '%(pipeline)s'; known: %(known)s.",
            pipeline=raw[:60],
            known=", ".join(p.name for p in known.pipelines),
        ),
        "pipeline",
    )


def _stage(known: Pipelines, pipeline: Pipeline, raw: str | None) -> Stage | None:
    """The stage by name in the pipeline; None: the pipeline's first open stage (the service's choice)."""
    if not raw:
        return None
    wanted = raw.strip().casefold()
    for stage in known.stages[pipeline.id]:
        if stage.name.casefold() == wanted:
            return stage
    raise UserInputError(
        ErrorCode.INVALID,
        _(
            "Unknown stage '%(stage)s' in pipeline '%(pipeline)s'; known: %(known)s.",
            stage=raw[:60],
            pipeline=pipeline.name,
            known=", ".join(s.name for s in known.stages[pipeline.id]),
        ),
        "stage",
    )


async def _member(scope: Scope, raw: str, field: str) -> UUID:
    """An active member of the organization by e-mail, or by name (Bitrix24 writes the
    responsible person's name). The service then checks they may hold the record."""
    from server.auth.models import Membership  # the auth domain owns memberships

    text = raw.strip()
    members = Membership.filter(organization_id=scope.organization_id, is_active=True, user__is_active=True)
    if "@" in text:
        members = members.filter(user__email=text.lower())
    else:
        members = members.filter(user__name=text)
    found = await members.order_by("created_at").first().values_list("user_id", flat=True)
    if found is None:
        raise UserInputError(
            ErrorCode.NOT_FOUND, _("No member of the organization is '%(member)s'.", member=text[:80]), field
        )
    return found


def _tags(values: dict[str, list[str]]) -> list[str] | None:
    if not values.get("tags"):
        return None
    return [t.strip() for raw in values["tags"] for t in raw.split(",") if t.strip()]


async def deal_row(
    scope: Scope, batch: ImportBatch, known: Pipelines, external_id: str, values: dict[str, list[str]]
) -> Outcome:
    """One deal from one row, through ``create_deal`` with the importer's scope."""
    record = await _recorded(scope, batch.system, "deal", external_id)
    if record is not None:
        return Outcome(record.object_id, False)
    head = {k: v[0] for k, v in values.items() if v}
    problems = Problems()
    data: dict = {}
    created_at = stage = account = None
    if not head.get("title"):
        problems.add(ErrorCode.REQUIRED, _("The row has no title."), "title")
    else:
        data["title"] = head["title"]
    with problems:
        pipeline = _pipeline(known, head.get("pipeline"))
        data["pipeline_id"] = pipeline.id
        stage = _stage(known, pipeline, head.get("stage"))
        if stage is not None:
            data["stage_id"] = stage.id
            if stage.kind == "lost":
                data["lost_reason"] = head.get("lost_reason") or _("Lost before the import.")
    with problems:
        if head.get("amount"):
            data["amount"] = number(head["amount"], "amount")
    if head.get("currency"):
        data["currency"] = head["currency"].upper()
    with problems:
        if head.get("created_at"):
            created_at = moment(head["created_at"], scope.organization.timezone, "createdAt")
    with problems:
        if head.get("expected_close_date"):
            data["expected_close_date"] = moment(
                head["expected_close_date"], scope.organization.timezone, "expectedCloseDate"
            ).date()
    with problems:
        if head.get("owner_email"):
            data["owner_id"] = await _member(scope, head["owner_email"], "ownerEmail")
    if head.get("source"):
        data["source"] = head["source"]
    if _tags(values) is not None:
        data["tags"] = _tags(values)
    if custom_texts(values) is not None:
        data["custom_field_texts"] = custom_texts(values)
    with problems:
        account = await _customer(scope, batch, values, "deal")
    problems.raise_if_any()
    data["account_id"] = account.id
    # The service's own checks (currency, tags, custom fields, the owner's rights) come next.
    deal = await deals.create_deal(scope, data, created_at=created_at)
    outcome = Outcome(deal.id, True)
    await _record(scope, batch, "deal", external_id, outcome)
    return outcome


def _choice(raw: str | None, allowed: tuple[str, ...], field: str, labels: dict[str, str] | None = None) -> str | None:
    if not raw:
        return None
    wanted = raw.strip().casefold()
    for code in allowed:
        if wanted == code or (labels and wanted in labels and labels[wanted] == code):
            return code
    raise UserInputError(
        ErrorCode.INVALID,
        _("Unknown %(field)s '%(value)s'; known: %(known)s.", field=field, value=raw[:60], known=", ".join(allowed)),
        field,
    )


# Ticket statuses and priorities as people write them (KeyCRM, Helpdesk exports, spreadsheets).
STATUS_LABELS = {
    "новий": "new", "новый": "new", "відкритий": "open", "открыт": "open", "открытый": "open",
    "в роботі": "open", "в работе": "open", "in progress": "open", "очікує": "pending", "ожидает": "pending",
    "вирішений": "resolved", "вирішено": "resolved", "решен": "resolved", "решён": "resolved", "solved": "resolved",
    "закритий": "closed", "закрито": "closed", "закрыт": "closed", "закрытый": "closed",
}  # fmt: skip
PRIORITY_LABELS = {
    "низький": "low", "низкий": "low", "звичайний": "normal", "обычный": "normal", "середній": "normal",
    "средний": "normal", "medium": "normal", "високий": "high", "высокий": "high", "терміновий": "urgent",
    "срочный": "urgent",
}  # fmt: skip


async def ticket_row(scope: Scope, batch: ImportBatch, external_id: str, values: dict[str, list[str]]) -> Outcome:
    """One ticket from one row, through ``create_ticket`` with the importer's scope."""
    record = await _recorded(scope, batch.system, "ticket", external_id)
    if record is not None:
        return Outcome(record.object_id, False)
    head = {k: v[0] for k, v in values.items() if v}
    problems = Problems()
    data: dict = {}
    status, created_at, account = "new", None, None
    if not head.get("subject"):
        problems.add(ErrorCode.REQUIRED, _("The row has no subject."), "subject")
    else:
        data["subject"] = head["subject"]
    if head.get("description"):
        data["description"] = head["description"]
    with problems:
        status = _choice(head.get("status"), STATUSES, "status", STATUS_LABELS) or "new"
    with problems:
        if head.get("priority"):
            data["priority"] = _choice(head["priority"], PRIORITIES, "priority", PRIORITY_LABELS)
    with problems:
        if head.get("channel"):
            data["channel"] = _choice(head["channel"], CHANNELS, "channel")
    with problems:
        if head.get("created_at"):
            created_at = moment(head["created_at"], scope.organization.timezone, "createdAt")
    with problems:
        if head.get("assignee_email"):
            data["assignee_id"] = await _member(scope, head["assignee_email"], "assigneeEmail")
    if _tags(values) is not None:
        data["tags"] = _tags(values)
    if custom_texts(values) is not None:
        data["custom_field_texts"] = custom_texts(values)
    if any(head.get(f) for f in ("customer_external_id", "customer_name", "customer_phone", "customer_email")):
        with problems:
            account = await _customer(scope, batch, values, "ticket")
            data["account_id"] = account.id
    problems.raise_if_any()
    ticket = await tickets.create_ticket(scope, data, status=status, created_at=created_at)
    outcome = Outcome(ticket.id, True)
    await _record(scope, batch, "ticket", external_id, outcome)
    return outcome
