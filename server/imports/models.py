"""An import of a spreadsheet (a batch) and what each of its rows became."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class ImportBatch(TenantModel):
    """One file: its rows are read, checked and (unless a dry run) written by a background job."""

    kind = fields.CharField(max_length=16)  # accounts | orders | deals | tickets
    system = fields.CharField(max_length=32)  # where the file comes from: bitrix24 | keycrm | spreadsheet
    file_name = fields.CharField(max_length=255)
    file_format = fields.CharField(max_length=8)  # csv | xlsx
    content = fields.BinaryField()  # the file as uploaded: any server process or worker can read it
    mapping = fields.JSONField()  # column header -> field
    dry_run = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default="queued")  # queued | running | done | failed | undoing | undone
    rows_total = fields.IntField(default=0)
    rows_done = fields.IntField(default=0)
    next_group = fields.IntField(default=0)  # where the job goes on (an account, or an order's rows)
    ok_count = fields.IntField(default=0)  # accounts or orders imported or found so far
    created_count = fields.IntField(default=0)
    matched_count = fields.IntField(default=0)
    failed_count = fields.IntField(default=0)
    # [{"row": n, "field": ..., "code": ..., "message": ...}], the first MAX_PROBLEMS of them
    problems = fields.JSONField(default=list)
    error = fields.TextField(null=True)
    requested_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    finished_at = fields.DatetimeField(null=True)
    undone_at = fields.DatetimeField(null=True)

    resource = "imports"

    class Meta:
        table = "import_batch"


class ImportRecord(TenantModel):
    """An object an import created or found, by the source system's id: the second run of the
    same file finds it here and changes nothing; undo removes what its batch created."""

    batch = fields.ForeignKeyField("crm.ImportBatch", related_name="records", on_delete=fields.CASCADE)
    system = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=16)  # account | order | deal | ticket
    external_id = fields.CharField(max_length=128)
    object_id = fields.UUIDField()
    created = fields.BooleanField()  # False: an existing object was matched (by phone or e-mail)

    resource = "imports"

    class Meta:
        table = "import_record"
        unique_together = (("organization", "system", "kind", "external_id"),)
