"""Inbound webhooks: routing by token, 404 for unknown/disabled, the IP allow-list, the
plugin's verification, redelivery protection, and calls becoming timeline activities."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest

from server.accounts.models import Account
from server.activities.models import Activity
from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.plugins.models import PluginInstallation, WebhookDelivery
from server.plugins.testing import CONFIGURE, DISABLE, ENABLE, ROTATE, UNINSTALL
from tests.test_plugins import CONFIG, installed, pbx  # noqa: F401 - the fixture, used by pytestmark

pytestmark = pytest.mark.usefixtures("pbx")

CALLER = "+380671112233"


def completed(call_id: str, external: str = "0671112233", **details) -> dict:
    """Binotel's apiCallCompleted form, as it posts it."""
    form = {
        "requestType": "apiCallCompleted",
        "companyID": str(CONFIG["company_id"]),
        "pbxNumber": "0443334455",
        "callDetails[generalCallID]": call_id,
        "callDetails[startTime]": "1735725600",  # 2025-01-01 10:00 UTC
        "callDetails[callType]": "0",
        "callDetails[internalNumber]": "901",
        "callDetails[externalNumber]": external,
        "callDetails[employeeName]": "Оксана",
        "callDetails[waitsec]": "7",
        "callDetails[billsec]": "95",
        "callDetails[disposition]": "ANSWER",
    }
    form.update({f"callDetails[{k}]": v for k, v in details.items()})
    return form


async def setup(api, tenants, **fields):
    t = await tenants.create(("owner",))
    payload = await installed(t.owner, api, **fields)
    inst = payload["installation"]
    pk = ids.decode(inst["id"])[1]
    org_id = (await PluginInstallation.get(id=pk)).organization_id  # type: ignore[attr-defined]
    return t, inst, urlsplit(payload["webhookUrl"]).path, pk, org_id


async def test_a_call_from_an_unknown_number_becomes_a_lead_with_a_call_activity(api, tenants, http):
    t, _inst, path, pk, org_id = await setup(api, tenants)
    response = await http.post(path, data=completed("call-1"))
    assert response.status_code == 200
    assert response.json() == {"status": "success"}

    accounts = await Account.filter(organization_id=org_id)
    assert len(accounts) == 1
    lead = accounts[0]
    assert lead.phones == [CALLER] and lead.tags == ["lead"] and lead.source == "fake-pbx"
    activity = await Activity.get(organization_id=org_id)
    assert activity.kind == "call" and activity.account_id == lead.id  # type: ignore[attr-defined]
    assert activity.subject == f"Incoming call from {CALLER} (answered, 1:35)"
    assert activity.occurred_at.isoformat() == "2025-01-01T10:00:00+00:00"
    assert activity.data["duration_seconds"] == 95 and activity.data["employee"] == "Оксана"
    assert activity.data["direction"] == "inbound" and activity.data["call_id"] == "call-1"
    # The timeline shows it, through the API.
    data = await t.owner.data(
        api,
        "query($p: String!) { accounts(where: {phone: {eq: $p}}) { edges { node { name "
        "timeline { edges { node { kind subject } } } } } } }",
        {"p": "067 111 22 33"},
    )
    node = data["accounts"]["edges"][0]["node"]
    assert node["timeline"]["edges"][0]["node"]["kind"] == "CALL"
    # Written as the plugin's app principal, with audit entries and events.
    audit = await AuditEntry.filter(organization_id=org_id, action="activity.create").first()
    assert (audit.actor_kind, audit.actor_id) == ("app", "plugin:fake-pbx")
    topics = set(await OutboxEvent.filter(organization_id=org_id).values_list("topic", flat=True))
    assert {"account.created", "activity.created"} <= topics
    delivery = await WebhookDelivery.get(installation_id=pk)
    assert delivery.dedupe_key == "apiCallCompleted:call-1" and delivery.attempts == 1
    assert delivery.result["events"][0]["account_created"] is True


async def test_a_redelivered_webhook_creates_one_activity(api, tenants, http):
    _t, _inst, path, pk, org_id = await setup(api, tenants)
    for _ in range(3):
        response = await http.post(path, data=completed("call-2"))
        assert response.status_code == 200 and response.json() == {"status": "success"}
    assert await Activity.filter(organization_id=org_id).count() == 1
    assert await Account.filter(organization_id=org_id).count() == 1
    delivery = await WebhookDelivery.get(installation_id=pk)
    assert delivery.attempts == 3
    # A second call from the same number: same account, a second activity.
    await http.post(path, data=completed("call-3"))
    assert await Activity.filter(organization_id=org_id).count() == 2
    assert await Account.filter(organization_id=org_id).count() == 1


async def test_concurrent_redeliveries_apply_once(api, tenants, http):
    _t, _inst, path, _pk, org_id = await setup(api, tenants)
    responses = await asyncio.gather(*(http.post(path, data=completed("call-race")) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert await Activity.filter(organization_id=org_id).count() == 1
    assert (await WebhookDelivery.get(organization_id=org_id)).attempts == 4


async def test_a_call_goes_to_the_existing_account_with_that_phone(api, tenants, http):
    t, _inst, path, _pk, org_id = await setup(api, tenants)
    created = await t.owner.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": "Олена Коваль", "phones": ["+380 67 111 22 33"]}},
    )
    account_id = ids.decode(created["createAccount"]["account"]["id"])[1]
    response = await http.post(path, data=completed("call-4", callType="1", disposition="NOANSWER", billsec="0"))
    assert response.status_code == 200
    activity = await Activity.get(organization_id=org_id)
    assert activity.account_id == account_id  # type: ignore[attr-defined]
    assert activity.subject == f"Outgoing call to {CALLER} (no_answer, 0:00)"
    assert await Account.filter(organization_id=org_id).count() == 1


async def test_ringing_is_an_event_not_an_activity(api, tenants, http):
    _t, _inst, path, _pk, org_id = await setup(api, tenants)
    form = {
        "requestType": "receivedTheCall",
        "companyID": "4242",
        "generalCallID": "call-5",
        "externalNumber": "0671112233",
        "didNumber": "0443334455",
        "internalNumber": "901",
    }
    assert (await http.post(path, data=form)).status_code == 200
    assert await Activity.filter(organization_id=org_id).count() == 0
    event = await OutboxEvent.get(organization_id=org_id, topic="call.ringing")
    assert event.payload["call_id"] == "call-5" and event.payload["employee"] == "901"


async def test_without_a_dedupe_key_identical_bodies_apply_once(api, tenants, http):
    _t, _inst, path, _pk, org_id = await setup(api, tenants)
    form = {"requestType": "custom", "companyID": "4242", "n": "1"}
    for _ in range(2):
        assert (await http.post(path, data=form)).status_code == 200
    await http.post(path, data={**form, "n": "2"})
    payloads = await OutboxEvent.filter(organization_id=org_id, topic="plugin.fake.custom").values_list(
        "payload", flat=True
    )
    assert sorted(p["n"] for p in payloads) == ["1", "2"]


async def test_unknown_token_wrong_plugin_and_disabled_installation_answer_the_same_404(api, tenants, http):
    t, inst, path, _pk, org_id = await setup(api, tenants)
    token = path.split("/")[3]
    not_found = {"error": "not found"}
    for bad in (
        "/hooks/fake-pbx/" + "x" * 43 + "/",
        "/hooks/fake-pbx/" + token[:-1] + ("B" if token.endswith("A") else "A") + "/",  # one character off
        f"/hooks/other-plugin/{token}/",
        "/hooks/fake-pbx/short/",
    ):
        response = await http.post(bad, data=completed("call-6"))
        assert (response.status_code, response.json()) == (404, not_found), bad

    inst = (await t.owner.data(api, DISABLE, {"i": {"id": inst["id"], "version": inst["version"]}}))["disablePlugin"][
        "installation"
    ]
    response = await http.post(path, data=completed("call-6"))
    assert (response.status_code, response.json()) == (404, not_found)
    inst = (await t.owner.data(api, ENABLE, {"i": {"id": inst["id"], "version": inst["version"]}}))["enablePlugin"][
        "installation"
    ]
    assert (await http.post(path + "any/sub/path?x=1", data=completed("call-6"))).status_code == 200

    # A rotated token: the old URL is dead, the new one works.
    rotated = (await t.owner.data(api, ROTATE, {"i": {"id": inst["id"], "version": inst["version"]}}))[
        "rotateWebhookToken"
    ]
    assert (await http.post(path, data=completed("call-7"))).status_code == 404
    new_path = urlsplit(rotated["webhookUrl"]).path
    assert (await http.post(new_path, data=completed("call-7"))).status_code == 200
    # Uninstalled: gone.
    inst = rotated["installation"]
    await t.owner.data(api, UNINSTALL, {"i": {"id": inst["id"], "version": inst["version"]}})
    assert (await http.post(new_path, data=completed("call-8"))).status_code == 404
    assert await Activity.filter(organization_id=org_id).count() == 2


async def test_ip_allow_list(api, tenants, http):
    t, inst, path, pk, org_id = await setup(api, tenants, allowedIps=["10.0.0.0/8", "2001:db8::/32"])
    assert inst["allowedIps"] == ["10.0.0.0/8", "2001:db8::/32"]
    response = await http.post(path, data=completed("call-9"))  # the test client is 127.0.0.1
    assert response.status_code == 403
    assert await WebhookDelivery.filter(installation_id=pk).count() == 0
    assert await Activity.filter(organization_id=org_id).count() == 0
    allowed = await t.owner.data(
        api, CONFIGURE, {"i": {"id": inst["id"], "version": inst["version"], "allowedIps": ["127.0.0.1"]}}
    )
    assert allowed["configurePlugin"]["installation"]["allowedIps"] == ["127.0.0.1/32"]
    assert (await http.post(path, data=completed("call-9"))).status_code == 200
    assert await Activity.filter(organization_id=org_id).count() == 1


async def test_an_ipv4_peer_of_a_dual_stack_listener_matches_its_ipv4_entry(api, tenants, http):
    # Listening on [::], the server sees IPv4 peers as ::ffff:a.b.c.d; the list says a.b.c.d.
    _t, _inst, path, _pk, org_id = await setup(api, tenants, allowedIps=["10.0.0.0/8"])
    for n, (peer, status) in enumerate((("::ffff:10.1.2.3", 200), ("::ffff:192.0.2.1", 403))):
        transport = httpx.ASGITransport(app=http._transport.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.post(path, data=completed(f"call-v6-{n}"))).status_code == status
    assert await Activity.filter(organization_id=org_id).count() == 1


@pytest.mark.parametrize(("retry", "status", "answer"), [("0", 400, "bad request"), ("1", 503, "unavailable")])
async def test_a_plugin_error_is_logged_not_told_to_the_caller(api, tenants, http, caplog, retry, status, answer):
    # The caller only proved it knows a URL token: the plugin's words stay in the log.
    _t, _inst, path, pk, _org = await setup(api, tenants)
    response = await http.post(path, data={"requestType": "misconfigured", "companyID": "4242", "retry": retry})
    assert (response.status_code, response.json()) == (status, {"error": answer})
    assert "4242" not in response.text
    assert "Fake PBX company 4242 has no API access." in caplog.text
    assert await WebhookDelivery.filter(installation_id=pk).count() == 0


async def test_rejected_and_failing_deliveries_record_nothing(api, tenants, http, caplog):
    _t, _inst, path, pk, org_id = await setup(api, tenants)
    forged = {**completed("call-10"), "companyID": "1"}
    response = await http.post(path, data=forged)
    assert (response.status_code, response.json()) == (403, {"error": "rejected"})
    response = await http.post(path, data={"requestType": "explode", "companyID": "4242"})
    assert response.status_code == 500 and response.json()["errorId"]
    response = await http.post(path, content=b"x" * 1_000_001, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert await WebhookDelivery.filter(installation_id=pk).count() == 0
    assert await Activity.filter(organization_id=org_id).count() == 0
    # Secrets never reach the logs.
    assert "good-key" not in caplog.text


def test_access_log_lines_never_show_a_webhook_token():
    import logging

    from server.logging_redaction import RedactWebhookTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "POST", "/hooks/binotel/s3cr3t-token_abc/calls?x=1", "1.1", 200),
        None,
    )
    RedactWebhookTokens().filter(record)
    line = record.getMessage()
    assert "s3cr3t-token_abc" not in line
    assert "/hooks/binotel/***/calls?x=1" in line


async def test_json_nested_a_thousand_levels_deep_is_handed_over_raw_not_a_crash(api, tenants, http):
    _t, _inst, path, pk, _org_id = await setup(api, tenants)
    deep = b"[" * 1000 + b"]" * 1000
    response = await http.post(path, content=deep, headers={"content-type": "application/json"})
    # The plugin gets the raw body (no parsed JSON) and refuses it like any unknown request.
    assert response.status_code < 500, response.text
    assert "error" in response.json()
    assert await WebhookDelivery.filter(installation_id=pk).count() == 0


def test_access_log_lines_never_show_a_customers_survey_or_unsubscribe_token():
    from server.logging_redaction import redact

    assert redact('"GET /s/Xy_9-secret HTTP/1.1" 200') == '"GET /s/*** HTTP/1.1" 200'
    assert redact('"POST /u/Ab-12secret?lang=en HTTP/1.1" 303') == '"POST /u/***?lang=en HTTP/1.1" 303'
    assert redact('"GET /reports/login HTTP/1.1" 200') == '"GET /reports/login HTTP/1.1" 200'


def test_logs_never_show_an_export_link_signature_or_a_bot_token(caplog):
    import logging

    import httpx

    from server.logging_redaction import install, redact

    line = '"GET /exports/4f0c/download?expires=1765000000&signature=9ac1f0e2 HTTP/1.1" 200'
    assert redact(line) == '"GET /exports/4f0c/download?expires=1765000000&signature=*** HTTP/1.1" 200'
    url = "https://api.telegram.org/bot123456789:AAH-secret_part/sendMessage"
    assert redact(url) == "https://api.telegram.org/bot***/sendMessage"
    install()  # as the server and `crm worker` do: httpx's request lines (with the URL) are not logged
    with caplog.at_level(logging.INFO):
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
        with httpx.Client(transport=transport) as client:
            client.post(url)
    assert "AAH-secret_part" not in caplog.text
