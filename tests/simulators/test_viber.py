"""The Viber bot API simulator over real HTTP: statuses in HTTP 200 answers, set_webhook's signed
URL check, send_message's rules and big message tokens, signed callbacks."""

from __future__ import annotations

import json

import httpx
import pytest

from plugins.simulators import WebhookReceiver
from plugins.simulators.viber import AUTH_TOKEN, ViberSimulator, signature

USER = "01234567890A="


@pytest.fixture(scope="module")
def server():
    with ViberSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def receiver_server():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sim(server):
    server.reset()
    server.add_user(USER, "John McClane", phone="380671112233")
    return server


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


def call(client, path: str, body: dict, token: str = AUTH_TOKEN) -> dict:
    response = client.post(path, json=body, headers={"X-Viber-Auth-Token": token})
    assert response.status_code == 200  # Viber answers 200 whatever happened
    return response.json()


def test_a_wrong_token_and_an_http_url(client):
    assert call(client, "/pa/get_account_info", {}, token="nope") == {"status": 2, "status_message": "invalidAuthToken"}
    assert call(client, "/pa/set_webhook", {"url": "http://x.example/h"})["status"] == 1


def test_set_webhook_checks_the_url_with_a_signed_callback(client, sim, receiver):
    # The check goes to the URL given; this one (https to a plain-HTTP receiver) cannot answer 200,
    # so Viber refuses the webhook and keeps none.
    url = receiver.url.replace("http://", "https://") + "/viber"
    refused = call(client, "/pa/set_webhook", {"url": url})
    assert refused["status"] == 1 and sim.webhook == {}
    check = sim.deliveries[-1].webhook
    assert json.loads(check.body)["event"] == "webhook"
    assert check.headers["X-Viber-Content-Signature"] == signature(check.body, AUTH_TOKEN)


def test_send_message_rules_and_big_tokens(client, sim):
    sim.webhook = {"url": "https://crm.example.com/h", "event_types": []}
    body = {"receiver": USER, "type": "text", "text": "hi", "sender": {"name": "Shop"}, "min_api_version": 1}
    assert call(client, "/pa/send_message", body)["status"] == 6  # never wrote: not subscribed
    sim.user_says(USER, "hello")  # writing subscribes the user
    sent = call(client, "/pa/send_message", body)
    assert sent["status"] == 0 and sent["message_token"] > 2**53
    assert call(client, "/pa/send_message", {**body, "receiver": "nobody"})["status"] == 5
    assert call(client, "/pa/send_message", {**body, "sender": {"name": "x" * 29}})["status"] == 3
    assert call(client, "/pa/send_message", {k: v for k, v in body.items() if k != "sender"})["status"] == 4
    keyboard = {"Type": "keyboard", "Buttons": [{"ActionType": "share-phone", "ActionBody": "phone", "Text": "Share"}]}
    assert call(client, "/pa/send_message", {**body, "keyboard": keyboard})["status"] == 13
    assert call(client, "/pa/send_message", {**body, "keyboard": keyboard, "min_api_version": 3})["status"] == 0
    sim.throttle(1)
    assert call(client, "/pa/send_message", body) == {"status": 12, "status_message": "tooManyRequests"}


def test_a_shared_phone_carries_the_tracking_data_of_the_bots_last_message(client, sim):
    sim.webhook = {"url": "https://crm.example.com/h", "event_types": []}
    sim.user_says(USER, "hello")
    body = {"receiver": USER, "type": "text", "text": "Share?", "sender": {"name": "Shop"}, "tracking_data": "ask"}
    call(client, "/pa/send_message", body)
    event = json.loads(sim.user_shares_phone(USER).body)
    assert event["message"] == {
        "type": "contact",
        "contact": {"name": "John McClane", "phone_number": "380671112233"},
        "tracking_data": "ask",
    }
    assert event["sender"]["id"] == USER and event["message_token"] > 2**53
