"""Plugin discovery and calls.

Plugins are found through the ``crm.plugins`` entry point group when the process starts (the
first time ``get_manager()`` is called), like any installed Python package: install a plugin
with pip and restart the server and workers. Each plugin is registered once per process
under its entry point name; hooks are then called for ONE plugin at a time with an
installation's settings (see server/plugins/hookspecs.py), never broadcast.

A broken plugin (import error, bad ``crm_plugin_info``, a capability without its hooks) is
left out and reported in ``PluginManager.errors`` (and by ``crm plugins list``) instead of
stopping the server.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from server.i18n import _
from server.plugins import hookspecs
from server.plugins.types import (
    CAPABILITIES,
    CHANNEL_RE,
    CHANNELS,
    CONFIG_TYPES,
    MESSAGING,
    ConfigField,
    PluginError,
    PluginInfo,
)

log = logging.getLogger("crm.plugins")

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
DEFAULT_TIMEOUT = 30.0


class PluginLoadError(Exception):
    pass


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that passed validation: its info, its settings schema, the object registered."""

    info: PluginInfo
    config_schema: tuple[ConfigField, ...]
    obj: Any
    source: str  # "entry point <dist> <version>" or "registered"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def secret_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.config_schema if f.secret)

    def field(self, name: str) -> ConfigField | None:
        return next((f for f in self.config_schema if f.name == name), None)


class PluginManager:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.timeout = timeout
        self._plugins: dict[str, LoadedPlugin] = {}
        self.errors: dict[str, str] = {}

    # -- loading -------------------------------------------------------------------------

    def load_entrypoints(self, group: str = hookspecs.ENTRY_POINT_GROUP) -> None:
        """Register every plugin of the entry point group. Like pluggy's
        ``load_setuptools_entrypoints``, but one broken plugin does not stop the others."""
        importlib.invalidate_caches()
        for ep in metadata.entry_points(group=group):
            if ep.name in self._plugins or ep.name in self.errors:
                continue
            dist = getattr(ep, "dist", None)
            source = f"entry point of {dist.name} {dist.version}" if dist else "entry point"
            try:
                obj = ep.load()
                self.register(obj, ep.name, source=source)
            except Exception as exc:
                self.errors[ep.name] = f"{type(exc).__name__}: {exc}"
                log.error("plugin %s (%s) not loaded: %s", ep.name, source, self.errors[ep.name])

    def register(self, obj: Any, name: str, *, source: str = "registered") -> LoadedPlugin:
        """Register a plugin object (a module, a class instance) under ``name`` and validate it.
        Raises ``PluginLoadError`` and registers nothing if it is not a valid plugin."""
        if not NAME_RE.match(name):
            raise PluginLoadError(f"'{name}' is not a valid plugin name (lower case letters, digits, '-', '_').")
        if name in self._plugins:
            raise PluginLoadError(f"A plugin named '{name}' is already registered.")
        try:
            self.pm.register(obj, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginLoadError(str(exc)) from exc
        try:
            loaded = self._validate(name, obj, source)
        except Exception:
            self.pm.unregister(name=name)
            raise
        self._plugins[name] = loaded
        self.errors.pop(name, None)
        return loaded

    def unregister(self, name: str) -> None:
        if self._plugins.pop(name, None) is not None:
            self.pm.unregister(name=name)

    def _validate(self, name: str, obj: Any, source: str) -> LoadedPlugin:
        for caller in self.pm.get_hookcallers(obj) or []:
            if caller.spec is None:
                raise PluginLoadError(f"'{caller.name}' is not a hook of the CRM plugin API (a typo?)")
        if not self.implements(name, "crm_plugin_info"):
            raise PluginLoadError("it has no crm_plugin_info hook")
        info = self._call_sync(name, "crm_plugin_info")
        if not isinstance(info, PluginInfo):
            raise PluginLoadError("crm_plugin_info must return a server.plugins.types.PluginInfo")
        if info.name != name:
            raise PluginLoadError(f"crm_plugin_info says name '{info.name}' but it is registered as '{name}'")
        if not info.title or not info.version:
            raise PluginLoadError("crm_plugin_info needs a title and a version")
        problem = hookspecs.api_version_problem(info.api_version)
        if problem:
            raise PluginLoadError(problem)
        unknown = sorted(set(info.capabilities) - set(CAPABILITIES))
        if unknown:
            raise PluginLoadError(f"unknown capabilities {unknown}; known: {list(CAPABILITIES)}")
        _check_channels(info)
        for capability in info.capabilities:
            missing = [
                h
                for h in hookspecs.REQUIRED_HOOKS[capability]
                if not any(self.implements(name, one) for one in h.split("|"))
            ]
            if missing:
                raise PluginLoadError(f"capability '{capability}' needs the hooks {missing}")
        schema: list[ConfigField] = []
        if self.implements(name, "crm_config_schema"):
            schema = list(self._call_sync(name, "crm_config_schema") or [])
        seen: set[str] = set()
        for f in schema:
            if not isinstance(f, ConfigField):
                raise PluginLoadError("crm_config_schema must return ConfigField values")
            if f.type not in CONFIG_TYPES:
                raise PluginLoadError(f"config field '{f.name}' has unknown type '{f.type}'")
            if f.type == "choice" and not f.choices:
                raise PluginLoadError(f"config field '{f.name}' is a choice without choices")
            if not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,63}$", f.name) or f.name in seen:
                raise PluginLoadError(f"config field name '{f.name}' is invalid or repeated")
            seen.add(f.name)
        return LoadedPlugin(info=info, config_schema=tuple(schema), obj=obj, source=source)

    # -- looking up ----------------------------------------------------------------------

    def list_plugins(self) -> list[PluginInfo]:
        """Every valid plugin (name, title, version, capabilities...), by name."""
        return [p.info for p in sorted(self._plugins.values(), key=lambda p: p.name)]

    def get(self, name: str) -> LoadedPlugin | None:
        return self._plugins.get(name)

    def implements(self, name: str, hook: str) -> bool:
        caller = getattr(self.pm.hook, hook)
        return any(impl.plugin_name == name for impl in caller.get_hookimpls())

    # -- calling -------------------------------------------------------------------------

    def _caller(self, name: str, hook: str):
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            raise PluginLoadError(f"No plugin named '{name}'.")
        others = [p for n, p in self.pm.list_name_plugin() if n != name]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)

    def _call_sync(self, name: str, hook: str, **kwargs) -> Any:
        result = self._caller(name, hook)(**kwargs)
        if inspect.isawaitable(result):
            raise PluginLoadError(f"{hook} must be a plain function, not async")
        return result

    async def call(self, name: str, hook: str, *, time_limit: float | None = None, **kwargs) -> Any:
        """Call ``hook`` of plugin ``name`` only, awaiting it if it is async. Returns None when
        the plugin does not implement the hook (check ``implements`` first when that matters).
        A call running longer than the timeout becomes a retryable ``PluginError``."""
        result = self._caller(name, hook)(**kwargs)
        if inspect.isawaitable(result):
            try:
                async with asyncio.timeout(time_limit or self.timeout):
                    result = await result
            except TimeoutError as exc:
                if hook in NOT_REPEATABLE:  # the provider may have acted: a retry could do it twice
                    raise PluginError(
                        _(
                            "The %(name)s plugin did not answer in time; the provider may have done it anyway. Check "
                            "before trying again.",
                            name=name,
                        ),
                        code="OUTCOME_UNKNOWN",
                    ) from exc
                raise PluginError(_("The %(name)s plugin did not answer in time.", name=name), retryable=True) from exc
        return result

    async def run_long(self, name: str, hook: str, **kwargs) -> Any:
        """Call a long-running hook (``crm_telephony_listen``) of plugin ``name``: no time
        limit, the caller cancels it when it must stop."""
        result = self._caller(name, hook)(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _check_channels(info: PluginInfo) -> None:
    if MESSAGING in info.capabilities and not info.channels:
        raise PluginLoadError(
            f"a messaging plugin declares the channels it sends over, e.g. channels=('sms',); known: {list(CHANNELS)}"
        )
    if info.channels and MESSAGING not in info.capabilities:
        raise PluginLoadError("channels are for the 'messaging' capability, which the plugin does not claim")
    invalid = [c for c in info.channels if not isinstance(c, str) or not re.match(CHANNEL_RE, c)]
    if invalid or len(set(info.channels)) != len(info.channels):
        raise PluginLoadError(f"channel names are lower-case words, each once (e.g. 'sms'); got {list(info.channels)}")


# Hooks that make the provider do something for which it offers no duplicate protection.
NOT_REPEATABLE = frozenset(
    {
        "crm_messaging_send",
        "crm_telephony_click_to_call",
        "crm_delivery_create_shipment",
        "crm_payment_refund",
    }
)

_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    """The process's plugin manager, loading the installed plugins on first use."""
    global _manager
    if _manager is None:
        manager = PluginManager()
        manager.load_entrypoints()
        _manager = manager
    return _manager


def reset_manager() -> PluginManager:
    """Forget the loaded plugins and discover them again (what a restart does; for tests and
    ``crm plugins list`` after installing a package into a running interpreter)."""
    global _manager
    _manager = None
    return get_manager()


def list_plugins() -> list[dict]:
    """For the CLI (``crm plugins list``): the valid plugins, then the ones that failed to load.

    Each row: ``name, title, version, api_version, capabilities, channels, source`` and ``error``
    (None when loaded)."""
    manager = get_manager()
    rows = [
        {
            "name": p.name,
            "title": p.info.title,
            "version": p.info.version,
            "api_version": p.info.api_version,
            "capabilities": list(p.info.capabilities),
            "channels": list(p.info.channels),
            "source": p.source,
            "error": None,
        }
        for p in (manager.get(i.name) for i in manager.list_plugins())
        if p is not None
    ]
    rows += [
        {
            "name": name,
            "title": "",
            "version": "",
            "api_version": "",
            "capabilities": [],
            "channels": [],
            "source": "entry point",
            "error": error,
        }
        for name, error in sorted(manager.errors.items())
    ]
    return rows
