"""The Prom.ua API simulator over real HTTP: auth, the order list and its paging, set_status
with its validation and Prom's (assumed) rules, custom statuses, faults, the control API."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from plugins.simulators.prom import FIRST_ID, READ_ONLY_TOKEN, TOKEN, PromSimulator


@pytest.fixture(scope="module")
def server():
    with PromSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, timeout=5, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def set_status(client, **body) -> httpx.Response:
    return client.post("/orders/set_status", json=body)


def test_bearer_auth(sim):
    with httpx.Client(base_url=sim.url, timeout=5) as anonymous:
        assert anonymous.get("/orders/list").status_code == 401
        wrong = anonymous.get("/orders/list", headers={"Authorization": "Bearer nope"})
        assert (wrong.status_code, wrong.json()) == (401, {"error": "Invalid token"})
        read_only = {"Authorization": f"Bearer {READ_ONLY_TOKEN}"}
        assert anonymous.get("/orders/list", headers=read_only).status_code == 200
        refused = anonymous.post(
            "/orders/set_status", json={"status": "received", "ids": [FIRST_ID]}, headers=read_only
        )
        assert refused.status_code == 403 and "error" in refused.json()


def test_orders_list_newest_first_with_last_id(sim, client):
    orders = client.get("/orders/list").json()["orders"]
    assert [o["id"] for o in orders] == [FIRST_ID + 3, FIRST_ID + 2, FIRST_ID + 1, FIRST_ID]
    order = orders[-1]
    assert (order["status"], order["status_name"], order["price"]) == ("pending", "Новий", "640.00")
    assert isinstance(order["price"], str) and isinstance(order["products"][0]["price"], str)
    assert datetime.fromisoformat(order["date_created"]).utcoffset() in (timedelta(hours=2), timedelta(hours=3))
    assert order["delivery_provider_data"]["provider"] == "nova_poshta"
    page = client.get("/orders/list", params={"limit": 2, "last_id": FIRST_ID + 2}).json()["orders"]
    assert [o["id"] for o in page] == [FIRST_ID + 1, FIRST_ID]
    ascending = client.get("/orders/list", params={"sort_dir": "asc", "last_id": FIRST_ID + 1}).json()["orders"]
    assert [o["id"] for o in ascending] == [FIRST_ID + 2, FIRST_ID + 3]
    assert client.get("/orders/list", params={"limit": 101}).status_code == 400
    assert client.get("/orders/list", params={"status": "paid"}).json()["orders"][0]["id"] == FIRST_ID + 3


def test_last_modified_filters(sim, client):
    sim.set_order(FIRST_ID, status="canceled")
    changed = sim.orders[FIRST_ID]["date_modified"]
    since = client.get("/orders/list", params={"last_modified_from": changed}).json()["orders"]
    assert [o["id"] for o in since] == [FIRST_ID]
    naive = datetime.fromisoformat(changed).replace(tzinfo=None).isoformat()  # Kyiv time without an offset
    assert [o["id"] for o in client.get("/orders/list", params={"last_modified_from": naive}).json()["orders"]] == [
        FIRST_ID
    ]
    assert client.get("/orders/list", params={"last_modified_from": "yesterday"}).status_code == 400


def test_one_order(client):
    assert client.get(f"/orders/{FIRST_ID}").json()["order"]["id"] == FIRST_ID
    missing = client.get("/orders/1")
    assert (missing.status_code, missing.json()) == (404, {"error": "Order not found"})


def test_set_status_and_prom_rules(sim, client):
    answer = set_status(client, status="received", ids=[FIRST_ID, FIRST_ID + 1, 1])
    assert answer.status_code == 200
    assert answer.json() == {"processed_ids": [FIRST_ID, FIRST_ID + 1], "errors": {"1": "Замовлення не знайдено"}}
    assert sim.orders[FIRST_ID]["status_name"] == "Прийнято"
    assert set_status(client, status="received", ids=[FIRST_ID]).json()["processed_ids"] == [FIRST_ID]  # no-op
    assert set_status(client, status="pending", ids=[FIRST_ID]).json()["errors"] == {
        str(FIRST_ID): "Неможливо змінити статус замовлення «Прийнято» на «Новий»"
    }
    assert str(FIRST_ID + 3) in set_status(client, status="received", ids=[FIRST_ID + 3]).json()["errors"]  # paid
    assert "Чернетка" in set_status(client, status="draft", ids=[FIRST_ID]).json()["errors"][str(FIRST_ID)]
    done = set_status(client, status="canceled", ids=[FIRST_ID], cancellation_reason="not_available").json()
    assert done["processed_ids"] == [FIRST_ID] and sim.orders[FIRST_ID]["_cancellation"]["reason"] == "not_available"
    assert set_status(client, status="delivered", ids=[FIRST_ID]).json()["processed_ids"] == []  # final


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "canceled", "ids": [FIRST_ID]}, "cancellation_reason' is required"),
        ({"status": "canceled", "ids": [FIRST_ID], "cancellation_reason": "bored"}, "Unknown cancellation_reason"),
        ({"status": "canceled", "ids": [FIRST_ID], "cancellation_reason": "another"}, "cancellation_text' is required"),
        ({"status": "canceled", "ids": [FIRST_ID], "cancellation_reason": "price_changed"}, "cancellation_text"),
        ({"status": "shipped", "ids": [FIRST_ID]}, "Unknown status"),
        ({"status": "received"}, "'ids' is required"),
        ({"status": "received", "ids": ["4066722"]}, "'ids' is required"),
        ({"status": "received", "custom_status_id": 137639, "ids": [FIRST_ID]}, "either"),
        ({"custom_status_id": 1, "ids": [FIRST_ID]}, "Unknown custom_status_id"),
    ],
)
def test_set_status_validation(sim, client, body, message):
    answer = set_status(client, **body)
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert sim.orders[FIRST_ID]["status"] == "pending"


def test_cancellation_with_text(sim, client):
    body = {"status": "canceled", "ids": [FIRST_ID], "cancellation_reason": "another", "cancellation_text": "Дубль"}
    assert set_status(client, **body).json()["processed_ids"] == [FIRST_ID]
    assert sim.orders[FIRST_ID]["_cancellation"] == {"reason": "another", "text": "Дубль", "initiator": "seller"}
    assert "_cancellation" not in client.get(f"/orders/{FIRST_ID}").json()["order"]


def test_custom_statuses(sim, client):
    options = client.get("/order_status_options/list").json()["order_status_options"]
    assert {"id": 137639, "name": "Комплектується", "status": "received"} in options
    assert set_status(client, custom_status_id=137639, ids=[FIRST_ID]).json()["processed_ids"] == [FIRST_ID]
    order = client.get(f"/orders/{FIRST_ID}").json()["order"]
    assert (order["status"], order["status_name"], order["custom_status_id"]) == ("received", "Комплектується", 137639)
    set_status(client, status="received", ids=[FIRST_ID])
    assert client.get(f"/orders/{FIRST_ID}").json()["order"]["custom_status_id"] is None


def test_faults_use_the_error_envelope(sim, client):
    sim.rate_limit(1, retry_after=2)
    limited = client.get("/orders/list")
    assert (limited.status_code, limited.headers["retry-after"], limited.json()) == (
        429,
        "2",
        {"error": "Too Many Requests"},
    )
    assert client.get("/nowhere").json() == {"error": "Not Found"}


def test_control_api(sim, client):
    added = client.post("/__sim__/orders", json={"price": "10.00", "phone": "+380931112233"}).json()
    assert added["id"] == FIRST_ID + 4 and client.get(f"/orders/{added['id']}").status_code == 200
    changed = client.post(f"/__sim__/orders/{FIRST_ID}", json={"status": "canceled"}).json()
    assert changed["status"] == "canceled"
    assert client.get("/__sim__/health").json()["credentials"]["token"] == TOKEN
