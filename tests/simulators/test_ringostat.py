"""The Ringostat simulator over real HTTP: the Auth-key, the call log's period, cap and CSV,
and JSON-RPC failures as HTTP 200 with an error member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from plugins.simulators.ringostat import AUTH_KEY, PROJECT_ID, TRACKING_NUMBER, RingostatSimulator

AUTH = {"Auth-key": AUTH_KEY}


@pytest.fixture(scope="module")
def server():
    with RingostatSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


def test_call_log_needs_the_key_and_cuts_at_its_cap(sim):
    now = datetime.now(UTC)
    for n in range(3):
        sim.add_call(caller=f"38067000000{n}", calldate=now - timedelta(hours=n + 1))
    assert httpx.get(f"{sim.url}/calls/list").status_code == 401
    rows = httpx.get(f"{sim.url}/calls/list", headers=AUTH, params={"fields": "uniqueid,billsec,utm_source"}).json()
    assert len(rows) == 3 and set(rows[0]) == {"uniqueid", "billsec", "utm_source"}
    assert rows[0]["billsec"] == "42"  # strings, as Ringostat sends them
    sim.max_calls = 2
    rows = httpx.get(f"{sim.url}/calls/list", headers=AUTH, params={"fields": "caller"}).json()
    assert [r["caller"] for r in rows] == ["380670000002", "380670000001"]  # the earliest, cut at the cap
    csv_text = httpx.get(f"{sim.url}/calls/list", headers=AUTH, params={"export_type": "csv", "fields": "caller,dst"})
    assert csv_text.text.splitlines()[0] == "caller;dst"


def test_callbacks_fail_with_http_200_and_the_reason(sim):
    rpc = {"jsonrpc": "2.0", "id": 7, "method": "Api\\V2\\Callback.external"}
    params = {
        "caller": "380671234567",
        "callee": "olena",
        "projectId": PROJECT_ID,
        "direction": "out",
        "manager_dst": 0,
    }
    answer = httpx.post(f"{sim.url}/a/v2", json={**rpc, "params": params}, headers={"Auth-key": "nope"})
    assert answer.status_code == 200 and answer.json()["error"] == {"code": -32001, "message": "Unauthorized"}
    answer = httpx.post(f"{sim.url}/a/v2", json={**rpc, "params": {**params, "callee": "nobody"}}, headers=AUTH)
    assert answer.json()["error"]["code"] == -32002
    answer = httpx.post(f"{sim.url}/a/v2", json={**rpc, "method": "Api\\V2\\Nope", "params": params}, headers=AUTH)
    assert answer.json()["error"]["code"] == -32601
    answer = httpx.post(f"{sim.url}/a/v2", json={**rpc, "params": params}, headers=AUTH)
    assert answer.json()["id"] == 7 and answer.json()["result"]["uniqueid"] in sim.calls
    simple = httpx.post(
        f"{sim.url}/callback/outward_call", data={"extension": "380000000000", "destination": "1"}, headers=AUTH
    )
    assert simple.json()["status"] == "error"
    simple = httpx.post(
        f"{sim.url}/callback/outward_call",
        data={"extension": TRACKING_NUMBER, "destination": "380671112233"},
        headers=AUTH,
    )
    assert simple.json()["status"] == "ok"
