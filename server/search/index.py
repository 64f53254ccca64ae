"""Keeping ``search_term`` equal to the records: the services call ``index``/``unindex`` in the
transaction of each write, so a record is findable as soon as its change commits.

Which values of a record are searchable, and how each is written (server/search/normalize.py):

account, contact   name, every phone (digits), every e-mail
order              number, marketplace order id (external id), waybill number, recipient's name
                   and phone
deal               title
ticket             number, subject
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from uuid import UUID

from server.search import normalize as norm
from server.search.models import SearchTerm

KIND_OF_MODEL = {"Account": "account", "Contact": "contact", "Order": "order", "Deal": "deal", "Ticket": "ticket"}
# The columns ``terms_of`` reads: a rebuild selects only these, so migration 0026 can run it on a
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
    """(Re)write the terms of one record; call it inside the write's transaction."""
    kind = KIND_OF_MODEL[type(obj).__name__]
    await SearchTerm.filter(organization_id=obj.organization_id, kind=kind, object_id=obj.id).delete()
    rows = _rows(kind, [obj])
    if rows:
        await SearchTerm.bulk_create(rows)


async def unindex(organization_id: UUID, kind: str, object_ids: Iterable[UUID]) -> None:
    """A deleted record is not found any more (soft-deleted ones included)."""
    await SearchTerm.filter(organization_id=organization_id, kind=kind, object_id__in=list(object_ids)).delete()


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
    return written


async def reindex_everything(_client=None) -> int:
    """Every organization's terms (migration 0026 fills the table once with this)."""
    from server.organizations.models import Organization

    written = 0
    for organization_id in await Organization.all().values_list("id", flat=True):
        written += await reindex_organization(organization_id)
    return written
