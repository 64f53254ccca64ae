"""Which installation sends a channel (server/notifications/routing.py, docs/notifications.md):
channels are declared by the plugins, and an organization chooses a provider per channel, for
all its rules or for one rule."""

from __future__ import annotations

import pytest

from plugins.simulators.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioSimulator
from server.plugins.hookspecs import hookimpl
from server.plugins.manager import get_manager
from server.plugins.types import PluginInfo, SentMessage
from tests import test_notifications as single
from tests.provider_plugins import install

turbo_server, sim, shop = single.turbo_server, single.sim, single.shop

ROUTE = """mutation($i: SetChannelRouteInput!) { setChannelRoute(input: $i) {
  route { channel trigger installation { id pluginName label } } errors { code field message } } }"""
ROUTES = "{ channelRoutes { channel trigger installation { pluginName label } } }"
RULE = """mutation($i: UpdateNotificationRuleInput!) { updateNotificationRule(input: $i) {
  rule { trigger channels } errors { code field message } } }"""
PLUGINS = "{ plugins { name apiVersion channels } }"
TWILIO_MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture(scope="module")
def twilio_server():
    with TwilioSimulator() as server:
        yield server


@pytest.fixture
def twilio(twilio_server):
    twilio_server.reset()
    return twilio_server


@pytest.fixture
async def both(shop, twilio):
    """The shop sends SMS only (no Viber), through TurboSMS (installed first) or Twilio."""
    config = {"account_sid": ACCOUNT_SID, "from_number": FROM_NUMBER, "api_url": twilio.url}
    installed = await install(shop.owner, shop.api, "twilio", config, {"auth_token": AUTH_TOKEN})
    shop.twilio_id, shop.twilio_version = installed["installation"]["id"], installed["installation"]["version"]
    turbo = await shop.owner.data(shop.api, "{ pluginInstallations { id pluginName } }")
    shop.turbo_id = next(i["id"] for i in turbo["pluginInstallations"] if i["pluginName"] == "turbosms")
    rule = await shop.owner.data(shop.api, RULE, {"i": {"trigger": "new", "channels": ["sms"]}})
    assert rule["updateNotificationRule"]["errors"] == []
    return shop


async def _route(shop, **values) -> dict:
    return (await shop.owner.data(shop.api, ROUTE, {"i": values}))["setChannelRoute"]


def _twilio_to(twilio, phone: str) -> list[str]:
    return [r.form()["Body"] for r in twilio.requests_to(TWILIO_MESSAGES, "POST") if r.form()["To"] == phone]


async def test_the_organization_chooses_which_provider_sends_sms(both, twilio):
    shop = both
    await shop.order(phone="+380671110001")
    await shop.drain()
    assert len(shop.received("+380671110001")) == 1  # no choice: the first installed sends
    assert _twilio_to(twilio, "+380671110001") == []

    chosen = await _route(shop, channel="sms", installationId=shop.twilio_id)
    assert chosen["errors"] == [] and chosen["route"]["installation"]["pluginName"] == "twilio"
    assert chosen["route"]["trigger"] == ""
    await shop.order(phone="+380671110002")
    await shop.drain()
    assert shop.received("+380671110002") == []
    (text,) = _twilio_to(twilio, "+380671110002")
    assert "дякуємо" in text

    # One rule may choose otherwise: "new" goes through TurboSMS again, the rest through Twilio.
    ruled = await _route(shop, channel="sms", trigger="new", installationId=shop.turbo_id)
    assert ruled["errors"] == [] and ruled["route"]["trigger"] == "new"
    await shop.order(phone="+380671110003")
    await shop.drain()
    assert len(shop.received("+380671110003")) == 1 and _twilio_to(twilio, "+380671110003") == []
    listed = (await shop.owner.data(shop.api, ROUTES))["channelRoutes"]
    assert [(r["channel"], r["trigger"], r["installation"]["pluginName"]) for r in listed] == [
        ("sms", "", "twilio"),
        ("sms", "new", "turbosms"),
    ]

    # Removing the rule's choice: the organization's applies again.
    removed = await _route(shop, channel="sms", trigger="new", installationId=None)
    assert removed == {"route": None, "errors": []}
    await shop.order(phone="+380671110004")
    await shop.drain()
    assert shop.received("+380671110004") == [] and len(_twilio_to(twilio, "+380671110004")) == 1


async def test_a_disabled_chosen_provider_is_passed_over(both, twilio):
    shop = both
    assert (await _route(shop, channel="sms", installationId=shop.twilio_id))["errors"] == []
    disable = """mutation($i: PluginInstallationVersionInput!) { disablePlugin(input: $i) { errors { code } } }"""
    data = await shop.owner.data(shop.api, disable, {"i": {"id": shop.twilio_id, "version": shop.twilio_version}})
    assert data["disablePlugin"]["errors"] == []
    await shop.order(phone="+380671110005")
    await shop.drain()
    assert len(shop.received("+380671110005")) == 1 and _twilio_to(twilio, "+380671110005") == []


async def test_a_wrong_choice_names_every_problem_and_changes_nothing(both):
    shop = both
    answer = await _route(shop, channel="pigeon", trigger="x" * 40, installationId=shop.twilio_id)
    assert answer["route"] is None
    assert {e["field"] for e in answer["errors"]} == {"channel", "trigger"}
    wrong = await _route(shop, channel="viber", installationId=shop.twilio_id)  # Twilio sends no Viber
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [("INVALID", "installationId")]
    assert "twilio" in wrong["errors"][0]["message"]
    # A chat goes through the bot the customer wrote to; a rule must exist to be chosen for.
    chat = await _route(shop, channel="telegram", installationId=shop.twilio_id)
    assert [(e["code"], e["field"]) for e in chat["errors"]] == [("INVALID", "channel")]
    typo = await _route(shop, channel="sms", trigger="shiped", installationId=shop.twilio_id)
    assert [(e["code"], e["field"]) for e in typo["errors"]] == [("NOT_FOUND", "trigger")]
    # Removing a choice that does not exist (of a channel no plugin sends any more) is no error.
    assert await _route(shop, channel="pigeon", installationId=None) == {"route": None, "errors": []}
    assert (await shop.owner.data(shop.api, ROUTES))["channelRoutes"] == []


async def test_another_organizations_installation_cannot_be_chosen(both, tenants, api):
    other = (await tenants.create(("owner",))).owner
    answer = await other.data(api, ROUTE, {"i": {"channel": "sms", "installationId": both.twilio_id}})
    assert [e["code"] for e in answer["setChannelRoute"]["errors"]] == ["NOT_FOUND"]


async def test_a_sales_manager_cannot_choose(tenants, api):
    sales = (await tenants.create(("owner", "sales"))).sales
    answer = await sales.execute(api, ROUTE, {"i": {"channel": "sms", "installationId": None}})
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await sales.execute(api, ROUTES))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_batch_of_notifications_goes_through_the_chosen_provider(both, twilio):
    from server.notifications.batch import send_many
    from tests.test_notifications_batch import _queued_for_new_orders

    shop = both
    assert (await _route(shop, channel="sms", installationId=shop.twilio_id))["errors"] == []
    phones = ["+380671110011", "+380671110012", "+380671110013"]
    queued = await _queued_for_new_orders(shop, 3, phones)
    assert {n.channel for n in queued} == {"sms"}
    assert set((await send_many([str(n.id) for n in queued], shop.database)).values()) == {"sent"}
    assert [len(_twilio_to(twilio, p)) for p in phones] == [1, 1, 1]
    assert [shop.received(p) for p in phones] == [[], [], []]


class SignalGateway:
    """A third-party plugin serving a channel the CRM has no name for."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    @hookimpl
    def crm_plugin_info(self):
        return PluginInfo(
            name="signal-gw",
            title="Signal gateway",
            version="0.1.0",
            api_version="1.0",
            capabilities=("messaging",),
            channels=("signal",),
        )

    @hookimpl
    async def crm_messaging_send(self, message):
        self.sent.append((message.to, message.text))
        return SentMessage(provider_message_id=f"sig-{len(self.sent)}", status="sent")


async def test_a_channel_a_plugin_declares_can_be_used_in_rules(both):
    shop = both
    gateway = SignalGateway()
    manager = get_manager()
    manager.register(gateway, "signal-gw")
    try:
        listed = (await shop.owner.data(shop.api, PLUGINS))["plugins"]
        mine = next(p for p in listed if p["name"] == "signal-gw")
        assert mine == {"name": "signal-gw", "apiVersion": "1.0", "channels": ["signal"]}
        await install(shop.owner, shop.api, "signal-gw", {}, {})
        rule = await shop.owner.data(shop.api, RULE, {"i": {"trigger": "new", "channels": ["signal", "sms"]}})
        assert rule["updateNotificationRule"]["errors"] == []
        order = await shop.order(phone="+380671110006")
        await shop.drain()
        # The customer got it over Signal, with the SMS text (the channel has none of its own).
        ((to, text),) = gateway.sent
        assert to == "+380671110006" and f"№{order['number']}" in text
        assert shop.received("+380671110006") == []
    finally:
        manager.unregister("signal-gw")
    after = await shop.owner.data(shop.api, RULE, {"i": {"trigger": "new", "channels": ["signal"]}})
    assert after["updateNotificationRule"]["errors"][0]["field"] == "channels"  # gone with its plugin
