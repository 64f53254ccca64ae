"""The Telegram Bot API simulator over real HTTP: the envelope, setWebhook's rules, sendMessage's
documented refusals, and updates delivered to a webhook with the secret token."""

from __future__ import annotations

import httpx
import pytest

from plugins.simulators import WebhookReceiver
from plugins.simulators.telegram import BOT_TOKEN, BOT_USERNAME, TelegramSimulator

USER = 5_000_000_123


@pytest.fixture(scope="module")
def server():
    with TelegramSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def receiver_server():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sim(server):
    server.reset()
    server.add_user(USER, "Ivan", phone="380671112233")
    return server


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


def call(client, method: str, token: str = BOT_TOKEN, **params) -> httpx.Response:
    return client.post(f"/bot{token}/{method}", json=params)


def test_get_me_and_an_unknown_token_or_method(client):
    me = call(client, "getMe").json()
    assert me["ok"] is True and me["result"]["username"] == BOT_USERNAME and me["result"]["is_bot"] is True
    bad = call(client, "getMe", token="1:nope")
    assert bad.status_code == 401 and bad.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = call(client, "sendPigeon")
    assert unknown.status_code == 404 and unknown.json()["description"] == "Not Found"


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "http://crm.example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
        (
            {"url": "https://crm.example.com/h", "secret_token": "no spaces!"},
            "Bad Request: secret token contains unallowed characters",
        ),
        (
            {"url": "https://crm.example.com/h", "max_connections": 101},
            "Bad Request: invalid max_connections specified",
        ),
    ],
)
def test_set_webhook_refusals(client, params, description):
    response = call(client, "setWebhook", **params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}


def test_set_get_and_delete_the_webhook(client):
    ok = call(
        client, "setWebhook", url="https://crm.example.com/h", secret_token="abc_DEF-1", allowed_updates=["message"]
    )
    assert ok.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = call(client, "getWebhookInfo").json()["result"]
    assert info["url"] == "https://crm.example.com/h" and info["allowed_updates"] == ["message"]
    assert info["max_connections"] == 40 and info["pending_update_count"] == 0
    assert call(client, "deleteWebhook").json()["description"] == "Webhook was deleted"
    assert call(client, "getWebhookInfo").json()["result"]["url"] == ""


def test_send_message_refusals_as_telegram_words_them(client, sim):
    assert call(client, "sendMessage", chat_id=USER, text="hi").json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    sim.started.setdefault(BOT_TOKEN, set()).add(USER)  # the user wrote to the bot
    assert call(client, "sendMessage", text="hi").json()["description"] == "Bad Request: chat_id is empty"
    assert (
        call(client, "sendMessage", chat_id=USER, text=" ").json()["description"]
        == "Bad Request: message text is empty"
    )
    too_long = call(client, "sendMessage", chat_id=USER, text="x" * 4097).json()
    assert too_long["description"] == "Bad Request: message is too long"
    sim.flood(retry_after=7)
    flood = call(client, "sendMessage", chat_id=USER, text="hi")
    assert flood.status_code == 429
    assert flood.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    sent = call(client, "sendMessage", chat_id=USER, text="hi").json()
    assert sent["ok"] is True and sent["result"]["chat"] == {"id": USER, "first_name": "Ivan", "type": "private"}
    sim.block(USER)
    blocked = call(client, "sendMessage", chat_id=USER, text="hi")
    assert blocked.status_code == 403
    assert blocked.json()["description"] == "Forbidden: bot was blocked by the user"
    assert [m["text"] for m in sim.messages_to(USER)] == ["hi"]


def test_an_injected_rate_limit_uses_the_telegram_envelope(client, sim):
    sim.rate_limit(retry_after=3, path=f"/bot{BOT_TOKEN}/getMe")
    response = call(client, "getMe")
    assert response.status_code == 429 and response.json()["parameters"] == {"retry_after": 3}


def test_updates_carry_the_secret_and_a_method_in_the_answer_is_executed(client, sim, receiver):
    call(client, "setWebhook", url=receiver.url.replace("http://", "https://") + "/hook", secret_token="s3cret")
    sim.webhooks[BOT_TOKEN]["url"] = receiver.url + "/hook"  # the receiver here speaks plain HTTP
    hook = sim.user_shares_contact(USER)
    assert hook.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    update = hook.meta["update"]
    assert update["message"]["contact"] == {"phone_number": "380671112233", "first_name": "Ivan", "user_id": USER}
    assert update["message"]["from"]["id"] == update["message"]["chat"]["id"] == USER
    receiver.respond(200, {"method": "sendMessage", "chat_id": USER, "text": "Дякуємо!"})
    attempt = sim.deliver_update(hook)
    assert attempt.ok
    assert [m["text"] for m in sim.messages_to(USER)] == ["Дякуємо!"]
    sim.signature_mode = "invalid"
    assert sim.user_says(USER, "x").headers["X-Telegram-Bot-Api-Secret-Token"] != "s3cret"
    sim.signature_mode = "none"
    assert "X-Telegram-Bot-Api-Secret-Token" not in sim.user_says(USER, "x").headers


def test_a_refused_update_is_the_webhooks_last_error(client, sim, receiver):
    url = receiver.url.replace("http://", "https://") + "/hook"
    call(client, "setWebhook", url=url, secret_token="s3cret")
    sim.webhooks[BOT_TOKEN]["url"] = receiver.url + "/hook"  # the receiver here speaks plain HTTP
    hook = sim.user_says(USER, "hello")
    receiver.respond(403, {"error": "rejected"})
    assert not sim.deliver_update(hook).ok
    info = call(client, "getWebhookInfo").json()["result"]
    assert info["last_error_message"] == "Wrong response from the webhook: 403"
