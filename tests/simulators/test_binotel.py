"""The Binotel simulator over real HTTP: the REST shape and, mostly, the webhook sender."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

import httpx
import pytest

from plugins.simulators import WebhookReceiver
from plugins.simulators.binotel import API_KEY, API_SECRET, COMPANY_ID, BinotelSimulator, is_accepted

CREDS = {"key": API_KEY, "secret": API_SECRET}


@pytest.fixture(scope="module")
def server():
    with BinotelSimulator() as sim:
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
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


def api(client, method: str, body: dict | None = None, creds: dict | None = None) -> dict:
    response = client.post(f"/api/4.0/{method}.json", json={**(CREDS if creds is None else creds), **(body or {})})
    assert response.status_code == 200
    return response.json()


# ------------------------------------------------------------------ REST


@pytest.mark.parametrize(
    "creds", [{}, {"key": API_KEY}, {"key": API_KEY, "secret": "wrong"}, {"key": "nope", "secret": API_SECRET}]
)
def test_wrong_key_or_secret(client, creds):
    body = api(client, "stats/call-details", {"generalCallID": ["1"]}, creds=creds)
    assert body == {"status": "error", "code": 121, "message": "Your key or secret is wrong"}


def test_click_to_call_both_method_shapes(client, sim):
    first = api(client, "calls/ext-to-phone", {"ext_number": "901", "phone_number": "0443334023"})
    assert first["status"] == "success" and isinstance(first["generalCallID"], str)
    second = api(
        client, "calls/internal-number-to-external-number", {"internalNumber": "902", "externalNumber": "380671234567"}
    )
    assert second["status"] == "success" and second["generalCallID"] != first["generalCallID"]
    details = api(client, "stats/call-details", {"generalCallID": [first["generalCallID"]]})["callDetails"]
    call = details[first["generalCallID"]]
    assert (call["callType"], call["internalNumber"], call["externalNumber"]) == ("1", "901", "0443334023")
    sim.numbers_as_strings = False  # the other variant seen in the wild
    third = api(client, "calls/ext-to-phone", {"ext_number": "901", "phone_number": "0443334023"})
    assert isinstance(third["generalCallID"], int)


@pytest.mark.parametrize(
    ("method", "body", "code"),
    [
        ("calls/ext-to-phone", {"ext_number": "901"}, 103),
        ("calls/ext-to-phone", {"ext_number": "901", "phone_number": "12"}, 104),
        ("calls/ext-to-phone", {"ext_number": "999", "phone_number": "0443334023"}, 150),
        ("calls/teleport", {}, 102),
        ("stats/call-details", {}, 103),
        ("stats/list-of-calls-for-period", {"startTime": 0, "stopTime": 200000}, 104),
    ],
)
def test_rest_errors(client, method, body, code):
    answer = api(client, method, body)
    assert (answer["status"], answer["code"]) == ("error", code)
    assert isinstance(answer["message"], str) and answer["message"]


def test_call_details_types_and_recording_link(client, sim):
    call = sim.add_call(disposition="ANSWER", waitsec=7, billsec=93, external_number="0671234567")
    missed = sim.add_call(disposition="NOANSWER")
    details = api(
        client, "stats/call-details", {"generalCallID": [call["generalCallID"], missed["generalCallID"], "1"]}
    )
    assert details["status"] == "success"
    assert set(details["callDetails"]) == {call["generalCallID"], missed["generalCallID"]}
    record = details["callDetails"][call["generalCallID"]]
    for key in ("generalCallID", "startTime", "callType", "waitsec", "billsec", "internalNumber", "externalNumber"):
        assert isinstance(record[key], str), key
    assert (record["waitsec"], record["billsec"], record["disposition"]) == ("7", "93", "ANSWER")
    assert record["employeeData"]["name"] and record["pbxNumberData"]["number"]
    sim.numbers_as_strings = False
    record = api(client, "stats/call-details", {"generalCallID": call["generalCallID"]})["callDetails"][
        call["generalCallID"]
    ]
    assert isinstance(record["startTime"], int) and record["billsec"] == 93

    link = api(client, "stats/call-record", {"generalCallID": call["generalCallID"]})
    assert link["status"] == "success" and link["url"].startswith(sim.url)
    audio = httpx.get(link["url"], timeout=5)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    sim.expire_record_links()  # links live ~15 minutes
    assert httpx.get(link["url"], timeout=5).status_code == 403
    assert api(client, "stats/call-record", {"generalCallID": missed["generalCallID"]})["code"] == 104


def test_polling_methods(client, sim):
    now = int(time.time())
    incoming = sim.add_call(call_type="incoming", start_time=now - 60)
    outgoing = sim.add_call(call_type="outgoing", start_time=now - 30)
    sim.add_call(call_type="incoming", start_time=now - 7200)
    since = api(client, "stats/all-incoming-calls-since", {"timestamp": now - 600})["callDetails"]
    assert list(since) == [incoming["generalCallID"]]
    since = api(client, "stats/all-outgoing-calls-since", {"timestamp": now - 600})["callDetails"]
    assert list(since) == [outgoing["generalCallID"]]
    period = api(client, "stats/list-of-calls-for-period", {"startTime": now - 3600, "stopTime": now})["callDetails"]
    assert set(period) == {incoming["generalCallID"], outgoing["generalCallID"]}


def test_form_encoded_rest_body_is_accepted(client):
    response = client.post(
        "/api/4.0/calls/ext-to-phone.json", data={**CREDS, "ext_number": "901", "phone_number": "0671234567"}
    )
    assert response.json()["status"] == "success"


# ------------------------------------------------------------------ webhooks


def test_incoming_answered_call_event_sequence(sim, receiver):
    url = receiver.url + "/hooks/binotel/secret-token"
    attempts = sim.send_call(url, external_number="0671234567", internal_number="901", waitsec=4, billsec=65)
    assert all(is_accepted(a) for a in attempts)
    requests = receiver.requests
    assert [r.form()["requestType"] for r in requests] == [
        "receivedTheCall",
        "answeredTheCall",
        "hangupTheCall",
        "apiCallCompleted",
    ]
    for record in requests:
        assert record.method == "POST" and record.path == "/hooks/binotel/secret-token"
        assert record.headers["content-type"] == "application/x-www-form-urlencoded"
        assert "x-twilio-signature" not in record.headers  # Binotel does not sign
    received = requests[0].form()
    assert {
        "generalCallID",
        "callType",
        "companyID",
        "didNumber",
        "srcNumber",
        "pbxNumber",
        "externalNumber",
        "internalNumber",
        "method",
    } <= set(received)
    assert (received["callType"], received["companyID"], received["externalNumber"]) == ("0", COMPANY_ID, "0671234567")
    general_call_id = received["generalCallID"]
    assert all(
        r.form().get("generalCallID", r.form().get("callDetails[generalCallID]")) == general_call_id for r in requests
    )

    completed = requests[-1].form()
    assert completed["callDetails[generalCallID]"] == general_call_id
    assert completed["callDetails[callType]"] == "0"
    assert completed["callDetails[disposition]"] == "ANSWER"
    assert (completed["callDetails[waitsec]"], completed["callDetails[billsec]"]) == ("4", "65")
    assert completed["callDetails[startTime]"].isdigit()
    # Both variants seen in the wild: a flat employeeName and the nested employeeData[...].
    assert completed["callDetails[employeeName]"] == completed["callDetails[employeeData][name]"] != ""
    assert completed["callDetails[historyData][0][disposition]"] == "ANSWER"
    assert all(isinstance(v, str) for v in completed.values())


def test_missed_and_outgoing_sequences(sim, receiver):
    sim.send_call(receiver.url + "/h", disposition="NOANSWER", billsec=30)
    events = [r.form()["requestType"] for r in receiver.requests]
    assert events == ["receivedTheCall", "hangupTheCall", "apiCallCompleted"]
    completed = receiver.last_request.form()
    assert (completed["callDetails[disposition]"], completed["callDetails[billsec]"]) == ("NOANSWER", "0")
    receiver.reset()
    sim.send_call(receiver.url + "/h", call_type="outgoing", disposition="BUSY")
    assert [r.form()["requestType"] for r in receiver.requests] == ["hangupTheCall", "apiCallCompleted"]
    assert receiver.last_request.form()["callDetails[callType]"] == "1"


def test_explicit_sequence_with_call_settings(sim, receiver):
    receiver.respond(200, {"customerData": {"name": "Іван Петренко", "linkToCrmUrl": "https://crm.example/c/1"}})
    hooks = sim.call_events(receiver.url + "/h", include_settings=True)
    assert hooks[0].event == "apiCallSettings"
    attempt = sim.deliver(hooks[0])
    assert attempt.response_json()["customerData"]["name"] == "Іван Петренко"
    only = sim.call_events(receiver.url + "/h", events=["transferredTheCall", "apiCallCompleted"])
    assert [h.event for h in only] == ["transferredTheCall", "apiCallCompleted"]
    with pytest.raises(ValueError):
        sim.call_events(receiver.url + "/h", events=["nonsense"])


def test_redelivery_sends_the_same_bytes(sim, receiver):
    attempts = sim.send_call(receiver.url + "/h")
    again = sim.redeliver(attempts[-1])
    first, second = receiver.requests[-2], receiver.requests[-1]
    assert first.body == second.body and first.path == second.path
    assert is_accepted(again)


def test_retries_until_the_receiver_says_success(sim, receiver):
    hook = sim.call_events(receiver.url + "/h", events=["apiCallCompleted"])[0]
    receiver.queue(500, (200, {"status": "error"}), (200, "OK"))
    attempts = sim.deliver_until_success(hook)
    assert [a.status_code for a in attempts] == [500, 200, 200, 200]
    assert [is_accepted(a) for a in attempts] == [False, False, False, True]
    assert len({r.body for r in receiver.requests}) == 1  # every retry carries the same event

    receiver.reset()
    receiver.respond(503, "down")
    attempts = sim.deliver_until_success(hook, max_attempts=7)
    assert len(attempts) == 7 and not any(is_accepted(a) for a in attempts)


def test_unreachable_receiver_is_an_attempt_not_an_exception(sim):
    attempts = sim.send_call("http://127.0.0.1:9/h", events=["apiCallCompleted"], timeout=1)
    assert attempts[0].status_code is None and attempts[0].error and not is_accepted(attempts[0])


def test_webhooks_over_the_control_api(client, receiver):
    receiver.queue(500)
    response = client.post("/__sim__/calls", json={"url": receiver.url + "/h", "disposition": "CANCEL"})
    attempts = response.json()
    assert [a["webhook"]["event"] for a in attempts] == ["receivedTheCall", "hangupTheCall", "apiCallCompleted"]
    assert attempts[0]["status_code"] == 500
    redelivered = client.post("/__sim__/redeliver", json={"index": 0, "max_attempts": 3}).json()
    assert [a["status_code"] for a in redelivered] == [200] and redelivered[0]["webhook"]["event"] == "receivedTheCall"
    assert receiver.requests[0].body == receiver.requests[-1].body
    assert client.post("/__sim__/calls", json={}).status_code == 400
    assert len(client.get("/__sim__/deliveries").json()) == 4


async def test_async_sender(sim, receiver):
    attempts = await sim.asend_call(receiver.url + "/h", events=["apiCallCompleted"])
    assert is_accepted(attempts[0])
    assert parse_qsl(receiver.last_request.text)[0] == ("requestType", "apiCallCompleted")


# ------------------------------------------------------------------ faults


def test_rate_limit_5xx_timeout(client, sim):
    sim.rate_limit(retry_after=6)
    response = client.post("/api/4.0/stats/call-details.json", json={**CREDS, "generalCallID": ["1"]})
    assert response.status_code == 429 and response.headers["Retry-After"] == "6"
    assert response.json() == {"status": "error", "code": 106, "message": "Requests are too frequent"}
    sim.fail(status=500)
    assert client.post("/api/4.0/stats/call-details.json", json=CREDS).status_code == 500
    sim.delay(2.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/4.0/stats/call-details.json", json={**CREDS, "generalCallID": ["1"]}, timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert api(client, "stats/call-details", {"generalCallID": ["1"]})["status"] == "success"
