"""Plugins the manager must refuse."""

from server.plugins.hookspecs import hookimpl
from server.plugins.types import PluginInfo


class NoHooks:
    """Claims telephony without crm_webhook."""

    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(
            name="no-hooks", title="No hooks", version="1", api_version="1.0", capabilities=("telephony",)
        )


class WrongName:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="other-name", title="Wrong", version="1", api_version="1.0")


class Typo:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(name="typo", title="Typo", version="1", api_version="1.0")

    @hookimpl
    def crm_webhok(self, request):  # not a hook of the API
        return None


class UnknownCapability:
    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(
            name="unknown-cap", title="Unknown", version="1", api_version="1.0", capabilities=("teleportation",)
        )


class Declares:
    """A messaging plugin whose declarations are set per test (api_version, channels)."""

    def __init__(self, api_version: str = "1.0", channels: tuple[str, ...] = ("sms",), capabilities=("messaging",)):
        self.info = PluginInfo(
            name="declares",
            title="Declares",
            version="1",
            api_version=api_version,
            capabilities=capabilities,
            channels=channels,
        )

    @hookimpl
    def crm_plugin_info(self):
        return self.info

    @hookimpl
    async def crm_messaging_send(self, message):
        raise AssertionError("never sent in these tests")
