"""GraphQL for plugins: what the server offers and the organization's installations.

Secrets go in (``installPlugin``/``configurePlugin`` ``secrets``) and never come out: an
installation shows only which secret fields are set (``secretsSet``). The webhook URL holds
a token the server keeps only a hash of, so it is returned once, by ``installPlugin`` and
``rotateWebhookToken``."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Node, model_type
from server.plugins import service
from server.plugins.manager import LoadedPlugin, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import ConfigField


@strawberry.enum(description="How a plugin setting is validated.")
class PluginSettingType(Enum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    URL = "url"
    PHONE = "phone"
    CHOICE = "choice"


@strawberry.type(name="PluginConfigField", description="One setting of a plugin, as its config schema declares it.")
class PluginConfigFieldType:
    name: str = strawberry.field(description="The key in `config` (or `secrets` when `secret`).")
    type: PluginSettingType
    required: bool
    secret: bool = strawberry.field(
        description="Stored encrypted, passed in `secrets`, never shown again (see `secretsSet`)."
    )
    label: str
    help: str
    default: JSON | None
    choices: list[str] = strawberry.field(description="The allowed values of a CHOICE setting.")


def _config_field(f: ConfigField) -> PluginConfigFieldType:
    return PluginConfigFieldType(
        name=f.name,
        type=PluginSettingType(f.type),
        required=f.required,
        secret=f.secret,
        label=f.label or f.name,
        help=f.help,
        default=f.default,
        choices=list(f.choices),
    )


@strawberry.type(name="Plugin", description="A plugin available on this server (installed as a Python package).")
class PluginType:
    name: str = strawberry.field(description="Stable id, e.g. `novaposhta`; also the webhook URL segment.")
    title: str
    version: str
    description: str
    homepage: str
    capabilities: list[str] = strawberry.field(
        description="delivery, marketplace, telephony, messaging, webhooks, domain_events, payments, fiscal."
    )
    api_version: str = strawberry.field(description="The plugin API version it was written for (`1.0`).")
    channels: list[str] = strawberry.field(
        description="Messaging plugins: the notification channels it sends over (`sms`, `viber`, `email`...)."
    )
    config_schema: list[PluginConfigFieldType] = strawberry.field(description="The settings an installation takes.")


def _plugin_type(p: LoadedPlugin) -> PluginType:
    return PluginType(
        name=p.info.name,
        title=p.info.title,
        version=p.info.version,
        description=p.info.description,
        homepage=p.info.homepage,
        capabilities=list(p.info.capabilities),
        api_version=p.info.api_version,
        channels=list(p.info.channels),
        config_schema=[_config_field(f) for f in p.config_schema],
    )


@model_type(PluginInstallation, description="A plugin the organization installed, with its settings.")
class PluginInstallationType(Node):
    label: str = strawberry.field(description="Tells several installations of one plugin apart ('' for the first).")
    enabled: bool = strawberry.field(description="Disabled: its webhooks answer 404 and nothing calls it.")
    version: int = strawberry.field(description="Pass it back to change the installation (optimistic concurrency).")
    allowed_ips: list[str] = strawberry.field(description="Webhooks only from these addresses/networks (empty: any).")
    webhook_token_issued_at: datetime = strawberry.field(description="When the current webhook URL was issued.")
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The plugin's name (kept even if the plugin is removed from the server).")
    def plugin_name(self) -> str:
        return self.plugin  # type: ignore[attr-defined]

    @strawberry.field(description="The plugin, or null if it is no longer installed on the server.")
    def plugin(self) -> PluginType | None:
        loaded = get_manager().get(self.plugin)  # type: ignore[attr-defined]
        return _plugin_type(loaded) if loaded else None

    @strawberry.field(description="The non-secret settings.")
    def config(self) -> JSON:
        return self.config  # type: ignore[attr-defined]

    @strawberry.field(description="Names of the secret settings that have a value. Their values are never returned.")
    def secrets_set(self) -> list[str]:
        return list(self.secret_fields)  # type: ignore[attr-defined]


# -- queries ---------------------------------------------------------------------------


@strawberry.type
class PluginQueries:
    @strawberry.field(description="Plugins available on this server, with their settings (needs settings:read).")
    def plugins(self, info: Info) -> list[PluginType]:
        info.context.scope.require("settings:read")
        manager = get_manager()
        return [_plugin_type(manager.get(p.name)) for p in manager.list_plugins()]  # type: ignore[arg-type]

    @strawberry.field(description="The organization's plugin installations (needs settings:read).")
    async def plugin_installations(self, info: Info) -> list[PluginInstallationType]:
        return await service.list_installations(info.context.scope)  # type: ignore[return-value]

    @strawberry.field(description="One installation, or null if not found.")
    async def plugin_installation(self, info: Info, id: strawberry.ID) -> PluginInstallationType | None:
        return await service.get_installation(info.context.scope, ids.decode(id, "PluginInstallation")[1])  # type: ignore[return-value]


# -- mutations ---------------------------------------------------------------------------


@strawberry.input
class InstallPluginInput:
    plugin: str = strawberry.field(description="The plugin's name, from `plugins`.")
    label: str | None = strawberry.field(default=None, description="Needed for a second installation of a plugin.")
    config: JSON | None = strawberry.field(default=None, description="Non-secret settings, a JSON object.")
    secrets: JSON | None = strawberry.field(default=None, description="Secret settings (API keys...), a JSON object.")
    allowed_ips: list[str] | None = strawberry.field(default=None, description="Webhook IP allow-list.")
    enabled: bool = True
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first installation (without its URL)."
    )


@strawberry.input
class ConfigurePluginInput:
    id: strawberry.ID
    version: int
    label: str | None = strawberry.UNSET
    config: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Merged into the settings; a key set to null removes that setting."
    )
    secrets: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Merged into the secrets; a key set to null removes that secret."
    )
    allowed_ips: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the allow-list.")


@strawberry.input
class PluginInstallationVersionInput:
    id: strawberry.ID
    version: int


@strawberry.input
class TestPluginConnectionInput:
    id: strawberry.ID


@strawberry.type
class PluginInstallationPayload:
    installation: PluginInstallationType | None = None
    errors: list[UserError]


@strawberry.type
class WebhookUrlPayload:
    installation: PluginInstallationType | None = None
    webhook_url: str | None = strawberry.field(
        default=None,
        description="The webhook URL for the provider, shown only now: the server keeps a hash of its token.",
    )
    webhook_note: str | None = strawberry.field(
        default=None, description="What the plugin did with the URL (e.g. registered it at the provider)."
    )
    errors: list[UserError]


@strawberry.type
class TestPluginConnectionPayload:
    installation: PluginInstallationType | None = None
    ok: bool | None = strawberry.field(default=None, description="Whether the provider accepted the settings.")
    message: str | None = strawberry.field(default=None, description="What the plugin found, for the admin.")
    errors: list[UserError]


def _pk(gid: str):
    return ids.decode(gid, "PluginInstallation")[1]


def _unset_none(value):
    return None if value is strawberry.UNSET else value


def _base_url(info: Info) -> str:
    settings = info.context.settings
    return settings.public_url or str(info.context.request.base_url)


async def _issued(info: Info, issued: service.Issued) -> dict:
    if issued.token is None:
        return {"installation": issued.installation}
    url = service.webhook_url(_base_url(info), issued.installation.plugin, issued.token)
    note = await service.announce_webhook_url(info.context.settings, issued.installation, url)
    return {"installation": issued.installation, "webhook_url": url, "webhook_note": note}


@strawberry.type
class PluginMutations:
    @strawberry.mutation(
        description="Install a plugin for the organization (owner, admin). Returns its webhook URL once."
    )
    async def install_plugin(self, info: Info, input: InstallPluginInput) -> WebhookUrlPayload:
        ctx = info.context

        async def act():
            issued = await service.install_plugin(
                ctx.scope,
                ctx.settings,
                input.plugin,
                label=input.label,
                config=input.config,
                secrets=input.secrets,
                allowed_ips=input.allowed_ips,
                enabled=input.enabled,
                idempotency_key=input.idempotency_key,
            )
            return await _issued(info, issued)

        return await run_mutation(WebhookUrlPayload, act)

    @strawberry.mutation(description="Change an installation's settings, secrets, label or IP allow-list.")
    async def configure_plugin(self, info: Info, input: ConfigurePluginInput) -> PluginInstallationPayload:
        ctx = info.context

        async def act():
            installation = await service.configure_plugin(
                ctx.scope,
                ctx.settings,
                _pk(input.id),
                input.version,
                label=_unset_none(input.label),
                config=_unset_none(input.config),
                secrets=_unset_none(input.secrets),
                allowed_ips=_unset_none(input.allowed_ips),
            )
            return {"installation": installation}

        return await run_mutation(PluginInstallationPayload, act)

    @strawberry.mutation(description="Turn an installation on (its required settings must be filled in).")
    async def enable_plugin(self, info: Info, input: PluginInstallationVersionInput) -> PluginInstallationPayload:
        scope = info.context.scope

        async def act():
            return {"installation": await service.set_enabled(scope, _pk(input.id), input.version, True)}

        return await run_mutation(PluginInstallationPayload, act)

    @strawberry.mutation(description="Turn an installation off: its webhooks answer 404, nothing calls it.")
    async def disable_plugin(self, info: Info, input: PluginInstallationVersionInput) -> PluginInstallationPayload:
        scope = info.context.scope

        async def act():
            return {"installation": await service.set_enabled(scope, _pk(input.id), input.version, False)}

        return await run_mutation(PluginInstallationPayload, act)

    @strawberry.mutation(description="Remove an installation with its secrets; the audit trail keeps what it was.")
    async def uninstall_plugin(self, info: Info, input: PluginInstallationVersionInput) -> PluginInstallationPayload:
        scope = info.context.scope

        async def act():
            return {"installation": await service.uninstall_plugin(scope, _pk(input.id), input.version)}

        return await run_mutation(PluginInstallationPayload, act)

    @strawberry.mutation(description="Check the saved settings against the provider (owner, admin).")
    async def test_plugin_connection(self, info: Info, input: TestPluginConnectionInput) -> TestPluginConnectionPayload:
        ctx = info.context

        async def act():
            installation, result = await service.test_connection(ctx.scope, ctx.settings, _pk(input.id))
            return {"installation": installation, "ok": result.ok, "message": result.message}

        return await run_mutation(TestPluginConnectionPayload, act)

    @strawberry.mutation(description="Issue a new webhook URL (returned once); the old one stops working at once.")
    async def rotate_webhook_token(self, info: Info, input: PluginInstallationVersionInput) -> WebhookUrlPayload:
        ctx = info.context

        async def act():
            issued = await service.rotate_webhook_token(ctx.scope, _pk(input.id), input.version)
            return await _issued(info, issued)

        return await run_mutation(WebhookUrlPayload, act)
