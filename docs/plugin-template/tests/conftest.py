"""The CRM's pytest plugin provides crm_org, crm_installation, crm_http...; this file says
what to install (the plugin name comes from `crm_plugin` in pyproject.toml)."""

import hashlib
import hmac
import json

import httpx
import pytest

from crm_example_sms import plugin

API_TOKEN = "test-api-token"
WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture
def crm_plugin_config():
    return {"sender": "MyShop"}


@pytest.fixture
def crm_plugin_secrets():
    return {"api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET}


@pytest.fixture
def gateway(monkeypatch):
    """A fake Example SMS API: every request the plugin makes is recorded and answered here."""
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.headers.get("authorization") != f"Bearer {API_TOKEN}":
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "Bad API token"}})
        if request.url.path == "/v1/account":
            return httpx.Response(200, json={"balance": "12.50", "currency": "UAH"})
        if request.url.path == "/v1/messages":
            return httpx.Response(201, json={"id": "msg_1", "status": "queued"})
        if request.url.path == "/v1/messages/status":
            return httpx.Response(200, json={"messages": [{"id": "msg_1", "status": "delivered"}]})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "No such endpoint"}})

    monkeypatch.setattr(plugin, "TRANSPORT", httpx.MockTransport(handle))
    return requests


@pytest.fixture
def sign():
    """``sign(report)`` -> the keyword arguments of a delivery report POST, signed as the
    gateway signs it (``sign(report, "other secret")`` for a forged one)."""

    def signed(report: dict, secret: str = WEBHOOK_SECRET) -> dict:
        body = json.dumps(report).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"content": body, "headers": {"content-type": "application/json", "x-example-signature": signature}}

    return signed
