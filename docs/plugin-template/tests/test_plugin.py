"""The plugin inside a real CRM (the crm_* fixtures come with the CRM), the gateway faked."""

import json

from crm_example_sms import plugin
from server.plugins.types import OutgoingMessage


async def test_the_crm_lists_the_plugin(crm_org):
    data = await crm_org.owner.data("{ plugins { name capabilities configSchema { name secret required } } }")
    mine = next(p for p in data["plugins"] if p["name"] == plugin.NAME)
    assert mine["capabilities"] == ["messaging", "webhooks"]
    assert {f["name"]: f["secret"] for f in mine["configSchema"]}["api_token"] is True


async def test_installed_and_connected(crm_installation, gateway):
    assert crm_installation.data["secretsSet"] == ["api_token", "webhook_secret"]
    assert crm_installation.data["config"] == {"sender": "MyShop"}
    result = await crm_installation.test_connection()
    assert result["ok"] is True and "12.50 UAH" in result["message"]


async def test_a_wrong_token_is_reported(crm_installation, gateway):
    await crm_installation.configure(secrets={"api_token": "wrong"})
    result = await crm_installation.test_connection()
    assert result["ok"] is False and "rejected the API token" in result["message"]


async def test_send(gateway):
    config = {"sender": "MyShop", "api_url": plugin.DEFAULT_API_URL}
    secrets = {"api_token": "test-api-token"}
    sent = await plugin.crm_messaging_send(config, secrets, OutgoingMessage(to="+380671234567", text="Hi"))
    assert sent.provider_message_id == "msg_1" and sent.status == "queued"
    assert json.loads(gateway[0].content) == {"to": "+380671234567", "from": "MyShop", "text": "Hi"}


async def test_delivery_report_webhook(crm_org, crm_installation, sign):
    report = {"id": "msg_1", "status": "delivered"}
    for _ in range(2):  # the gateway retries: the second delivery changes nothing
        response = await crm_installation.post_webhook(**sign(report))
        assert response.status_code == 200 and response.json() == {"ok": True}
    events = await crm_org.outbox_events("message.status")
    assert [(e["provider_message_id"], e["status"]) for e in events] == [("msg_1", "delivered")]


async def test_forged_delivery_report_is_rejected(crm_org, crm_installation, sign):
    response = await crm_installation.post_webhook(**sign({"id": "msg_1", "status": "failed"}, "guess"))
    assert response.status_code == 403
    assert await crm_org.outbox_events("message.status") == []
