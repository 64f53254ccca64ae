"""An attached file's record. The bytes live in storage (local disk or an S3-compatible bucket,
``storage.py``) under ``storage_key``; the database keeps what the API shows about them.

Written only by server/attachments/service.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class Attachment(TenantModel):
    """A file on one object: ``object_type`` (Account, Order, Deal, Ticket, ConversationMessage)
    and ``object_id``. Who may see it is decided by that object, through the Scope; so it has no
    read permission of its own (``Scope.queryset(Attachment)`` is refused: read it through
    ``service``).

    ``deleted_at`` marks a file whose bytes are to be removed from storage (right after the
    deleting transaction commits, or by the cleanup job if that failed); such a row is never
    listed or served."""

    object_type = fields.CharField(max_length=32)
    object_id = fields.UUIDField()
    name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=128)
    size_bytes = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    storage = fields.CharField(max_length=8)  # "local" | "s3": where storage_key points
    storage_key = fields.CharField(max_length=255)
    uploaded_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    deleted_at = fields.DatetimeField(null=True, db_index=True)

    resource = "attachment"  # no role has it: reads go through the object's own permission

    class Meta:
        table = "attachment"
        indexes = (("organization_id", "object_type", "object_id"),)
