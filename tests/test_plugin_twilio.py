"""The Twilio plugin against the Twilio simulator over real HTTP. Status callbacks travel from
the simulator to the app's real ``/hooks/twilio/<token>/...`` route, signed as Twilio signs them."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from plugins.simulators.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    TwilioSimulator,
    compute_signature,
)
from plugins.twilio import plugin as twilio
from server.app import create_app
from server.plugins.models import WebhookDelivery
from server.plugins.testing import ROTATE
from server.plugins.types import OutgoingMessage, PluginError
from tests.helpers import Client
from tests.provider_plugins import app_transport, call, check_connection, events, install, row

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
PHONE = "+380671234567"


@pytest.fixture(scope="module")
def twilio_server():
    with TwilioSimulator() as sim:
        yield sim


@pytest.fixture
def sim(twilio_server):
    twilio_server.reset()
    return twilio_server


def config(sim, **extra) -> dict:
    return {"account_sid": ACCOUNT_SID, "from_number": FROM_NUMBER, "api_url": sim.url, **extra}


@pytest.fixture
async def owner(api, tenants):
    return (await tenants.create(("owner",))).owner


@pytest.fixture
async def installed(owner, api, sim):
    return await install(owner, api, "twilio", config(sim), {"auth_token": AUTH_TOKEN})


async def send(database, installed, to=PHONE, text="Your order #42 has shipped"):
    return await call(database, installed, "crm_messaging_send", message=OutgoingMessage(to=to, text=text))


async def organization_id(installed):
    return (await row(installed)).organization_id  # type: ignore[attr-defined]


# -- connection and sending ----------------------------------------------------------------


async def test_connection_checks_the_credentials(owner, api, installed, sim):
    assert await check_connection(owner, api, installed) == {
        "ok": True,
        "message": "Connected to Twilio.",
        "errors": [],
    }
    bad = await install(owner, api, "twilio", config(sim), {"auth_token": "0" * 32}, label="bad")
    result = await check_connection(owner, api, bad)
    assert result["ok"] is False and "rejected the Account SID or auth token" in result["message"]


async def test_an_sms_is_sent_with_the_installation_webhook_as_status_callback(database, installed, sim):
    sent = await send(database, installed)
    assert sent.provider_message_id.startswith("SM") and sent.status == "queued"
    form = sim.last_request.form()
    assert form["To"] == PHONE and form["From"] == FROM_NUMBER and form["Body"] == "Your order #42 has shipped"
    assert form["StatusCallback"] == installed["webhookUrl"] + "message-status"


async def test_a_messaging_service_is_used_instead_of_from(database, owner, api, sim):
    payload = await install(
        owner, api, "twilio", config(sim, messaging_service_sid=MESSAGING_SERVICE_SID), {"auth_token": AUTH_TOKEN}
    )
    sent = await send(database, payload)
    form = sim.last_request.form()
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID and "From" not in form
    assert sent.status == "queued"  # Twilio's "accepted"


@pytest.mark.parametrize(("to", "code"), [("+15005550001", "21211"), ("+15005550004", "21610")])
async def test_a_refused_recipient_is_a_failed_message(database, installed, to, code):
    sent = await send(database, installed, to=to)
    assert (sent.provider_message_id, sent.status, sent.error_code) == (None, "failed", code)
    assert sent.error_message


async def test_a_bad_from_number_or_bad_credentials_are_errors_for_the_admin(database, owner, api, installed, sim):
    payload = await install(
        owner, api, "twilio", config(sim, from_number="+15005550001"), {"auth_token": AUTH_TOKEN}, label="x"
    )
    with pytest.raises(PluginError, match="does not accept the From number") as info:
        await send(database, payload)
    assert info.value.code == "21212" and not info.value.retryable
    bad = await install(owner, api, "twilio", config(sim), {"auth_token": "0" * 32}, label="y")
    with pytest.raises(PluginError, match="rejected the Account SID or auth token"):
        await send(database, bad)


async def test_a_rate_limit_on_send_is_retryable_and_sends_nothing(database, installed, sim):
    sim.rate_limit(count=1, retry_after=2, path=MESSAGES)
    with pytest.raises(PluginError, match="rate limiting") as info:
        await send(database, installed)
    assert info.value.retryable is True
    assert len(sim.requests_to(MESSAGES, "POST")) == 1


async def test_a_500_or_a_timeout_on_send_is_never_repeated(database, installed, sim, monkeypatch):
    sim.fail(count=1, status=500, path=MESSAGES)
    with pytest.raises(PluginError, match="may or may not have been sent") as info:
        await send(database, installed)
    assert (info.value.code, info.value.retryable) == ("OUTCOME_UNKNOWN", False)
    monkeypatch.setattr(twilio, "TIMEOUT", httpx.Timeout(0.5))
    sim.delay(1.5, count=1, path=MESSAGES)
    with pytest.raises(PluginError, match="did not answer in time"):
        await send(database, installed)
    for _ in range(50):
        if sim.messages:
            break
        await asyncio.sleep(0.1)
    assert len(sim.messages) == 1  # processed once despite the timeout, and not sent again
    assert len(sim.requests_to(MESSAGES, "POST")) == 2  # one per send, no retries


# -- statuses by polling -------------------------------------------------------------------


async def test_polled_statuses_map_and_an_unknown_sid_is_unknown(database, installed, sim):
    sent = await send(database, installed)
    sim.set_message_status(sent.provider_message_id, "undelivered", error_code=30005)
    unknown = "SM" + "0" * 32
    sim.rate_limit(count=1, retry_after=1)  # polling is safe to retry: it is
    statuses = await call(
        database, installed, "crm_messaging_statuses", message_ids=[sent.provider_message_id, unknown]
    )
    got = {s.provider_message_id: (s.status, s.provider_status, s.error_code) for s in statuses}
    assert got == {
        sent.provider_message_id: ("undelivered", "undelivered", "30005"),
        unknown: ("unknown", "not_found", "20404"),
    }


async def test_polling_gives_up_after_three_5xx_with_a_retryable_error(database, installed, sim):
    sim.fail(count=3, status=500)
    with pytest.raises(PluginError, match="answered 500 3 times") as info:
        await call(database, installed, "crm_messaging_statuses", message_ids=["SM" + "1" * 32])
    assert info.value.retryable


# -- status callbacks through the app ------------------------------------------------------


async def test_a_signed_status_callback_becomes_a_message_status_once(database, installed, sim, http):
    org = await organization_id(installed)
    sent = await send(database, installed)
    attempt = await sim.asend_message_status(sent.provider_message_id, "delivered", transport=app_transport(http))
    assert attempt.status_code == 200
    (event,) = await events(org, "message.status")
    assert event["provider_message_id"] == sent.provider_message_id and event["status"] == "delivered"
    assert event["plugin"] == "twilio"
    # Twilio retries a callback: the same status again changes nothing.
    again = await sim.adeliver(attempt.webhook, transport=app_transport(http))
    assert again.status_code == 200
    assert len(await events(org, "message.status")) == 1
    delivery = await WebhookDelivery.get(dedupe_key=f"twilio:{sent.provider_message_id}:delivered")
    assert delivery.attempts == 2
    # A later status is a new event.
    failed = await sim.asend_message_status(
        sent.provider_message_id, "undelivered", error_code=30003, transport=app_transport(http)
    )
    assert failed.status_code == 200
    statuses = await events(org, "message.status")
    assert [(e["status"], e["error_code"]) for e in statuses] == [("delivered", ""), ("undelivered", "30003")]


@pytest.mark.parametrize("sign", ["invalid", "none"])
async def test_a_forged_or_unsigned_callback_is_rejected_and_records_nothing(database, installed, sim, http, sign):
    org = await organization_id(installed)
    sent = await send(database, installed)
    attempt = await sim.asend_message_status(
        sent.provider_message_id, "delivered", sign=sign, transport=app_transport(http)
    )
    assert attempt.status_code == 403
    assert await events(org, "message.status") == []
    assert await WebhookDelivery.filter(organization_id=org).count() == 0


async def test_a_callback_with_a_tampered_parameter_is_rejected(database, installed, sim, http):
    org = await organization_id(installed)
    sent = await send(database, installed)
    hook = sim.set_message_status(sent.provider_message_id, "failed")
    forged = hook.body.replace(b"MessageStatus=failed", b"MessageStatus=delivered")
    response = await http.post(hook.url, content=forged, headers=hook.headers)
    assert response.status_code == 403
    assert await events(org, "message.status") == []


@pytest.fixture
async def proxied(database):
    """The app as deployed behind a proxy: PUBLIC_URL=https://crm.example.com."""
    settings = database.model_copy(update={"public_url": "https://crm.example.com"})
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def test_behind_a_proxy_the_signed_public_url_is_rebuilt(owner, database, sim, proxied):
    """Twilio signs https://crm.example.com/hooks/...; the app is reached at http://testserver/hooks/..."""
    api, http = Client(proxied, language="en"), proxied
    payload = await install(owner, api, "twilio", config(sim), {"auth_token": AUTH_TOKEN})
    assert payload["webhookUrl"].startswith("https://crm.example.com/hooks/twilio/")
    org = await organization_id(payload)
    sent = await send(database, payload)
    assert sim.last_request.form()["StatusCallback"] == payload["webhookUrl"] + "message-status"
    hook = sim.set_message_status(sent.provider_message_id, "delivered")
    assert hook.url.startswith("https://crm.example.com/")
    local = hook.url.replace("https://crm.example.com", "")
    response = await http.post(local, content=hook.body, headers=hook.headers)
    assert response.status_code == 200
    assert [e["status"] for e in await events(org, "message.status")] == ["delivered"]
    # Twilio's validators accept the URL with the default port too.
    params = sorted(hook.params)
    with_port = hook.url.replace("crm.example.com", "crm.example.com:443")
    headers = {**hook.headers, "X-Twilio-Signature": compute_signature(with_port, params, AUTH_TOKEN)}
    replay = await http.post(local, content=hook.body, headers=headers)
    assert replay.status_code == 200


async def test_a_rotated_webhook_token_moves_the_status_callback(owner, api, database, installed, sim, http):
    inst = installed["installation"]
    rotated = (await owner.data(api, ROTATE, {"i": {"id": inst["id"], "version": inst["version"]}}))[
        "rotateWebhookToken"
    ]
    assert rotated["errors"] == [] and rotated["webhookUrl"] != installed["webhookUrl"]
    await send(database, installed)
    assert sim.last_request.form()["StatusCallback"] == rotated["webhookUrl"] + "message-status"
    # The old URL is dead.
    response = await http.post(installed["webhookUrl"].replace("http://testserver", "") + "message-status", data={})
    assert response.status_code == 404


async def test_changing_the_auth_token_keeps_the_callback_url_and_it_is_never_shown(
    owner, api, database, installed, sim
):
    from server.plugins.testing import CONFIGURE

    inst = installed["installation"]
    assert inst["secretsSet"] == ["auth_token"]
    version = inst["version"]
    for token in ("f" * 32, AUTH_TOKEN):  # re-encrypted twice: a new token, then the right one again
        variables = {"i": {"id": inst["id"], "version": version, "secrets": {"auth_token": token}}}
        configured = (await owner.data(api, CONFIGURE, variables))["configurePlugin"]
        assert configured["errors"] == [] and configured["installation"]["secretsSet"] == ["auth_token"]
        assert configured["installation"]["version"] == version + 1
        version += 1
    await send(database, installed)
    assert sim.last_request.form()["StatusCallback"] == installed["webhookUrl"] + "message-status"
    stored = await row(installed)
    assert installed["webhookUrl"] not in stored.secrets  # encrypted at rest, like the secrets


@pytest.fixture(scope="module")
def twilio_spec():
    import openapi_core

    path = Path(
        os.environ.get("TWILIO_OPENAPI_SPEC", Path(__file__).parent / "specs" / "twilio_api_v2010_messages_calls.json")
    )
    return openapi_core.OpenAPI.from_dict(json.loads(path.read_text()))


async def test_the_plugins_requests_match_twilios_openapi_description(database, installed, sim, twilio_spec):
    """What the plugin sends is a valid CreateMessage / FetchMessage / ListMessage request of Twilio's spec."""
    from openapi_core.datatypes import RequestParameters
    from werkzeug import datastructures

    class Recorded:
        host_url = "https://api.twilio.com"

        def __init__(self, recorded):
            self.path, self.method = recorded.path, recorded.method.lower()
            self.body = recorded.body or None
            self.content_type = recorded.headers.get("content-type", "").lower()
            self.parameters = RequestParameters(
                query=datastructures.ImmutableMultiDict(recorded.query.items()),
                header=datastructures.Headers(list(recorded.headers.items())),
                cookie=datastructures.ImmutableMultiDict(),
            )

    sent = await send(database, installed)
    await call(database, installed, "crm_messaging_statuses", message_ids=[sent.provider_message_id])
    await call(database, installed, "crm_test_connection")
    assert [r.method for r in sim.requests] == ["POST", "GET", "GET"]
    for recorded in sim.requests:
        twilio_spec.validate_request(Recorded(recorded))


@pytest.mark.parametrize(
    ("root_path", "path"),
    [("", "/hooks/twilio/tok123/message-status"), ("/crm", "/crm/hooks/twilio/tok123/message-status")],
)
def test_the_signed_url_is_rebuilt_from_public_url_whatever_the_proxy_forwards(root_path, path):
    """A proxy that strips /crm, or one that keeps it with uvicorn --root-path /crm: either way
    the URL checked is the one issued to Twilio, with the query string byte for byte."""
    from starlette.requests import Request

    from server.config import Settings
    from server.plugins.webhooks import public_url

    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("10.0.0.5", 8000),
        "root_path": root_path,
        "path": path,
        "query_string": b"a=1&b=%2B380",
        "headers": [(b"host", b"10.0.0.5:8000")],
        "path_params": {"plugin": "twilio", "token": "tok123", "path": "message-status"},
    }
    settings = Settings(public_url="https://example.com/crm")
    assert (
        public_url(Request(scope), settings)
        == "https://example.com/crm/hooks/twilio/tok123/message-status?a=1&b=%2B380"
    )


def test_json_callbacks_are_verified_by_the_signed_url_and_the_body_hash():
    """Twilio's JSON-body variant: the URL carries bodySHA256 and only the URL is signed."""
    import hashlib

    from server.plugins.types import WebhookRejected, WebhookRequest

    body = b'{"MessageSid": "SM1", "MessageStatus": "delivered"}'
    url = "https://crm.example.com/hooks/twilio/tok/message-status?bodySHA256=" + hashlib.sha256(body).hexdigest()

    def request(content: bytes, signature: str) -> WebhookRequest:
        return WebhookRequest(
            "POST", url, "message-status", {"x-twilio-signature": signature}, {}, content, json=json.loads(content)
        )

    good = compute_signature(url, [], AUTH_TOKEN)
    twilio.verify(request(body, good), AUTH_TOKEN)  # accepted
    with pytest.raises(WebhookRejected, match="bodySHA256"):
        twilio.verify(request(body.replace(b"delivered", b"failed"), good), AUTH_TOKEN)
    with pytest.raises(WebhookRejected, match="does not match"):
        twilio.verify(request(body, compute_signature(url, [], "another-token")), AUTH_TOKEN)
