from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class Account(TenantModel):
    """A customer: a company or a person. Phones are E.164, the first one is the primary."""

    kind = fields.CharField(max_length=16, default="person")  # person | company
    name = fields.CharField(max_length=300, db_index=True)
    phones = fields.JSONField(default=list)
    emails = fields.JSONField(default=list)
    addresses = fields.JSONField(default=list)
    tags = fields.JSONField(default=list)
    source = fields.CharField(max_length=64, null=True)
    owner = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    custom_fields = fields.JSONField(default=dict)
    version = fields.IntField(default=1)
    deleted_at = fields.DatetimeField(null=True)
    merged_into = fields.ForeignKeyField("crm.Account", related_name=False, null=True, on_delete=fields.SET_NULL)

    resource = "accounts"
    owner_path = "owner_id"

    class Meta:
        table = "account"
        indexes = (("organization_id", "updated_at"),)  # "changed since" for sync

    @property
    def primary_phone(self) -> str | None:
        return self.phones[0] if self.phones else None


class AccountIdentifier(TenantModel):
    """Lookup index of the phones, e-mails and tags of accounts (kept by the accounts service),
    so a caller id or the phone of a marketplace buyer finds the account with one indexed query."""

    account = fields.ForeignKeyField("crm.Account", related_name="identifiers", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=8)  # phone | email | tag
    value = fields.CharField(max_length=254)

    resource = "accounts"

    class Meta:
        table = "account_identifier"
        indexes = (
            ("account_id",),
            ("organization_id", "kind", "value"),
        )


class Contact(TenantModel):
    """A person at a company account."""

    account = fields.ForeignKeyField("crm.Account", related_name="contacts", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=300)
    position = fields.CharField(max_length=200, null=True)
    phones = fields.JSONField(default=list)
    emails = fields.JSONField(default=list)
    version = fields.IntField(default=1)

    resource = "accounts"
    owner_path = "account__owner_id"

    class Meta:
        table = "contact"
        indexes = (("account_id", "name"), ("organization_id", "updated_at"))


class ContactIdentifier(TenantModel):
    """Lookup index of contacts' phones and e-mails (kept by the accounts service), so the
    duplicate check and the duplicates report find a contact by one indexed query."""

    contact = fields.ForeignKeyField("crm.Contact", related_name="identifiers", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=8)  # phone | email
    value = fields.CharField(max_length=254)

    resource = "accounts"

    class Meta:
        table = "contact_identifier"
        indexes = (
            ("contact_id",),
            ("organization_id", "kind", "value"),
        )
