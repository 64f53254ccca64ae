"""The Twilio simulator over real HTTP, checked against Twilio's OpenAPI description.

Requests and responses are validated with openapi-core against the Messages/Calls part of
twilio-oai (``TWILIO_OPENAPI_SPEC``, by default /work/shared/providers/specs/...); on top of
that every resource must carry exactly the properties the spec lists, so the simulator cannot
drift from the real API. Status callbacks are verified with an independent implementation of
Twilio's documented X-Twilio-Signature algorithm.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
import pytest

from plugins.simulators import WebhookReceiver
from plugins.simulators.twilio import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    OTHER_ACCOUNT_SID,
    OTHER_AUTH_TOKEN,
    TwilioSimulator,
)

# Twilio's own OpenAPI description, vendored in tests/specs (see its README).
SPEC_PATH = Path(
    os.environ.get(
        "TWILIO_OPENAPI_SPEC",
        str(Path(__file__).resolve().parent.parent / "specs" / "twilio_api_v2010_messages_calls.json"),
    )
)
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
ERROR_KEYS = {"code", "message", "more_info", "status"}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def server():
    with TwilioSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def receiver_server():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5) as client:
        yield client


# ------------------------------------------------------------------ the OpenAPI contract


@pytest.fixture(scope="module")
def spec_dict():
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def openapi(spec_dict):
    import openapi_core
    from openapi_core.datatypes import RequestParameters
    from werkzeug import datastructures

    headers_cls, multidict = datastructures.Headers, datastructures.ImmutableMultiDict

    def rfc2822(value: str) -> bool:
        return bool(RFC2822.match(value)) and email.utils.parsedate_to_datetime(value) is not None

    config = openapi_core.Config(extra_format_validators={"date-time-rfc-2822": rfc2822})
    spec = openapi_core.OpenAPI.from_dict(spec_dict, config=config)

    class OpenAPIRequest:
        host_url = "https://api.twilio.com"  # the spec's server; the simulator serves the same paths

        def __init__(self, request: httpx.Request):
            self.request = request
            self.parameters = RequestParameters(
                query=multidict(list(request.url.params.multi_items())),
                header=headers_cls(list(request.headers.items())),
                cookie=multidict(),
            )

        path = property(lambda self: self.request.url.path)
        method = property(lambda self: self.request.method.lower())
        body = property(lambda self: self.request.content or None)
        content_type = property(lambda self: self.request.headers.get("content-type", "").lower())

    class OpenAPIResponse:
        def __init__(self, response: httpx.Response):
            self.response = response

        status_code = property(lambda self: self.response.status_code)
        content_type = property(lambda self: self.response.headers.get("content-type", "").lower())
        headers = property(lambda self: headers_cls(list(self.response.headers.items())))
        data = property(lambda self: self.response.content)

    def validate(response: httpx.Response) -> None:
        request = OpenAPIRequest(response.request)
        spec.validate_request(request)
        spec.validate_response(request, OpenAPIResponse(response))

    return validate


def resource_properties(spec_dict, name: str) -> set[str]:
    return set(spec_dict["components"]["schemas"][name]["properties"])


# ------------------------------------------------------------------ independent signature check


def expected_signature(url: str, pairs: list[tuple[str, str]], auth_token: str) -> str:
    """Twilio's documented algorithm, written out: URL, then each POST parameter's name and
    value concatenated, parameters sorted by name; HMAC-SHA1 keyed by the auth token; base64."""
    data = url
    for name in sorted({n for n, _ in pairs}):
        for value in sorted(v for n, v in pairs if n == name):
            data += name + value
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def signature_is_valid(url: str, pairs: list[tuple[str, str]], auth_token: str, signature: str | None) -> bool:
    """What a receiver should do: also accept the URL with the default port added or removed."""
    if not signature:
        return False
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    candidates = {url, urlunsplit(parts._replace(netloc=host)), urlunsplit(parts._replace(netloc=f"{host}:{default}"))}
    if parts.port not in (None, default):
        candidates = {url}
    return any(hmac.compare_digest(expected_signature(c, pairs, auth_token), signature) for c in candidates)


def received_url(receiver: WebhookReceiver, record) -> str:
    return receiver.url + record.path + (f"?{record.query_string}" if record.query_string else "")


# ------------------------------------------------------------------ messages


def create(client, **fields):
    data = {"To": "+380671234567", "From": FROM_NUMBER, "Body": "Your order #1001 has shipped", **fields}
    return client.post(MESSAGES, data=data)


def test_create_message_201_matches_the_spec(client, openapi, spec_dict):
    response = create(client)
    assert response.status_code == 201
    openapi(response)
    message = response.json()
    assert set(message) == resource_properties(spec_dict, "api.v2010.account.message")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    assert message["account_sid"] == ACCOUNT_SID
    assert (message["direction"], message["status"], message["api_version"]) == ("outbound-api", "queued", "2010-04-01")
    assert message["num_segments"] == "1" and message["num_media"] == "0"  # strings, not numbers
    assert message["price"] is None and message["error_code"] is None and message["date_sent"] is None
    assert RFC2822.match(message["date_created"]) and message["date_updated"] == message["date_created"]
    assert message["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message['sid']}.json"
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("body", "segments"), [("a" * 160, "1"), ("a" * 161, "2"), ("ї" * 70, "1"), ("ї" * 71, "2")])
def test_num_segments_is_a_string_counted_per_encoding(client, body, segments):
    assert create(client, Body=body).json()["num_segments"] == segments


def test_messaging_service_without_from_is_accepted(client, openapi):
    response = client.post(
        MESSAGES, data={"To": "+380671234567", "MessagingServiceSid": MESSAGING_SERVICE_SID, "Body": "x"}
    )
    assert response.status_code == 201
    openapi(response)
    body = response.json()
    assert (body["status"], body["from"], body["messaging_service_sid"]) == ("accepted", None, MESSAGING_SERVICE_SID)


def test_fetch_list_and_delete(client, openapi, sim):
    sid = create(client).json()["sid"]
    fetched = client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json")
    assert fetched.status_code == 200
    openapi(fetched)
    assert fetched.json()["sid"] == sid
    listed = client.get(MESSAGES, params={"PageSize": 20})
    openapi(listed)
    assert [m["sid"] for m in listed.json()["messages"]] == [sid]
    assert listed.json()["next_page_uri"] is None
    deleted = client.delete(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json")
    assert deleted.status_code == 204 and deleted.content == b""


def test_unknown_sid_is_a_404_in_twilios_envelope(client):
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{'0' * 32}.json"
    response = client.get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == {
        "code": 20404,
        "message": f"The requested resource {path} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


def test_another_accounts_message_is_not_found(client, sim):
    sid = create(client).json()["sid"]
    other = httpx.get(
        f"{sim.url}/2010-04-01/Accounts/{OTHER_ACCOUNT_SID}/Messages/{sid}.json",
        auth=(OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN),
    )
    assert other.status_code == 404 and other.json()["code"] == 20404


@pytest.mark.parametrize(
    "auth",
    [None, (ACCOUNT_SID, "wrong-token"), ("AC" + "1" * 32, AUTH_TOKEN), (OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN)],
    ids=["missing", "wrong-token", "unknown-account", "other-account-path"],
)
def test_bad_credentials_401_20003(sim, auth):
    response = httpx.post(sim.url + MESSAGES, data={"To": "+380671234567", "From": FROM_NUMBER, "Body": "x"}, auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_api_key_credentials(sim):
    response = httpx.post(
        sim.url + MESSAGES,
        data={"To": "+380671234567", "From": FROM_NUMBER, "Body": "x"},
        auth=(API_KEY_SID, API_KEY_SECRET),
    )
    assert response.status_code == 201 and response.json()["account_sid"] == ACCOUNT_SID


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"To": "12345"}, 21211),
        ({"To": "not a number"}, 21211),
        ({"To": "+15005550001"}, 21211),
        ({"To": "+15005550002"}, 21612),
        ({"To": "+15005550003"}, 21408),
        ({"To": "+15005550004"}, 21610),
        ({"To": "+15005550009"}, 21614),
        ({"From": "+15005550001"}, 21212),
        ({"From": "+15005550007"}, 21606),
        ({"From": "+15005550008"}, 21611),
        ({"To": ""}, 21604),
        ({"From": ""}, 21603),
        ({"Body": ""}, 21602),
        ({"Body": "x" * 1601}, 21617),
        ({"From": "", "MessagingServiceSid": "MG" + "0" * 32}, 21701),
    ],
)
def test_validation_errors_400(client, fields, code):
    response = create(client, **fields)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert (body["code"], body["status"]) == (code, 400)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    if code == 21211:
        assert body["message"] == f"The 'To' number {fields['To']} is not a valid phone number."


def test_alphanumeric_sender_and_whatsapp_address(client):
    assert create(client, From="MyShop").status_code == 201
    assert create(client, To="whatsapp:+380671234567", From="whatsapp:+15005550006").status_code == 201


# ------------------------------------------------------------------ status callbacks


def test_status_callback_is_signed_as_documented(client, sim, receiver):
    callback = receiver.url + "/hooks/twilio/status?org=acme&n=1"
    sid = create(client, StatusCallback=callback).json()["sid"]
    assert receiver.requests == []  # no callback for the initial status

    attempt = sim.send_message_status(sid, "sent")
    assert attempt.ok
    attempt = sim.send_message_status(sid, "delivered")
    assert attempt.ok

    first, second = receiver.requests
    assert first.method == "POST"
    assert first.headers["content-type"].startswith("application/x-www-form-urlencoded")
    pairs = parse_qsl(second.text, keep_blank_values=True)
    fields = dict(pairs)
    assert fields == {
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "MessageStatus": "delivered",
        "To": "+380671234567",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": FROM_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    assert received_url(receiver, second) == callback
    for record in (first, second):
        signature = record.headers["x-twilio-signature"]
        url = received_url(receiver, record)
        assert signature_is_valid(url, parse_qsl(record.text, keep_blank_values=True), AUTH_TOKEN, signature)
        assert not signature_is_valid(url, parse_qsl(record.text, keep_blank_values=True), "another-token", signature)
    tampered = [(k, "failed" if k == "MessageStatus" else v) for k, v in pairs]
    assert not signature_is_valid(callback, tampered, AUTH_TOKEN, second.headers["x-twilio-signature"])

    fetched = client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json").json()
    assert fetched["status"] == "delivered" and RFC2822.match(fetched["date_sent"])
    assert fetched["price"].startswith("-") and fetched["price_unit"] == "USD"


def test_failed_delivery_carries_error_code(client, sim, receiver):
    sid = create(client, StatusCallback=receiver.url + "/cb").json()["sid"]
    sim.send_message_status(sid, "undelivered", error_code=30003)
    fields = receiver.last_request.form()
    assert (fields["MessageStatus"], fields["ErrorCode"]) == ("undelivered", "30003")
    fetched = client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json").json()
    assert (fetched["error_code"], fetched["error_message"]) == (30003, "Unreachable destination handset")


@pytest.mark.parametrize("mode", ["invalid", "none"])
def test_wrong_signature_switch(client, sim, receiver, mode):
    sid = create(client, StatusCallback=receiver.url + "/cb").json()["sid"]
    sim.signature_mode = mode
    sim.send_message_status(sid, "sent")
    record = receiver.last_request
    signature = record.headers.get("x-twilio-signature")
    if mode == "none":
        assert signature is None
    else:
        assert len(base64.b64decode(signature)) == 20  # looks like a real HMAC-SHA1...
    pairs = parse_qsl(record.text, keep_blank_values=True)
    assert not signature_is_valid(received_url(receiver, record), pairs, AUTH_TOKEN, signature)  # ...but is not
    sim.send_message_status(sid, "delivered", sign="valid")  # per-call override
    record = receiver.last_request
    assert signature_is_valid(
        received_url(receiver, record),
        parse_qsl(record.text, keep_blank_values=True),
        AUTH_TOKEN,
        record.headers["x-twilio-signature"],
    )


def test_callback_triggered_over_the_control_api(client, sim, receiver):
    receiver.respond(500, "oops")
    sid = create(client, StatusCallback=receiver.url + "/cb").json()["sid"]
    result = client.post(f"/__sim__/messages/{sid}/status", json={"status": "failed", "sign": "invalid"}).json()
    assert result["status_code"] == 500 and result["webhook"]["meta"]["signature"] == "invalid"
    assert receiver.last_request.form()["ErrorCode"] == "30008"
    assert client.post(f"/__sim__/messages/SM{'0' * 32}/status", json={"status": "sent"}).status_code == 404
    no_callback = create(client).json()["sid"]
    assert client.post(f"/__sim__/messages/{no_callback}/status", json={"status": "sent"}).json()["delivered"] is False


async def test_async_delivery_from_an_event_loop(client, sim, receiver):
    sid = create(client, StatusCallback=receiver.url + "/cb").json()["sid"]
    attempt = await sim.asend_message_status(sid, "sent")
    assert attempt.ok and receiver.last_request.form()["MessageStatus"] == "sent"


def test_unreachable_callback_is_recorded_not_raised(client, sim):
    sid = create(client, StatusCallback="http://127.0.0.1:9/cb").json()["sid"]
    attempt = sim.send_message_status(sid, "sent", timeout=1)
    assert attempt.status_code is None and attempt.error
    assert sim.deliveries[-1] is attempt


# ------------------------------------------------------------------ calls


def test_call_create_fetch_and_progress_callbacks(client, sim, receiver, openapi, spec_dict):
    response = client.post(
        CALLS,
        data={
            "To": "+380671234567",
            "From": FROM_NUMBER,
            "Url": "https://example.com/twiml",
            "StatusCallback": receiver.url + "/hooks/call",
            "StatusCallbackEvent": ["ringing", "answered"],  # sent as a repeated parameter
        },
    )
    assert response.status_code == 201
    openapi(response)
    call = response.json()
    assert set(call) == resource_properties(spec_dict, "api.v2010.account.call")
    assert re.fullmatch(r"CA[0-9a-f]{32}", call["sid"]) and call["status"] == "queued"

    assert sim.send_call_status(call["sid"], "ringing").ok
    assert sim.send_call_status(call["sid"], "in-progress").ok
    assert sim.send_call_status(call["sid"], "completed", duration=42) is None  # "completed" not subscribed
    statuses = [r.form()["CallStatus"] for r in receiver.requests]
    assert statuses == ["ringing", "in-progress"]
    last = receiver.last_request
    fields = last.form()
    assert {"CallSid", "CallStatus", "From", "To", "Direction", "AccountSid", "ApiVersion"} <= set(fields)
    assert fields["ToState"] == ""  # empty parameters are signed too: a receiver must keep them
    assert signature_is_valid(
        received_url(receiver, last),
        parse_qsl(last.text, keep_blank_values=True),
        AUTH_TOKEN,
        last.headers["x-twilio-signature"],
    )

    fetched = client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call['sid']}.json")
    openapi(fetched)
    assert (fetched.json()["status"], fetched.json()["duration"]) == ("completed", "42")


def test_call_default_completed_callback_with_get_method(client, sim, receiver):
    call = client.post(
        CALLS,
        data={
            "To": "+380671234567",
            "From": FROM_NUMBER,
            "Twiml": "<Response><Say>Hi</Say></Response>",
            "StatusCallback": receiver.url + "/hooks/call?org=acme",
            "StatusCallbackMethod": "GET",
        },
    ).json()
    sim.set_call_status(call["sid"], "in-progress")
    attempt = sim.send_call_status(call["sid"], "completed", duration=61)
    assert attempt.ok
    record = receiver.last_request
    assert record.method == "GET" and record.body == b""
    assert (record.query["CallStatus"], record.query["CallDuration"], record.query["org"]) == (
        "completed",
        "61",
        "acme",
    )
    # For GET callbacks the whole URL (with the parameters in the query) is signed, no body.
    assert signature_is_valid(received_url(receiver, record), [], AUTH_TOKEN, record.headers["x-twilio-signature"])


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"To": ""}, 21201), ({"From": ""}, 21213), ({"Url": ""}, 21205), ({"To": "123"}, 21211)],
)
def test_call_validation(client, fields, code):
    data = {"To": "+380671234567", "From": FROM_NUMBER, "Url": "https://example.com/twiml", **fields}
    response = client.post(CALLS, data=data)
    assert response.status_code == 400 and response.json()["code"] == code


def test_unknown_call_404(client):
    response = client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA{'f' * 32}.json")
    assert response.status_code == 404 and response.json()["code"] == 20404


# ------------------------------------------------------------------ faults


def test_429_with_retry_after_in_twilios_envelope(client, sim):
    sim.rate_limit(retry_after=2)
    response = create(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    assert create(client).status_code == 201


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503)])
def test_server_errors(client, sim, status, code):
    sim.fail(status=status)
    response = create(client)
    assert response.status_code == status and response.json()["code"] == code
    assert sim.messages == {}  # a 5xx did not create anything


def test_timeout_then_the_message_exists_anyway(client, sim):
    sim.delay(2.0, path=MESSAGES, method="POST")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(MESSAGES, data={"To": "+380671234567", "From": FROM_NUMBER, "Body": "slow"}, timeout=0.5)
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 5
    while not sim.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["body"] for m in sim.messages.values()] == ["slow"]


def test_unknown_route_is_a_twilio_404(client):
    response = client.get("/2010-04-01/Accounts/nope/Things.json")
    assert response.status_code == 404 and response.json()["code"] == 20404
