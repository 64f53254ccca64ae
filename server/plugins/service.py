"""Plugin installations: the only writer of ``PluginInstallation``.

An organization installs a plugin, fills in its settings (validated against the plugin's
``crm_config_schema``), enables or disables it, tests its connection and rotates its webhook
token. Secrets are encrypted before they reach the database and are never returned, logged
or audited: the API, the audit trail and the events only name which secret fields are set.

Every write runs in one transaction with its audit entry and outbox event, like every
domain service. Managing installations (install, configure, enable, uninstall, rotate the
webhook token, test the connection) is the special right ``plugins:admin`` (owner, admin);
reading them ``settings:read``.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import secrets as random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, UserInputError, version_conflict
from server.core.phones import to_e164
from server.core.text import limited_text
from server.core.versioning import update_versioned
from server.i18n import _
from server.organizations.language import speaking_for
from server.plugins import crypto, egress
from server.plugins.manager import LoadedPlugin, PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import ConfigField, ConnectionResult, DomainEvent, Installation, PluginError

log = logging.getLogger("crm.plugins")

LABEL_MAX = 64
TEXT_MAX = {"string": 2000, "text": 20_000, "url": 2000}
MAX_ALLOWED_IPS = 50
TOKEN_BYTES = 32  # 43 URL-safe characters, 256 bits


# -- webhook tokens ----------------------------------------------------------------------


def new_token() -> str:
    return random.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_url(base_url: str, plugin: str, token: str) -> str:
    """``<base>/hooks/<plugin>/<token>/``; the provider may add any path after it."""
    return f"{base_url.rstrip('/')}/hooks/{plugin}/{token}/"


# -- settings validation -------------------------------------------------------------------


def _check_value(f: ConfigField, value, path: str):
    """The value to store for one setting, or a UserInputError on ``path``."""
    kind = f.type
    if kind in ("string", "text", "url", "phone", "choice"):
        if not isinstance(value, str):
            raise UserInputError(ErrorCode.INVALID, _("%(name)s must be a string.", name=f.name), path)
        value = value.strip()
        if not value:
            if f.required:
                raise UserInputError(ErrorCode.REQUIRED, _("%(name)s is required.", name=f.name), path)
            return None
        if kind in TEXT_MAX and len(value) > TEXT_MAX[kind]:
            raise UserInputError(
                ErrorCode.INVALID,
                _("%(name)s is longer than %(text_max)s characters.", name=f.name, text_max=TEXT_MAX[kind]),
                path,
            )
        if kind == "url":
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UserInputError(ErrorCode.INVALID, _("%(name)s must be an http(s) URL.", name=f.name), path)
            if parts.username or parts.password or parts.query or parts.fragment:
                # A query or fragment would swallow the paths the plugin appends (reaching any path
                # of the host); credentials in URLs end up in logs.
                raise UserInputError(
                    ErrorCode.INVALID,
                    _("%(name)s must be a plain base URL: no user, query or fragment.", name=f.name),
                    path,
                )
        if kind == "phone":
            value = to_e164(value, path)
        if kind == "choice" and value not in f.choices:
            raise UserInputError(
                ErrorCode.INVALID,
                _("%(name)s must be one of: %(choices)s.", name=f.name, choices=", ".join(f.choices)),
                path,
            )
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserInputError(ErrorCode.INVALID, _("%(name)s must be an integer.", name=f.name), path)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserInputError(ErrorCode.INVALID, _("%(name)s must be a number.", name=f.name), path)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise UserInputError(ErrorCode.INVALID, _("%(name)s must be true or false.", name=f.name), path)
        return value
    raise UserInputError(
        ErrorCode.INVALID, _("%(name)s has an unsupported type.", name=f.name), path
    )  # pragma: no cover


def _merge(plugin: LoadedPlugin, current: dict, given, *, secret: bool) -> tuple[dict, list[str]]:
    """``current`` updated with ``given`` (a null value removes a setting); the changed names."""
    where = "secrets" if secret else "config"
    if given is None:
        return dict(current), []
    if not isinstance(given, dict):
        raise UserInputError(ErrorCode.INVALID, _("%(where)s must be a JSON object.", where=where), where)
    merged, changed = dict(current), []
    for name in sorted(given):
        path = f"{where}.{name}"
        f = plugin.field(name)
        if f is None:
            raise UserInputError(
                ErrorCode.INVALID,
                _("The %(plugin)s plugin has no setting '%(setting)s'.", plugin=plugin.name, setting=name),
                path,
            )
        if f.secret != secret:
            other = "secrets" if f.secret else "config"
            raise UserInputError(
                ErrorCode.INVALID,
                _("%(name)s belongs in %(other)s, not in %(where)s.", name=name, other=other, where=where),
                path,
            )
        value = given[name]
        value = None if value is None else _check_value(f, value, path)
        if value is None:
            if name in merged:
                merged.pop(name)
                changed.append(name)
        elif merged.get(name) != value:
            merged[name] = value
            changed.append(name)
    return merged, changed


def _check_required(plugin: LoadedPlugin, config: dict, secrets: dict) -> None:
    for f in plugin.config_schema:
        if f.required and f.default is None and (secrets if f.secret else config).get(f.name) in (None, ""):
            path = f"{'secrets' if f.secret else 'config'}.{f.name}"
            raise UserInputError(ErrorCode.REQUIRED, _("%(name)s is required.", name=f.label or f.name), path)


def _check_secrets_follow_urls(plugin: LoadedPlugin, installation, new_config: dict, secrets) -> None:
    """Pointing a plugin at another address sends the stored secrets there on the next call:
    whoever changes an address must enter the secrets again, so they cannot be exfiltrated by
    an admin who never knew them."""
    moved = [
        f.name
        for f in plugin.config_schema
        if f.type == "url" and installation.config.get(f.name) != new_config.get(f.name)
    ]
    if not moved or not installation.secret_fields:
        return
    given = {k for k, v in (secrets or {}).items() if v not in (None, "")}
    missing = sorted(set(installation.secret_fields) - given)
    if missing:
        raise UserInputError(
            ErrorCode.REQUIRED,
            _(
                "Changing %(moved)s sends the plugin's secrets to the new address: enter %(missing)s again in the "
                "same change.",
                moved=", ".join(moved),
                missing=", ".join(missing),
            ),
            "secrets",
        )


def _check_addresses(plugin: LoadedPlugin, config: dict, settings) -> None:
    """URL settings must be addresses plugins may call (server/plugins/egress.py): https and
    not local, unless ALLOW_LOCAL_PROVIDERS. ``ProviderClient`` checks again at connection."""
    for f in plugin.config_schema:
        value = config.get(f.name)
        if f.type != "url" or not value:
            continue
        problem = egress.check_url(value, allow_local=settings.allow_local_providers)
        if problem:
            raise UserInputError(
                ErrorCode.INVALID, _("%(name)s %(problem)s.", name=f.name, problem=_(problem)), f"config.{f.name}"
            )


def clean_allowed_ips(values: list[str] | None) -> list[str]:
    """IP addresses and networks (``203.0.113.7``, ``198.51.100.0/24``), normalized."""
    if values is None:
        return []
    if len(values) > MAX_ALLOWED_IPS:
        raise UserInputError(
            ErrorCode.INVALID, _("At most %(max_allowed_ips)s entries.", max_allowed_ips=MAX_ALLOWED_IPS), "allowedIps"
        )
    out: dict[str, None] = {}
    for i, raw in enumerate(values):
        try:
            out.setdefault(str(ipaddress.ip_network(raw.strip(), strict=False)), None)
        except ValueError as exc:
            raise UserInputError(
                ErrorCode.INVALID, _("'%(raw)s' is not an IP address or network.", raw=raw), f"allowedIps.{i}"
            ) from exc
    return list(out)


def effective_config(plugin: LoadedPlugin | None, config: dict) -> dict:
    """The stored settings with the schema's defaults filled in: what the hooks receive."""
    defaults = (
        {f.name: f.default for f in plugin.config_schema if not f.secret and f.default is not None} if plugin else {}
    )
    return {**defaults, **config}


# -- reads ---------------------------------------------------------------------------------


def _manager(manager: PluginManager | None) -> PluginManager:
    return manager or get_manager()


def _plugin(manager: PluginManager, name: str, field: str = "plugin") -> LoadedPlugin:
    plugin = manager.get(name)
    if plugin is None:
        raise UserInputError(
            ErrorCode.NOT_FOUND, _("No plugin named '%(name)s' is installed on this server.", name=name), field
        )
    return plugin


async def list_installations(scope: Scope) -> list[PluginInstallation]:
    return await scope.queryset(PluginInstallation).order_by("plugin", "label", "created_at")


async def get_installation(scope: Scope, installation_id: UUID) -> PluginInstallation | None:
    return await scope.queryset(PluginInstallation).get_or_none(id=installation_id)


def installation_info(installation: PluginInstallation, webhook_url: str = "") -> Installation:
    return Installation(
        id=str(installation.id),
        organization_id=str(installation.organization_id),  # type: ignore[attr-defined]
        plugin=installation.plugin,
        label=installation.label,
        webhook_url=webhook_url,
    )


# The installation's current webhook URL travels inside the encrypted secrets blob under this
# key (it carries the webhook token, a credential): plugins that must hand it to the provider
# with each request (Twilio's StatusCallback) get it as ``installation.webhook_url``.
WEBHOOK_URL_KEY = "__webhook_url__"


def _decrypt_all(settings, installation: PluginInstallation) -> dict:
    return crypto.decrypt(settings, str(installation.id), installation.secrets)


def read_secrets(settings, installation: PluginInstallation) -> dict:
    """The decrypted secrets, for a hook call only: never return, log or store them."""
    found = _decrypt_all(settings, installation)
    found.pop(WEBHOOK_URL_KEY, None)
    return found


def stored_webhook_url(settings, installation: PluginInstallation) -> str:
    """The webhook URL issued last (known to the server only since it started keeping it)."""
    try:
        return str(_decrypt_all(settings, installation).get(WEBHOOK_URL_KEY) or "")
    except crypto.SecretsUnreadable:
        return ""


def _encrypt_secrets(settings, installation: PluginInstallation, secrets: dict, webhook_url: str = "") -> str:
    blob = {**secrets, WEBHOOK_URL_KEY: webhook_url} if webhook_url else dict(secrets)
    return crypto.encrypt(settings, str(installation.id), blob)


async def remember_webhook_url(settings, installation: PluginInstallation, url: str) -> None:
    """Keep the URL just issued (encrypted, like the secrets) for the hooks that need it."""
    async with in_transaction():
        current = await PluginInstallation.select_for_update().get(id=installation.id)
        try:
            secrets = read_secrets(settings, current)
        except crypto.SecretsUnreadable:
            # Never overwrite secrets that merely do not decrypt now (OLD_SECRET_KEYS missing).
            log.warning("plugin installation %s: secrets unreadable, webhook URL not kept", installation.id)
            return
        encrypted = _encrypt_secrets(settings, current, secrets, url)
        await PluginInstallation.filter(id=installation.id).update(secrets=encrypted)
    installation.secrets = encrypted


# -- writes --------------------------------------------------------------------------------


def _snapshot(installation: PluginInstallation) -> dict:
    """What the audit trail may know: no secret values, only which secrets are set."""
    return {
        "plugin": installation.plugin,
        "label": installation.label,
        "enabled": installation.enabled,
        "config": installation.config,
        "secrets_set": installation.secret_fields,
        "allowed_ips": installation.allowed_ips,
    }


def _event(installation: PluginInstallation, **extra) -> dict:
    return {"installation_id": installation.id, "plugin": installation.plugin, "label": installation.label, **extra}


@dataclass
class Issued:
    """An installation with the webhook token just issued for it (shown once, then only its hash
    is known) and what the plugin said when told the URL."""

    installation: PluginInstallation
    token: str | None


async def install_plugin(
    scope: Scope,
    settings,
    plugin_name: str,
    *,
    label: str | None = None,
    config: dict | None = None,
    secrets: dict | None = None,
    allowed_ips: list[str] | None = None,
    enabled: bool = True,
    idempotency_key: str | None = None,
    manager: PluginManager | None = None,
) -> Issued:
    scope.require("plugins:admin")
    plugin = _plugin(_manager(manager), plugin_name)
    label = limited_text(label, "label", LABEL_MAX) or ""
    clean_config, _unused = _merge(plugin, {}, config or {}, secret=False)
    _check_addresses(plugin, clean_config, settings)
    clean_secrets, _unused = _merge(plugin, {}, secrets or {}, secret=True)
    _check_required(plugin, clean_config, clean_secrets)
    ips = clean_allowed_ips(allowed_ips)
    token = new_token()

    async def create() -> PluginInstallation:
        if await PluginInstallation.filter(
            organization_id=scope.organization_id, plugin=plugin.name, label=label
        ).exists():
            what = f"'{plugin.name}'" + (f" labelled '{label}'" if label else "")
            raise UserInputError(
                ErrorCode.DUPLICATE,
                _("%(what)s is already installed; give another label to add a second one.", what=what),
                "label",
            )
        pk = uuid.uuid4()
        installation = await PluginInstallation.create(
            id=pk,
            organization_id=scope.organization_id,
            plugin=plugin.name,
            label=label,
            enabled=enabled,
            config=clean_config,
            secrets=crypto.encrypt(settings, str(pk), clean_secrets),
            secret_fields=sorted(clean_secrets),
            webhook_token_hash=token_hash(token),
            webhook_token_issued_at=datetime.now(UTC),
            allowed_ips=ips,
        )
        await audit.record(
            scope, "plugin.install", installation, {k: [None, v] for k, v in _snapshot(installation).items()}
        )
        await outbox.emit(scope.organization_id, "plugin.installed", _event(installation, enabled=enabled))
        return installation

    # Secret values stay out of the stored digest: only which secrets were given counts.
    request = {"plugin": plugin.name, "label": label, "config": clean_config, "secrets": sorted(clean_secrets)}
    request |= {"allowed_ips": ips, "enabled": enabled}
    try:
        first_id = await idempotency.find(
            scope.organization_id, "installPlugin", idempotency.check_key(idempotency_key), request
        )
        installation = await idempotency.create_once(
            scope.organization_id,
            "installPlugin",
            idempotency_key,
            create,
            lambda pk: scope.get(PluginInstallation, pk),
            request=request,
        )
    except IntegrityError as exc:  # a concurrent install of the same plugin and label won
        raise UserInputError(
            ErrorCode.DUPLICATE, _("'%(name)s' is already installed.", name=plugin.name), "label"
        ) from exc
    # A retry with the same key gets the first installation, but its token is gone: rotate it.
    return Issued(installation, None if first_id is not None else token)


def _readable_secrets(settings, installation: PluginInstallation) -> dict:
    """The stored secrets, or none when they no longer decrypt (SECRET_KEY changed without
    OLD_SECRET_KEYS): the admin then enters them again instead of being stuck."""
    try:
        return read_secrets(settings, installation)
    except crypto.SecretsUnreadable:
        log.warning("plugin installation %s: stored secrets unreadable, replacing them", installation.id)
        return {}


async def _for_update(scope: Scope, installation_id: UUID, version: int, action: str = "read") -> PluginInstallation:
    # Callers required ``plugins:admin``; the row itself is a setting the caller must see.
    installation = await scope.get(PluginInstallation, installation_id, action, field="id", for_update=True)
    if installation.version != version:
        raise version_conflict()
    return installation


async def configure_plugin(
    scope: Scope,
    settings,
    installation_id: UUID,
    version: int,
    *,
    label: str | None = None,
    config: dict | None = None,
    secrets: dict | None = None,
    allowed_ips: list[str] | None = None,
    manager: PluginManager | None = None,
) -> PluginInstallation:
    """Change settings. ``config`` and ``secrets`` are merged into the stored ones (a key with
    a null value removes that setting); ``allowedIps`` and ``label`` replace."""
    scope.require("plugins:admin")
    async with in_transaction():
        installation = await _for_update(scope, installation_id, version)
        plugin = _plugin(_manager(manager), installation.plugin, "id")
        new_config, config_changed = _merge(plugin, installation.config, config, secret=False)
        _check_addresses(plugin, new_config, settings)
        _check_secrets_follow_urls(plugin, installation, new_config, secrets)
        old_secrets = _readable_secrets(settings, installation) if secrets else {}
        new_secrets, secrets_changed = _merge(plugin, old_secrets, secrets, secret=True)
        if secrets:
            _check_required(plugin, new_config, new_secrets)
        else:
            _check_required(plugin, new_config, dict.fromkeys(installation.secret_fields, "set"))
        values: dict = {}
        if config_changed:
            values["config"] = new_config
        if secrets_changed:
            values["secrets"] = _encrypt_secrets(
                settings, installation, new_secrets, stored_webhook_url(settings, installation)
            )
            values["secret_fields"] = sorted(new_secrets)
        if allowed_ips is not None:
            ips = clean_allowed_ips(allowed_ips)
            if ips != installation.allowed_ips:
                values["allowed_ips"] = ips
        if label is not None:
            new_label = limited_text(label, "label", LABEL_MAX) or ""
            if new_label != installation.label:
                if await PluginInstallation.filter(
                    organization_id=scope.organization_id, plugin=installation.plugin, label=new_label
                ).exists():
                    raise UserInputError(
                        ErrorCode.DUPLICATE, _("Label '%(new_label)s' is taken.", new_label=new_label), "label"
                    )
                values["label"] = new_label
        if not values:
            return installation
        changes = await update_versioned(installation, version, values)
        changes.pop("secrets", None)  # ciphertext: say which secrets changed instead
        if secrets_changed:
            changes["secrets_changed"] = [None, sorted(secrets_changed)]
        await audit.record(scope, "plugin.configure", installation, changes)
        await outbox.emit(
            scope.organization_id,
            "plugin.configured",
            _event(installation, fields=sorted({*config_changed, *secrets_changed, *values} - {"config", "secrets"})),
        )
    return installation


async def set_enabled(
    scope: Scope, installation_id: UUID, version: int, enabled: bool, *, manager: PluginManager | None = None
) -> PluginInstallation:
    scope.require("plugins:admin")
    async with in_transaction():
        installation = await _for_update(scope, installation_id, version)
        if enabled:
            plugin = _plugin(_manager(manager), installation.plugin, "id")
            _check_required(plugin, installation.config, dict.fromkeys(installation.secret_fields, "set"))
        if installation.enabled == enabled:
            return installation
        changes = await update_versioned(installation, version, {"enabled": enabled})
        action = "enable" if enabled else "disable"
        await audit.record(scope, f"plugin.{action}", installation, changes)
        await outbox.emit(scope.organization_id, f"plugin.{action}d", _event(installation))
    return installation


async def uninstall_plugin(scope: Scope, installation_id: UUID, version: int) -> PluginInstallation:
    """Delete the installation with its secrets and delivery log; the audit trail keeps what it was."""
    scope.require("plugins:admin")
    async with in_transaction():
        installation = await _for_update(scope, installation_id, version)
        if not await PluginInstallation.filter(id=installation.id, version=version).delete():
            raise version_conflict()
        await audit.record(
            scope, "plugin.uninstall", installation, {k: [v, None] for k, v in _snapshot(installation).items()}
        )
        await outbox.emit(scope.organization_id, "plugin.uninstalled", _event(installation))
    return installation


async def rotate_webhook_token(scope: Scope, installation_id: UUID, version: int) -> Issued:
    """A new webhook token; the old URL stops working at once."""
    scope.require("plugins:admin")
    token = new_token()
    async with in_transaction():
        installation = await _for_update(scope, installation_id, version)
        changes = await update_versioned(
            installation,
            version,
            {"webhook_token_hash": token_hash(token), "webhook_token_issued_at": datetime.now(UTC)},
        )
        changes.pop("webhook_token_hash", None)
        await audit.record(scope, "plugin.rotate_webhook_token", installation, changes)
        await outbox.emit(scope.organization_id, "plugin.webhook_token_rotated", _event(installation))
    return Issued(installation, token)


# -- calling an installation's plugin ----------------------------------------------------


async def call(
    settings, installation: PluginInstallation, hook: str, *, manager: PluginManager | None = None, **kwargs
):
    """Call ``hook`` of the installation's plugin with its settings and decrypted secrets.
    What the plugin says (a refusal, a timeout) is in the caller's language, or in a job, the
    organization's (server/organizations/language.py)."""
    manager = _manager(manager)
    async with speaking_for(installation.organization_id):  # type: ignore[attr-defined]
        plugin = manager.get(installation.plugin)
        if plugin is None:
            raise PluginError(_("The %(plugin)s plugin is not installed on this server.", plugin=installation.plugin))
        secrets = _decrypt_all(settings, installation)
        url = str(secrets.pop(WEBHOOK_URL_KEY, None) or "")
        with egress.allowing_local(settings.allow_local_providers), egress.pooling(installation.id):
            return await manager.call(
                installation.plugin,
                hook,
                installation=installation_info(installation, url),
                config=effective_config(plugin, installation.config),
                secrets=secrets,
                **kwargs,
            )


async def test_connection(
    scope: Scope, settings, installation_id: UUID, *, manager: PluginManager | None = None
) -> tuple[PluginInstallation, ConnectionResult]:
    scope.require("plugins:admin")  # it uses the secrets
    installation = await scope.get(PluginInstallation, installation_id, field="id")
    manager = _manager(manager)
    _plugin(manager, installation.plugin, "id")
    if not manager.implements(installation.plugin, "crm_test_connection"):
        raise UserInputError(
            ErrorCode.INVALID, _("The %(plugin)s plugin has no connection test.", plugin=installation.plugin), "id"
        )
    try:
        result = await call(settings, installation, "crm_test_connection", manager=manager)
    except PluginError as exc:
        return installation, ConnectionResult(ok=False, message=exc.message)
    except crypto.SecretsUnreadable as exc:
        return installation, ConnectionResult(ok=False, message=_("%(problem)s Enter the secrets again.", problem=exc))
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        log.exception("plugin %s: crm_test_connection failed (error id %s)", installation.plugin, error_id)
        return installation, ConnectionResult(
            ok=False,
            message=_("The plugin failed unexpectedly. Quote error id %(id)s when reporting it.", id=error_id),
        )
    if not isinstance(result, ConnectionResult):
        result = ConnectionResult(ok=bool(result), message="" if result else _("The plugin reported a failure."))
    return installation, result


async def announce_webhook_url(
    settings, installation: PluginInstallation, url: str, *, manager: PluginManager | None = None
) -> str | None:
    """Tell the plugin its new webhook URL (after the token was issued and committed). Returns
    the plugin's note for the admin; a failure is a note too: the URL is valid anyway."""
    manager = _manager(manager)
    await remember_webhook_url(settings, installation, url)
    if not installation.enabled or not manager.implements(installation.plugin, "crm_webhook_url_issued"):
        return None
    try:
        note = await call(settings, installation, "crm_webhook_url_issued", manager=manager, url=url)
    except PluginError as exc:
        return f"The plugin could not register the URL with the provider: {exc.message} Paste it there yourself."
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        log.exception("plugin %s: crm_webhook_url_issued failed (error id %s)", installation.plugin, error_id)
        return f"The plugin failed to register the URL (error id {error_id}). Paste it into the provider yourself."
    return str(note) if note else None


async def deliver_domain_event(settings, event, *, manager: PluginManager | None = None) -> dict[str, str | None]:
    """Hand an outbox event to every enabled installation of its organization whose plugin
    has the ``domain_events`` capability. For the outbox relay (server/jobs).

    Returns ``{installation id: None or the error}``; a retryable ``PluginError`` is re-raised
    after the others had their turn, so the relay retries the event (plugins must be idempotent)."""
    result = (await deliver_domain_events(settings, [event], manager=manager))[str(event.id)]
    if isinstance(result, PluginError):
        raise result
    return result


# Per worker process (event loop) and installation: domain events in flight at once
# (PROVIDER_CONCURRENCY), as for messages (server/notifications/batch.py).
_gates: dict[tuple[int, UUID], asyncio.Semaphore] = {}


def _gate(installation_id: UUID, settings) -> asyncio.Semaphore:
    key = (id(asyncio.get_running_loop()), installation_id)
    found = _gates.get(key)
    if found is None:
        found = _gates[key] = asyncio.Semaphore(max(1, settings.provider_concurrency))
    return found


async def deliver_domain_events(
    settings, events: list, *, manager: PluginManager | None = None
) -> dict[str, dict[str, str | None] | PluginError]:
    """``deliver_domain_event`` for many events with one query (the installations of their
    organizations), the events handed over concurrently (each event to its installations one
    after another, at most ``PROVIDER_CONCURRENCY`` calls per installation at once). Per event
    id: ``{installation id: None or the error}``, or the retryable ``PluginError`` that means
    this event must be handed over again."""
    manager = _manager(manager)
    if not events:
        return {}
    takers: dict[UUID, list[PluginInstallation]] = {}
    organizations = list({event.organization_id for event in events})
    for installation in await PluginInstallation.filter(organization_id__in=organizations, enabled=True).order_by(
        "created_at", "id"
    ):
        plugin = manager.get(installation.plugin)
        if plugin is not None and "domain_events" in plugin.info.capabilities:
            takers.setdefault(installation.organization_id, []).append(installation)  # type: ignore[attr-defined]

    async def one(event) -> dict[str, str | None] | PluginError:
        outcome: dict[str, str | None] = {}
        retry: PluginError | None = None
        domain_event = DomainEvent(
            id=str(event.id),
            topic=event.topic,
            organization_id=str(event.organization_id),
            payload=event.payload,
            created_at=event.created_at,
        )
        for installation in takers.get(event.organization_id, ()):
            async with _gate(installation.id, settings):
                try:
                    await call(settings, installation, "crm_domain_event", manager=manager, event=domain_event)
                    outcome[str(installation.id)] = None
                except PluginError as exc:
                    outcome[str(installation.id)] = exc.message
                    if exc.retryable:
                        retry = exc
                except Exception as exc:
                    log.exception("plugin %s: crm_domain_event %s failed", installation.plugin, event.topic)
                    outcome[str(installation.id)] = f"{type(exc).__name__}"
        return retry if retry is not None else outcome

    results = await asyncio.gather(*(one(event) for event in events))
    return {str(event.id): result for event, result in zip(events, results, strict=True)}


async def rotate_all_secrets(settings) -> int:
    """Re-encrypt every installation's secrets with the current SECRET_KEY (for
    ``crm plugins rotate-secrets``, after moving the old key to OLD_SECRET_KEYS). Returns how
    many rows were rewritten."""
    count = 0
    for installation in await PluginInstallation.exclude(secrets=""):
        rotated = crypto.rotate(settings, installation.secrets)
        if rotated != installation.secrets:
            # Only if nobody changed them meanwhile (a configurePlugin): never write back old secrets.
            count += await PluginInstallation.filter(id=installation.id, secrets=installation.secrets).update(
                secrets=rotated
            )
    return count


async def enabled_with(
    scope: Scope, capability: str, installation_id: uuid.UUID | None, manager: PluginManager | None = None
) -> list[PluginInstallation]:
    """The organization's enabled installations whose plugin has ``capability`` (only
    ``installation_id`` when given): what a feature may use, by plugin and label."""
    manager = manager or get_manager()
    qs = PluginInstallation.filter(organization_id=scope.organization_id, enabled=True)
    if installation_id is not None:
        qs = qs.filter(id=installation_id)
    return [
        i
        for i in await qs.order_by("plugin", "label")
        if (p := manager.get(i.plugin)) is not None and capability in p.info.capabilities
    ]
