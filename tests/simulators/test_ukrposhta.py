"""The Ukrposhta status-tracking simulator over real HTTP: bearer tokens, the single and batch
status calls, the history, the route, and the documented event fields."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from plugins.simulators.ukrposhta import BASE, ECOM_TOKEN, KNOWN_BARCODE, TOKEN, UkrposhtaSimulator

EVENT_FIELDS = {
    "barcode",
    "step",
    "date",
    "index",
    "name",
    "event",
    "eventName",
    "country",
    "eventReason",
    "eventReason_id",
    "mailType",
    "indexOrder",
}


@pytest.fixture(scope="module")
def server():
    with UkrposhtaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url + BASE, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_tokens(sim, client):
    url = "/statuses/last"
    params = {"barcode": KNOWN_BARCODE}
    assert client.get(url, params=params).status_code == 200
    assert client.get(url, params=params, headers={"Authorization": ""}).status_code == 401
    assert client.get(url, params=params, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(url, params=params, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    forbidden = client.post(url, json=[KNOWN_BARCODE], headers={"Authorization": f"Bearer {ECOM_TOKEN}"})
    assert forbidden.status_code == 403


def test_history_last_and_route(sim, client):
    barcode = sim.add_parcel()
    sim.add_event(barcode, "20700")
    sim.add_event(barcode, "21700")
    history = client.get("/statuses", params={"barcode": barcode, "lang": "UA"}).json()
    assert [e["event"] for e in history] == ["10100", "20700", "21700"]
    assert [e["step"] for e in history] == [1, 2, 3]
    assert all(set(e) == EVENT_FIELDS for e in history)
    assert history[-1]["eventName"] == "Надійшло у відділення зв'язку"
    assert datetime.fromisoformat(history[0]["date"]) < datetime.fromisoformat(history[-1]["date"])
    english = client.get("/statuses", params={"barcode": barcode, "lang": "EN"}).json()
    assert english[-1]["eventName"] == "Arrived at the post office"
    assert client.get("/statuses/last", params={"barcode": barcode}).json() == history[-1]
    assert client.get(f"/barcodes/{barcode}/route").json() == {"from": "01001", "to": "79000"}


def test_unknown_barcode_is_404(client):
    assert client.get("/statuses/last", params={"barcode": "0500000000000"}).status_code == 404
    assert client.get("/statuses", params={"barcode": "0500000000000"}).status_code == 404
    assert client.get("/barcodes/0500000000000/route").status_code == 404


def test_batch(sim, client):
    barcode = sim.add_parcel()
    answer = client.post("/statuses/last", json=[barcode, "0500000000000", KNOWN_BARCODE])
    assert answer.status_code == 200
    assert [(e["barcode"], e["event"]) for e in answer.json()] == [(barcode, "10100"), (KNOWN_BARCODE, "21700")]
    assert client.post("/statuses/last", json=[]).json() == []
    assert client.post("/statuses/last", json={"barcode": barcode}).status_code == 400
    assert client.post("/statuses/last", json=[1, 2]).status_code == 400


def test_control_api(sim):
    with httpx.Client(base_url=sim.url) as control:
        barcode = control.post("/__sim__/parcels", json={}).json()["barcode"]
        moved = control.post(f"/__sim__/parcels/{barcode}/events", json={"event": "41000"}).json()
        assert (moved["barcode"], moved["event"], moved["step"]) == (barcode, "41000", 2)
        assert control.post(f"/__sim__/parcels/{barcode}/events", json={"event": "1"}).status_code == 400
        assert control.post("/__sim__/parcels/nope/events", json={"event": "41000"}).status_code == 404
    assert sim.requests == []  # control calls are not recorded as provider traffic
