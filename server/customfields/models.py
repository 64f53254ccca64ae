"""Custom fields: the organization's own fields on accounts, contacts, deals, orders and tickets
(definitions, and one row per stored value so lists can filter and sort on them), and the tags of
orders, deals and tickets."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

OBJECT_TYPES = ("account", "contact", "deal", "order", "ticket")
KINDS = ("text", "number", "money", "date", "choice", "multi_choice", "boolean", "link")
# Object type -> the permission resource of its records (who may read them may read the definitions).
RESOURCES = {"account": "accounts", "contact": "accounts", "deal": "deals", "order": "orders", "ticket": "tickets"}


class CustomFieldDefinition(TenantModel):
    """One field an organization added to one object type. Archived fields keep their values
    (shown nowhere, not writable) and their key: a key is never reused for another meaning."""

    object_type = fields.CharField(max_length=16)
    key = fields.CharField(max_length=64)
    label_uk = fields.CharField(max_length=200)
    label_en = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=16)
    choices = fields.JSONField(default=list)  # [{"value": "gold", "labelUk": "...", "labelEn": "..."}]
    required = fields.BooleanField(default=False)
    position = fields.IntField(default=0)
    archived = fields.BooleanField(default=False)
    version = fields.IntField(default=1)

    resource = "settings"

    class Meta:
        table = "custom_field_definition"
        unique_together = (("organization", "object_type", "key"),)


class CustomFieldValue(TenantModel):
    """A value of one custom field of one record. A multi-choice value is one row per chosen value.

    ``text_key`` is the lower-cased text (text, link, choice) for case-insensitive filters and sorts;
    ``number_key`` the number for ranges and sorts (number, money amount, boolean 0/1, date as
    its ordinal day), so both engines compare like with like (SQLite keeps Decimals as text)."""

    definition = fields.ForeignKeyField("crm.CustomFieldDefinition", related_name=False, on_delete=fields.CASCADE)
    object_type = fields.CharField(max_length=16)
    object_id = fields.UUIDField()
    text_value = fields.TextField(null=True)
    text_key = fields.CharField(max_length=255, null=True)
    number_value = fields.DecimalField(max_digits=20, decimal_places=6, null=True)
    number_key = fields.FloatField(null=True)
    currency = fields.CharField(max_length=3, null=True)
    date_value = fields.DateField(null=True)
    bool_value = fields.BooleanField(null=True)
    position = fields.IntField(default=0)

    resource = "settings"

    class Meta:
        table = "custom_field_value"
        indexes = (
            ("object_id", "definition_id"),
            ("definition_id", "text_key"),
            ("definition_id", "number_key"),
        )


class ObjectTag(TenantModel):
    """Lookup index of the tags of orders, deals and tickets (kept by their services, like
    ``AccountIdentifier`` for accounts), so `where: {tag: ...}` is one indexed subquery."""

    object_type = fields.CharField(max_length=16)
    object_id = fields.UUIDField()
    tag = fields.CharField(max_length=64)

    resource = "settings"

    class Meta:
        table = "object_tag"
        indexes = (("object_id",), ("organization_id", "object_type", "tag"))
