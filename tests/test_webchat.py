"""The web chat: a visitor writes on the chat page (real HTTP to the app, and headless Chromium
on a live server), the message lands in the inbox as a WEB conversation on a lead, an agent
replies from the API and the visitor sees it; visitors see only their own conversation, and
only admins configure the widget."""

from __future__ import annotations

import pytest

from server.conversations.models import ConversationMessage
from server.webchat.models import WebChatVisitor
from tests.test_conversations import LIST, REPLY, TIMELINE

WEB_CHAT = "{ webChat { key enabled title greeting allowedOrigins version pageUrl } }"
CONFIGURE = """mutation($i: ConfigureWebChatInput!) { configureWebChat(input: $i) {
    webChat { key enabled title greeting allowedOrigins version pageUrl } errors { field code message } } }"""


@pytest.fixture
async def shop(api, tenants):
    return await tenants.create(("owner", "support", "sales"))


async def switch_on(member, api, **values) -> dict:
    widget = (await member.data(api, WEB_CHAT))["webChat"]
    payload = (await member.data(api, CONFIGURE, {"i": {"version": widget["version"], "enabled": True, **values}}))[
        "configureWebChat"
    ]
    assert payload["errors"] == [], payload
    return payload["webChat"]


async def start(api, key: str, name: str = "") -> str:
    response = await api.http.post(f"/chat/{key}/start", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def say(api, key: str, token: str, text: str, client_id: str | None = None):
    body = {"text": text, **({"clientId": client_id} if client_id else {})}
    return await api.http.post(f"/chat/{key}/messages", json=body, headers={"Authorization": f"Bearer {token}"})


async def seen(api, key: str, token: str) -> list[dict]:
    response = await api.http.get(f"/chat/{key}/messages", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


async def test_the_widget_starts_off_and_only_admins_configure_it(shop, api):
    widget = (await shop.owner.data(api, WEB_CHAT))["webChat"]
    assert widget["enabled"] is False and len(widget["key"]) >= 20
    assert widget["pageUrl"].endswith(f"/chat/{widget['key']}")
    assert (await api.http.get(f"/chat/{widget['key']}")).status_code == 404  # off: the page says so

    wrong = (
        await shop.owner.data(
            api,
            CONFIGURE,
            {
                "i": {
                    "version": widget["version"],
                    "title": "x" * 121,
                    "allowedOrigins": ["shop.example", "ftp://a.b", "https://a.example; script-src *"],
                }
            },
        )
    )["configureWebChat"]
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [
        ("title", "INVALID"),
        ("allowedOrigins.0", "INVALID"),
        ("allowedOrigins.1", "INVALID"),
        ("allowedOrigins.2", "INVALID"),  # nothing may reach the page's CSP but a site's address
    ]
    on = await switch_on(shop.owner, api, title="Квітковий", allowedOrigins=["https://Shop.Example/"])
    assert (on["enabled"], on["title"], on["allowedOrigins"]) == (True, "Квітковий", ["https://shop.example"])

    refused = await shop.sales.execute(api, CONFIGURE, {"i": {"version": on["version"], "enabled": False}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_visitor_writes_an_agent_replies_and_the_visitor_reads_it(shop, api):
    key = (await switch_on(shop.owner, api, greeting="Пишіть, ми онлайн"))["key"]
    page = await api.http.get(f"/chat/{key}")
    assert page.status_code == 200 and "Пишіть, ми онлайн" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]

    token = await start(api, key, "Оксана")
    written = await say(api, key, token, "Чи є троянди на завтра?", client_id="m-1")
    assert written.status_code == 201
    again = await say(api, key, token, "Чи є троянди на завтра?", client_id="m-1")  # a retried send
    assert again.json()["message"]["id"] == written.json()["message"]["id"]

    [conversation] = [
        e["node"]
        for e in (await shop.support.data(api, LIST, {"w": {"channel": {"eq": "WEB"}}}))["conversations"]["edges"]
    ]
    assert conversation["displayName"] == "Оксана" and conversation["account"]["tags"] == ["lead"]
    assert [m["text"] for m in conversation["messages"]] == ["Чи є троянди на завтра?"]
    timeline = (await shop.support.data(api, TIMELINE, {"id": conversation["account"]["id"]}))["account"]
    assert [e["node"]["body"] for e in timeline["timeline"]["edges"] if e["node"]["kind"] == "MESSAGE"] == [
        "Чи є троянди на завтра?"
    ]
    assert {e["node"]["subject"] for e in timeline["timeline"]["edges"] if e["node"]["kind"] == "MESSAGE"} == {
        "Веб-чат: повідомлення від Оксана"
    }

    reply = await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Так, є!"}})
    assert reply["replyToConversation"]["message"]["state"] == "SENT"  # the CRM's own channel: no job needed
    messages = await seen(api, key, token)
    assert [(m["direction"], m["text"]) for m in messages] == [("in", "Чи є троянди на завтра?"), ("out", "Так, є!")]
    # Delivered once the visitor's page fetched it; the agent sees that.
    answer = await ConversationMessage.get(id=messages[1]["id"])
    assert answer.state == "delivered" and answer.delivered_at is not None


async def test_visitors_see_only_their_own_conversation(shop, api, tenants):
    key = (await switch_on(shop.owner, api))["key"]
    first, second = await start(api, key), await start(api, key)
    assert (await say(api, key, first, "Моє питання")).status_code == 201
    assert await seen(api, key, second) == []
    assert (await api.http.get(f"/chat/{key}/messages", headers={"Authorization": "Bearer forged"})).status_code == 404
    assert (await api.http.get(f"/chat/{key}/messages")).status_code == 404

    other = await tenants.create(("owner",))
    other_key = (await switch_on(other.owner, api))["key"]
    # A visitor of one shop is nobody at another's.
    assert (
        await api.http.get(f"/chat/{other_key}/messages", headers={"Authorization": f"Bearer {first}"})
    ).status_code == 404
    assert (await say(api, other_key, first, "Привіт")).status_code == 404
    # Only the token's hash is kept.
    assert not await WebChatVisitor.filter(token_hash=first).exists()


async def test_bad_visitor_input_gets_a_clear_error(shop, api):
    key = (await switch_on(shop.owner, api))["key"]
    token = await start(api, key)
    empty = await say(api, key, token, "   ")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "REQUIRED"
    long = await say(api, key, token, "x" * 4001)
    assert long.status_code == 400 and long.json()["error"]["code"] == "INVALID"
    english = await api.http.post(
        f"/chat/{key}/messages",
        json={"text": ""},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    assert english.json()["error"]["message"] == "Write a message."
    ukrainian = await say(api, key, token, "")
    assert ukrainian.json()["error"]["message"] == "Напишіть повідомлення."
    not_json = await api.http.post(
        f"/chat/{key}/messages", content=b"[[[", headers={"Authorization": f"Bearer {token}"}
    )
    assert not_json.status_code == 400
    assert await ConversationMessage.filter(text="x" * 4001).count() == 0


async def test_a_person_chats_on_the_page_in_chromium(shop, api, live_server, browser_page):
    key = (await switch_on(shop.owner, api, title="Квітковий", greeting="Вітаємо!"))["key"]
    page = browser_page
    response = await page.goto(f"{live_server}/chat/{key}")
    assert response.status == 200
    assert await page.locator("h1").inner_text() == "Квітковий"
    await page.fill("#name", "Оксана")
    await page.fill("#text", "Доставите сьогодні?")
    await page.click("#send")
    await page.locator("#messages li", has_text="Доставите сьогодні?").wait_for()

    [conversation] = [
        e["node"]
        for e in (await shop.support.data(api, LIST, {"w": {"channel": {"eq": "WEB"}}}))["conversations"]["edges"]
    ]
    assert conversation["displayName"] == "Оксана"
    await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Так, до 18:00"}})
    await page.locator("#messages li", has_text="Так, до 18:00").wait_for(timeout=15_000)  # the page polls
    # A reload keeps the conversation (the visitor's token stays in the browser).
    await page.reload()
    await page.locator("#messages li", has_text="Так, до 18:00").wait_for()
    assert page.blocked_requests == []


async def test_the_self_service_bot_answers_a_linked_visitor_and_hands_over_an_unknown_one(shop, api, database):
    from datetime import UTC, datetime, timedelta

    from server.jobs.inprocess import run_until_idle
    from tests.test_orders import create_order, make_account
    from tests.test_selfservice_bot import bot_on

    async def drain():
        await run_until_idle(database, now=datetime.now(UTC) + timedelta(seconds=3))

    key = (await switch_on(shop.owner, api))["key"]
    # A visitor who wrote before the bot was on, and whom an agent recognized.
    known = await start(api, key, "Оксана")
    await say(api, key, known, "Добрий день")
    account = await make_account(shop.owner, api, name="Оксана Коваль", phones=["067 123 45 67"])
    order = (await create_order(shop.owner, api, account))["order"]
    [conversation] = [
        e["node"]
        for e in (await shop.support.data(api, LIST, {"w": {"channel": {"eq": "WEB"}}}))["conversations"]["edges"]
    ]
    linked = await shop.support.data(
        api,
        """mutation($i: LinkConversationInput!) { linkConversationToAccount(input: $i) { errors { code } } }""",
        {"i": {"id": conversation["id"], "version": conversation["version"], "accountId": account}},
    )
    assert linked["linkConversationToAccount"]["errors"] == []
    await drain()

    await bot_on(shop, api)
    stranger = await start(api, key, "Гість")
    await say(api, key, stranger, "Де моє замовлення?")
    await drain()
    said = await seen(api, key, stranger)
    # Nothing proves who a web visitor is: the bot passes the question to the agents.
    assert said[-1]["direction"] == "out" and "оператор" in said[-1]["text"]

    await say(api, key, known, "Де моє замовлення?")
    await drain()
    answer = (await seen(api, key, known))[-1]
    assert answer["direction"] == "out" and f"№{order['number']}" in answer["text"]
