"""The plugin inside a real CRM (the crm_* fixtures come with the CRM), against a local
Example SMS that speaks the gateway's HTTP API (tests/simulator.py)."""

from datetime import timedelta

from crm_example_sms import plugin
from server.plugins.testing import check_send_is_never_repeated
from server.plugins.types import OutgoingMessage
from tests.simulator import INVALID_NUMBER

ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { message } } }"""
ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { number } errors { message } } }"""
NO_QUIET_HOURS = """mutation { updateNotificationSettings(input: {quietStart: "00:00", quietEnd: "00:00"}) {
  errors { message } } }"""


async def test_the_crm_lists_the_plugin(crm_org):
    query = "{ plugins { name capabilities channels apiVersion configSchema { name secret } } }"
    data = await crm_org.owner.data(query)
    mine = next(p for p in data["plugins"] if p["name"] == plugin.NAME)
    assert mine["capabilities"] == ["messaging", "webhooks"] and mine["channels"] == ["sms"]
    assert mine["apiVersion"] == "1.0"
    assert {f["name"]: f["secret"] for f in mine["configSchema"]}["api_token"] is True


async def test_installed_and_connected(crm_installation, gateway):
    assert crm_installation.data["secretsSet"] == ["api_token", "webhook_secret"]
    result = await crm_installation.test_connection()
    assert result["ok"] is True and "12.50 UAH" in result["message"]


async def test_a_wrong_token_is_reported(crm_installation, gateway):
    await crm_installation.configure(secrets={"api_token": "wrong", "webhook_secret": "x"})
    result = await crm_installation.test_connection()
    assert result["ok"] is False and "rejected the API token" in result["message"]


async def test_send(crm_plugin_config, crm_plugin_secrets, gateway):
    message = OutgoingMessage(to="+380671234567", text="Hi")
    sent = await plugin.crm_messaging_send(crm_plugin_config, crm_plugin_secrets, message)
    assert sent.provider_message_id == "msg_1" and sent.status == "queued"
    assert gateway.sent_to("+380671234567") == ["Hi"]
    wrong = OutgoingMessage(to=INVALID_NUMBER, text="Hi")
    refused = await plugin.crm_messaging_send(crm_plugin_config, crm_plugin_secrets, wrong)
    assert (refused.status, refused.error_code) == ("failed", "invalid_number")


async def test_a_send_is_never_repeated(crm_plugin_config, crm_plugin_secrets, gateway):
    """A 500 or a timeout after the request went out: the SMS may be sent, so the plugin says
    OUTCOME_UNKNOWN and the CRM never sends it again (the customer would get it twice)."""
    message = OutgoingMessage(to="+380671234567", text="Hi")
    await check_send_is_never_repeated(
        lambda: plugin.crm_messaging_send(crm_plugin_config, crm_plugin_secrets, message), gateway, path="/v1/messages"
    )


async def test_a_new_order_tells_the_customer_by_sms(crm_org, crm_installation, crm_jobs, gateway):
    """The whole road: an order is created, the CRM's notification job sends it through this
    plugin. Jobs only run when the test says so (crm_jobs.run)."""
    assert (await crm_org.owner.data(NO_QUIET_HOURS))["updateNotificationSettings"]["errors"] == []
    account = await crm_org.owner.mutate(ACCOUNT, {"i": {"name": "Олена Коваль", "phones": ["0671234567"]}})
    item = {"sku": "A-1", "title": "Чайник", "quantity": "1", "unitPrice": "100"}
    order = await crm_org.owner.mutate(ORDER, {"i": {"accountId": account["account"]["id"], "items": [item]}})
    await crm_jobs.run(later=timedelta(minutes=2))  # the CRM waits a minute before sending
    (text,) = gateway.sent_to("+380671234567")
    assert f"№{order['order']['number']}" in text
    assert await crm_jobs.failed() == []


async def test_delivery_report_webhook(crm_org, crm_installation, gateway):
    report = gateway.report(crm_installation.webhook_url, "msg_1", "delivered")
    for _ in range(2):  # the gateway retries: the second delivery changes nothing
        response = await crm_installation.post_webhook(content=report.body, headers=report.headers)
        assert response.status_code == 200 and response.json() == {"ok": True}
    events = await crm_org.outbox_events("message.status")
    assert [(e["provider_message_id"], e["status"]) for e in events] == [("msg_1", "delivered")]


async def test_forged_delivery_report_is_rejected(crm_org, crm_installation, gateway):
    report = gateway.report(crm_installation.webhook_url, "msg_1", "failed", secret="guess")
    response = await crm_installation.post_webhook(content=report.body, headers=report.headers)
    assert response.status_code == 403
    assert await crm_org.outbox_events("message.status") == []
