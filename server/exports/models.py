"""An export and its file. The file lives in the database in chunks, so any API process can
serve it whichever worker built it (no shared disk needed)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.core.models import TenantModel


class Export(TenantModel):
    """One requested export: what, with which filters, by whom, and how far it got."""

    requested_by = fields.ForeignKeyField("crm.User", related_name=False, on_delete=fields.CASCADE)
    # "orders" | "accounts" | "contacts" | "deals" | "tickets" | "organization" (the full export)
    list_name = fields.CharField(max_length=16)
    format = fields.CharField(max_length=8)  # csv | xlsx | jsonl (zip of JSON lines)
    # The list's where/orderBy as the API took them (snake_case, JSON): the job rebuilds them.
    filters = fields.JSONField(default=dict)
    language = fields.CharField(max_length=8, default="uk")  # of the column headers
    status = fields.CharField(max_length=16, default="queued")  # queued | running | done | failed | expired
    rows_done = fields.IntField(default=0)
    rows_total = fields.IntField(null=True)
    row_count = fields.IntField(null=True)
    error = fields.TextField(null=True)
    file_name = fields.CharField(max_length=128, null=True)
    content_type = fields.CharField(max_length=128, null=True)
    size_bytes = fields.BigIntField(null=True)
    finished_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True, db_index=True)

    resource = "data"  # Scope.queryset(Export, "export") needs `data:export`

    class Meta:
        table = "export"


class ExportChunk(Model):
    """A piece of an export's file, in order (``seq``)."""

    id = fields.BigIntField(primary_key=True)
    export = fields.ForeignKeyField("crm.Export", related_name="chunks", on_delete=fields.CASCADE)
    seq = fields.IntField()
    data = fields.BinaryField()

    class Meta:
        table = "export_chunk"
        unique_together = (("export", "seq"),)
