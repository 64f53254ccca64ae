"""The Binotel plugin against the Binotel simulator over real HTTP: call webhooks delivered to the
app's real ``/hooks/binotel/<token>/`` route become screen-pop events and one call activity per
call on the caller's account (a lead for an unknown number); click-to-call and the caller lookup
through GraphQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from plugins.binotel import plugin as binotel_plugin
from plugins.simulators import binotel
from plugins.simulators.binotel import API_KEY, API_SECRET, COMPANY_ID, BinotelSimulator
from server.accounts.models import Account
from server.activities.models import Activity
from server.app import create_app
from server.graphql import ids
from server.plugins.models import WebhookDelivery
from tests.helpers import Client
from tests.provider_plugins import app_transport, call, check_connection, events, install, row
from tests.test_accounts import make_contact
from tests.test_orders import create_order, make_account

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

CUSTOMER = "+380671234567"
SECRETS = {"key": API_KEY, "secret": API_SECRET}
CALLER_LOOKUP = """query($p: String!) { callerLookup(phone: $p) { phone matches {
    account { id name phones } primaryContact { name phones }
    openOrders openDeals openTickets lastActivity { kind subject data } } } }"""
CLICK = """mutation($i: ClickToCallInput!) { clickToCall(input: $i) { callId errors { field code message } } }"""


@pytest.fixture(scope="module")
def binotel_server():
    with BinotelSimulator() as sim:
        yield sim


@pytest.fixture
def sim(binotel_server):
    binotel_server.reset()
    return binotel_server


@pytest.fixture
async def tenant(api, tenants):
    return await tenants.create(("owner", "sales"))


@pytest.fixture
async def installed(tenant, api, sim):
    return await install(tenant.owner, api, "binotel", {"company_id": COMPANY_ID, "api_url": sim.url}, SECRETS)


async def org_of(installed):
    return (await row(installed)).organization_id  # type: ignore[attr-defined]


async def deliver_call(sim, http, installed, **call):
    return await sim.asend_call(installed["webhookUrl"], transport=app_transport(http), **call)


# -- webhooks --------------------------------------------------------------------------------


async def test_an_answered_call_from_an_unknown_number_pops_up_and_lands_on_a_lead(sim, http, installed):
    org = await org_of(installed)
    attempts = await deliver_call(sim, http, installed, external_number="0671234567", billsec=95, waitsec=7)
    assert [a.webhook.event for a in attempts] == [
        "receivedTheCall",
        "answeredTheCall",
        "hangupTheCall",
        "apiCallCompleted",
    ]
    assert all(binotel.is_accepted(a) for a in attempts)  # HTTP 200 {"status": "success"}: no Binotel retries

    (ringing,) = await events(org, "call.ringing")
    assert (ringing["caller"], ringing["callee"], ringing["direction"]) == (CUSTOMER, "+380443334023", "inbound")
    (answered,) = await events(org, "call.answered")
    assert answered["employee"] == "Олена Коваль"

    (lead,) = await Account.filter(organization_id=org)
    assert lead.phones == [CUSTOMER] and lead.tags == ["lead"] and lead.source == "binotel"
    (activity,) = await Activity.filter(organization_id=org)
    assert activity.kind == "call" and activity.account_id == lead.id  # type: ignore[attr-defined]
    assert activity.subject == f"Incoming call from {CUSTOMER} (answered, 1:35)"
    call_id = attempts[0].webhook.meta["generalCallID"]
    assert activity.data["call_id"] == call_id and activity.data["employee"] == "Олена Коваль"
    assert activity.data["duration_seconds"] == 95 and activity.data["wait_seconds"] == 7
    assert activity.data["recording_ref"] == call_id  # a reference, never an expiring link
    assert activity.occurred_at == datetime.fromtimestamp(sim.calls[call_id]["startTime"], UTC)
    (ended,) = await events(org, "call.ended")  # the pop-up closes and links to the entry
    assert (ended["account_id"], ended["activity_id"]) == (str(lead.id), str(activity.id))


async def test_binotel_retries_create_nothing_twice(sim, http, installed):
    org = await org_of(installed)
    attempts = await deliver_call(sim, http, installed, external_number="0671234567")
    for attempt in attempts:  # every event delivered again, byte for byte
        again = await sim.adeliver(attempt.webhook, transport=app_transport(http))
        assert binotel.is_accepted(again)
    assert await Activity.filter(organization_id=org).count() == 1
    assert await Account.filter(organization_id=org).count() == 1
    assert len(await events(org, "call.ringing")) == 1 and len(await events(org, "call.answered")) == 1
    call_id = attempts[0].webhook.meta["generalCallID"]
    completed = await WebhookDelivery.get(organization_id=org, dedupe_key=f"apiCallCompleted:{call_id}")
    assert completed.attempts == 2


async def test_a_missed_call_goes_to_the_existing_account(tenant, api, sim, http, installed):
    org = await org_of(installed)
    await make_account(tenant.owner, api, name="Олена Коваль", phones=["067 123 45 67"])
    attempts = await deliver_call(sim, http, installed, external_number="380671234567", disposition="NOANSWER")
    assert [a.webhook.event for a in attempts] == ["receivedTheCall", "hangupTheCall", "apiCallCompleted"]
    (account,) = await Account.filter(organization_id=org)
    assert account.name == "Олена Коваль"
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.account_id == account.id  # type: ignore[attr-defined]
    assert activity.subject == f"Incoming call from {CUSTOMER} (no_answer, 0:00)"
    assert "recording_ref" not in activity.data


async def test_a_call_from_a_company_contacts_phone_lands_on_the_company(tenant, api, sim, http, installed):
    org = await org_of(installed)
    company = await make_account(tenant.owner, api, name="ТОВ Ромашка", phones=["044 333 40 23"])
    await make_contact(tenant.owner, api, company, name="Марія", phones=["067 123 45 67"])
    await deliver_call(sim, http, installed, external_number="380671234567", disposition="NOANSWER")
    assert await Account.filter(organization_id=org).count() == 1  # no lead for a known person
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert ids.encode("Account", activity.account_id) == company  # type: ignore[attr-defined]


async def test_an_outgoing_call_is_logged_on_the_called_customer(sim, http, installed):
    org = await org_of(installed)
    await deliver_call(sim, http, installed, call_type="outgoing", external_number="0501112233", internal_number="902")
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject.startswith("Outgoing call to +380501112233")
    assert activity.data["employee"] == "Ігор Мельник" and activity.data["direction"] == "outbound"


async def test_log_calls_on_hangup_for_pbxs_without_api_call_completed(tenant, api, sim, http):
    payload = await install(
        tenant.owner, api, "binotel", {"api_url": sim.url, "log_calls_on": "hangupTheCall"}, SECRETS
    )
    org = await org_of(payload)
    await deliver_call(sim, http, payload, events=["receivedTheCall", "hangupTheCall"], billsec=30)
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject == "Incoming call from +380671234567 (answered, 0:30)"


async def test_events_of_another_binotel_company_are_refused(tenant, api, sim, http):
    payload = await install(tenant.owner, api, "binotel", {"company_id": "99999", "api_url": sim.url}, SECRETS)
    org = await org_of(payload)
    attempts = await deliver_call(sim, http, payload)
    assert {a.status_code for a in attempts} == {403}
    assert await Activity.filter(organization_id=org).count() == 0


async def test_the_ip_allow_list_keeps_out_anyone_but_binotel(tenant, api, sim, http):
    payload = await install(tenant.owner, api, "binotel", {"api_url": sim.url}, SECRETS, allowedIps=["194.88.218.0/24"])
    org = await org_of(payload)
    attempts = await deliver_call(sim, http, payload)  # from 127.0.0.1
    assert {a.status_code for a in attempts} == {403}
    assert await Activity.filter(organization_id=org).count() == 0
    assert await WebhookDelivery.filter(organization_id=org).count() == 0


async def test_a_json_body_is_understood_too(http, installed):
    org = await org_of(installed)
    body = {
        "requestType": "apiCallCompleted",
        "callDetails": {
            "generalCallID": 777001,
            "companyID": int(COMPANY_ID),
            "startTime": 1735725600,
            "callType": 0,
            "internalNumber": "902",
            "externalNumber": "0501112233",
            "employeeData": {"name": "Ігор Мельник"},
            "waitsec": 3,
            "billsec": 12,
            "disposition": "ANSWER",
        },
    }
    response = await http.post(installed["webhookUrl"], json=body)
    assert response.status_code == 200 and response.json() == {"status": "success"}
    (activity,) = await Activity.filter(organization_id=org, kind="call")
    assert activity.subject == "Incoming call from +380501112233 (answered, 0:12)"
    assert activity.data["employee"] == "Ігор Мельник" and activity.data["call_id"] == "777001"


async def test_a_request_that_is_not_a_call_event_is_refused_without_effect(http, installed):
    org = await org_of(installed)
    response = await http.post(installed["webhookUrl"], data={"requestType": "apiCallCompleted"})
    assert response.status_code == 400
    assert await WebhookDelivery.filter(organization_id=org).count() == 0


# -- the caller pop-up -----------------------------------------------------------------------


async def test_caller_lookup_shows_account_contact_counts_and_last_call(tenant, api, sim, http, installed):
    account_id = await make_account(tenant.owner, api, name="ТОВ Ромашка", phones=["+380671234567"])
    await tenant.owner.data(
        api,
        "mutation($i: CreateContactInput!) { createContact(input: $i) { errors { code } } }",
        {"i": {"accountId": account_id, "name": "Марія", "phones": ["0671234567"]}},
    )
    await create_order(tenant.owner, api, account_id)
    await tenant.owner.data(
        api,
        "mutation($i: CreateTicketInput!) { createTicket(input: $i) { errors { code } } }",
        {"i": {"accountId": account_id, "subject": "Де моє замовлення?"}},
    )
    # The call starts after the ticket was opened (Binotel's startTime has whole seconds).
    started = int(time.time()) + 1
    await deliver_call(sim, http, installed, external_number="0671234567", billsec=61, start_time=started)

    data = await tenant.owner.data(api, CALLER_LOOKUP, {"p": "067 123-45-67"})
    lookup = data["callerLookup"]
    assert lookup["phone"] == CUSTOMER
    (match,) = lookup["matches"]
    assert match["account"]["id"] == account_id and match["account"]["name"] == "ТОВ Ромашка"
    assert match["primaryContact"] == {"name": "Марія", "phones": [CUSTOMER]}
    assert (match["openOrders"], match["openDeals"], match["openTickets"]) == (1, 0, 1)
    assert match["lastActivity"]["kind"] == "CALL" and match["lastActivity"]["subject"].endswith("(answered, 1:01)")

    unknown = await tenant.owner.data(api, CALLER_LOOKUP, {"p": "+380991112233"})
    assert unknown["callerLookup"] == {"phone": "+380991112233", "matches": []}
    bad = await tenant.owner.execute(api, CALLER_LOOKUP, {"p": "not a phone"})
    assert "not a phone number" in bad["errors"][0]["message"]


async def test_caller_lookup_sees_only_the_callers_organization(tenant, api, tenants):
    await make_account(tenant.owner, api, name="Чужий клієнт", phones=["+380671234567"])
    other = await tenants.create(("owner",))
    data = await other.owner.data(api, CALLER_LOOKUP, {"p": CUSTOMER})
    assert data["callerLookup"]["matches"] == []


# -- click-to-call and REST ------------------------------------------------------------------


SET_EXTENSION = """mutation($i: UpdateMemberInput!) { updateMember(input: $i) { errors { code } } }"""


async def give_extension(admin, api, member, extension: str) -> None:
    """As an admin does it: updateMember on the member's membership."""
    members = (await admin.data(api, "{ members { id user { id } } }"))["members"]
    membership = next(m["id"] for m in members if m["user"]["id"] == member.user_id)
    result = await admin.data(api, SET_EXTENSION, {"i": {"id": membership, "phoneExtension": extension}})
    assert result["updateMember"]["errors"] == []


def click(installed, phone: str = CUSTOMER, **extra) -> dict:
    return {"i": {"installationId": installed["installation"]["id"], "phone": phone, **extra}}


async def test_click_to_call_rings_the_callers_own_extension_and_dials_the_customer(tenant, api, sim, installed):
    org = await org_of(installed)
    await give_extension(tenant.owner, api, tenant.sales, "901")
    result = await tenant.sales.data(api, CLICK, click(installed, "067 123 45 67"))
    payload = result["clickToCall"]
    assert payload["errors"] == [] and payload["callId"] in sim.calls
    sent = sim.last_request.json()
    assert (sent["ext_number"], sent["phone_number"], sent["key"]) == ("901", "0671234567", API_KEY)
    (requested,) = await events(org, "call.requested")
    assert requested["call_id"] == payload["callId"] and requested["phone"] == CUSTOMER
    assert requested["extension"] == "901" and requested["requested_by"] == str(ids.decode(tenant.sales.user_id)[1])


async def test_a_member_cannot_ring_a_colleagues_phone(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.owner, "901")
    await give_extension(tenant.owner, api, tenant.sales, "902")
    (error,) = (await tenant.sales.data(api, CLICK, click(installed, extension="901")))["clickToCall"]["errors"]
    assert (error["field"], error["code"]) == ("extension", "FORBIDDEN")
    assert error["message"] == "You can only call from your own extension (902)."
    assert sim.requests == []
    # Giving one's own extension is the same as leaving it out.
    assert (await tenant.sales.data(api, CLICK, click(installed, extension="902")))["clickToCall"]["errors"] == []
    assert sim.last_request.json()["ext_number"] == "902"


async def test_without_an_extension_the_member_is_told_to_ask_an_admin(tenant, api, sim, installed):
    (error,) = (await tenant.sales.data(api, CLICK, click(installed)))["clickToCall"]["errors"]
    assert (error["field"], error["code"]) == ("extension", "REQUIRED")
    assert "ask an owner or admin to set yours" in error["message"]
    assert sim.requests == []


async def test_an_admin_may_ring_a_members_extension_but_no_other(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.sales, "902")
    assert (await tenant.owner.data(api, CLICK, click(installed, extension="902")))["clickToCall"]["errors"] == []
    assert sim.last_request.json()["ext_number"] == "902"
    (error,) = (await tenant.owner.data(api, CLICK, click(installed, extension="0900123456")))["clickToCall"]["errors"]
    assert (error["field"], error["code"]) == ("extension", "NOT_FOUND")
    assert len(sim.calls) == 1


@pytest.mark.parametrize(
    ("extension", "phone", "field", "code", "words"),
    [
        ("999", CUSTOMER, "installationId", "PROVIDER_ERROR", "cannot call this extension"),
        ("901", "12", "phone", "INVALID", "not a valid phone number"),
    ],
)
async def test_click_to_call_errors_are_user_errors(tenant, api, installed, extension, phone, field, code, words):
    await give_extension(tenant.owner, api, tenant.owner, extension)
    payload = (await tenant.owner.data(api, CLICK, click(installed, phone)))["clickToCall"]
    assert payload["callId"] is None
    (error,) = payload["errors"]
    assert (error["field"], error["code"]) == (field, code) and words in error["message"]


async def test_click_to_call_through_another_organizations_installation_is_not_found(api, tenants, sim, installed):
    other = await tenants.create(("owner",))
    await give_extension(other.owner, api, other.owner, "901")
    payload = (await other.owner.data(api, CLICK, click(installed)))["clickToCall"]
    assert payload["callId"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("installationId", "NOT_FOUND")]
    assert sim.requests == []


@pytest.fixture
async def limited(database):
    """The same database behind an app allowing 2 calls per member and minute."""
    settings = database.model_copy(
        update={"click_to_call_per_user": "2/minute", "rate_limit_namespace": f"crm-calls-{uuid.uuid4().hex[:8]}"}
    )
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Client(client, language="en")


async def test_calls_per_member_are_limited(tenant, api, limited, sim, installed):
    await give_extension(tenant.owner, api, tenant.owner, "901")
    await give_extension(tenant.owner, api, tenant.sales, "902")
    for _ in range(2):
        assert (await tenant.sales.data(limited, CLICK, click(installed)))["clickToCall"]["errors"] == []
    (error,) = (await tenant.sales.data(limited, CLICK, click(installed)))["clickToCall"]["errors"]
    assert error["code"] == "RATE_LIMITED"
    assert error["message"] == "Too many calls placed (2 per 1 minute). Try again in 1 minute."
    assert len(sim.calls) == 2
    # Another member's calls are counted apart.
    assert (await tenant.owner.data(limited, CLICK, click(installed)))["clickToCall"]["errors"] == []
    assert len(sim.calls) == 3


async def test_click_to_call_with_bad_credentials_or_a_timeout_places_no_second_call(
    tenant, api, database, sim, installed, monkeypatch
):
    bad = await install(
        tenant.owner, api, "binotel", {"api_url": sim.url}, {"key": API_KEY, "secret": "wrong"}, label="b"
    )
    await give_extension(tenant.owner, api, tenant.owner, "901")
    variables = click(bad)
    (error,) = (await tenant.owner.data(api, CLICK, variables))["clickToCall"]["errors"]
    assert "rejected the API key or secret" in error["message"]

    monkeypatch.setattr(binotel_plugin, "TIMEOUT", httpx.Timeout(0.5))
    sim.delay(1.5, count=1, path="/api/4.0/calls/")
    calls_before = len(sim.calls)
    variables["i"]["installationId"] = installed["installation"]["id"]
    (error,) = (await tenant.owner.data(api, CLICK, variables))["clickToCall"]["errors"]
    assert error["code"] == "PROVIDER_ERROR" and "did not answer in time after the request went out" in error["message"]
    for _ in range(50):
        if len(sim.calls) > calls_before:
            break
        await asyncio.sleep(0.1)
    assert len(sim.calls) == calls_before + 1  # Binotel placed it once; we did not dial again


async def test_connection_waits_out_rate_limits_and_5xx(tenant, api, sim, installed):
    sim.rate_limit(count=1, retry_after=1)
    sim.fail(count=1, status=502)
    result = await check_connection(tenant.owner, api, installed)
    assert result == {"ok": True, "message": "Connected to Binotel.", "errors": []}
    assert [r.status for r in sim.requests] == [429, 502, 200]
    sim.fail(count=3, status=500)
    result = await check_connection(tenant.owner, api, installed)
    assert result["ok"] is False and "Binotel answered 500 3 times" in result["message"]


async def test_connection_with_a_wrong_secret_says_so(tenant, api, sim):
    bad = await install(tenant.owner, api, "binotel", {"api_url": sim.url}, {"key": API_KEY, "secret": "nope"})
    result = await check_connection(tenant.owner, api, bad)
    assert result["ok"] is False and "rejected the API key or secret" in result["message"]
    assert "nope" not in result["message"]


async def test_click_to_call_hook_called_as_the_crm_calls_it(database, sim, installed):
    call_id = await call(database, installed, "crm_telephony_click_to_call", employee="902", phone="+380501112233")
    assert sim.calls[call_id]["externalNumber"] == "0501112233" and sim.calls[call_id]["internalNumber"] == "902"


async def test_a_missed_call_opens_one_call_back_task_for_the_desk_it_rang(tenant, api, sim, http, installed):
    org = await org_of(installed)
    await give_extension(tenant.owner, api, tenant.sales, "902")
    attempts = await deliver_call(sim, http, installed, internal_number="902", disposition="NOANSWER")
    for attempt in attempts:  # Binotel repeats every event
        await sim.adeliver(attempt.webhook, transport=app_transport(http))
    (call_entry,) = await Activity.filter(organization_id=org, kind="call")
    (task,) = await Activity.filter(organization_id=org, kind="task")
    assert task.account_id == call_entry.account_id and task.done_at is None  # type: ignore[attr-defined]
    assert task.actor_id == ids.decode(tenant.sales.user_id)[1]  # type: ignore[attr-defined]
    assert task.subject == f"Зателефонуйте {CUSTOMER}: пропущений дзвінок"
    (ended,) = await events(org, "call.ended")
    assert ended["task_id"] == str(task.id)
    # An answered call and an outgoing one that was not answered open none.
    await deliver_call(sim, http, installed, external_number="0501112233")
    await deliver_call(sim, http, installed, call_type="outgoing", external_number="0501112244", disposition="NOANSWER")
    assert await Activity.filter(organization_id=org, kind="task").count() == 1
