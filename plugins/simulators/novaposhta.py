"""Nova Poshta API 2.0 simulator: waybills (ТТН), tracking, cities and branches.

Protocol (see /work/shared/providers/novaposhta.md and docs/simulators.md):

* One endpoint, ``POST /v2.0/json/`` (also ``/v2.0/json`` and ``/v2.0/json/{model}/{method}``),
  body ``{"apiKey", "modelName", "calledMethod", "methodProperties"}``; no auth header.
* Always HTTP 200 (unless a fault is injected) with the envelope ``success, data, errors,
  warnings, info, messageCodes, errorCodes, warningCodes, infoCodes``. A bad key answers
  ``errors: ["API auth fail"]``.
* Methods: ``InternetDocument.save`` / ``delete``, ``TrackingDocument.getStatusDocuments``
  (``StatusCode`` is a string), ``Address.searchSettlements`` / ``getCities`` /
  ``getWarehouses``, ``Counterparty.getCounterparties`` / ``getCounterpartyContactPersons``.

Test hooks: ``set_status(number, "7")`` moves a waybill; ``add_waybill`` creates one that was
not made through the API (a parcel sent to the shop, say).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import SimulatorServer, json_response, read_json

API_KEY = "b0a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5"
_NS = uuid.UUID("6b1f0c52-8d0e-4d2a-9e47-3a5b1c7d9e01")


def _ref(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


SENDER_REF = _ref("counterparty:sender")
CONTACT_SENDER_REF = _ref("contact:sender")
SENDER_PHONE = "380501234567"
RECIPIENT_REF = _ref("counterparty:recipients")
CONTACT_RECIPIENT_REF = _ref("contact:recipient")
#: A waybill that exists from the start, in status 7 (arrived at the branch); phone below matches.
KNOWN_WAYBILL = "20400048799000"
KNOWN_WAYBILL_PHONE = "380600000000"
MAX_TRACKING_DOCUMENTS = 100

# Error texts and codes. The texts "API auth fail" and "Document number is not correct"
# (20001401442) come from the provider doc; 20000300415 "Document not found" from a public
# client; the remaining codes are the simulator's own (see docs/simulators.md).
E_AUTH = ("API auth fail", "20000100003")
E_DOC_NUMBER = ("Document number is not correct", "20001401442")
E_DOC_NOT_FOUND = ("Document not found", "20000300415")
E_METHOD = ("Method does not exist", "20000900746")
E_JSON = ("Data is not valid JSON", "20000900001")
E_DOCS_LIMIT = (f"Documents amount must be less than or equal to {MAX_TRACKING_DOCUMENTS}", "20000200169")
E_CANNOT_DELETE = ("Document cannot be deleted: it has already been handed over", "20000300416")

STATUS_TEXT = {
    "1": "Відправник самостійно створив цю накладну, але ще не надав до відправки",
    "2": "Видалено",
    "3": "Номер не найден",
    "4": "Відправлення у місті відправника",
    "41": "Відправлення у місті відправника",
    "5": "Відправлення прямує до міста одержувача",
    "6": "Відправлення у місті одержувача, орієнтовна доставка до відділення",
    "7": "Прибув на відділення",
    "8": "Прибув на відділення (завантажено в Поштомат)",
    "9": "Відправлення отримано",
    "10": "Відправлення отримано. Протягом доби ви одержите SMS про надходження грошового переказу",
    "11": "Відправлення отримано. Грошовий переказ видано одержувачу",
    "12": "Нова Пошта комплектує ваше відправлення",
    "101": "На шляху до одержувача",
    "102": "Відмова від отримання (Відправником створено замовлення на повернення)",
    "103": "Відмова одержувача",
    "104": "Змінено адресу",
    "105": "Припинено зберігання",
    "106": "Одержано і створено ЄН зворотньої доставки",
    "111": "Невдала спроба доставки через відсутність Одержувача на адресі або зв'язку з ним",
    "112": "Дата доставки перенесена Одержувачем",
}

PAYER_TYPES = ("Sender", "Recipient", "ThirdPerson")
PAYMENT_METHODS = ("Cash", "NonCash")
CARGO_TYPES = ("Cargo", "Documents", "TiresWheels", "Pallet", "Parcel")
SERVICE_TYPES = ("WarehouseWarehouse", "WarehouseDoors", "DoorsWarehouse", "DoorsDoors", "WarehousePostomat")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_UA_PHONE = re.compile(r"^380\d{9}$")
_DOC_NUMBER = re.compile(r"^\d{11,14}$")

WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

CITIES = [
    # (Description, DescriptionRu, Area, warehouses total in the real network, branches seeded)
    ("Київ", "Киев", "Київська", 6231),
    ("Львів", "Львов", "Львівська", 1432),
    ("Одеса", "Одесса", "Одеська", 1297),
    ("Харків", "Харьков", "Харківська", 1563),
    ("Дніпро", "Днепр", "Дніпропетровська", 1388),
]
STREETS = ("вул. Хрещатик, 22", "просп. Перемоги, 67", "вул. Шевченка, 5", "вул. Січових Стрільців, 14")


def _envelope(
    data: list | None = None,
    *,
    errors: list | None = None,
    warnings: list | None = None,
    info: Any = None,
    error_codes: list | None = None,
    warning_codes: list | None = None,
) -> Response:
    errors = errors or []
    return json_response(
        {
            "success": not errors,
            "data": data or [],
            "errors": errors,
            "warnings": warnings or [],
            "info": info if info is not None else [],
            "messageCodes": [],
            "errorCodes": error_codes or [],
            "warningCodes": warning_codes or [],
            "infoCodes": [],
        }
    )


def _fail(*errors: tuple[str, str], warnings: list | None = None) -> Response:
    return _envelope(errors=[e[0] for e in errors], error_codes=[e[1] for e in errors], warnings=warnings)


def _page(rows: list, props: dict[str, Any]) -> list:
    try:
        limit = int(props.get("Limit") or 0)
        page = max(1, int(props.get("Page") or 1))
    except (TypeError, ValueError):
        return rows
    if limit <= 0:
        return rows
    return rows[(page - 1) * limit : page * limit]


@dataclass
class Waybill:
    number: str
    ref: str
    status_code: str
    created: datetime
    recipient_phone: str
    sender_phone: str
    city_sender: str
    city_recipient: str
    warehouse_recipient: dict[str, Any] | None
    weight: float
    cost: str
    cost_on_site: str
    estimated_delivery: datetime
    payer_type: str = "Recipient"
    payment_method: str = "Cash"
    service_type: str = "WarehouseWarehouse"
    cargo_type: str = "Parcel"
    description: str = ""
    seats: str = "1"
    recipient_name: str = "Петренко Іван"
    sender_name: str = "ФОП Шевченко Тарас"
    recipient_date_time: datetime | None = None
    date_scan: datetime | None = None
    afterpayment: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


KYIV = ZoneInfo("Europe/Kyiv")


def _kyiv(moment: datetime | None) -> datetime | None:
    return moment.astimezone(KYIV) if moment is not None and moment.tzinfo is not None else moment


class NovaPoshtaSimulator(SimulatorServer):
    name = "novaposhta"

    def seed(self) -> None:
        with self.lock:
            self.api_keys: set[str] = {API_KEY}
            self.cities: list[dict[str, Any]] = []
            self.settlements: list[dict[str, Any]] = []
            self.warehouses: list[dict[str, Any]] = []
            for index, (name, name_ru, area, total) in enumerate(CITIES):
                city_ref = _ref(f"city:{name}")
                settlement_ref = _ref(f"settlement:{name}")
                area_ref = _ref(f"area:{area}")
                self.cities.append(
                    {
                        "Description": name,
                        "DescriptionRu": name_ru,
                        "Ref": city_ref,
                        **{f"Delivery{d}": "1" for d in range(1, 8)},
                        "Area": area_ref,
                        "SettlementType": _ref("settlement-type:city"),
                        "IsBranch": "0",
                        "PreventEntryNewStreetsUser": "0",
                        "CityID": str(index + 4),
                        "SettlementTypeDescription": "місто",
                        "SettlementTypeDescriptionRu": "город",
                        "SpecialCashCheck": 1,
                        "AreaDescription": area,
                        "AreaDescriptionRu": area,
                    }
                )
                self.settlements.append(
                    {
                        "Present": f"м. {name}, {area} обл.",
                        "Warehouses": total,
                        "MainDescription": name,
                        "Area": area,
                        "Region": "",
                        "SettlementTypeCode": "м.",
                        "Ref": settlement_ref,
                        "DeliveryCity": city_ref,
                        "AddressDeliveryAllowed": True,
                        "StreetsAvailability": True,
                        "ParentRegionTypes": "область",
                        "ParentRegionCode": "обл.",
                        "RegionTypes": "",
                        "RegionTypesCode": "",
                    }
                )
                for number in range(1, 5):
                    postomat = number == 4
                    street = STREETS[number - 1]
                    kind = "Поштомат" if postomat else "Відділення"
                    self.warehouses.append(
                        {
                            "SiteKey": str(1000 * (index + 1) + number),
                            "Description": f"{kind} №{number}: {street}",
                            "DescriptionRu": f"{'Почтомат' if postomat else 'Отделение'} №{number}: {street}",
                            "ShortAddress": f"{name}, {street}",
                            "ShortAddressRu": f"{name_ru}, {street}",
                            "Phone": "0-800-500-609",
                            "TypeOfWarehouse": _ref("type:postomat" if postomat else "type:branch"),
                            "Ref": _ref(f"warehouse:{name}:{number}"),
                            "Number": str(number),
                            "CityRef": city_ref,
                            "CityDescription": name,
                            "CityDescriptionRu": name_ru,
                            "SettlementRef": settlement_ref,
                            "SettlementDescription": name,
                            "SettlementAreaDescription": f"{area} область",
                            "SettlementRegionsDescription": "",
                            "SettlementTypeDescription": "місто",
                            "SettlementTypeDescriptionRu": "город",
                            "Longitude": f"{30.52 + number / 100:.6f}",
                            "Latitude": f"{50.45 + number / 100:.6f}",
                            "PostFinance": "0" if postomat else "1",
                            "BicycleParking": "0",
                            "PaymentAccess": "1",
                            "POSTerminal": "1",
                            "InternationalShipping": "0" if postomat else "1",
                            "SelfServiceWorkplacesCount": "0",
                            "TotalMaxWeightAllowed": "0",
                            "PlaceMaxWeightAllowed": "20" if postomat else "30",
                            "SendingLimitationsOnDimensions": {"Width": 40, "Height": 30, "Length": 60},
                            "ReceivingLimitationsOnDimensions": {"Width": 40, "Height": 30, "Length": 60},
                            "Reception": {day: "08:00-20:00" for day in WEEK},
                            "Delivery": {day: "09:00-19:00" for day in WEEK},
                            "Schedule": {day: "08:00-21:00" for day in WEEK},
                            "DistrictCode": "",
                            "WarehouseStatus": "Working",
                            "WarehouseStatusDate": "2020-01-01 00:00:00",
                            "WarehouseIllusha": "0",
                            "CategoryOfWarehouse": "Postomat" if postomat else "Branch",
                            "Direct": "",
                            "RegionCity": f"{name.upper()} ПОСТ",
                            "WarehouseForAgent": "0",
                            "GeneratorEnabled": "1",
                            "MaxDeclaredCost": "10000" if postomat else "0",
                            "WorkInMobileAwis": "0",
                            "DenyToSelect": "0",
                            "CanGetMoneyTransfer": "1",
                            "HasMirror": "0",
                            "HasFittingRoom": "0",
                            "OnlyReceivingParcel": "0",
                            "PostMachineType": "FullDayService" if postomat else "",
                            "PostalCodeUA": f"0{index + 1}{number:03d}",
                            "WarehouseIndex": f"{index + 1}/{number}",
                            "BeaconCode": "",
                        }
                    )
            self.counterparties = [
                {
                    "Description": "ФОП Шевченко Тарас",
                    "Ref": SENDER_REF,
                    "City": self.cities[0]["Ref"],
                    "Counterparty": SENDER_REF,
                    "FirstName": "Тарас",
                    "LastName": "Шевченко",
                    "MiddleName": "",
                    "CounterpartyFullName": "ФОП Шевченко Тарас",
                    "OwnershipFormRef": "",
                    "OwnershipFormDescription": "",
                    "EDRPOU": "",
                    "CounterpartyType": "PrivatePerson",
                    "CityDescription": "Київ",
                },
            ]
            self.contacts = [
                {
                    "Description": "Шевченко Тарас",
                    "Ref": CONTACT_SENDER_REF,
                    "Phones": SENDER_PHONE,
                    "Email": "",
                    "LastName": "Шевченко",
                    "FirstName": "Тарас",
                    "MiddleName": "",
                }
            ]
            self.waybills: dict[str, Waybill] = {}
            self._counter = 0
            kyiv, lviv = self.cities[0], self.cities[1]
            now = datetime.now(UTC)
            self.waybills[KNOWN_WAYBILL] = Waybill(
                number=KNOWN_WAYBILL,
                ref=_ref("waybill:known"),
                status_code="7",
                created=now - timedelta(days=2),
                recipient_phone=KNOWN_WAYBILL_PHONE,
                sender_phone=SENDER_PHONE,
                city_sender=kyiv["Description"],
                city_recipient=lviv["Description"],
                warehouse_recipient=self._warehouses_of(lviv["Ref"])[0],
                weight=0.5,
                cost="500",
                cost_on_site="70",
                estimated_delivery=now,
                description="Книги",
                date_scan=now - timedelta(hours=3),
            )

    def credentials(self) -> dict[str, Any]:
        return {
            "api_key": API_KEY,
            "sender_ref": SENDER_REF,
            "contact_sender_ref": CONTACT_SENDER_REF,
            "senders_phone": SENDER_PHONE,
            "city_sender_ref": self.cities[0]["Ref"],
            "sender_address_ref": self.warehouses[0]["Ref"],
            "known_waybill": KNOWN_WAYBILL,
            "known_waybill_phone": KNOWN_WAYBILL_PHONE,
        }

    def error_body(self, status: int, message: str) -> Any:
        return {
            "success": False,
            "data": [],
            "errors": [message if status != 429 else "To many requests"],
            "warnings": [],
            "info": [],
            "messageCodes": [],
            "errorCodes": [],
            "warningCodes": [],
            "infoCodes": [],
        }

    # -- test hooks --------------------------------------------------------------------

    def set_status(self, number: str, status_code: str | int, **changes: Any) -> Waybill:
        """Move a waybill to ``status_code`` ("7", "9", "102"...); 9/10/11 stamp the receipt time."""
        code = str(status_code)
        if code not in STATUS_TEXT or code == "3":
            raise ValueError(f"unknown status code {code!r}")
        with self.lock:
            waybill = self.waybills[number]
            waybill.status_code = code
            now = datetime.now(UTC)
            waybill.date_scan = now
            if code in ("9", "10", "11", "106") and waybill.recipient_date_time is None:
                waybill.recipient_date_time = now
            for key, value in changes.items():
                setattr(waybill, key, value)
            return waybill

    def add_waybill(
        self, number: str | None = None, *, status_code: str = "1", recipient_phone: str = "380671112233", **kw: Any
    ) -> Waybill:
        with self.lock:
            kyiv = self.cities[0]
            waybill = Waybill(
                number=number or self._next_number(),
                ref=str(uuid.uuid4()),
                status_code=str(status_code),
                created=datetime.now(UTC),
                recipient_phone=recipient_phone,
                sender_phone=SENDER_PHONE,
                city_sender=kyiv["Description"],
                city_recipient=kyiv["Description"],
                warehouse_recipient=self._warehouses_of(kyiv["Ref"])[0],
                weight=1.0,
                cost="300",
                cost_on_site="60",
                estimated_delivery=datetime.now(UTC) + timedelta(days=1),
            )
            for key, value in kw.items():
                setattr(waybill, key, value)
            self.waybills[waybill.number] = waybill
            return waybill

    # -- HTTP ----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/v2.0/json/", self._endpoint, methods=["POST"]),
            Route("/v2.0/json", self._endpoint, methods=["POST"]),
            Route("/v2.0/json/{model}/{method}", self._endpoint, methods=["POST"]),
            Route("/v2.0/json/{model}/{method}/", self._endpoint, methods=["POST"]),
        ]

    def control_routes(self) -> list[Route]:
        async def set_status(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data if isinstance(data, dict) else {}
            try:
                waybill = self.set_status(request.path_params["number"], data.get("status_code", "9"))
            except KeyError:
                return json_response({"error": "unknown waybill"}, 404)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
            return json_response({"Number": waybill.number, "StatusCode": waybill.status_code})

        async def waybills(request: Request) -> Response:
            with self.lock:
                return json_response(
                    [
                        {"Number": w.number, "Ref": w.ref, "StatusCode": w.status_code, "Phone": w.recipient_phone}
                        for w in self.waybills.values()
                    ]
                )

        return [
            Route("/__sim__/waybills", waybills, methods=["GET"]),
            Route("/__sim__/waybills/{number}/status", set_status, methods=["POST"]),
        ]

    async def _endpoint(self, request: Request) -> Response:
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict):
            return _fail(E_JSON)
        if str(data.get("apiKey") or "") not in self.api_keys:
            return _fail(E_AUTH)
        model = data.get("modelName") or request.path_params.get("model")
        method = data.get("calledMethod") or request.path_params.get("method")
        props = data.get("methodProperties") or {}
        if isinstance(props, list):  # PHP clients send [] for an empty object
            props = {}
        if not isinstance(props, dict):
            return _fail(("MethodProperties is not valid", "20000900002"))
        handler = {
            ("InternetDocument", "save"): self._save,
            ("InternetDocument", "delete"): self._delete,
            ("TrackingDocument", "getStatusDocuments"): self._track,
            ("Address", "searchSettlements"): self._search_settlements,
            ("Address", "getCities"): self._get_cities,
            ("AddressGeneral", "getWarehouses"): self._get_warehouses,
            ("Address", "getWarehouses"): self._get_warehouses,
            ("Counterparty", "getCounterparties"): self._get_counterparties,
            ("Counterparty", "getCounterpartyContactPersons"): self._get_contacts,
        }.get((model, method))
        if handler is None:
            return _fail(E_METHOD)
        with self.lock:
            return handler(props)

    # -- addresses -------------------------------------------------------------------------

    def _warehouses_of(self, city_ref: str) -> list[dict[str, Any]]:
        return [w for w in self.warehouses if w["CityRef"] == city_ref]

    def _search_settlements(self, props: dict[str, Any]) -> Response:
        name = str(props.get("CityName") or "").strip().lower()
        if not name:
            return _fail(("CityName is empty", "20000400101"))
        found = [s for s in self.settlements if s["MainDescription"].lower().startswith(name)]
        return _envelope([{"TotalCount": len(found), "Addresses": _page(found, props)}])

    def _get_cities(self, props: dict[str, Any]) -> Response:
        text = str(props.get("FindByString") or "").strip().lower()
        ref = props.get("Ref")
        found = [
            c
            for c in self.cities
            if (not ref or c["Ref"] == ref)
            and (not text or c["Description"].lower().startswith(text) or c["DescriptionRu"].lower().startswith(text))
        ]
        return _envelope(_page(found, props), info={"totalCount": len(found)})

    def _get_warehouses(self, props: dict[str, Any]) -> Response:
        rows = self.warehouses
        if props.get("CityRef"):
            rows = [w for w in rows if w["CityRef"] == props["CityRef"]]
        if props.get("SettlementRef"):
            rows = [w for w in rows if w["SettlementRef"] == props["SettlementRef"]]
        if props.get("CityName"):
            name = str(props["CityName"]).strip().lower()
            rows = [w for w in rows if w["CityDescription"].lower() == name or w["CityDescriptionRu"].lower() == name]
        if props.get("WarehouseId"):
            rows = [w for w in rows if w["Number"] == str(props["WarehouseId"])]
        if props.get("TypeOfWarehouseRef"):
            rows = [w for w in rows if w["TypeOfWarehouse"] == props["TypeOfWarehouseRef"]]
        if props.get("FindByString"):
            text = str(props["FindByString"]).lower()
            rows = [w for w in rows if text in w["Description"].lower() or text in w["Number"]]
        if props.get("Ref"):
            rows = [w for w in rows if w["Ref"] == props["Ref"]]
        return _envelope(_page(rows, props), info={"totalCount": len(rows)})

    def _get_counterparties(self, props: dict[str, Any]) -> Response:
        if props.get("CounterpartyProperty") not in ("Sender", "Recipient"):
            return _fail(("CounterpartyProperty is invalid", "20000400102"))
        rows = self.counterparties if props["CounterpartyProperty"] == "Sender" else []
        return _envelope(_page(rows, props), info={"totalCount": len(rows)})

    def _get_contacts(self, props: dict[str, Any]) -> Response:
        if props.get("Ref") != SENDER_REF:
            return _fail(("Counterparty not found", "20000400103"))
        return _envelope(_page(self.contacts, props), info={"totalCount": len(self.contacts)})

    # -- waybills ----------------------------------------------------------------------------

    def _next_number(self) -> str:
        self._counter += 1
        return f"2045{self._counter:010d}"

    def _save(self, props: dict[str, Any]) -> Response:
        errors: list[tuple[str, str]] = []

        def need(name: str) -> Any:
            value = props.get(name)
            if value is None or value == "":
                errors.append((f"{name} is empty", "20000200" + str(100 + len(errors))))
            return value

        for name, allowed in (
            ("PayerType", PAYER_TYPES),
            ("PaymentMethod", PAYMENT_METHODS),
            ("CargoType", CARGO_TYPES),
            ("ServiceType", SERVICE_TYPES),
        ):
            value = need(name)
            if value not in (None, "") and value not in allowed:
                errors.append((f"{name} is invalid", "20000300" + str(100 + len(errors))))
        weight = need("Weight")
        try:
            weight_value = float(weight) if weight not in (None, "") else 0.0
            if weight not in (None, "") and weight_value <= 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(("Weight is invalid", "20000300201"))
            weight_value = 0.0
        need("SeatsAmount")
        need("Description")
        cost = need("Cost")
        try:
            cost_value = float(cost) if cost not in (None, "") else 0.0
        except (TypeError, ValueError):
            errors.append(("Cost is invalid", "20000300202"))
            cost_value = 0.0
        for name in ("CitySender", "Sender", "SenderAddress", "ContactSender"):
            value = need(name)
            if value and not _UUID.match(str(value)):
                errors.append((f"{name} is invalid", "20000300203"))
        senders_phone = need("SendersPhone")
        if senders_phone and not _UA_PHONE.match(str(senders_phone)):
            errors.append(("SendersPhone is invalid", "20000300204"))
        recipients_phone = need("RecipientsPhone")
        if recipients_phone and not _UA_PHONE.match(str(recipients_phone)):
            errors.append(("RecipientsPhone is invalid", "20000300205"))
        inline = str(props.get("NewAddress", "")) == "1"
        city_recipient = None
        warehouse = None
        if inline:
            for name in ("RecipientCityName", "RecipientName", "RecipientType"):
                need(name)
            name = str(props.get("RecipientCityName") or "").lower()
            city_recipient = next((c for c in self.cities if c["Description"].lower() == name), None)
            if props.get("RecipientCityName") and city_recipient is None:
                errors.append(("RecipientCityName is invalid", "20000300206"))
        else:
            for name in ("CityRecipient", "Recipient", "RecipientAddress", "ContactRecipient"):
                value = need(name)
                if value and not _UUID.match(str(value)):
                    errors.append((f"{name} is invalid", "20000300203"))
            city_recipient = next((c for c in self.cities if c["Ref"] == props.get("CityRecipient")), None)
            warehouse = next((w for w in self.warehouses if w["Ref"] == props.get("RecipientAddress")), None)
        date_text = props.get("DateTime")
        try:
            date = datetime.strptime(str(date_text), "%d.%m.%Y").replace(tzinfo=UTC) if date_text else None
        except ValueError:
            errors.append(("DateTime is invalid", "20000300207"))
            date = None
        if errors:
            return _fail(*errors)

        now = datetime.now(UTC)
        ship_date = date or now
        same_city = city_recipient is not None and props.get("CitySender") == city_recipient["Ref"]
        estimated = ship_date + timedelta(days=1 if same_city else 2)
        cost_on_site = max(60, round(45 + 15 * weight_value + 0.005 * cost_value))
        if city_recipient is not None and warehouse is None:
            warehouse = next(iter(self._warehouses_of(city_recipient["Ref"])), None)
        sender_city = next((c for c in self.cities if c["Ref"] == props.get("CitySender")), self.cities[0])
        waybill = Waybill(
            number=self._next_number(),
            ref=str(uuid.uuid4()),
            status_code="1",
            created=now,
            recipient_phone=str(recipients_phone),
            sender_phone=str(senders_phone),
            city_sender=sender_city["Description"],
            city_recipient=city_recipient["Description"] if city_recipient else "",
            warehouse_recipient=warehouse,
            weight=weight_value,
            cost=str(int(cost_value)) if cost_value == int(cost_value) else str(cost_value),
            cost_on_site=str(cost_on_site),
            estimated_delivery=estimated,
            payer_type=str(props["PayerType"]),
            payment_method=str(props["PaymentMethod"]),
            service_type=str(props["ServiceType"]),
            cargo_type=str(props["CargoType"]),
            description=str(props["Description"]),
            seats=str(props["SeatsAmount"]),
            recipient_name=str(props.get("RecipientName") or "Одержувач"),
            properties=dict(props),
        )
        self.waybills[waybill.number] = waybill
        return _envelope(
            [
                {
                    "Ref": waybill.ref,
                    "CostOnSite": waybill.cost_on_site,
                    "EstimatedDeliveryDate": _kyiv(estimated).strftime("%d.%m.%Y"),
                    "IntDocNumber": waybill.number,
                    "TypeDocument": "InternetDocument",
                }
            ]
        )

    def _delete(self, props: dict[str, Any]) -> Response:
        refs = props.get("DocumentRefs")
        if isinstance(refs, str):
            refs = [refs]
        if not refs or not isinstance(refs, list):
            return _fail(("DocumentRefs is empty", "20000200110"))
        by_ref = {w.ref: w for w in self.waybills.values()}
        for ref in refs:
            waybill = by_ref.get(str(ref))
            if waybill is None or waybill.status_code == "2":
                return _fail(E_DOC_NOT_FOUND)
            if waybill.status_code != "1":
                return _fail(E_CANNOT_DELETE)
        for ref in refs:
            by_ref[str(ref)].status_code = "2"
        return _envelope([{"Ref": str(ref)} for ref in refs])

    # -- tracking ----------------------------------------------------------------------------

    def _track(self, props: dict[str, Any]) -> Response:
        documents = props.get("Documents")
        if not documents or not isinstance(documents, list):
            return _fail(("Documents is empty", "20000200157"))
        if len(documents) > MAX_TRACKING_DOCUMENTS:
            return _fail(E_DOCS_LIMIT)
        bad = [
            str(d.get("DocumentNumber", "")) if isinstance(d, dict) else str(d)
            for d in documents
            if not isinstance(d, dict) or not _DOC_NUMBER.match(str(d.get("DocumentNumber", "")))
        ]
        if bad:
            return _fail(E_DOC_NUMBER, warnings=[f"Invalid DocumentNumber: {number}" for number in bad])
        items: list[dict[str, Any]] = []
        warnings: list[dict[str, str]] = []
        for document in documents:
            number = str(document["DocumentNumber"])
            phone = str(document.get("Phone") or "").lstrip("+")
            waybill = self.waybills.get(number)
            if waybill is None:
                items.append({"Number": number, "StatusCode": "3", "Status": STATUS_TEXT["3"]})
                continue
            full = bool(phone) and phone in (waybill.recipient_phone, waybill.sender_phone)
            items.append(self._tracking_item(waybill, full))
            if not full:
                warnings.append(
                    {f"ID_{number}": "Номер телефону не вказано або він не збігається з номером у накладній"}
                )
        return _envelope(items, warnings=warnings)

    def _tracking_item(self, waybill: Waybill, full: bool) -> dict[str, Any]:
        warehouse = waybill.warehouse_recipient or {}
        # Nova Poshta writes every time as Kyiv wall-clock time, without a zone.
        received = _kyiv(waybill.recipient_date_time)
        created, estimated = _kyiv(waybill.created), _kyiv(waybill.estimated_delivery)
        scan = _kyiv(waybill.date_scan or waybill.created)
        item: dict[str, Any] = {
            "Number": waybill.number,
            "StatusCode": waybill.status_code,
            "Status": STATUS_TEXT[waybill.status_code],
            "DateCreated": created.strftime("%d-%m-%Y %H:%M:%S"),
            "ScheduledDeliveryDate": estimated.strftime("%d-%m-%Y 13:00:00"),
            "ActualDeliveryDate": received.strftime("%Y-%m-%d %H:%M:%S") if received else "",
            "RecipientDateTime": received.strftime("%d.%m.%Y %H:%M:%S") if received else "",
            "CitySender": waybill.city_sender,
            "CityRecipient": waybill.city_recipient,
            "WarehouseRecipient": warehouse.get("Description", ""),
            "WarehouseRecipientNumber": int(warehouse["Number"]) if warehouse else 0,
            "WarehouseRecipientRef": warehouse.get("Ref", ""),
            "DocumentWeight": waybill.weight,
            "CheckWeight": waybill.weight,
            "ServiceType": waybill.service_type,
            "CargoType": waybill.cargo_type,
            "PayerType": waybill.payer_type,
            "SeatsAmount": waybill.seats,
            "TrackingUpdateDate": scan.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if not full:
            return item
        item.update(
            {
                "DocumentCost": waybill.cost_on_site,
                "AnnouncedPrice": waybill.cost,
                "PaymentMethod": waybill.payment_method,
                "CargoDescriptionString": waybill.description,
                "DateScan": scan.strftime("%H:%M %d.%m.%Y"),
                "DateFirstDayStorage": (estimated + timedelta(days=1)).strftime("%Y-%m-%d"),
                "DatePayedKeeping": (estimated + timedelta(days=6)).strftime("%Y-%m-%d %H:%M:%S"),
                "RecipientFullName": waybill.recipient_name,
                "RecipientFullNameEW": waybill.recipient_name,
                "SenderFullNameEW": waybill.sender_name,
                "PhoneRecipient": waybill.recipient_phone,
                "PhoneSender": waybill.sender_phone,
                "RecipientAddress": f"м. {waybill.city_recipient}, {warehouse.get('Description', '')}",
                "WarehouseRecipientAddress": warehouse.get("ShortAddress", ""),
                "WarehouseRecipientInternetAddressRef": warehouse.get("Ref", ""),
                "WarehouseSender": "Відділення №1: вул. Хрещатик, 22",
                "CounterpartyType": "PrivatePerson",
                "CounterpartySenderType": "PrivatePerson",
                "CounterpartyRecipientDescription": "Приватна особа",
                "AfterpaymentOnGoodsCost": waybill.afterpayment,
                "RedeliverySum": 0,
                "RedeliveryNum": "",
                "Redelivery": 0,
                "RedeliveryPayer": "",
                "PaymentStatus": "",
                "PaymentStatusDate": "",
                "AmountToPay": "",
                "AmountPaid": "",
                "RefEW": waybill.ref,
                "LastCreatedOnTheBasisDocumentType": "",
                "LastCreatedOnTheBasisNumber": "",
                "LastCreatedOnTheBasisPayerType": "",
                "LastCreatedOnTheBasisDateTime": "",
                "UndeliveryReasonsSubtypeDescription": "",
                "UndeliveryReasons": "",
                "UndeliveryReasonsDate": "",
                "OwnerDocumentType": "",
                "OwnerDocumentNumber": "",
                "FactualWeight": str(waybill.weight),
                "VolumeWeight": str(waybill.weight),
                "StorageAmount": "",
                "StoragePrice": "",
                "FreeShipping": "",
                "InternationalDeliveryType": "",
                "DaysStorageCargo": "",
                "DeliveryTimeframe": "",
                "CardMaskedNumber": "",
                "MarketplacePartnerToken": "",
                "PossibilityCreateReturn": waybill.status_code in ("9", "10", "11"),
                "PossibilityCreateRefusal": waybill.status_code in ("7", "8"),
                "PossibilityChangeEW": waybill.status_code in ("1", "4", "5", "6", "7"),
                "PossibilityCreateRedirecting": waybill.status_code in ("7", "8"),
                "CreatedOnTheBasis": "",
                "SumBeforeCheckWeight": float(waybill.cost_on_site),
                "ClientBarcode": "",
                "OrderNumber": str(random.Random(waybill.number).randint(100000, 999999)),
            }
        )
        return item
