from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SearchTerm(Model):
    """One searchable value of one record.

    An account's name, one of its phones, a custom field's text... kept by server/search/index.py whenever the owning
    service writes the record.

    ``value`` is normalized (server/search/normalize.py), so both engines compare plain lower-case
    ASCII. PostgreSQL indexes it with a pg_trgm GIN index, SQLite with the FTS5 table
    ``search_term_fts`` (trigram tokenizer) that triggers keep equal to this one; both are made
    by migration 0026. The integer id is the FTS table's rowid."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("crm.Organization", related_name=False, on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=8)  # account | contact | order | deal | ticket
    object_id = fields.UUIDField()
    field = fields.CharField(max_length=16)  # name | phone | email | number | waybill | external_id ...
    value = fields.CharField(max_length=300)
    # A custom field's value (field "custom"): its definition, so a search leaves out the fields
    # the caller's role may not see and archived ones; None for the record's own values.
    definition_id = fields.UUIDField(null=True)

    class Meta:
        table = "search_term"
        indexes = (("organization_id", "kind", "object_id"), ("organization_id", "value"), ("definition_id",))
