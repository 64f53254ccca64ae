"""Plugins the manager must refuse."""

from server.plugins.hookspecs import hookimpl
from server.plugins.types import PluginInfo


class NoHooks:
    """Claims telephony without crm_webhook."""

    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="no-hooks", title="No hooks", version="1", capabilities=("telephony",))


class WrongName:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="other-name", title="Wrong", version="1")


class Typo:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="typo", title="Typo", version="1")

    @hookimpl
    def crm_webhok(self, request):  # not a hook of the API
        return None


class UnknownCapability:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="unknown-cap", title="Unknown", version="1", capabilities=("teleportation",))
