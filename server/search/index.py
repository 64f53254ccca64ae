"""Keeping ``search_term`` equal to the records: the services call ``index``/``unindex`` in the
transaction of each write, so a record is findable as soon as its change commits.

Which values of a record are searchable, and how each is written (server/search/normalize.py):

account, contact   name, every phone (digits), every e-mail
order              number, marketplace order id (external id), waybill number, recipient's name
                   and phone
deal               title
ticket             number, subject
every kind         the values of its text, link, choice and multi-choice custom fields (a choice
                   by its value and both labels), field "custom", with the field's definition

The record's own values and its custom-field values are written separately: ``index`` by the
record's service, ``index_custom`` by server/customfields/service.py whenever values change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import SimpleNamespace
from uuid import UUID

from tortoise.expressions import Subquery

from server.search import normalize as norm
from server.search.models import SearchTerm

KIND_OF_MODEL = {"Account": "account", "Contact": "contact", "Order": "order", "Deal": "deal", "Ticket": "ticket"}
# The columns ``terms_of`` reads: a rebuild selects only these, so a migration can run it on a
# database whose tables later migrations have not changed yet.
SOURCE_FIELDS = {
    "account": ("name", "phones", "emails"),
    "contact": ("name", "phones", "emails"),
    "order": ("number", "external_id", "waybill_number", "recipient_name", "recipient_phone"),
    "deal": ("title",),
    "ticket": ("number", "subject"),
}
BATCH = 2000


def terms_of(kind: str, obj) -> list[tuple[str, str]]:
    """(field, normalized value) pairs of one record; empty values left out."""
    pairs: list[tuple[str, str]] = []
    if kind in ("account", "contact"):
        pairs.append(("name", norm.name_text(obj.name)))
        pairs += [("phone", norm.phone_digits(p)) for p in obj.phones or []]
        pairs += [("email", norm.email_text(e)) for e in obj.emails or []]
    elif kind == "order":
        pairs.append(("number", str(obj.number)))
        pairs.append(("external_id", norm.code_text(obj.external_id)))
        pairs.append(("waybill", norm.code_text(obj.waybill_number)))
        pairs.append(("recipient", norm.name_text(obj.recipient_name)))
        pairs.append(("recipient_phone", norm.phone_digits(obj.recipient_phone)))
    elif kind == "deal":
        pairs.append(("title", norm.name_text(obj.title)))
    elif kind == "ticket":
        pairs.append(("number", str(obj.number)))
        pairs.append(("subject", norm.name_text(obj.subject)))
    return list(dict.fromkeys((f, v) for f, v in pairs if v))


def _rows(kind: str, objects: Iterable) -> list[SearchTerm]:
    return [
        SearchTerm(organization_id=obj.organization_id, kind=kind, object_id=obj.id, field=f, value=v)
        for obj in objects
        for f, v in terms_of(kind, obj)
    ]


async def index(obj) -> None:
    """(Re)write the terms of one record's own values (its custom fields' terms are kept by
    ``index_custom``); call it inside the write's transaction."""
    kind = KIND_OF_MODEL[type(obj).__name__]
    await SearchTerm.filter(
        organization_id=obj.organization_id, kind=kind, object_id=obj.id, definition_id=None
    ).delete()
    rows = _rows(kind, [obj])
    if rows:
        await SearchTerm.bulk_create(rows)


async def unindex(organization_id: UUID, kind: str, object_ids: Iterable[UUID]) -> None:
    """A deleted record is not found any more (soft-deleted ones included)."""
    await SearchTerm.filter(organization_id=organization_id, kind=kind, object_id__in=list(object_ids)).delete()


# -- custom-field values -------------------------------------------------------------------

CUSTOM = "custom"
CUSTOM_KINDS = ("text", "link", "choice", "multi_choice")  # numbers, dates, booleans: not searched
_LINK_PREFIX = re.compile(r"^[a-z]+://(www\.)?", re.IGNORECASE)


def custom_terms_of(definition, text: str | None) -> list[str]:
    """The normalized terms of one stored custom-field value (one row; a multi-choice value has a
    row per choice): the text, or a choice's value and its Ukrainian and English labels."""
    if not text or definition.kind not in CUSTOM_KINDS:
        return []
    if definition.kind == "link":  # the address without "https://www.": every link has that
        text = _LINK_PREFIX.sub("", text)
    texts = [text]
    if definition.kind in ("choice", "multi_choice"):
        for choice in definition.choices or []:
            if choice.get("value") == text:
                texts += [choice.get("label_uk"), choice.get("label_en")]
    return list(dict.fromkeys(v for v in (norm.name_text(t) for t in texts) if v))


def _custom_rows(definition, kind: str, values: Iterable[tuple[UUID, str | None]]) -> list[SearchTerm]:
    return [
        SearchTerm(
            organization_id=definition.organization_id,
            kind=kind,
            object_id=object_id,
            field=CUSTOM,
            value=value,
            definition_id=definition.id,
        )
        for object_id, text in values
        for value in custom_terms_of(definition, text)
    ]


def _custom_values(organization_id: UUID, kind: str):
    """The stored text-like custom-field values of (not deleted) records of ``kind``, of fields
    that are not archived."""
    from server.customfields.models import CustomFieldValue

    model = _models()[kind]
    records = model.filter(organization_id=organization_id)
    if "deleted_at" in model._meta.fields_map:
        records = records.filter(deleted_at=None)
    return CustomFieldValue.filter(
        organization_id=organization_id,
        object_type=kind,
        definition__archived=False,
        definition__kind__in=CUSTOM_KINDS,
        object_id__in=Subquery(records.values("id")),
    )


async def index_custom(organization_id: UUID, kind: str, object_ids: Iterable[UUID]) -> None:
    """(Re)write the custom-field terms of some records from their stored values (after a write
    or a merge changed them); inside the write's transaction. Three statements, whatever the
    number of records and values."""
    from server.customfields.models import CustomFieldDefinition, CustomFieldValue

    ids = list(object_ids)
    if not ids:
        return
    await SearchTerm.filter(organization_id=organization_id, kind=kind, object_id__in=ids, field=CUSTOM).delete()
    rows = await CustomFieldValue.filter(
        organization_id=organization_id,
        object_type=kind,
        object_id__in=ids,
        definition__archived=False,
        definition__kind__in=CUSTOM_KINDS,
    ).select_related("definition")
    terms: list[SearchTerm] = []
    definitions: dict[UUID, CustomFieldDefinition] = {}
    for row in rows:
        definition = definitions.setdefault(row.definition_id, row.definition)
        terms += _custom_rows(definition, kind, [(row.object_id, row.text_value)])
    if terms:
        await SearchTerm.bulk_create(terms)


async def index_definition(definition) -> int:
    """(Re)write the terms of every value of one custom field: after its choices' labels changed,
    or it was archived (its values stop matching) or brought back. Returns the terms written."""
    await SearchTerm.filter(organization_id=definition.organization_id, definition_id=definition.id).delete()
    if definition.archived or definition.kind not in CUSTOM_KINDS:
        return 0
    values = _custom_values(definition.organization_id, definition.object_type).filter(definition_id=definition.id)
    return await _write_custom(definition.object_type, values, {definition.id: definition})


async def _write_custom(kind: str, values, definitions: dict) -> int:
    written, last = 0, None
    while True:  # keyset batches, like the records' own terms
        page = values.filter(id__gt=last) if last is not None else values
        batch = await page.order_by("id").limit(BATCH).values("id", "definition_id", "object_id", "text_value")
        if not batch:
            return written
        rows: list[SearchTerm] = []
        for row in batch:
            definition = definitions.get(row["definition_id"])
            if definition is not None:
                rows += _custom_rows(definition, kind, [(row["object_id"], row["text_value"])])
        if rows:
            await SearchTerm.bulk_create(rows, batch_size=BATCH)
        written += len(rows)
        last = batch[-1]["id"]


async def _reindex_custom(organization_id: UUID) -> int:
    from server.customfields.models import CustomFieldDefinition

    definitions = {
        d.id: d
        for d in await CustomFieldDefinition.filter(
            organization_id=organization_id, archived=False, kind__in=CUSTOM_KINDS
        )
    }
    if not definitions:
        return 0
    written = 0
    for kind in KIND_OF_MODEL.values():
        written += await _write_custom(kind, _custom_values(organization_id, kind), definitions)
    return written


def _models() -> dict:
    from server.accounts.models import Account, Contact
    from server.deals.models import Deal
    from server.orders.models import Order
    from server.tickets.models import Ticket

    return {"account": Account, "contact": Contact, "order": Order, "deal": Deal, "ticket": Ticket}


async def reindex_organization(organization_id: UUID) -> int:
    """Rebuild one organization's terms from its records (after a bulk load that bypassed the
    services, or to repair); returns how many terms were written. Deleted records are left out."""
    await SearchTerm.filter(organization_id=organization_id).delete()
    written = 0
    for kind, model in _models().items():
        qs = model.filter(organization_id=organization_id)
        if "deleted_at" in model._meta.fields_map:
            qs = qs.filter(deleted_at=None)
        last = None
        while True:  # keyset batches: a 100k-order organization never sits in memory at once
            page = qs.filter(id__gt=last) if last is not None else qs
            values = await page.order_by("id").limit(BATCH).values("id", "organization_id", *SOURCE_FIELDS[kind])
            if not values:
                break
            batch = [SimpleNamespace(**row) for row in values]
            rows = _rows(kind, batch)
            if rows:
                await SearchTerm.bulk_create(rows, batch_size=BATCH)
            written += len(rows)
            last = batch[-1].id
    return written + await _reindex_custom(organization_id)


async def reindex_everything(_client=None) -> int:
    """Every organization's terms (migration 0034 fills the table once with this)."""
    from server.organizations.models import Organization

    written = 0
    for organization_id in await Organization.all().values_list("id", flat=True):
        written += await reindex_organization(organization_id)
    return written
