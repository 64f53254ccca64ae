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
    # Where /oauth/authorize may send a person back with a code: exact strings, compared as such.
    redirect_uris = fields.JSONField(default=list)
    created_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    # Other organizations may install it through the consent page (OAuthInstallation); its own
    # organization registered it and manages it. Off: it works in its own organization only.
    installable = fields.BooleanField(default=False)

    resource = "settings"

    class Meta:
        table = "oauth_client"


class OAuthInstallation(TenantModel):
    """An installable app (``OAuthClient.installable``) let into this organization by one of its
    owners or admins on the consent page, with the scopes they approved. The app's tokens for
    this organization carry this installation; the app's own organization sees nothing here."""

    client = fields.ForeignKeyField("crm.OAuthClient", related_name="installations", on_delete=fields.CASCADE)
    scopes = fields.JSONField(default=list)
    installed_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    revoked_at = fields.DatetimeField(null=True)

    resource = "settings"

    class Meta:
        table = "oauth_installation"
        unique_together = (("client", "organization"),)


class OAuthAccessToken(BaseModel):
    """An access token issued to a client (its SHA-256), with the scopes it carries."""

    token_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField("crm.OAuthClient", related_name="tokens", on_delete=fields.CASCADE)
    scopes = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(db_index=True)
    # Set when a person consented (authorization code): the token acts for that user, within
    # the user's role. The family ties it to its refresh tokens, so a stolen one revokes all.
    user = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.CASCADE)
    family = fields.UUIDField(null=True, db_index=True)
    # Set for a token of an installed app: it works in the installation's organization.
    installation = fields.ForeignKeyField(
        "crm.OAuthInstallation", related_name=False, null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "oauth_access_token"


class OAuthAuthorizationCode(BaseModel):
    """A code from the consent page (its SHA-256): single use, one minute, bound to the
    redirect URI and the PKCE challenge it was asked with."""

    code_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField("crm.OAuthClient", related_name=False, on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("crm.User", related_name=False, on_delete=fields.CASCADE)
    scopes = fields.JSONField(default=list)
    redirect_uri = fields.CharField(max_length=2000)
    code_challenge = fields.CharField(max_length=128)
    family = fields.UUIDField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    # For an installable app: the organization the person (an owner or admin) installs it into.
    install_into = fields.ForeignKeyField("crm.Organization", related_name=False, null=True, on_delete=fields.CASCADE)

    class Meta:
        table = "oauth_authorization_code"


class OAuthRefreshToken(BaseModel):
    """A refresh token (its SHA-256). Each use rotates it, and a used one presented again means it
    was copied, and its whole family (every token from one consent) is revoked."""

    token_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField("crm.OAuthClient", related_name=False, on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("crm.User", related_name=False, on_delete=fields.CASCADE)
    scopes = fields.JSONField(default=list)
    family = fields.UUIDField(db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # When the person consented, carried from token to token: rotated-out rows are deleted after
    # a while (server/oauth/housekeeping.py), the consent's date stays. Null on rows made before.
    granted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_refresh_token"
