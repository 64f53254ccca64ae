"""The pytest kit for plugin authors (server/plugins/pytest_plugin.py), used the way a plugin
author uses it, here on the project's own database (a fresh process with its own database is
exercised by test_plugins_thirdparty.py)."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from server.plugins.http import ProviderClient
from server.plugins.simulator import SimulatorServer, json_response
from server.plugins.testing import PluginUserErrors, check_send_is_never_repeated
from server.plugins.types import PluginError
from tests.plugin_fixtures import fake_pbx
from tests.test_plugins_webhooks import completed


@pytest.fixture(scope="session")
def crm_database(database):
    """One Tortoise per process: share the project's migrated test database."""
    return database


@pytest.fixture
def crm_plugin_name(crm_register_plugin):
    crm_register_plugin(_FakePbx(), "fake-pbx-kit")
    return "fake-pbx-kit"


@pytest.fixture
def crm_plugin_config():
    return {"company_id": 4242}


@pytest.fixture
def crm_plugin_secrets():
    return {"api_key": fake_pbx.GOOD_KEY}


class _FakePbx:
    """The fake PBX's hooks under another name (a plugin object, not a module)."""

    def __init__(self):
        from server.plugins.hookspecs import hookimpl
        from server.plugins.types import PluginInfo

        for name in ("crm_config_schema", "crm_test_connection", "crm_webhook"):
            setattr(self, name, hookimpl(getattr(fake_pbx, name)))
        self.crm_plugin_info = hookimpl(
            lambda: PluginInfo(
                name="fake-pbx-kit", title="Kit PBX", version="1", api_version="1.0", capabilities=("telephony",)
            )
        )


async def test_the_kit_installs_the_plugin_and_delivers_webhooks(crm_org, crm_installation):
    assert crm_installation.data["pluginName"] == "fake-pbx-kit"
    assert crm_installation.data["secretsSet"] == ["api_key"]
    assert (await crm_installation.test_connection())["ok"] is True

    response = await crm_installation.post_webhook("any/path", data=completed("kit-1"))
    assert (response.status_code, response.json()) == (200, {"status": "success"})
    (account,) = await crm_org.accounts_by_phone("+380671112233")
    assert account["tags"] == ["lead"]
    assert [e["node"]["kind"] for e in account["timeline"]["edges"]] == ["CALL"]
    assert len(await crm_org.outbox_events("account.created")) == 1
    assert len(await crm_org.outbox_events("activity.created")) == 1


async def test_the_kit_helpers_configure_disable_and_rotate(crm_org, crm_installation, crm_http):
    data = await crm_installation.configure(config={"region": "pl"}, allowedIps=["127.0.0.1"])
    assert data["config"] == {"company_id": 4242, "region": "pl"}
    with pytest.raises(PluginUserErrors):
        await crm_installation.configure(config={"nope": 1})
    old_path = crm_installation.webhook_path
    await crm_installation.rotate_webhook_token()
    assert (await crm_http.post(old_path, data=completed("kit-2"))).status_code == 404
    assert (await crm_installation.post_webhook(data=completed("kit-2"))).status_code == 200
    await crm_installation.set_enabled(False)
    assert (await crm_installation.post_webhook(data=completed("kit-3"))).status_code == 404
    sales = await crm_org.add_member("sales")
    body = await sales.execute("{ pluginInstallations { id } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class _Gateway(SimulatorServer):
    """A provider whose POST /send answers 201 (faults aside)."""

    name = "kit-gateway"

    def routes(self):
        async def send(request):
            return json_response({"id": "m1"}, 201)

        return [Route("/send", send, methods=["POST"])]


@pytest.fixture(scope="module")
def kit_gateway():
    with _Gateway() as server:
        yield server


async def _send_once(url: str) -> str:
    async with ProviderClient("Kit", base_url=url) as client:
        return (await client.request("POST", "/send")).json()["id"]


async def test_the_send_check_passes_a_plugin_that_lets_the_outcome_be_unknown(kit_gateway):
    kit_gateway.reset()
    await check_send_is_never_repeated(lambda: _send_once(kit_gateway.url), kit_gateway, path="/send")


async def test_the_send_check_catches_a_plugin_that_would_retry(kit_gateway):
    kit_gateway.reset()

    async def says_retryable():
        try:
            return await _send_once(kit_gateway.url)
        except PluginError as exc:
            raise PluginError(exc.message, retryable=True) from None

    with pytest.raises(AssertionError, match="retryable=True"):
        await check_send_is_never_repeated(says_retryable, kit_gateway, path="/send")

    kit_gateway.reset()

    async def tries_twice():
        try:
            return await _send_once(kit_gateway.url)
        except PluginError:
            return await _send_once(kit_gateway.url)  # "once more" is a second SMS

    with pytest.raises(AssertionError, match="reported success"):
        await check_send_is_never_repeated(tries_twice, kit_gateway, path="/send")
