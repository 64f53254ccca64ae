"""The TurboSMS plugin against the TurboSMS simulator over real HTTP: installed through GraphQL,
its hooks called as the CRM's jobs call them (``service.call``)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from plugins.simulators.turbosms import BLOCKED_TOKEN, STOPLISTED_PHONE, TEST_TOKEN, TurboSMSSimulator
from plugins.turbosms import plugin as turbosms
from server.plugins.types import MessageStatus, OutgoingMessage, PluginError, SentMessage
from tests.provider_plugins import call, check_connection, install

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

PHONE = "+380671234567"


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
def sim(turbo_server):
    turbo_server.reset()
    return turbo_server


def config(sim, **extra) -> dict:
    return {"sender": "MyShop", "viber_sender": "MyShop", "api_url": sim.url, "timezone": "UTC", **extra}


@pytest.fixture
async def owner(api, tenants):
    return (await tenants.create(("owner",))).owner


@pytest.fixture
async def installed(owner, api, sim):
    return await install(owner, api, "turbosms", config(sim), {"token": TEST_TOKEN})


async def send(database, installed, to=PHONE, text="Ваше замовлення №42 відправлено", channel="sms") -> SentMessage:
    message = OutgoingMessage(to=to, text=text, channel=channel, reference="n-1")
    return await call(database, installed, "crm_messaging_send", message=message)


# -- connection ----------------------------------------------------------------------------


async def test_connection_shows_the_balance(owner, api, installed, sim):
    sim.set_balance(125.5)
    result = await check_connection(owner, api, installed)
    assert result == {"ok": True, "message": "Connected to TurboSMS. Balance: 125.5 UAH.", "errors": []}
    assert sim.last_request.path == "/user/balance.json"
    assert sim.last_request.headers["authorization"] == f"Bearer {TEST_TOKEN}"


@pytest.mark.parametrize(
    ("token", "expected"),
    [("f" * 40, "TurboSMS rejected the API token"), (BLOCKED_TOKEN, "blocked or inactive")],
)
async def test_bad_credentials_are_explained_to_the_admin(owner, api, sim, token, expected):
    payload = await install(owner, api, "turbosms", config(sim), {"token": token})
    result = await check_connection(owner, api, payload)
    assert result["ok"] is False and expected in result["message"]
    assert token not in result["message"]


# -- sending -------------------------------------------------------------------------------


async def test_an_sms_is_sent_with_the_configured_sender(database, installed, sim):
    sent = await send(database, installed)
    assert sent.status == "queued" and sent.error_code == ""
    assert sent.provider_message_id in sim.message_ids()
    body = sim.last_request.json()
    assert body == {
        "recipients": ["380671234567"],
        "sms": {"sender": "MyShop", "text": "Ваше замовлення №42 відправлено"},
    }


async def test_a_national_number_is_sent_in_international_form(database, installed, sim):
    sent = await send(database, installed, to="067 123 45 67")
    assert sent.status == "queued"
    assert sim.last_request.json()["recipients"] == ["380671234567"]


async def test_viber_goes_out_as_turbosms_hybrid_with_sms_fallback(database, installed, sim):
    sent = await send(database, installed, channel="viber")
    body = sim.last_request.json()
    assert body["viber"] == {"sender": "MyShop", "text": "Ваше замовлення №42 відправлено", "ttl": 3600}
    assert body["sms"] == {"sender": "MyShop", "text": "Ваше замовлення №42 відправлено"}
    # TurboSMS delivered it by SMS after Viber failed: the status says so.
    sim.set_status(sent.provider_message_id, "Delivered", channel="sms")
    (status,) = await call(database, installed, "crm_messaging_statuses", message_ids=[sent.provider_message_id])
    assert (status.status, status.raw["type"]) == ("delivered", "sms")


async def test_viber_without_a_viber_sender_is_a_settings_error(owner, api, database, sim):
    payload = await install(owner, api, "turbosms", {"sender": "MyShop", "api_url": sim.url}, {"token": TEST_TOKEN})
    with pytest.raises(PluginError, match="viber_sender") as info:
        await send(database, payload, channel="viber")
    assert info.value.retryable is False
    assert sim.requests_to("/message/send.json") == []


@pytest.mark.parametrize(
    ("phone", "code", "words"),
    [
        ("+" + STOPLISTED_PHONE, "404", "stop list"),
        ("+48501234567", "406", "country"),
    ],
)
async def test_a_refused_recipient_is_a_failed_message_not_an_exception(database, installed, sim, phone, code, words):
    sent = await send(database, installed, to=phone)
    assert sent.provider_message_id is None and sent.status == "failed"
    assert sent.error_code == code and words in sent.error_message
    assert sim.message_ids() == []


async def test_no_balance_is_an_account_error_that_retrying_will_not_fix(database, installed, sim):
    sim.set_balance(0)
    with pytest.raises(PluginError, match="balance is too low") as info:
        await send(database, installed)
    assert (info.value.code, info.value.retryable) == ("203", False)


async def test_an_unregistered_sender_is_an_account_error(database, owner, api, sim):
    payload = await install(owner, api, "turbosms", config(sim, sender="Unknown"), {"token": TEST_TOKEN})
    with pytest.raises(PluginError, match="does not know the sender name 'Unknown'") as info:
        await send(database, payload)
    assert info.value.code == "302" and not info.value.retryable


async def test_a_bad_token_fails_the_send_with_an_admin_message(database, owner, api, sim):
    payload = await install(owner, api, "turbosms", config(sim), {"token": "0" * 40})
    with pytest.raises(PluginError, match="rejected the API token") as info:
        await send(database, payload)
    assert info.value.code == "301" and not info.value.retryable


# -- faults --------------------------------------------------------------------------------


async def test_a_rate_limited_send_is_not_repeated_and_may_be_retried_later(database, installed, sim):
    sim.rate_limit(count=1, retry_after=1, path="/message/send.json")
    with pytest.raises(PluginError, match="rate limiting") as info:
        await send(database, installed)
    assert info.value.retryable is True
    assert len(sim.requests_to("/message/send.json")) == 1 and sim.message_ids() == []
    # The job's later retry goes through.
    assert (await send(database, installed)).status == "queued"


async def test_a_server_error_on_send_is_never_blindly_repeated(database, installed, sim):
    sim.fail(count=1, status=500, path="/message/send.json")
    with pytest.raises(PluginError, match="may or may not have been sent") as info:
        await send(database, installed)
    assert (info.value.code, info.value.retryable) == ("OUTCOME_UNKNOWN", False)
    assert len(sim.requests_to("/message/send.json")) == 1


async def test_a_timed_out_send_is_not_repeated_so_the_customer_gets_one_sms(database, installed, sim, monkeypatch):
    monkeypatch.setattr(turbosms, "TIMEOUT", httpx.Timeout(0.5))
    sim.delay(1.5, count=1, path="/message/send.json")
    with pytest.raises(PluginError, match="did not answer in time") as info:
        await send(database, installed)
    assert (info.value.code, info.value.retryable) == ("OUTCOME_UNKNOWN", False)
    # TurboSMS processed it anyway: exactly one message exists, and no second one was sent.
    for _ in range(50):
        if sim.message_ids():
            break
        await asyncio.sleep(0.1)
    assert len(sim.message_ids()) == 1
    assert len(sim.requests_to("/message/send.json")) == 1


# -- statuses ------------------------------------------------------------------------------


async def test_statuses_are_polled_and_mapped(database, installed, sim):
    first = await send(database, installed)
    second = await send(database, installed, to="+380501112233", channel="viber")
    third = await send(database, installed, to="+380631112233")
    sim.set_status(first.provider_message_id, "Delivered")
    sim.set_status(second.provider_message_id, "Read")
    sim.set_status(third.provider_message_id, "Rejected", rejected_status="REJECTED_BY_OPERATOR")
    unknown = "f83f8868-5e46-c6cf-e4fb-615e5a293754"
    ids = [first.provider_message_id, second.provider_message_id, third.provider_message_id, unknown]
    statuses = await call(database, installed, "crm_messaging_statuses", message_ids=ids)
    assert all(isinstance(s, MessageStatus) for s in statuses)
    got = {s.provider_message_id: (s.status, s.provider_status, s.error_code) for s in statuses}
    assert got == {
        first.provider_message_id: ("delivered", "Delivered", ""),
        second.provider_message_id: ("read", "Read", ""),
        third.provider_message_id: ("failed", "Rejected", "REJECTED_BY_OPERATOR"),
        unknown: ("unknown", "NOT_ALLOWED_MESSAGE_ID", "414"),
    }
    assert statuses[0].changed_at is not None and statuses[0].changed_at.tzinfo is not None


async def test_more_than_100_ids_are_asked_in_batches_of_100(database, installed, sim):
    ids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(150)]
    statuses = await call(database, installed, "crm_messaging_statuses", message_ids=ids)
    assert len(statuses) == 150 and {s.error_code for s in statuses} == {"414"}
    assert [len(r.json()["messages"]) for r in sim.requests_to("/message/status.json")] == [100, 50]


async def test_status_polling_waits_out_a_429_and_survives_a_5xx(database, installed, sim):
    sent = await send(database, installed)
    sim.rate_limit(count=1, retry_after=1, path="/message/status.json")
    sim.fail(count=1, status=502, path="/message/status.json")
    (status,) = await call(database, installed, "crm_messaging_statuses", message_ids=[sent.provider_message_id])
    assert status.status == "queued"
    assert [r.status for r in sim.requests_to("/message/status.json")] == [429, 502, 200]


async def test_status_polling_gives_up_after_three_5xx_with_a_retryable_error(database, installed, sim):
    sim.fail(count=3, status=503, path="/message/status.json")
    with pytest.raises(PluginError, match="answered 503 3 times") as info:
        await call(database, installed, "crm_messaging_statuses", message_ids=["x"])
    assert info.value.retryable is True
