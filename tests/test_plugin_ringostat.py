"""The Ringostat plugin against the Ringostat simulator over real HTTP: the cabinet's webhooks
(both parameter-name sets, GET/form/JSON) delivered to the app's ``/hooks/ringostat/...`` route
become screen-pop events and one call entry per call with where the caller came from; missed
calls become one call-back task; the call log poll catches webhooks Ringostat never repeats;
click-to-call through JSON-RPC."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from plugins.ringostat import plugin as ringostat_plugin
from plugins.simulators import ringostat
from plugins.simulators.ringostat import AUTH_KEY, PROJECT_ID, RingostatSimulator
from server.accounts.models import Account
from server.activities.models import Activity
from server.core import outbox
from server.plugins.models import WebhookDelivery
from server.telephony.listeners import Listeners
from tests.provider_plugins import app_transport, check_connection, events, install, row
from tests.test_orders import make_account
from tests.test_plugin_binotel import CLICK, click, give_extension

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

CUSTOMER = "+380671234567"
SECRETS = {"auth_key": AUTH_KEY}


@pytest.fixture(scope="module")
def ringostat_server():
    with RingostatSimulator() as sim:
        yield sim


@pytest.fixture
def sim(ringostat_server):
    ringostat_server.reset()
    return ringostat_server


@pytest.fixture
async def tenant(api, tenants):
    return await tenants.create(("owner", "sales"))


def config(sim, **extra) -> dict:
    return {"project_id": PROJECT_ID, "api_url": sim.url, **extra}


@pytest.fixture
async def installed(tenant, api, sim):
    return await install(tenant.owner, api, "ringostat", config(sim), SECRETS)


async def org_of(installed):
    return (await row(installed)).organization_id  # type: ignore[attr-defined]


async def deliver(sim, http, installed, **call):
    return await sim.asend_call(installed["webhookUrl"], transport=app_transport(http), **call)


async def test_an_answered_call_from_an_ad_lands_on_a_lead_with_its_source_and_recording(sim, http, installed):
    org = await org_of(installed)
    attempts = await deliver(
        sim, http, installed, utm={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring_sale"}
    )
    assert [a.webhook.event for a in attempts] == ["start", "answer", "end"]
    assert all(ringostat.is_accepted(a) for a in attempts)

    (ringing,) = await events(org, "call.ringing")
    assert (ringing["caller"], ringing["callee"], ringing["direction"]) == (CUSTOMER, "+380443334455", "inbound")
    assert ringing["tracking"]["utm_campaign"] == "spring_sale"  # the screen pop can say which ad it was
    (answered,) = await events(org, "call.answered")
    assert answered["employee"] == "Олена Коваль"

    (lead,) = await Account.filter(organization_id=org)
    assert lead.phones == [CUSTOMER] and lead.tags == ["lead"]
    assert lead.source == "google"  # the acquisition source analytics groups by
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    uniqueid = attempts[0].webhook.meta["uniqueid"]
    call = sim.calls[uniqueid]
    assert activity.subject == f"Incoming call from {CUSTOMER} (answered, 0:42)"
    assert activity.data["tracking"] == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring_sale",
        "landing": "https://shop.example.com/sale",
        "referrer": "https://www.google.com/",
        "client_id": "1234567890.1700000000",
        "pool_name": "Google Ads",
    }
    assert activity.data["wait_seconds"] == 6 and activity.data["call_id"] == uniqueid
    # The recording link is kept and plays.
    assert activity.data["recording_url"] == call["recording"]
    async with httpx.AsyncClient() as client:
        recording = await client.get(activity.data["recording_url"])
    assert recording.status_code == 200 and recording.headers["content-type"] == "audio/mpeg"
    # calldate is the project's local time (Kyiv): stored in UTC.
    local = datetime.strptime(call["calldate"], "%Y-%m-%d %H:%M:%S")
    assert activity.occurred_at.replace(tzinfo=None) in (local - timedelta(hours=2), local - timedelta(hours=3))
    assert not await Activity.filter(organization_id=org, kind="task").exists()  # answered: no call-back


@pytest.mark.parametrize(
    ("field_map", "method", "as_json"), [("classic", "GET", False), ("v2", "POST", True), ("log", "POST", False)]
)
async def test_either_set_of_parameter_names_in_a_query_form_or_json(sim, http, installed, field_map, method, as_json):
    org = await org_of(installed)
    attempts = await deliver(sim, http, installed, field_map=field_map, method=method, as_json=as_json, billsec=75)
    assert {a.status_code for a in attempts} == {200}
    assert len(await events(org, "call.ringing")) == 1
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject == f"Incoming call from {CUSTOMER} (answered, 1:15)"
    assert activity.data["tracking"]["utm_source"] == "google"


async def test_a_missed_call_opens_one_call_back_task_for_the_accounts_owner(tenant, api, sim, http, installed):
    org = await org_of(installed)
    await make_account(tenant.sales, api, name="Марія", phones=["067 123 45 67"])
    attempts = await deliver(sim, http, installed, disposition="NO ANSWER")
    assert [a.webhook.event for a in attempts] == ["start", "end"]
    again = await sim.adeliver(attempts[-1].webhook, transport=app_transport(http))  # the same webhook twice
    assert again.status_code == 200

    (account,) = await Account.filter(organization_id=org)
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject == f"Incoming call from {CUSTOMER} (no_answer, 0:00)"
    assert "recording_url" not in activity.data
    (task,) = await Activity.filter(organization_id=org, kind="task")
    assert task.account_id == account.id and task.done_at is None  # type: ignore[attr-defined]
    assert task.actor_id is not None and task.actor_id == account.owner_id  # type: ignore[attr-defined]
    assert task.subject == f"Зателефонуйте {CUSTOMER}: пропущений дзвінок"
    assert task.data["call_activity_id"] == str(activity.id) and task.due_at is not None


async def test_an_outgoing_call_is_logged_on_the_called_customer(sim, http, installed):
    org = await org_of(installed)
    attempts = await deliver(
        sim, http, installed, call_type="out", caller="380501112233", employee_number="380501110002"
    )
    assert [a.webhook.event for a in attempts] == ["out/start", "out/end"]
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject.startswith("Outgoing call to +380501112233")
    assert activity.data["employee"] == "Ігор Мельник" and activity.data["direction"] == "outbound"


async def test_requests_that_are_not_ringostat_calls_are_refused_without_effect(http, installed):
    org = await org_of(installed)
    url = installed["webhookUrl"]
    assert (await http.post(url + "end", data={"caller": "380671234567"})).status_code == 400  # no call id
    assert (await http.post(url + "hangup", data={"uniqueid": "1.1"})).status_code == 400  # unknown moment
    assert (
        await http.post(url.replace(url.split("/")[-2], "forged") + "end", data={"uniqueid": "1.2"})
    ).status_code == 404
    assert await WebhookDelivery.filter(organization_id=org).count() == 0


async def test_the_call_log_poll_logs_calls_whose_webhook_was_lost_and_splits_full_pages(
    database, http, sim, installed, monkeypatch
):
    org = await org_of(installed)
    sim.max_calls = 2  # Ringostat cuts a page at 6,500 calls; here at 2
    monkeypatch.setattr(ringostat_plugin, "CALLS_PER_REQUEST", 2)
    now = datetime.now(UTC)
    missed = [sim.add_call(caller=f"38067123450{n}", calldate=now - timedelta(minutes=10 * n)) for n in range(5)]
    listeners = Listeners(database, refresh_seconds=60)
    await listeners.sync()
    try:
        for _ in range(100):
            if await Activity.filter(organization_id=org, kind="call").count() == 5:
                break
            await asyncio.sleep(0.1)
    finally:
        await listeners.stop()
    logged = {a.data["call_id"] for a in await Activity.filter(organization_id=org, kind="call")}
    assert logged == {c["uniqueid"] for c in missed}
    pages = sim.requests_to("/calls/list")
    assert len(pages) > 1 and all(p.headers["auth-key"] == AUTH_KEY for p in pages)
    # A second worker polling too, and the lost webhook arriving late after all, change nothing.
    rerun = Listeners(database, refresh_seconds=60)
    await rerun.sync()
    await asyncio.sleep(0.5)
    await rerun.stop()
    late = await sim.adeliver(
        sim.webhook(installed["webhookUrl"], "end", missed[0]["uniqueid"]), transport=app_transport(http)
    )
    assert late.status_code == 200
    assert await Activity.filter(organization_id=org, kind="call").count() == 5


async def test_click_to_call_through_json_rpc_rings_the_employee_first(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.sales, "olena")
    payload = (await tenant.sales.data(api, CLICK, click(installed, "067 123 45 67")))["clickToCall"]
    assert payload["errors"] == []
    sent = sim.last_request
    assert sent.path == "/a/v2" and sent.headers["auth-key"] == AUTH_KEY
    body = sent.json()
    assert body["method"] == "Api\\V2\\Callback.external"
    assert body["params"] == {
        "caller": "380671234567",
        "callee": "olena",
        "projectId": PROJECT_ID,
        "direction": "out",
        "manager_dst": 0,
        "caller_type": "default",
        "callee_type": "default",
    }
    assert payload["callId"] == sim.callbacks[-1]["uniqueid"]


async def test_click_to_call_refusals_come_back_as_provider_errors(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.owner, "nobody")
    (error,) = (await tenant.owner.data(api, CLICK, click(installed)))["clickToCall"]["errors"]
    assert error["code"] == "PROVIDER_ERROR" and "Callee is not available" in error["message"]
    bad = await install(tenant.owner, api, "ringostat", config(sim), {"auth_key": "wrong"}, label="b")
    variables = click(bad)
    (error,) = (await tenant.owner.data(api, CLICK, variables))["clickToCall"]["errors"]
    assert "Unauthorized" in error["message"]
    assert sim.callbacks == []


async def test_connection_test_uses_the_auth_key(tenant, api, sim, installed):
    assert (await check_connection(tenant.owner, api, installed))["ok"] is True
    bad = await install(tenant.owner, api, "ringostat", config(sim), {"auth_key": "wrong-key"}, label="b")
    result = await check_connection(tenant.owner, api, bad)
    assert (
        result["ok"] is False and "refused the Auth-key" in result["message"] and "wrong-key" not in result["message"]
    )


LIVE = """query($e: String) { liveCalls(employee: $e) { callId state direction employee
    caller { phone matches { account { name } } } } }"""


async def test_live_calls_poll_shows_the_ringing_call_until_it_ends(tenant, api, sim, http, installed):
    await make_account(tenant.owner, api, name="Марія", phones=["067 123 45 67"])
    (start, answer, end) = sim.call_webhooks(installed["webhookUrl"])
    transport = app_transport(http)
    assert (await tenant.sales.data(api, LIVE))["liveCalls"] == []

    await sim.adeliver(start, transport=transport)
    (ringing,) = (await tenant.owner.data(api, LIVE))["liveCalls"]
    assert (ringing["callId"], ringing["state"], ringing["direction"]) == (start.meta["uniqueid"], "ringing", "inbound")
    assert ringing["caller"] == {"phone": CUSTOMER, "matches": [{"account": {"name": "Марія"}}]}
    # The sales rep may not see the owner's account: the pop-up shows the number only.
    (seen,) = (await tenant.sales.data(api, LIVE))["liveCalls"]
    assert seen["caller"] == {"phone": CUSTOMER, "matches": []}

    await sim.adeliver(answer, transport=transport)
    (answered,) = (await tenant.owner.data(api, LIVE))["liveCalls"]
    assert (answered["state"], answered["employee"]) == ("answered", "Олена Коваль")
    assert (await tenant.owner.data(api, LIVE, {"e": "someone else"}))["liveCalls"] == []

    await sim.adeliver(end, transport=transport)
    assert (await tenant.owner.data(api, LIVE))["liveCalls"] == []


async def test_live_calls_show_at_most_the_newest_fifty(tenant, api, installed):
    """A call centre's burst (here 60 desks ringing at once) keeps the poll bounded: the newest 50."""
    org = await org_of(installed)
    await outbox.emit_many(
        [
            (
                org,
                "call.ringing",
                {
                    "call_id": f"c{n:02}",
                    "state": "ringing",
                    "direction": "inbound",
                    "employee": f"9{n:02}",
                    "caller": "+380671234567",
                },
            )
            for n in range(60)
        ]
    )
    shown = (await tenant.owner.data(api, LIVE))["liveCalls"]
    assert [c["callId"] for c in shown] == [f"c{n:02}" for n in range(10, 60)]
