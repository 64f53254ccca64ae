"""The Nova Poshta API 2.0 simulator over real HTTP: envelope, types, waybills, tracking, faults."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import httpx
import pytest

from plugins.simulators.novaposhta import (
    API_KEY,
    CONTACT_SENDER_REF,
    KNOWN_WAYBILL,
    KNOWN_WAYBILL_PHONE,
    SENDER_PHONE,
    SENDER_REF,
    NovaPoshtaSimulator,
)

ENDPOINT = "/v2.0/json/"
ENVELOPE_KEYS = {
    "success",
    "data",
    "errors",
    "warnings",
    "info",
    "messageCodes",
    "errorCodes",
    "warningCodes",
    "infoCodes",
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def server():
    with NovaPoshtaSimulator() as sim:
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
def call(client):
    def call(model: str, method: str, props: dict | list | None = None, *, api_key: str | None = API_KEY) -> dict:
        response = client.post(
            ENDPOINT,
            json={"apiKey": api_key, "modelName": model, "calledMethod": method, "methodProperties": props or {}},
        )
        assert response.status_code == 200  # Nova Poshta answers 200 even on failure
        body = response.json()
        assert set(body) == ENVELOPE_KEYS
        assert isinstance(body["success"], bool) and isinstance(body["data"], list)
        assert len(body["errors"]) == len(body["errorCodes"])
        return body

    return call


def kyiv_and_lviv(call):
    kyiv = call("Address", "getCities", {"FindByString": "Київ"})["data"][0]
    lviv = call("Address", "getCities", {"FindByString": "Львів"})["data"][0]
    return kyiv, lviv


def waybill_props(call, **overrides):
    kyiv, lviv = kyiv_and_lviv(call)
    sender_wh = call("Address", "getWarehouses", {"CityRef": kyiv["Ref"], "Limit": 1, "Page": 1})["data"][0]
    recipient_wh = call("Address", "getWarehouses", {"CityRef": lviv["Ref"], "Limit": 1, "Page": 1})["data"][0]
    props = {
        "PayerType": "Recipient",
        "PaymentMethod": "Cash",
        "DateTime": datetime.now().strftime("%d.%m.%Y"),
        "CargoType": "Parcel",
        "Weight": 0.5,
        "ServiceType": "WarehouseWarehouse",
        "SeatsAmount": "1",
        "Description": "Навушники",
        "Cost": "1500",
        "CitySender": kyiv["Ref"],
        "Sender": SENDER_REF,
        "SenderAddress": sender_wh["Ref"],
        "ContactSender": CONTACT_SENDER_REF,
        "SendersPhone": SENDER_PHONE,
        "CityRecipient": lviv["Ref"],
        "Recipient": "0b3e1a2c-1111-4b4b-8c8c-123456789abc",
        "RecipientAddress": recipient_wh["Ref"],
        "ContactRecipient": "0b3e1a2c-2222-4b4b-8c8c-123456789abc",
        "RecipientsPhone": "380671112233",
    }
    props.update(overrides)
    return props


def test_invalid_api_key_answers_auth_fail(call):
    for key in ("wrong", "", None):
        body = call(
            "TrackingDocument", "getStatusDocuments", {"Documents": [{"DocumentNumber": KNOWN_WAYBILL}]}, api_key=key
        )
        assert body["success"] is False and body["data"] == []
        assert body["errors"] == ["API auth fail"]


def test_create_waybill_track_move_and_receive(call, sim):
    body = call("InternetDocument", "save", waybill_props(call))
    assert body["success"] is True and body["errors"] == []
    document = body["data"][0]
    assert set(document) == {"Ref", "CostOnSite", "EstimatedDeliveryDate", "IntDocNumber", "TypeDocument"}
    assert UUID.match(document["Ref"])
    assert isinstance(document["CostOnSite"], str) and document["CostOnSite"].isdigit()
    assert re.fullmatch(r"\d{14}", document["IntDocNumber"])
    assert document["TypeDocument"] == "InternetDocument"
    estimated = datetime.strptime(document["EstimatedDeliveryDate"], "%d.%m.%Y")
    assert estimated.date() >= datetime.now().date()

    number = document["IntDocNumber"]
    track = {"Documents": [{"DocumentNumber": number, "Phone": "380671112233"}]}
    item = call("TrackingDocument", "getStatusDocuments", track)["data"][0]
    assert (item["Number"], item["StatusCode"]) == (number, "1")
    assert isinstance(item["StatusCode"], str)

    sim.set_status(number, "7")
    item = call("TrackingDocument", "getStatusDocuments", track)["data"][0]
    assert (item["StatusCode"], item["Status"]) == ("7", "Прибув на відділення")
    sim.set_status(number, 9)  # an int is accepted by the hook, the wire carries a string
    item = call("TrackingDocument", "getStatusDocuments", track)["data"][0]
    assert item["StatusCode"] == "9"
    datetime.strptime(item["RecipientDateTime"], "%d.%m.%Y %H:%M:%S")
    datetime.strptime(item["DateCreated"], "%d-%m-%Y %H:%M:%S")
    datetime.strptime(item["DateScan"], "%H:%M %d.%m.%Y")
    datetime.strptime(item["ScheduledDeliveryDate"], "%d-%m-%Y %H:%M:%S")
    assert isinstance(item["DocumentCost"], str) and item["WarehouseRecipient"].startswith("Відділення")
    assert len(item) > 60  # the full set when the phone matches


def test_tracking_full_reduced_and_unknown(call):
    documents = [
        {"DocumentNumber": KNOWN_WAYBILL, "Phone": KNOWN_WAYBILL_PHONE},
        {"DocumentNumber": KNOWN_WAYBILL, "Phone": "380000000001"},
        {"DocumentNumber": KNOWN_WAYBILL},
        {"DocumentNumber": "20450000000000", "Phone": "380600000000"},
    ]
    body = call("TrackingDocument", "getStatusDocuments", {"Documents": documents})
    assert body["success"] is True
    full, wrong_phone, no_phone, unknown = body["data"]
    assert full["StatusCode"] == wrong_phone["StatusCode"] == "7"
    assert "PhoneRecipient" in full and "RecipientFullName" in full
    for reduced in (wrong_phone, no_phone):
        assert "PhoneRecipient" not in reduced and "RecipientFullName" not in reduced
        assert len(reduced) < len(full)
    assert unknown == {"Number": "20450000000000", "StatusCode": "3", "Status": "Номер не найден"}
    assert body["warnings"] == [{f"ID_{KNOWN_WAYBILL}": body["warnings"][0][f"ID_{KNOWN_WAYBILL}"]}] * 2


def test_tracking_limits_and_bad_numbers(call):
    body = call("TrackingDocument", "getStatusDocuments", {"Documents": [{"DocumentNumber": "abc"}]})
    assert body["success"] is False
    assert body["errors"] == ["Document number is not correct"] and body["errorCodes"] == ["20001401442"]
    hundred = [{"DocumentNumber": f"2045{n:010d}"} for n in range(100)]
    assert call("TrackingDocument", "getStatusDocuments", {"Documents": hundred})["success"] is True
    too_many = [*hundred, {"DocumentNumber": "20459999999999"}]
    body = call("TrackingDocument", "getStatusDocuments", {"Documents": too_many})
    assert body["success"] is False and body["errors"]


def test_save_validation_errors(call):
    props = waybill_props(call, RecipientsPhone="0671112233", PayerType="Somebody")
    del props["Weight"]
    body = call("InternetDocument", "save", props)
    assert body["success"] is False and body["data"] == []
    assert "RecipientsPhone is invalid" in body["errors"]
    assert "PayerType is invalid" in body["errors"]
    assert "Weight is empty" in body["errors"]
    assert all(re.fullmatch(r"\d{11}", code) for code in body["errorCodes"])


def test_save_with_inline_recipient(call):
    props = waybill_props(call, NewAddress="1", RecipientCityName="Одеса", RecipientName="Іван Петренко")
    for name in ("CityRecipient", "Recipient", "RecipientAddress", "ContactRecipient"):
        del props[name]
    props["RecipientType"] = "PrivatePerson"
    body = call("InternetDocument", "save", props)
    assert body["success"] is True, body["errors"]


def test_delete_waybill(call, sim):
    document = call("InternetDocument", "save", waybill_props(call))["data"][0]
    body = call("InternetDocument", "delete", {"DocumentRefs": document["Ref"]})
    assert body["success"] is True and body["data"] == [{"Ref": document["Ref"]}]
    item = call("TrackingDocument", "getStatusDocuments", {"Documents": [{"DocumentNumber": document["IntDocNumber"]}]})
    assert item["data"][0]["StatusCode"] == "2"
    again = call("InternetDocument", "delete", {"DocumentRefs": [document["Ref"]]})
    assert again["success"] is False and again["errorCodes"] == ["20000300415"]
    handed_over = call("InternetDocument", "save", waybill_props(call))["data"][0]
    sim.set_status(handed_over["IntDocNumber"], "5")
    refused = call("InternetDocument", "delete", {"DocumentRefs": [handed_over["Ref"]]})
    assert refused["success"] is False


def test_search_settlements_one_level_deeper(call):
    body = call("Address", "searchSettlements", {"CityName": "київ", "Limit": 10, "Page": 1})
    assert body["success"] is True
    found = body["data"][0]
    assert set(found) == {"TotalCount", "Addresses"} and found["TotalCount"] == 1
    address = found["Addresses"][0]
    assert address["Present"] == "м. Київ, Київська обл."
    assert isinstance(address["Warehouses"], int)
    assert UUID.match(address["Ref"]) and UUID.match(address["DeliveryCity"])
    assert call("Address", "searchSettlements", {"CityName": "Атлантида"})["data"][0] == {
        "TotalCount": 0,
        "Addresses": [],
    }


def test_get_warehouses_info_is_an_object_and_pages(call):
    body = call("Address", "getWarehouses", {"CityName": "Київ", "Limit": 2, "Page": 2, "Language": "UA"})
    assert body["info"] == {"totalCount": 4}
    assert [w["Number"] for w in body["data"]] == ["3", "4"]
    warehouse = body["data"][0]
    assert {"Description", "Ref", "Number", "CityRef", "Schedule"} <= set(warehouse)
    assert isinstance(warehouse["Number"], str)
    lviv = call("Address", "getCities", {"FindByString": "Льв"})["data"][0]
    by_ref = call("AddressGeneral", "getWarehouses", {"CityRef": lviv["Ref"]})
    assert by_ref["info"]["totalCount"] == 4 and all(w["CityRef"] == lviv["Ref"] for w in by_ref["data"])


def test_counterparties_and_unknown_method(call):
    sender = call("Counterparty", "getCounterparties", {"CounterpartyProperty": "Sender", "Page": "1"})["data"][0]
    assert sender["Ref"] == SENDER_REF
    contacts = call("Counterparty", "getCounterpartyContactPersons", {"Ref": SENDER_REF})["data"]
    assert contacts[0]["Ref"] == CONTACT_SENDER_REF
    body = call("InternetDocument", "teleport", [])
    assert body["success"] is False and body["errors"]


def test_model_and_method_in_the_path(client):
    response = client.post(
        "/v2.0/json/Address/searchSettlements/",
        json={"apiKey": API_KEY, "methodProperties": {"CityName": "Одеса"}},
    )
    assert response.json()["data"][0]["TotalCount"] == 1


def test_not_json_is_an_envelope_error(client):
    response = client.post(ENDPOINT, content=b"<xml/>", headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["success"] is False


def test_rate_limit_5xx_and_timeout(client, sim):
    sim.rate_limit(retry_after=4)
    payload = {"apiKey": API_KEY, "modelName": "Address", "calledMethod": "getCities", "methodProperties": {}}
    response = client.post(ENDPOINT, json=payload)
    assert response.status_code == 429 and response.headers["Retry-After"] == "4"
    assert set(response.json()) == ENVELOPE_KEYS and response.json()["success"] is False
    sim.fail(status=502)
    assert client.post(ENDPOINT, json=payload).status_code == 502
    sim.delay(2.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(ENDPOINT, json=payload, timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert client.post(ENDPOINT, json=payload).json()["success"] is True


def test_control_api_moves_a_waybill(client, call):
    response = client.post(f"/__sim__/waybills/{KNOWN_WAYBILL}/status", json={"status_code": "102"})
    assert response.json() == {"Number": KNOWN_WAYBILL, "StatusCode": "102"}
    item = call("TrackingDocument", "getStatusDocuments", {"Documents": [{"DocumentNumber": KNOWN_WAYBILL}]})
    assert item["data"][0]["StatusCode"] == "102"
    assert client.post("/__sim__/waybills/1/status", json={"status_code": "9"}).status_code == 404
    assert client.post(f"/__sim__/waybills/{KNOWN_WAYBILL}/status", json={"status_code": "77"}).status_code == 400


def test_add_waybill_hook(call, sim):
    waybill = sim.add_waybill(status_code="101", recipient_phone="380931234567")
    docs = {"Documents": [{"DocumentNumber": waybill.number, "Phone": "380931234567"}]}
    item = call("TrackingDocument", "getStatusDocuments", docs)["data"][0]
    assert item["StatusCode"] == "101" and item["PhoneRecipient"] == "380931234567"
    assert datetime.strptime(item["ScheduledDeliveryDate"], "%d-%m-%Y %H:%M:%S") > datetime.now() - timedelta(days=1)
