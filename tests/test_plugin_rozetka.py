"""Contract tests of the Rozetka plugin against the Rozetka simulator over real HTTP: sign-in,
order search with pagination and cursor, status pushes under Rozetka's rules, and the
failure modes (bad credentials, unknown order, expired token, 429, 5xx, timeouts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plugins.rozetka import plugin
from plugins.simulators.rozetka import PASSWORD, USERNAME, RozetkaSimulator
from server.plugins.manager import get_manager
from server.plugins.types import Installation, PluginError

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english


@pytest.fixture(scope="module")
def server():
    with RozetkaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    plugin.forget_tokens()
    return server


@pytest.fixture
def installation():
    return Installation(id=str(uuid.uuid4()), organization_id=str(uuid.uuid4()), plugin="rozetka")


@pytest.fixture
def config(sim):
    return {"username": USERNAME, "api_url": sim.url, "time_zone": "UTC"}


SECRETS = {"password": PASSWORD}


async def fetch(installation, config, cursor=None, secrets=SECRETS):
    return await plugin.crm_marketplace_fetch_orders(
        installation=installation, config=config, secrets=secrets, cursor=cursor
    )


async def push(installation, config, external_id, status, waybill=None):
    return await plugin.crm_marketplace_push_status(
        installation=installation,
        config=config,
        secrets=SECRETS,
        external_id=str(external_id),
        status=str(status),
        waybill_number=waybill,
    )


def seeded(sim) -> list[int]:
    return sorted(sim.orders)


# -- discovery ---------------------------------------------------------------------------------------


def test_registered_as_an_entry_point_plugin():
    loaded = get_manager().get("rozetka")
    assert loaded is not None, get_manager().errors
    assert loaded.info.capabilities == ("marketplace",)
    assert "entry point" in loaded.source
    fields = {f.name: f for f in loaded.config_schema}
    assert fields["password"].secret and fields["password"].required
    assert fields["username"].required and not fields["username"].secret
    assert fields["api_url"].default == "https://api-seller.rozetka.com.ua"


# -- sign-in and connection --------------------------------------------------------------------------


async def test_connection_signs_in_with_base64_password(sim, installation, config):
    result = await plugin.crm_test_connection(installation=installation, config=config, secrets=SECRETS)
    assert result.ok, result.message
    assert "Sim Shop" in result.message and "4 orders" in result.message
    login = sim.requests_to("/sites", "POST")[0].json()
    assert login == {"username": USERNAME, "password": "c2ltLXBhc3N3b3JkLTEyMw=="}
    search = sim.requests_to("/orders/search")[0]
    assert search.headers["authorization"].startswith("Bearer ")
    assert PASSWORD not in search.headers["authorization"]


async def test_bad_credentials(sim, installation, config):
    with pytest.raises(PluginError) as caught:
        await fetch(installation, config, secrets={"password": "wrong-password"})
    assert caught.value.code == "BAD_CREDENTIALS" and not caught.value.retryable
    assert "username or password" in caught.value.message
    assert sim.requests_to("/orders/search") == []  # nothing else was tried


async def test_wrong_api_url_says_so(sim, installation, config):
    with pytest.raises(PluginError) as caught:
        await fetch(installation, {**config, "api_url": sim.url + "/v9"})
    assert "5404" in caught.value.message


# -- fetching orders -------------------------------------------------------------------------------------


async def test_first_sync_maps_orders(sim, installation, config):
    batch = await fetch(installation, config)
    assert not batch.has_more
    assert sorted(int(o.external_id) for o in batch.orders) == seeded(sim)
    order = next(o for o in batch.orders if o.external_id == str(seeded(sim)[1]))
    assert order.status == "1"
    assert order.total == Decimal("1299.50") and order.currency == "UAH"
    assert order.buyer_phone == "380501112233" and order.buyer_name == "Петренко Іван"
    assert order.created_at.tzinfo is not None
    assert [(i.title, i.quantity, i.unit_price) for i in order.items] == [
        ("Навушники бездротові", Decimal("1"), Decimal("1299.50"))
    ]
    assert order.delivery["city"] == "Київ" and order.delivery["method"] == "Нова Пошта"
    query = sim.requests_to("/orders/search")[0].query
    assert query["sort"] == "id" and "purchases" in query["expand"] and query["changed_from"]


async def test_pagination_and_cursor(sim, installation, config, monkeypatch):
    monkeypatch.setattr(plugin, "PAGES_PER_CALL", 2)
    past = datetime.now(UTC) - timedelta(days=1)
    for n in range(41):  # 45 orders with the seeded ones: three pages of 20
        sim.add_order(amount=f"{100 + n}.00", created=past + timedelta(minutes=10 * n))
    first = await fetch(installation, config)
    assert first.has_more and len(first.orders) == 40
    second = await fetch(installation, config, first.cursor)
    assert not second.has_more and len(second.orders) == 5
    got = [int(o.external_id) for o in first.orders + second.orders]
    assert sorted(got) == sorted(sim.orders) and len(set(got)) == 45
    assert [r.query["page"] for r in sim.requests_to("/orders/search")] == ["1", "2", "3"]
    assert len(sim.requests_to("/sites")) == 1  # one sign-in, the token is reused

    # Nothing changed: the next sync reads only the overlap window before the last change.
    third = await fetch(installation, config, second.cursor)
    latest = max(sim.orders.values(), key=lambda o: o["changed"])
    assert {o.external_id for o in third.orders} == {str(latest["id"])}

    # A buyer cancels an old order, a new one arrives: both come with the next sync.
    old = seeded(sim)[0]
    sim.set_order(old, status=45)
    new = sim.add_order()["id"]
    fourth = await fetch(installation, config, third.cursor)
    ids = {o.external_id for o in fourth.orders}
    assert {str(old), str(new)} <= ids
    assert next(o for o in fourth.orders if o.external_id == str(old)).status == "45"


async def test_expired_token_signs_in_again_once(sim, installation, config):
    await fetch(installation, config)
    sim.expire_token()
    batch = await fetch(installation, config)
    assert len(batch.orders) == 4
    searches = sim.requests_to("/orders/search")
    assert [r.status for r in searches] == [200, 401, 200]
    assert len(sim.requests_to("/sites")) == 2


async def test_rate_limit_honours_retry_after(sim, installation, config):
    sim.rate_limit(1, retry_after=1, path="/orders/search")
    batch = await fetch(installation, config)
    assert len(batch.orders) == 4
    assert [(r.status, r.fault) for r in sim.requests_to("/orders/search")] == [(429, "rate_limit"), (200, None)]
    gap = sim.requests_to("/orders/search")[1].at - sim.requests_to("/orders/search")[0].at
    assert gap >= 0.9  # it waited what Rozetka asked


async def test_rate_limit_that_persists_is_retryable(sim, installation, config):
    sim.rate_limit(3, retry_after=0, path="/orders/search")
    with pytest.raises(PluginError) as caught:
        await fetch(installation, config)
    assert caught.value.retryable and caught.value.code == "RATE_LIMITED"


async def test_server_errors_retried_then_reported(sim, installation, config):
    sim.fail(1, status=503, path="/orders/search")
    assert len((await fetch(installation, config)).orders) == 4
    sim.fail(3, status=500, path="/orders/search")
    with pytest.raises(PluginError) as caught:
        await fetch(installation, config)
    assert caught.value.retryable and caught.value.code == "PROVIDER_UNAVAILABLE"
    assert "Rozetka answered 500" in caught.value.message


async def test_html_error_page_is_a_retryable_error(sim, installation, config):
    sim.fail(1, status=200, path="/orders/search", body="<html>maintenance</html>")
    with pytest.raises(PluginError) as caught:
        await fetch(installation, config)
    assert caught.value.retryable and caught.value.code == "BAD_RESPONSE"


async def test_timeout(sim, installation, config, monkeypatch):
    monkeypatch.setattr(plugin, "TIMEOUT", 0.3)
    monkeypatch.setattr(plugin, "ATTEMPTS", 1)
    sim.delay(1.5, path="/orders/search")
    with pytest.raises(PluginError) as caught:
        await fetch(installation, config)
    assert caught.value.retryable and caught.value.code == "PROVIDER_TIMEOUT"


# -- pushing statuses --------------------------------------------------------------------------------


async def test_push_allowed_transition(sim, installation, config):
    order_id = seeded(sim)[0]
    await push(installation, config, order_id, "26")
    assert sim.orders[order_id]["status"] == 26
    put = sim.requests_to(f"/orders/{order_id}", "PUT")[0]
    assert put.json() == {"status": 26}
    # The same push again (a retried job) is a no-op: no second PUT.
    await push(installation, config, order_id, "26")
    assert len(sim.requests_to(f"/orders/{order_id}", "PUT")) == 1


async def test_push_refused_locally_before_calling(sim, installation, config):
    order_id = seeded(sim)[0]  # new (1): Rozetka allows 2, 26, 16, 17, 18, 40, 42, 49
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "6")
    assert caught.value.code == "TRANSITION_NOT_ALLOWED" and not caught.value.retryable
    assert "from new (1) to completed (6)" in caught.value.message
    assert "processed by a manager (26)" in caught.value.message
    assert sim.requests_to(f"/orders/{order_id}", "PUT") == []
    assert sim.orders[order_id]["status"] == 1


async def test_push_from_a_final_status_is_refused(sim, installation, config):
    order_id = seeded(sim)[0]
    sim.set_order(order_id, status=45)  # the buyer cancelled on Rozetka
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "26")
    assert caught.value.code == "TRANSITION_NOT_ALLOWED" and "final" in caught.value.message


async def test_push_needs_a_waybill_for_handover(sim, installation, config):
    order_id = seeded(sim)[3]  # status 2
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "3")
    assert caught.value.code == "WAYBILL_REQUIRED"
    assert sim.requests_to(f"/orders/{order_id}", "PUT") == []
    await push(installation, config, order_id, "3", waybill="20450000000001")
    assert sim.orders[order_id]["status"] == 3 and sim.orders[order_id]["ttn"] == "20450000000001"


async def test_rozetka_refusal_becomes_a_plugin_error(sim, installation, config):
    order_id = seeded(sim)[0]
    refusal = {
        "success": False,
        "errors": {"message": "status_change_not_allowed", "code": 1003, "description": "...", "details": None},
    }
    sim.fail(1, status=200, path=f"/orders/{order_id}", method="PUT", body=refusal)
    with pytest.raises(PluginError) as caught:
        await push(installation, config, order_id, "26")
    assert caught.value.code == "1003" and not caught.value.retryable
    assert "refused" in caught.value.message and "status_change_not_allowed" in caught.value.message


async def test_push_to_unknown_order(sim, installation, config):
    with pytest.raises(PluginError) as caught:
        await push(installation, config, 999999999, "26")
    assert caught.value.code == "ORDER_NOT_FOUND" and "999999999" in caught.value.message


async def test_push_after_token_expiry(sim, installation, config):
    await fetch(installation, config)
    sim.expire_token()
    await push(installation, config, seeded(sim)[0], "26")
    assert sim.orders[seeded(sim)[0]]["status"] == 26


# -- status mapping ---------------------------------------------------------------------------------


def test_default_status_mapping_uses_the_default_crm_statuses():
    from server.organizations.defaults import ORDER_STATUSES

    codes = {code for code, _name, _group in ORDER_STATUSES}
    assert set(plugin.DEFAULT_TO_CRM.values()) <= codes
    assert set(plugin.DEFAULT_FROM_CRM) <= codes
    assert plugin.crm_marketplace_status_to_crm(config={}, status="1") == "new"
    assert plugin.crm_marketplace_status_to_crm(config={}, status="45") == "cancelled"
    assert plugin.crm_marketplace_status_to_crm(config={}, status="777") is None
    assert plugin.crm_marketplace_status_from_crm(config={}, status="shipped") == "3"
    assert plugin.crm_marketplace_status_from_crm(config={}, status="delivered") is None


def test_status_mapping_overrides():
    config = {"status_mapping": '{"to_crm": {"2": "packed"}, "from_crm": {"cancelled": "42", "processing": null}}'}
    assert plugin.crm_marketplace_status_to_crm(config=config, status="2") == "packed"
    assert plugin.crm_marketplace_status_from_crm(config=config, status="cancelled") == "42"
    assert plugin.crm_marketplace_status_from_crm(config=config, status="processing") is None
    with pytest.raises(PluginError, match="not valid"):
        plugin.crm_marketplace_status_to_crm(config={"status_mapping": "{oops"}, status="1")
    with pytest.raises(PluginError, match="not a Rozetka status id"):
        plugin.crm_marketplace_status_from_crm(config={"status_mapping": '{"from_crm": {"new": "x"}}'}, status="new")
