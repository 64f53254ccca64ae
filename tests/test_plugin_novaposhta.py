"""Contract tests of the novaposhta plugin against the Nova Poshta simulator over real HTTP:
the envelope it sends, waybills, batch tracking, cities and branches, and how provider
failures (bad key, unknown refs and waybills, 429, 5xx, timeouts) reach the admin."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from plugins.novaposhta import plugin
from plugins.novaposhta.api import DEFAULT_API_URL
from plugins.simulators.novaposhta import KNOWN_WAYBILL, KNOWN_WAYBILL_PHONE, NovaPoshtaSimulator
from server.plugins.manager import get_manager
from server.plugins.types import PluginError, ShipmentRequest, TrackingQuery

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ENDPOINT = "/v2.0/json/"


@pytest.fixture(scope="module")
def server():
    with NovaPoshtaSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


@pytest.fixture
def config(sim) -> dict:
    creds = sim.credentials()
    return {
        "api_url": sim.url + ENDPOINT,
        "sender_ref": creds["sender_ref"],
        "contact_sender_ref": creds["contact_sender_ref"],
        "senders_phone": "+" + creds["senders_phone"],  # the CRM stores phones in E.164
        "city_sender_ref": creds["city_sender_ref"],
        "sender_address_ref": creds["sender_address_ref"],
        "payer_type": "Recipient",
        "payment_method": "Cash",
        "cargo_type": "Parcel",
        "service_type": "WarehouseWarehouse",
        "default_weight_kg": 1.0,
        "default_description": "Товари",
        "timeout_seconds": 5.0,
    }


@pytest.fixture
def secrets(sim) -> dict:
    return {"api_key": sim.credentials()["api_key"]}


def calls(sim, method: str) -> list[dict]:
    """The JSON bodies the simulator received for ``Model.method``."""
    model, name = method.split(".")
    bodies = [r.json() for r in sim.requests_to(ENDPOINT)]
    return [b for b in bodies if b["modelName"] == model and b["calledMethod"] == name]


async def lviv(config, secrets):
    city = (await plugin.crm_delivery_search_cities(config=config, secrets=secrets, query="Льв", limit=5))[0]
    branch = (
        await plugin.crm_delivery_branches(config=config, secrets=secrets, city_ref=city.ref, query="", limit=10)
    )[0]
    return city, branch


async def create(config, secrets, place=None, **overrides):
    city, branch = place or await lviv(config, secrets)
    request = ShipmentRequest(
        order_id="o-1",
        order_number=1042,
        recipient_name="Петренко Іван",
        recipient_phone="+380671112233",
        declared_value=Decimal("1250.00"),
        currency="UAH",
        city=city.name,
        city_ref=city.ref,
        branch=branch.name,
        branch_ref=branch.ref,
        weight_kg=Decimal("0.7"),
        description="Книги",
    )
    for key, value in overrides.items():
        setattr(request, key, value)
    return await plugin.crm_delivery_create_shipment(config=config, secrets=secrets, shipment=request)


# -- the plugin as the CRM sees it -----------------------------------------------------------


def test_registered_through_its_entry_point():
    loaded = get_manager().get("novaposhta")
    assert loaded is not None, get_manager().errors
    assert loaded.info.capabilities == ("delivery",)
    assert loaded.source.startswith("entry point")
    assert loaded.secret_fields == {"api_key"}
    assert loaded.field("api_url").default == DEFAULT_API_URL == "https://api.novaposhta.ua/v2.0/json/"
    required = {f.name for f in loaded.config_schema if f.required}
    assert required == {
        "api_key",
        "sender_ref",
        "contact_sender_ref",
        "senders_phone",
        "city_sender_ref",
        "sender_address_ref",
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1", "created"),
        ("5", "in_transit"),
        ("7", "arrived"),
        ("8", "arrived"),
        ("9", "delivered"),
        ("11", "delivered"),
        ("102", "refused"),
        ("103", "refused"),
        ("2", "cancelled"),
        ("3", "not_found"),
        ("999", "unknown"),
    ],
)
def test_status_map(code, status):
    assert plugin.crm_delivery_map_status(provider_status=code) == status


# -- connection ----------------------------------------------------------------------------------


async def test_connection_ok_and_bad_key(sim, config, secrets):
    result = await plugin.crm_test_connection(config=config, secrets=secrets)
    assert result.ok, result.message
    with pytest.raises(PluginError) as exc:
        await plugin.crm_test_connection(config=config, secrets={"api_key": "0" * 32})
    assert exc.value.code == "AUTH_FAILED"
    assert "rejected the API key" in exc.value.message
    assert not exc.value.retryable
    # The envelope as documented: the key travels in the body, no auth header.
    body = sim.last_request.json()
    assert set(body) == {"apiKey", "modelName", "calledMethod", "methodProperties"}
    assert body["apiKey"] == "0" * 32 and "authorization" not in sim.last_request.headers


async def test_connection_with_a_foreign_sender(config, secrets):
    result = await plugin.crm_test_connection(
        config={**config, "sender_ref": "0" * 8 + "-0000-0000-0000-" + "0" * 12}, secrets=secrets
    )
    assert not result.ok and "sender ref" in result.message


# -- waybills ------------------------------------------------------------------------------------


async def test_create_shipment(sim, config, secrets):
    shipment = await create(config, secrets)
    assert re.fullmatch(r"\d{14}", shipment.waybill_number)
    assert shipment.cost is not None and shipment.cost > 0 and shipment.currency == "UAH"
    assert isinstance(shipment.estimated_delivery, date)
    assert shipment.provider_ref and shipment.raw["IntDocNumber"] == shipment.waybill_number
    [sent] = calls(sim, "InternetDocument.save")
    props = sent["methodProperties"]
    assert props["RecipientsPhone"] == "380671112233" and props["SendersPhone"] == "380501234567"
    assert props["RecipientCityName"] == "Львів" and props["RecipientType"] == "PrivatePerson"
    assert props["Weight"] == "0.7" and props["Cost"] == "1250.00" and props["Description"] == "Книги"
    assert props["PayerType"] == "Recipient" and props["ServiceType"] == "WarehouseWarehouse"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", props["DateTime"])
    # The simulator now knows the waybill, in status 1.
    [status] = await plugin.crm_delivery_track(
        config=config, secrets=secrets, queries=[TrackingQuery(shipment.waybill_number, "+380671112233")]
    )
    assert (status.provider_status, status.status) == ("1", "created")


async def test_create_shipment_with_an_invalid_ref_explains(sim, config, secrets):
    with pytest.raises(PluginError) as exc:
        await create({**config, "sender_address_ref": "not-a-ref"}, secrets)
    assert exc.value.message == "Nova Poshta refused the request: SenderAddress is invalid."
    assert not exc.value.retryable


async def test_create_shipment_is_never_retried(sim, config, secrets):
    """No idempotency key at Nova Poshta: a repeated save would make a second waybill."""
    place = await lviv(config, secrets)
    sim.fail(1, status=502)
    with pytest.raises(PluginError) as exc:
        await create(config, secrets, place)
    # Nova Poshta may have made the waybill before answering 502: the outcome is unknown, and
    # nothing (neither the client nor the job) tries again.
    assert (exc.value.code, exc.value.retryable) == ("OUTCOME_UNKNOWN", False) and "502" in exc.value.message
    assert len(calls(sim, "InternetDocument.save")) == 1


async def test_cancel_shipment(sim, config, secrets):
    shipment = await create(config, secrets)
    await plugin.crm_delivery_cancel_shipment(config=config, secrets=secrets, waybill_number=shipment.waybill_number)
    [status] = await plugin.crm_delivery_track(
        config=config, secrets=secrets, queries=[TrackingQuery(shipment.waybill_number)]
    )
    assert (status.provider_status, status.status) == ("2", "cancelled")
    [deleted] = calls(sim, "InternetDocument.delete")
    assert deleted["methodProperties"] == {"DocumentRefs": [shipment.provider_ref]}
    # Cancelling again changes nothing and is not an error.
    await plugin.crm_delivery_cancel_shipment(config=config, secrets=secrets, waybill_number=shipment.waybill_number)
    assert len(calls(sim, "InternetDocument.delete")) == 1


async def test_cancel_refused_once_handed_over(sim, config, secrets):
    shipment = await create(config, secrets)
    sim.set_status(shipment.waybill_number, "5")
    with pytest.raises(PluginError) as exc:
        await plugin.crm_delivery_cancel_shipment(
            config=config, secrets=secrets, waybill_number=shipment.waybill_number
        )
    assert exc.value.code == "CANNOT_CANCEL" and "cannot be cancelled" in exc.value.message
    assert calls(sim, "InternetDocument.delete") == []


async def test_cancel_unknown_waybill(config, secrets):
    with pytest.raises(PluginError) as exc:
        await plugin.crm_delivery_cancel_shipment(config=config, secrets=secrets, waybill_number="20450000999999")
    assert exc.value.code == "NOT_FOUND" and "20450000999999" in exc.value.message


# -- tracking --------------------------------------------------------------------------------


async def test_track_known_unknown_and_malformed(sim, config, secrets):
    statuses = await plugin.crm_delivery_track(
        config=config,
        secrets=secrets,
        queries=[
            TrackingQuery(KNOWN_WAYBILL, "+" + KNOWN_WAYBILL_PHONE),
            TrackingQuery("20450000000777"),
            TrackingQuery("not-a-number"),
        ],
    )
    by_number = {s.waybill_number: s for s in statuses}
    known = by_number[KNOWN_WAYBILL]
    assert (known.provider_status, known.status) == ("7", "arrived")
    assert known.description == "Прибув на відділення" and known.changed_at is not None
    assert known.raw["PhoneRecipient"] == KNOWN_WAYBILL_PHONE  # the full item: the phone matched
    assert by_number["20450000000777"].status == "not_found"
    assert by_number["not-a-number"].status == "not_found"
    # The malformed number never reached Nova Poshta (it would fail the whole batch there).
    [sent] = calls(sim, "TrackingDocument.getStatusDocuments")
    assert [d["DocumentNumber"] for d in sent["methodProperties"]["Documents"]] == [KNOWN_WAYBILL, "20450000000777"]
    assert sent["methodProperties"]["Documents"][0]["Phone"] == KNOWN_WAYBILL_PHONE


async def test_track_batches_of_at_most_100(sim, config, secrets):
    numbers = [sim.add_waybill(status_code="5" if i % 2 else "9").number for i in range(250)]
    statuses = await plugin.crm_delivery_track(
        config=config, secrets=secrets, queries=[TrackingQuery(n, "+380671112233") for n in numbers]
    )
    sent = calls(sim, "TrackingDocument.getStatusDocuments")
    assert [len(b["methodProperties"]["Documents"]) for b in sent] == [100, 100, 50]
    assert [s.waybill_number for s in statuses] == numbers
    assert [s.status for s in statuses] == ["in_transit" if i % 2 else "delivered" for i in range(250)]


# -- provider failures -------------------------------------------------------------------------


async def test_rate_limit_is_retried_after_the_time_asked(sim, config, secrets):
    sim.rate_limit(1, retry_after=2)
    [status] = await plugin.crm_delivery_track(config=config, secrets=secrets, queries=[TrackingQuery(KNOWN_WAYBILL)])
    assert status.status == "arrived"
    first, second = sim.requests_to(ENDPOINT)
    assert (first.status, first.fault, second.status) == (429, "rate_limit", 200)
    # The jittered backoff alone would wait at most 1 s; Retry-After asked for 2.
    assert second.at - first.at >= 1.9


async def test_5xx_retried_then_succeeds(sim, config, secrets):
    sim.fail(2, status=503)
    cities = await plugin.crm_delivery_search_cities(config=config, secrets=secrets, query="Оде", limit=5)
    assert [c.name for c in cities] == ["Одеса"]
    assert [r.status for r in sim.requests_to(ENDPOINT)] == [503, 503, 200]


async def test_5xx_exhausted_is_a_clear_retryable_error(sim, config, secrets):
    sim.fail(3, status=500)
    with pytest.raises(PluginError) as exc:
        await plugin.crm_delivery_track(config=config, secrets=secrets, queries=[TrackingQuery(KNOWN_WAYBILL)])
    assert exc.value.retryable and exc.value.code == "PROVIDER_UNAVAILABLE"
    assert exc.value.message == "Nova Poshta answered 500 3 times; try again later."
    assert len(sim.requests_to(ENDPOINT)) == 3


async def test_timeout(sim, config, secrets):
    sim.delay(3, count=3)
    with pytest.raises(PluginError) as exc:
        await plugin.crm_delivery_branches(
            config={**config, "timeout_seconds": 0.3}, secrets=secrets, city_ref="x", query="", limit=5
        )
    assert exc.value.retryable and exc.value.code == "PROVIDER_TIMEOUT"
    assert "did not answer in time" in exc.value.message


async def test_html_error_page_is_not_mistaken_for_an_answer(sim, config, secrets):
    sim.fail(1, status=404, body="<html><body>nginx: not found</body></html>")
    with pytest.raises(PluginError) as exc:
        await plugin.crm_delivery_search_cities(config=config, secrets=secrets, query="Київ", limit=5)
    assert exc.value.code == "BAD_RESPONSE" and "check the API URL" in exc.value.message


# -- addresses -------------------------------------------------------------------------------


async def test_cities_and_branches(sim, config, secrets):
    [kyiv] = await plugin.crm_delivery_search_cities(config=config, secrets=secrets, query="Київ", limit=10)
    assert kyiv.name == "Київ" and kyiv.region == "Київська"
    branches = await plugin.crm_delivery_branches(config=config, secrets=secrets, city_ref=kyiv.ref, query="", limit=50)
    assert len(branches) == 4 and all(b.city_ref == kyiv.ref for b in branches)
    assert branches[0].number == "1" and branches[0].name.startswith("Відділення №1")
    found = await plugin.crm_delivery_branches(
        config=config, secrets=secrets, city_ref=kyiv.ref, query="Поштомат", limit=50
    )
    assert [b.number for b in found] == ["4"]
    assert await plugin.crm_delivery_search_cities(config=config, secrets=secrets, query="Атлантида", limit=10) == []
