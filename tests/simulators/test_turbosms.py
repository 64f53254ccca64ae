"""The TurboSMS simulator over real HTTP: envelopes, codes, auth, faults, the control API, the CLI."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from plugins.simulators.turbosms import BLOCKED_TOKEN, STOPLISTED_PHONE, TEST_TOKEN, TurboSMSSimulator

SEND = "/message/send.json"
STATUS = "/message/status.json"
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}


@pytest.fixture(scope="module")
def server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


def send(client, body, headers=AUTH, **kw):
    response = client.post(SEND, json=body, headers=headers, **kw)
    assert response.status_code == 200
    return response.json()


def test_send_sms_accepted_with_one_result_per_recipient(client, sim):
    body = send(client, {"recipients": ["380678998668", "380503288668"], "sms": {"sender": "MyShop", "text": "Hi"}})
    assert body["response_code"] == 800
    assert body["response_status"] == "SUCCESS_MESSAGE_ACCEPTED"
    assert [r["phone"] for r in body["response_result"]] == ["380678998668", "380503288668"]
    for result in body["response_result"]:
        assert result["response_code"] == 0 and result["response_status"] == "OK"
        assert isinstance(result["message_id"], str)
        uuid.UUID(result["message_id"])
    assert sim.last_request.json()["sms"]["text"] == "Hi"


def test_partial_acceptance_with_per_recipient_codes(client):
    body = send(
        client,
        {
            "recipients": ["380678998668", STOPLISTED_PHONE, "4812345678901", "12-ab", "380678998668"],
            "sms": {"sender": "MyShop", "text": "Hi"},
        },
    )
    assert body["response_code"] == 802
    assert body["response_status"] == "SUCCESS_MESSAGE_PARTIAL_ACCEPTED"
    codes = [(r["response_code"], r["response_status"]) for r in body["response_result"]]
    assert codes == [
        (0, "OK"),
        (404, "NOT_ALLOWED_NUMBER_STOPLIST"),
        (406, "NOT_ALLOWED_RECIPIENT_COUNTRY"),
        (305, "INVALID_PHONE"),
        (407, "NOT_ALLOWED_RECIPIENT_DUPLICATE"),
    ]
    assert [r["message_id"] is None for r in body["response_result"]] == [False, True, True, True, True]


def test_token_as_query_parameter_and_recipients_inside_sms(client):
    body = send(
        client,
        {"sms": {"sender": "MyShop", "text": "Hi", "recipients": ["380678998668"]}},
        headers={},
        params={"token": TEST_TOKEN},
    )
    assert body["response_code"] == 800
    assert body["response_result"][0]["response_code"] == 0


@pytest.mark.parametrize(
    ("headers", "params", "code", "status"),
    [
        ({}, {}, 103, "REQUIRED_TOKEN"),
        ({"Authorization": "Bearer nope"}, {}, 301, "INVALID_TOKEN"),
        ({}, {"token": "nope"}, 301, "INVALID_TOKEN"),
        ({"Authorization": f"Token {TEST_TOKEN}"}, {}, 105, "REQUIRED_AUTH"),
        ({"Authorization": f"Bearer {BLOCKED_TOKEN}"}, {}, 106, "REQUIRED_ACTIVE_USER"),
    ],
)
def test_auth_failures(client, headers, params, code, status):
    body = send(
        client, {"recipients": ["380678998668"], "sms": {"sender": "MyShop", "text": "x"}}, headers, params=params
    )
    assert body == {"response_code": code, "response_status": status, "response_result": None}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"sms": {"sender": "MyShop", "text": "x"}}, 202),
        ({"recipients": ["380678998668"]}, 201),
        ({"recipients": ["380678998668"], "sms": {"text": "x"}}, 200),
        ({"recipients": ["380678998668"], "sms": {"sender": "MyShop", "text": ""}}, 201),
        ({"recipients": ["380678998668"], "sms": {"sender": "Unknown", "text": "x"}}, 302),
        ({"recipients": ["380678998668"], "viber": {"sender": "MyShop", "text": "x", "ttl": "3600"}}, 306),
        ({"recipients": ["380678998668"], "viber": {"sender": "MyShop", "text": "x", "ttl": 5}}, 409),
        ({"recipients": ["380678998668"], "viber": {"sender": "MyShop", "text": "x", "caption": "Go"}}, 206),
        ({"recipients": ["380678998668"], "sms": {"sender": "MyShop", "text": "x"}, "start_time": "soon"}, 303),
    ],
)
def test_validation_errors_in_the_envelope(client, payload, code):
    body = send(client, payload)
    assert body["response_code"] == code
    assert body["response_result"] is None
    assert isinstance(body["response_status"], str) and body["response_status"].isupper()


def test_unparsable_body_and_recipient_limit_and_balance(client, sim):
    response = client.post(SEND, content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert response.json()["response_code"] == 502
    sim.max_recipients = 2
    body = send(
        client, {"recipients": ["380670000001", "380670000002", "380670000003"], "sms": {"sender": "Msg", "text": "x"}}
    )
    assert (body["response_code"], body["response_status"]) == (405, "NOT_ALLOWED_RECIPIENTS_LIMIT")
    sim.set_balance(0)
    body = send(client, {"recipients": ["380670000001"], "sms": {"sender": "Msg", "text": "x"}})
    assert (body["response_code"], body["response_status"]) == (203, "REQUIRED_BALANCE")


def test_hybrid_viber_with_sms_fallback_and_status_polling(client, sim):
    body = send(
        client,
        {
            "recipients": ["380678998668"],
            "viber": {
                "sender": "MyShop",
                "text": "Order shipped",
                "ttl": 3600,
                "caption": "Track",
                "action": "https://x.example/t",
            },
            "sms": {"sender": "MyShop", "text": "Order shipped"},
        },
    )
    message_id = body["response_result"][0]["message_id"]
    status = client.post(STATUS, json={"messages": [message_id]}, headers=AUTH).json()
    assert (status["response_code"], status["response_status"]) == (0, "OK")
    item = status["response_result"][0]
    assert set(item) == {
        "message_id",
        "response_code",
        "recipient",
        "sent",
        "updated",
        "status",
        "type",
        "rejected_status",
        "response_status",
    }
    assert (item["type"], item["status"], item["recipient"]) == ("viber", "Queued", "380678998668")
    time.strptime(item["sent"], "%Y-%m-%d %H:%M:%S")

    sim.set_status(message_id, "Delivered", channel="sms")  # Viber failed over to SMS
    item = client.post(STATUS, json={"messages": [message_id]}, headers=AUTH).json()["response_result"][0]
    assert (item["status"], item["type"]) == ("Delivered", "sms")


def test_status_advanced_over_the_control_api_and_unknown_ids(client, sim):
    body = send(client, {"recipients": ["380678998668"], "viber": {"sender": "MyShop", "text": "x"}})
    message_id = body["response_result"][0]["message_id"]
    control = client.post(f"/__sim__/messages/{message_id}/status", json={"status": "Read"})
    assert control.status_code == 200 and control.json()["status"] == "Read"
    unknown = str(uuid.uuid4())
    items = client.post(STATUS, json={"messages": [message_id, unknown]}, headers=AUTH).json()["response_result"]
    assert items[0]["status"] == "Read"
    assert items[1] == {"message_id": unknown, "response_code": 414, "response_status": "NOT_ALLOWED_MESSAGE_ID"}
    assert client.post(STATUS, json={"messages": [message_id]}).json()["response_code"] == 103
    assert client.post("/__sim__/messages/nope/status", json={"status": "Read"}).status_code == 404


def test_rate_limit_answers_429_with_retry_after_then_recovers(client, sim):
    sim.rate_limit(2, retry_after=3, path=SEND)
    payload = {"recipients": ["380678998668"], "sms": {"sender": "MyShop", "text": "x"}}
    for _ in range(2):
        response = client.post(SEND, json=payload, headers=AUTH)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert response.json()["response_code"] == 999
    assert client.post(STATUS, json={"messages": ["x"]}, headers=AUTH).status_code == 200  # other path untouched
    assert client.post(SEND, json=payload, headers=AUTH).json()["response_code"] == 800
    assert [r.fault for r in sim.requests_to(SEND)] == ["rate_limit", "rate_limit", None]


def test_server_errors_and_faults_over_the_control_api(client, sim):
    assert client.post("/__sim__/faults", json={"kind": "error", "status": 503, "count": 1}).status_code == 200
    response = client.post(STATUS, json={"messages": ["x"]}, headers=AUTH)
    assert response.status_code == 503
    sim.fail(status=502, body="<html>Bad Gateway</html>")
    response = client.post(STATUS, json={"messages": ["x"]}, headers=AUTH)
    assert response.status_code == 502 and "Bad Gateway" in response.text
    assert client.post("/__sim__/faults", json={"kind": "nonsense"}).status_code == 400
    recorded = client.get("/__sim__/requests").json()
    assert [r["status"] for r in recorded] == [503, 502]
    assert client.post(STATUS, json={"messages": ["x"]}, headers=AUTH).status_code == 200


def test_delay_beyond_the_client_timeout_still_processes_the_request(client, sim):
    sim.delay(2.0, path=SEND)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            SEND,
            json={"recipients": ["380678998668"], "sms": {"sender": "MyShop", "text": "x"}},
            headers=AUTH,
            timeout=0.5,
        )
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 5
    while not sim.message_ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    # Like the real gateway, the message went out although the client gave up: retries must
    # not assume a timeout means "not sent".
    assert len(sim.message_ids()) == 1


def test_balance_endpoint(client):
    body = client.post("/user/balance.json", headers=AUTH).json()
    assert body["response_code"] == 0 and isinstance(body["response_result"]["balance"], float)


def test_command_line_prints_url_and_credentials():
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "plugins.simulators", "turbosms"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the simulator printed nothing within 15 s"
        line = process.stdout.readline()
        info = json.loads(line)
        assert info["name"] == "turbosms"
        assert info["credentials"]["token"] == TEST_TOKEN
        assert httpx.get(info["url"] + "/__sim__/health", timeout=5).json()["name"] == "turbosms"
    finally:
        process.terminate()
        process.wait(timeout=10)
