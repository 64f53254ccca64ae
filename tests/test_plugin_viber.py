"""The Viber bot plugin against the Viber simulator over real HTTP: set_webhook (with Viber's
signed check of the URL), signed callbacks to the app's real ``/hooks/viber/<token>/`` route
(forged, unsigned, retried), message tokens beyond 2^53, the share-phone flow, replies sent once
with delivered and seen reports, and Viber's refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from plugins.simulators.viber import AUTH_TOKEN, ViberSimulator, signature
from server.app import create_app
from server.conversations.models import Conversation, ConversationMessage
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.plugins.models import WebhookDelivery
from tests.helpers import Client, TenantFactory
from tests.provider_plugins import app_transport, check_connection, install, row

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

PUBLIC = "https://crm.example.com"
USER = "01234567890A="

INBOX = """{ conversations(first: 10) { edges { node { id address phone unreadCount
    account { id tags } messages { direction kind text state } } } } }"""
REPLY = """mutation($i: ReplyToConversationInput!) { replyToConversation(input: $i) {
    message { id state } errors { message } } }"""
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } } }"""


def test_the_documented_signature_vector():
    body = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
    key = "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"
    assert signature(body, key) == "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"


@pytest.fixture(scope="module")
def viber_server():
    with ViberSimulator() as sim:
        yield sim


@pytest.fixture
async def proxied(database):
    settings = database.model_copy(update={"public_url": PUBLIC})
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def sim(viber_server, proxied):
    viber_server.reset()
    viber_server.bind_loop(app_transport(proxied), asyncio.get_running_loop())
    viber_server.add_user(USER, "John McClane", phone="380671112233")
    return viber_server


@pytest.fixture
def api(proxied) -> Client:
    return Client(proxied, language="en")


@pytest.fixture
async def shop(api):
    return await TenantFactory(api).create(("owner", "support"))


@pytest.fixture
async def installed(shop, api, sim):
    config = {"api_url": sim.url, "sender_name": "Sim Shop", "language": "uk"}
    return await install(shop.owner, api, "viber", config, {"auth_token": AUTH_TOKEN})


async def inbox(shop, api) -> list[dict]:
    return [e["node"] for e in (await shop.support.data(api, INBOX))["conversations"]["edges"]]


async def drain(database, minutes: float = 0.05) -> None:
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(minutes=minutes))


async def test_installing_sets_the_webhook_after_viber_checked_it(shop, api, installed, sim):
    assert installed["errors"] == [] and "set_webhook done" in installed["webhookNote"]
    assert sim.webhook["url"] == installed["webhookUrl"]
    check = sim.deliveries[0]
    assert check.webhook.event == "webhook" and check.status_code == 200
    result = await check_connection(shop.owner, api, installed)
    assert (result["ok"], result["message"]) == (True, "Connected to Viber as Sim Shop.")


async def test_a_wrong_token_is_explained(shop, api, sim):
    payload = await install(shop.owner, api, "viber", {"api_url": sim.url, "sender_name": "X"}, {"auth_token": "nope"})
    assert "rejected the auth token" in payload["webhookNote"]


@pytest.mark.parametrize("mode", ["invalid", "none"])
async def test_forged_or_unsigned_callbacks_are_refused(installed, sim, mode):
    organization = (await row(installed)).organization_id  # type: ignore[attr-defined]
    recorded = await WebhookDelivery.filter(organization_id=organization).count()  # Viber's URL check
    sim.signature_mode = mode
    attempt = await sim.adeliver_event(sim.user_says(USER, "hi"))
    assert attempt.status_code == 403
    assert await Conversation.filter(organization_id=organization).count() == 0
    assert await WebhookDelivery.filter(organization_id=organization).count() == recorded


async def test_a_tampered_body_is_refused(installed, sim, proxied):
    hook = sim.user_says(USER, "hi")
    forged = hook.body.replace(b'"hi"', b'"ha"')
    response = await proxied.post(hook.url.replace(PUBLIC, ""), content=forged, headers=hook.headers)
    assert response.status_code == 403


async def test_the_whole_story_with_tokens_beyond_2_53(shop, api, installed, sim, database):
    created = await shop.owner.data(api, CREATE_ACCOUNT, {"i": {"name": "John", "phones": ["+380671112233"]}})
    account_id = created["createAccount"]["account"]["id"]
    # The user opens the chat: the welcome with the share-phone keyboard is the webhook's answer.
    await sim.adeliver_event(sim.user_opens(USER))
    [welcome] = sim.messages_to(USER)
    assert welcome["keyboard"]["Buttons"][0]["ActionType"] == "share-phone" and welcome["min_api_version"] == 3
    # A retried message is filed once; its token (> 2^53) survives as written.
    hook = sim.user_says(USER, "Where is my parcel?")
    token = str(json.loads(hook.body)["message_token"])  # Python's json keeps big integers exact
    assert int(token) > 2**53
    assert (await sim.adeliver_event(hook)).status_code == 200
    assert (await sim.adeliver_event(hook)).status_code == 200
    organization = (await row(installed)).organization_id  # type: ignore[attr-defined]
    message = await ConversationMessage.get(organization_id=organization, provider_message_id=token)
    assert message.text == "Where is my parcel?"
    # The shared number is shown to the agent, not trusted: Viber cannot tell the sender's own
    # number from any contact card, so it links nothing by itself (an agent links the chat).
    await sim.adeliver_event(sim.user_shares_phone(USER))
    [conversation] = await inbox(shop, api)
    assert conversation["address"] == USER and conversation["phone"] is None
    assert conversation["account"]["id"] != account_id and conversation["unreadCount"] == 2
    assert conversation["messages"][-1]["kind"] == "contact" and conversation["messages"][-1]["text"] == "+380671112233"
    # The agent's reply goes once; delivered and seen move it to READ.
    payload = await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "On its way"}})
    assert payload["replyToConversation"]["errors"] == []
    await drain(database)
    await drain(database, minutes=10)
    sent = [m for m in sim.messages_to(USER) if m.get("text") == "On its way"]
    assert len(sent) == 1 and sent[0]["sender"] == {"name": "Sim Shop"}
    reply = await ConversationMessage.get(id=ids.decode(payload["replyToConversation"]["message"]["id"])[1])
    assert reply.provider_message_id == str(sent[0]["message_token"]) and int(reply.provider_message_id) > 2**53
    for event in ("delivered", "seen", "seen"):
        assert (await sim.adeliver_event(sim.report(sent[0]["message_token"], event))).status_code == 200
    await drain(database)
    [conversation] = await inbox(shop, api)
    assert conversation["messages"][-1] == {"direction": "OUT", "kind": "text", "text": "On its way", "state": "READ"}


async def test_a_contact_not_asked_for_links_nothing(shop, api, installed, sim):
    await sim.adeliver_event(sim.user_says(USER, "hi"))
    await sim.adeliver_event(sim.user_shares_phone(USER, "380501234567"))  # no share-phone request before
    [conversation] = await inbox(shop, api)
    assert conversation["phone"] is None and conversation["messages"][-1]["kind"] == "contact"


async def _reply(shop, api, sim, text: str) -> ConversationMessage:
    await sim.adeliver_event(sim.user_says(USER, "question"))
    [conversation] = await inbox(shop, api)
    payload = await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": text}})
    return await ConversationMessage.get(id=ids.decode(payload["replyToConversation"]["message"]["id"])[1])


async def test_an_unsubscribed_customer_makes_the_reply_fail(shop, api, installed, sim, database):
    message = await _reply(shop, api, sim, "late answer")
    await sim.adeliver_event(sim.user_unsubscribes(USER))
    await drain(database)
    await message.refresh_from_db()
    assert message.state == "failed" and "receiverNotSubscribed" in message.error


async def test_too_many_requests_is_retried_and_sent_once(shop, api, installed, sim, database):
    message = await _reply(shop, api, sim, "after a pause")
    sim.throttle(1)
    await drain(database)
    await message.refresh_from_db()
    # Refused with 429 and queued for a retry a few seconds on (on a slow machine the retry may
    # already have run by the time we look): never failed, never sent twice.
    assert message.state in ("queued", "sent") and message.attempts >= 1
    await drain(database, minutes=10)
    await message.refresh_from_db()
    assert message.state == "sent"
    assert [m.get("text") for m in sim.messages_to(USER)].count("after a pause") == 1


async def test_a_500_on_send_is_never_repeated(shop, api, installed, sim, database):
    message = await _reply(shop, api, sim, "once")
    sim.fail(count=1, status=500, path="/pa/send_message")
    await drain(database)
    await drain(database, minutes=30)
    await message.refresh_from_db()
    assert message.state == "failed" and "могло піти, а могло й ні" in message.error  # the shop's language
    assert len(sim.requests_to("/pa/send_message", "POST")) == 1
