"""The Rozetka Seller API simulator over real HTTP: login, token expiry, search, transitions, faults."""

from __future__ import annotations

import base64
import re
import time

import httpx
import pytest

from plugins.simulators.rozetka import PASSWORD, TRANSITIONS, USERNAME, RozetkaSimulator

B64 = base64.b64encode(PASSWORD.encode()).decode()
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def server():
    with RozetkaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


@pytest.fixture
def token(client):
    return client.post("/sites", json={"username": USERNAME, "password": B64}).json()["content"]["access_token"]


@pytest.fixture
def authed(sim, token):
    with httpx.Client(base_url=sim.url, timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def assert_error(response: httpx.Response, code: int, message: str, status: int = 200) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False
    assert set(body) == {"success", "errors"}
    assert (body["errors"]["code"], body["errors"]["message"]) == (code, message)
    assert {"message", "code", "description", "details"} <= set(body["errors"])
    return body["errors"]


def test_login_with_base64_password(client):
    response = client.post("/sites", json={"username": USERNAME, "password": B64})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    content = body["content"]
    assert {"id", "access_token", "permissions", "roles", "seller", "market", "lang"} <= set(content)
    assert isinstance(content["id"], int) and isinstance(content["access_token"], str)
    assert {"id", "title"} <= set(content["market"])


def test_login_with_a_form_body_too(client):
    assert client.post("/sites", data={"username": USERNAME, "password": B64}).json()["success"] is True


@pytest.mark.parametrize(
    "password", [PASSWORD, base64.b64encode(b"wrong").decode(), "%%%"], ids=["plain", "wrong", "garbage"]
)
def test_plain_or_wrong_password_1004(client, password):
    assert_error(
        client.post("/sites", json={"username": USERNAME, "password": password}), 1004, "incorrect_username_password"
    )


def test_login_missing_parameter(client):
    errors = assert_error(client.post("/sites", json={"username": USERNAME}), 1001, "required_parameter")
    assert errors["details"] == {"field": "password"}


def test_missing_unknown_and_expired_tokens(client, sim, token):
    assert_error(client.get("/orders/search"), 5401, "invalid_credentials", 401)
    assert_error(
        client.get("/orders/search", headers={"Authorization": "Bearer nope"}), 5401, "invalid_credentials", 401
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/orders/search", headers=headers).status_code == 200
    sim.expire_token(token)
    assert_error(client.get("/orders/search", headers=headers), 6001, "session_expired", 401)
    fresh = client.post("/sites", json={"username": USERNAME, "password": B64}).json()["content"]["access_token"]
    assert client.get("/orders/search", headers={"Authorization": f"Bearer {fresh}"}).json()["success"] is True


def test_expire_over_the_control_api(client, token):
    assert client.post("/__sim__/tokens/expire", json={}).json() == {"ok": True}
    assert_error(
        client.get("/orders/search", headers={"Authorization": f"Bearer {token}"}), 6001, "session_expired", 401
    )


def test_search_envelope_types_and_pagination(authed, sim):
    for n in range(21):
        sim.add_order(amount=f"{100 + n}.00")
    body = authed.get("/orders/search").json()
    assert body["success"] is True and set(body) == {"success", "content"}
    meta = body["content"]["_meta"]
    assert meta == {"totalCount": 25, "pageCount": 2, "currentPage": 1, "perPage": 20}
    orders = body["content"]["orders"]
    assert len(orders) == 20
    order = orders[0]
    assert isinstance(order["id"], int) and isinstance(order["status"], int) and isinstance(order["status_group"], int)
    assert isinstance(order["amount"], str) and re.fullmatch(r"\d+\.\d{2}", order["amount"])
    assert isinstance(order["cost"], str) and isinstance(order["user_phone"], str)
    assert order["user_phone"].startswith("380")
    assert TIME.match(order["created"]) and TIME.match(order["changed"])
    assert "status_data" not in order and "purchases" not in order  # only when expanded
    page2 = authed.get("/orders/search", params={"page": 2}).json()["content"]
    assert page2["_meta"]["currentPage"] == 2 and len(page2["orders"]) == 5
    ids = [o["id"] for o in orders] + [o["id"] for o in page2["orders"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25


def test_search_filters_and_expand(authed, sim):
    shipped = sim.add_order(status=3, ttn="20450000000001")
    new_ids = {o["id"] for o in authed.get("/orders/search", params={"types": 4}).json()["content"]["orders"]}
    assert shipped["id"] not in new_ids and len(new_ids) == 2
    delivering = authed.get("/orders/search", params={"types": 5}).json()["content"]["orders"]
    assert [o["id"] for o in delivering] == [shipped["id"]]
    by_ttn = authed.get("/orders/search", params={"ttn": "20450000000001"}).json()["content"]["orders"]
    assert [o["id"] for o in by_ttn] == [shipped["id"]]
    by_status = authed.get("/orders/search", params={"status": "1,26"}).json()["content"]["orders"]
    assert sorted(o["status"] for o in by_status) == [1, 1, 26]
    expanded = authed.get(
        "/orders/search",
        params={"id": shipped["id"], "expand": "delivery,purchases,status_data,order_status_history"},
    ).json()["content"]["orders"][0]
    assert expanded["status_data"] == {
        "id": 3,
        "name": expanded["status_data"]["name"],
        "name_uk": "Передано до служби доставки",
        "name_en": "Handed to carrier",
        "status_group": 1,
        "color": expanded["status_data"]["color"],
    }
    assert expanded["delivery"]["ttn"] == "20450000000001"
    assert isinstance(expanded["purchases"][0]["quantity"], int) and isinstance(expanded["purchases"][0]["price"], str)
    assert expanded["order_status_history"][0]["status_id"] == 3
    future = authed.get("/orders/search", params={"created_from": "2999-01-01"}).json()["content"]
    assert future["orders"] == [] and future["_meta"]["totalCount"] == 0


def test_status_changes_follow_the_transition_rules(authed, sim):
    order_id = sim.add_order(status=1)["id"]
    forbidden = authed.put(f"/orders/{order_id}", json={"status": 6})
    errors = assert_error(forbidden, 1003, "status_change_not_allowed")
    assert errors["details"] == {"from": 1, "to": 6}

    moved = authed.put(f"/orders/{order_id}", json={"status": 26, "seller_comment": "called the buyer"}).json()
    assert moved["success"] is True and moved["content"]["status"] == 26
    assert moved["content"]["status_data"]["id"] == 26
    assert authed.put(f"/orders/{order_id}", json={"status": 2}).json()["content"]["status"] == 2

    # ttn is required for 3 and 61
    assert_error(authed.put(f"/orders/{order_id}", json={"status": 3}), 1001, "required_parameter")
    # adding a ttn while in 2 moves the order to 61
    content = authed.put(f"/orders/{order_id}", json={"status": 2, "ttn": "20450000000077"}).json()["content"]
    assert (content["status"], content["ttn"]) == (61, "20450000000077")
    content = authed.put(f"/orders/{order_id}", json={"status": 3}).json()["content"]
    assert (content["status"], content["status_group"]) == (3, 1)
    history = authed.get(f"/orders/{order_id}", params={"expand": "order_status_history"}).json()["content"]
    assert [h["status_id"] for h in history["order_status_history"]] == [1, 26, 2, 61, 3]


def test_duplicate_needs_the_original_order(authed, sim):
    original, duplicate = sim.add_order()["id"], sim.add_order()["id"]
    assert_error(authed.put(f"/orders/{duplicate}", json={"status": 49}), 1001, "required_parameter")
    content = authed.put(f"/orders/{duplicate}", json={"status": 49, "duplicate_order_id": original}).json()["content"]
    assert (content["status"], content["status_group"], content["duplicate_order_id"]) == (49, 3, original)


def test_put_validation_and_unknown_order(authed):
    assert_error(authed.put("/orders/1", json={"status": 2}), 1019, "entity_not_found")
    assert_error(authed.get("/orders/1"), 1019, "entity_not_found")
    order_id = authed.get("/orders/search").json()["content"]["orders"][0]["id"]
    assert_error(authed.put(f"/orders/{order_id}", json={}), 1001, "required_parameter")
    assert_error(authed.put(f"/orders/{order_id}", json={"status": 999}), 1003, "status_change_not_allowed")


def test_order_statuses_with_available_transitions(authed):
    body = authed.get("/order-statuses/search", params={"expand": "status_available"}).json()
    statuses = {s["id"]: s for s in body["content"]["orderStatuses"]}
    assert {1, 2, 3, 6, 61, 49} <= set(statuses)
    children = {t["child_id"] for t in statuses[2]["status_available"]}
    assert children == set(TRANSITIONS[2])
    assert all(t["parent_id"] == 2 for t in statuses[2]["status_available"])
    assert statuses[6]["status_available"] == []  # completed is final


def test_rozetka_side_changes_via_hooks_and_control_api(authed, client, sim):
    order_id = sim.add_order(status=3, ttn="20450000000002")["id"]
    sim.set_order(order_id, status=4)
    assert authed.get(f"/orders/{order_id}").json()["content"]["status"] == 4
    response = client.post(f"/__sim__/orders/{order_id}", json={"status": 45})  # buyer cancelled: no rules
    assert response.json()["status"] == 45
    created = client.post("/__sim__/orders", json={"amount": "99.00", "user_phone": "380931234567"}).json()
    assert created["amount"] == "99.00" and created["status"] == 1
    assert client.post("/__sim__/orders/1", json={"status": 2}).status_code == 404


def test_faults_rate_limit_5xx_timeout(authed, sim):
    sim.rate_limit(retry_after=5, path="/orders/search")
    response = authed.get("/orders/search")
    assert response.status_code == 429 and response.headers["Retry-After"] == "5"
    assert response.json()["success"] is False
    sim.fail(status=500)
    assert authed.get("/orders/search").status_code == 500
    sim.delay(2.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        authed.get("/orders/search", timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert authed.get("/orders/search").json()["success"] is True


def test_unknown_path_is_5404(authed):
    assert_error(authed.get("/no-such-thing"), 5404, "not_found", 404)
