from __future__ import annotations

from tortoise import fields

from server.core.models import BaseModel, TenantModel


class OAuthClient(TenantModel):
    """A partner application allowed to call the API of this organization with its own credentials.
    Only the SHA-256 of the secret is kept: the secret is shown once, when the client is made."""

    name = fields.CharField(max_length=200)
    client_id = fields.CharField(max_length=64, unique=True)
    secret_hash = fields.CharField(max_length=64)
    scopes = fields.JSONField(default=list)  # permissions granted, e.g. ["orders:read"]
    created_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    resource = "settings"

    class Meta:
        table = "oauth_client"


class OAuthAccessToken(BaseModel):
    """An access token issued to a client (its SHA-256), with the scopes it carries."""

    token_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField("crm.OAuthClient", related_name="tokens", on_delete=fields.CASCADE)
    scopes = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "oauth_access_token"
