"""Which outbox events partners may subscribe to, and what a webhook carries.

Every payload has the same shape (docs/webhooks.md)::

    {"type": "order.status_changed", "timestamp": "2026-12-06T07:00:00+00:00",
     "data": {"id": "<global ID>", "version": 3, "updatedAt": "...", "deleted": false,
              ...the object's fields..., "change": {"from": "new", "to": "confirmed"}}}

``data`` is the object as it is when the webhook is built (not as it was at the event): a
receiver orders and deduplicates by ``id`` + ``version`` and may skip a version it already has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

from tortoise.models import Model

from server.accounts.models import Account
from server.auth.masking import mask_address, mask_email, mask_json, mask_phone, mask_street, mask_text, masked
from server.auth.scope import Scope
from server.core.errors import UserInputError
from server.core.serialize import jsonable
from server.core.text import camel_case
from server.deals.models import Deal
from server.graphql import ids
from server.orders.models import Order
from server.shipments.models import Shipment
from server.tickets.models import Ticket

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class Subject:
    """The kind of object an event type is about and where the event names it."""

    model: type[Model]
    id_key: str  # the key of the outbox payload holding the object's id

    @property
    def type_name(self) -> str:
        return self.model.__name__


ORDER = Subject(Order, "order_id")
ACCOUNT = Subject(Account, "account_id")
TICKET = Subject(Ticket, "ticket_id")
DEAL = Subject(Deal, "deal_id")
SHIPMENT = Subject(Shipment, "shipment_id")

# The outbox topics partners may subscribe to (what the services emit today).
EVENT_TYPES: dict[str, Subject] = {
    "order.created": ORDER,
    "order.updated": ORDER,
    "order.status_changed": ORDER,
    "order.deleted": ORDER,
    "account.created": ACCOUNT,
    "account.updated": ACCOUNT,
    "account.merged": ACCOUNT,
    "account.deleted": ACCOUNT,
    "ticket.created": TICKET,
    "ticket.updated": TICKET,
    "ticket.status_changed": TICKET,
    "ticket.assigned": TICKET,
    "ticket.commented": TICKET,
    "ticket.deleted": TICKET,
    "deal.created": DEAL,
    "deal.updated": DEAL,
    "deal.stage_changed": DEAL,
    "deal.deleted": DEAL,
    "shipment.created": SHIPMENT,
    "shipment.status_changed": SHIPMENT,
    "shipment.cancelled": SHIPMENT,
}
# Types of objects a partner may reconcile with ``changesSince``.
SUBJECTS: dict[str, Subject] = {s.type_name: s for s in (ORDER, ACCOUNT, TICKET, DEAL, SHIPMENT)}

# Columns that say nothing to a partner (internal bookkeeping of the CRM).
INTERNAL_FIELDS = frozenset({"organization_id", "installation_id", "rule_applied_for", "deleted_at"})


@cache
def _columns(model: type[Model]) -> tuple[tuple[str, str, str | None], ...]:
    """(attribute, payload key, the referenced type or None) of each column partners see:
    worked out once per model, since a fan-out describes thousands of objects a second."""
    meta = model._meta
    columns = []
    for name in meta.db_fields:
        if name in INTERNAL_FIELDS or name == "id":
            continue
        relation = next((f for f in meta.fk_fields if meta.fields_map[f].source_field == name), None)
        if relation is not None:
            columns.append((name, camel_case(relation) + "Id", meta.fields_map[relation].related_model.__name__))
        else:
            columns.append((name, camel_case(name), None))
    return tuple(columns)


def object_data(obj: Model) -> dict:
    """The object's columns as the API names them; references as global IDs."""
    data: dict = {}
    for name, key, related in _columns(type(obj)):
        value = getattr(obj, name)
        if related is not None:
            data[key] = ids.encode(related, value) if value is not None else None
        else:
            data[key] = jsonable(value)
    return data


# Customers' phones, e-mails and addresses in payloads, by type and payload key: masked for
# receivers without pii:read as the API masks them (server/auth/masking.py, docs/roles.md).
PII_DATA: dict[str, dict[str, object]] = {
    "Account": {"phones": mask_phone, "emails": mask_email, "addresses": mask_address},
    "Order": {"recipientPhone": mask_phone, "deliveryAddress": mask_street},
    "Ticket": {"subject": mask_text, "description": mask_text},
}


def mask_payload(payload: dict) -> dict:
    """A payload (or a changesSince item's data) with customers' data masked; the object's type
    comes from its global ID."""
    data = dict(payload.get("data") or {})
    try:
        type_name = ids.decode(str(data.get("id")))[0]
    except UserInputError:  # a test event: no object
        type_name = ""
    for key, mask in PII_DATA.get(type_name, {}).items():
        if data.get(key) is not None:
            data[key] = masked(mask, data[key])
    if "change" in data:
        data["change"] = mask_json(data["change"])
    return {**payload, "data": data}


def version_of(obj: Model) -> int | str:
    """A counter where the object has one, else its last change time (both only grow)."""
    version = getattr(obj, "version", None)
    return version if version is not None else jsonable(obj.updated_at)


def describe(subject: Subject, pk: UUID, obj: Model | None) -> dict:
    """``data`` of a payload: the object (or only its ID when it is gone)."""
    if obj is None:
        return {"id": ids.encode(subject.type_name, pk), "version": None, "deleted": True}
    return {
        "id": ids.encode(subject.type_name, obj.id),
        "version": version_of(obj),
        "updatedAt": jsonable(obj.updated_at),
        "deleted": getattr(obj, "deleted_at", None) is not None,
        **object_data(obj),
    }


async def build_payload(scope: Scope, event_type: str, event_payload: dict, timestamp: datetime) -> dict | None:
    """The body of a webhook for an outbox event; None for a type partners cannot subscribe to.
    Read through ``scope`` (the organization's webhook app, which reads what an owner reads)."""
    return (await build_payloads(scope, [(event_type, event_payload, timestamp)]))[0]


async def build_payloads(scope: Scope, items: list[tuple[str, dict, datetime]]) -> list[dict | None]:
    """``build_payload`` for many events of one organization: one query per kind of object,
    whatever the number of events."""
    wanted: dict[Subject, set[UUID]] = {}
    keys: list[tuple[Subject, UUID] | None] = []
    for event_type, event_payload, _ in items:
        subject = EVENT_TYPES.get(event_type)
        raw_id = event_payload.get(subject.id_key) if subject is not None else None
        if subject is None or raw_id is None:
            keys.append(None)
            continue
        pk = UUID(str(raw_id))
        wanted.setdefault(subject, set()).add(pk)
        keys.append((subject, pk))
    found: dict[tuple[Subject, UUID], Model] = {}
    for subject, pks in wanted.items():
        for obj in await scope.queryset(subject.model, with_deleted=True).filter(id__in=list(pks)):
            found[(subject, obj.id)] = obj
    payloads: list[dict | None] = []
    for key, (event_type, event_payload, timestamp) in zip(keys, items, strict=True):
        if key is None:
            payloads.append(None)
            continue
        subject, pk = key
        data = describe(subject, pk, found.get(key))
        if event_type.endswith(".deleted"):
            data["deleted"] = True
        change = {camel_case(k): v for k, v in event_payload.items() if k != subject.id_key}
        if change:
            data["change"] = change
        payloads.append({"type": event_type, "timestamp": jsonable(timestamp), "data": data})
    return payloads


def test_payload(endpoint_id: UUID, timestamp: datetime) -> dict:
    return {
        "type": TEST_EVENT,
        "timestamp": jsonable(timestamp),
        "data": {"id": ids.encode("WebhookEndpoint", endpoint_id), "version": None, "test": True},
    }


def matches(filters: dict, payload: dict) -> bool:
    """Every filter key must name a data field whose value is one of the allowed values."""
    data = payload.get("data", {})
    return all(key in data and str(data[key]) in {str(v) for v in allowed} for key, allowed in filters.items())
