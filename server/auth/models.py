from __future__ import annotations

from tortoise import fields

from server.core.models import BaseModel, TenantModel


class User(BaseModel):
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    name = fields.CharField(max_length=200, default="")
    is_active = fields.BooleanField(default=True)
    # The language the person chose for the API's texts ("uk" or "en"); null: the request's
    # Accept-Language, else the organization's locale (server/i18n/choice.py, docs/i18n.md).
    locale = fields.CharField(max_length=8, null=True)

    class Meta:
        table = "user"


class Team(TenantModel):
    """A group of users. A manager sees the records owned by the team."""

    name = fields.CharField(max_length=200)

    resource = "members"

    class Meta:
        table = "team"
        unique_together = (("organization", "name"),)


class Membership(TenantModel):
    user = fields.ForeignKeyField("crm.User", related_name="memberships", on_delete=fields.CASCADE)
    role = fields.CharField(max_length=32)
    team = fields.ForeignKeyField("crm.Team", related_name="members", null=True, on_delete=fields.SET_NULL)
    is_active = fields.BooleanField(default=True)
    # The member's internal number at the organization's PBX: click-to-call rings this phone
    # and no other (docs/telephony.md). Set by owners and admins.
    phone_extension = fields.CharField(max_length=32, null=True)

    resource = "members"

    class Meta:
        table = "membership"
        unique_together = (("organization", "user"), ("organization", "phone_extension"))


class AuthToken(BaseModel):
    """A bearer token. Only its SHA-256 is stored, the token itself is shown once at login."""

    token_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("crm.User", related_name="tokens", on_delete=fields.CASCADE)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_token"
