"""The ``novaposhta`` plugin's hooks (see server/plugins/hookspecs.py for the contract).

Settings an organization fills in (``crm_config_schema``): the API key (secret) and the
sender's refs Nova Poshta needs on every waybill, which the admin finds in the Nova Poshta
business account or through ``Counterparty.getCounterparties`` / ``getCounterpartyContactPersons``.
docs/delivery.md walks through it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from plugins.novaposhta.api import DEFAULT_API_URL, MAX_TRACKING_DOCUMENTS, NovaPoshtaAPI
from server.i18n import _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.types import (
    DELIVERY,
    Branch,
    City,
    ConfigField,
    ConnectionResult,
    PluginError,
    PluginInfo,
    Shipment,
    ShipmentRequest,
    TrackingQuery,
    TrackingStatus,
)

NAME = "novaposhta"
VERSION = "1.0.0"
WAYBILL_NUMBER = re.compile(r"^\d{11,14}$")
KYIV = ZoneInfo("Europe/Kyiv")  # Nova Poshta dates and times are Kyiv local time

# Nova Poshta StatusCode (a string) -> types.DELIVERY_STATUSES.
STATUS_MAP: dict[str, str] = {
    "1": "created",  # created by the sender, not handed over yet
    "2": "cancelled",  # deleted
    "3": "not_found",
    "4": "in_transit",  # in the sender's city
    "41": "in_transit",
    "5": "in_transit",  # on its way to the recipient's city
    "6": "in_transit",  # in the recipient's city
    "7": "arrived",  # at the branch
    "8": "arrived",  # in a parcel locker
    "9": "delivered",
    "10": "delivered",  # received, cash-on-delivery transfer on its way
    "11": "delivered",  # received, cash-on-delivery paid out
    "12": "created",  # being assembled by Nova Poshta
    "101": "out_for_delivery",  # courier on the way
    "102": "refused",  # refusal, the sender created a return
    "103": "refused",  # the recipient refused
    "104": "in_transit",  # address changed
    "105": "returning",  # storage stopped
    "106": "delivered",  # received, a return waybill was created
    "111": "in_transit",  # delivery failed, recipient absent: another attempt follows
    "112": "in_transit",  # delivery date moved by the recipient
}

# StatusCode -> where the cash-on-delivery money stands (TrackingStatus.cash_on_delivery).
CASH_ON_DELIVERY = {"10": "transferring", "11": "paid_out"}

PAYER_TYPES = ("Recipient", "Sender", "ThirdPerson")
PAYMENT_METHODS = ("Cash", "NonCash")
CARGO_TYPES = ("Parcel", "Cargo", "Documents", "TiresWheels", "Pallet")
SERVICE_TYPES = ("WarehouseWarehouse", "WarehouseDoors", "DoorsWarehouse", "DoorsDoors", "WarehousePostomat")


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        title="Nova Poshta",
        version=VERSION,
        capabilities=(DELIVERY,),
        api_version=API_VERSION,
        description="Create and cancel Nova Poshta waybills (ТТН), track them, pick cities and branches.",
        homepage="https://developers.novaposhta.ua/",
    )


@hookimpl
def crm_config_schema() -> list[ConfigField]:
    return [
        ConfigField(
            "api_key",
            secret=True,
            required=True,
            label="API key",
            help="Nova Poshta business account → Settings → Security → API key.",
        ),
        ConfigField(
            "api_url",
            type="url",
            default=DEFAULT_API_URL,
            label="API URL",
            help="Nova Poshta's JSON endpoint; change only for testing.",
        ),
        ConfigField(
            "sender_ref",
            required=True,
            label="Sender (counterparty ref)",
            help="Ref of your sender counterparty (Counterparty.getCounterparties, CounterpartyProperty=Sender).",
        ),
        ConfigField(
            "contact_sender_ref",
            required=True,
            label="Sender contact person (ref)",
            help="Ref of the contact person (Counterparty.getCounterpartyContactPersons).",
        ),
        ConfigField("senders_phone", type="phone", required=True, label="Sender phone"),
        ConfigField(
            "city_sender_ref",
            required=True,
            label="Sender city (ref)",
            help="The city you ship from (Address.getCities / searchSettlements DeliveryCity).",
        ),
        ConfigField(
            "sender_address_ref",
            required=True,
            label="Sender branch (ref)",
            help="The branch you hand parcels over at (Address.getWarehouses Ref).",
        ),
        ConfigField("payer_type", type="choice", choices=PAYER_TYPES, default="Recipient", label="Who pays delivery"),
        ConfigField("payment_method", type="choice", choices=PAYMENT_METHODS, default="Cash", label="Payment method"),
        ConfigField("cargo_type", type="choice", choices=CARGO_TYPES, default="Parcel", label="Cargo type"),
        ConfigField(
            "service_type", type="choice", choices=SERVICE_TYPES, default="WarehouseWarehouse", label="Service type"
        ),
        ConfigField("default_weight_kg", type="number", default=1.0, label="Default weight, kg"),
        ConfigField("default_description", default="Товари", label="Default cargo description"),
        ConfigField(
            "timeout_seconds",
            type="number",
            default=10.0,
            label="Timeout, seconds",
            help="How long to wait for Nova Poshta per attempt (below the CRM's 30 s hook limit).",
        ),
    ]


# -- helpers -----------------------------------------------------------------------------


def _api(config: dict, secrets: dict) -> NovaPoshtaAPI:
    return NovaPoshtaAPI(
        str(secrets.get("api_key") or ""),
        str(config.get("api_url") or DEFAULT_API_URL),
        timeout=float(config.get("timeout_seconds") or 10.0),
    )


def _np_phone(phone: str | None) -> str:
    """Nova Poshta writes phones as ``380XXXXXXXXX``; the CRM keeps E.164 ``+380...``."""
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    return digits


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    try:
        return datetime.strptime(str(value), "%d.%m.%Y").date() if value else None
    except ValueError:
        return None


def _moment(item: dict) -> datetime | None:
    """When the status last changed: ``DateScan`` (``HH:MM dd.mm.YYYY``) or
    ``TrackingUpdateDate`` (``YYYY-mm-dd HH:MM:SS``), Kyiv time."""
    for key, fmt in (("DateScan", "%H:%M %d.%m.%Y"), ("TrackingUpdateDate", "%Y-%m-%d %H:%M:%S")):
        value = item.get(key)
        if value:
            try:
                return datetime.strptime(str(value), fmt).replace(tzinfo=KYIV)
            except ValueError:
                continue
    return None


def map_status(provider_status: str) -> str:
    return STATUS_MAP.get(str(provider_status).strip(), "unknown")


def _sender(config: dict) -> dict:
    missing = [
        name
        for name in ("sender_ref", "contact_sender_ref", "senders_phone", "city_sender_ref", "sender_address_ref")
        if not config.get(name)
    ]
    if missing:
        raise PluginError(
            _("Fill in the Nova Poshta sender settings first: %(missing)s.", missing=", ".join(missing)), code="CONFIG"
        )
    return {
        "Sender": config["sender_ref"],
        "ContactSender": config["contact_sender_ref"],
        "SendersPhone": _np_phone(config["senders_phone"]),
        "CitySender": config["city_sender_ref"],
        "SenderAddress": config["sender_address_ref"],
    }


# -- hooks -------------------------------------------------------------------------------


@hookimpl
async def crm_test_connection(config: dict, secrets: dict) -> ConnectionResult:
    """Reads the sender counterparties (changes nothing) and checks the configured sender is one."""
    async with _api(config, secrets) as api:
        senders = await api.data("Counterparty", "getCounterparties", {"CounterpartyProperty": "Sender", "Page": "1"})
    refs = {str(s.get("Ref")) for s in senders if isinstance(s, dict)}
    sender = config.get("sender_ref")
    if sender and sender not in refs:
        return ConnectionResult(
            ok=False,
            message=_(
                "The API key works, but the sender ref is not one of this account's senders: known senders are "
                "%(senders)s.",
                senders=", ".join(sorted(refs)) or _("none"),
            ),
        )
    return ConnectionResult(
        ok=True, message=_("Connected to Nova Poshta; %(n)s sender(s) on the account.", n=len(refs))
    )


@hookimpl
async def crm_delivery_create_shipment(config: dict, secrets: dict, shipment: ShipmentRequest) -> Shipment:
    if shipment.cash_on_delivery and (shipment.currency or "UAH").upper() != "UAH":
        raise PluginError(
            _(
                "Nova Poshta collects cash on delivery in hryvnias only; the order is in %(currency)s.",
                currency=shipment.currency,
            ),
            code="INVALID_CURRENCY",
        )
    phone = _np_phone(shipment.recipient_phone)
    weight = (
        shipment.weight_kg if shipment.weight_kg is not None else Decimal(str(config.get("default_weight_kg") or 1))
    )
    payer = {"recipient": "Recipient", "sender": "Sender"}.get((shipment.payer or "").lower()) or config.get(
        "payer_type", "Recipient"
    )
    props: dict[str, Any] = {
        "PayerType": payer,
        "PaymentMethod": config.get("payment_method") or "Cash",
        "DateTime": datetime.now(KYIV).strftime("%d.%m.%Y"),
        "CargoType": config.get("cargo_type") or "Parcel",
        "Weight": str(weight),
        "ServiceType": shipment.extra.get("service_type") or config.get("service_type") or "WarehouseWarehouse",
        "SeatsAmount": str(max(1, int(shipment.seats or 1))),
        "Description": shipment.description or config.get("default_description") or "Товари",
        "Cost": str(shipment.declared_value),
        **_sender(config),
        "RecipientsPhone": phone,
        "InfoRegClientBarcodes": str(shipment.order_number),  # our order number, printed on the label
    }
    if shipment.extra.get("recipient_ref") and shipment.extra.get("contact_recipient_ref"):
        # A recipient counterparty made earlier (Counterparty.save): the documented ref variant.
        props.update(
            {
                "CityRecipient": shipment.city_ref,
                "Recipient": shipment.extra["recipient_ref"],
                "RecipientAddress": shipment.branch_ref,
                "ContactRecipient": shipment.extra["contact_recipient_ref"],
            }
        )
    else:
        # The inline variant: Nova Poshta creates the private-person recipient itself.
        if not shipment.city:
            raise PluginError(_("The recipient's city is needed for a Nova Poshta waybill."), code="CITY")
        props.update(
            {
                "NewAddress": "1",
                "RecipientCityName": shipment.city,
                "RecipientAddressName": shipment.extra.get("branch_number") or shipment.branch or "",
                "RecipientName": shipment.recipient_name,
                "RecipientType": "PrivatePerson",
            }
        )
        if shipment.city_ref:
            props["CityRecipient"] = shipment.city_ref
        if shipment.branch_ref:
            props["RecipientAddress"] = shipment.branch_ref
    if shipment.cash_on_delivery:
        props["BackwardDeliveryData"] = [
            {"PayerType": "Recipient", "CargoType": "Money", "RedeliveryString": str(shipment.cash_on_delivery)}
        ]
    async with _api(config, secrets) as api:
        data = await api.data("InternetDocument", "save", props, retry=False)  # not idempotent: never repeat
    if not data or not isinstance(data[0], dict) or not data[0].get("IntDocNumber"):
        raise PluginError(_("Nova Poshta answered success without a waybill number."), code="BAD_RESPONSE")
    item = data[0]
    return Shipment(
        waybill_number=str(item["IntDocNumber"]),
        provider_ref=str(item.get("Ref") or "") or None,
        cost=_decimal(item.get("CostOnSite")),
        currency="UAH",
        estimated_delivery=_date(item.get("EstimatedDeliveryDate")),
        raw=item,
    )


async def _track_chunk(api: NovaPoshtaAPI, documents: list[dict]) -> list[dict]:
    return [i for i in await api.data("TrackingDocument", "getStatusDocuments", {"Documents": documents}) if i]


@hookimpl
async def crm_delivery_cancel_shipment(config: dict, secrets: dict, waybill_number: str) -> None:
    """Nova Poshta deletes by the document's Ref, so look it up first (the sender's phone shows
    the full tracking item, ``RefEW`` included); only waybills not handed over (status 1) go."""
    number = str(waybill_number).strip()
    async with _api(config, secrets) as api:
        items = await _track_chunk(api, [{"DocumentNumber": number, "Phone": _np_phone(config.get("senders_phone"))}])
        item = next((i for i in items if str(i.get("Number")) == number), None)
        status = str(item.get("StatusCode")) if item else "3"
        if status == "3":
            raise PluginError(_("Nova Poshta knows no waybill %(number)s.", number=number), code="NOT_FOUND")
        if status == "2":
            return  # already deleted: cancelling twice is fine
        if status != "1" or not item.get("RefEW"):
            raise PluginError(
                _(
                    "Waybill %(number)s cannot be cancelled: Nova Poshta says '%(status)s'. Only waybills not yet "
                    "handed over can be deleted.",
                    number=number,
                    status=item.get("Status", status),
                ),
                code="CANNOT_CANCEL",
            )
        await api.data("InternetDocument", "delete", {"DocumentRefs": [item["RefEW"]]})


@hookimpl
async def crm_delivery_track(config: dict, secrets: dict, queries: list[TrackingQuery]) -> list[TrackingStatus]:
    """All the waybills, 100 per call (Nova Poshta's limit). With the recipient's phone (or,
    failing that, the sender's) Nova Poshta shows the full item."""
    sender_phone = _np_phone(config.get("senders_phone"))
    out: list[TrackingStatus] = []
    documents = []
    for q in queries:
        number = str(q.waybill_number).strip()
        if not WAYBILL_NUMBER.match(number):
            # Nova Poshta fails the whole call for one malformed number: answer it here instead.
            out.append(TrackingStatus(number, "not_found", "3", "Not a Nova Poshta waybill number"))
            continue
        documents.append({"DocumentNumber": number, "Phone": _np_phone(q.phone) or sender_phone})
    async with _api(config, secrets) as api:
        for start in range(0, len(documents), MAX_TRACKING_DOCUMENTS):
            for item in await _track_chunk(api, documents[start : start + MAX_TRACKING_DOCUMENTS]):
                code = str(item.get("StatusCode", "")).strip()
                out.append(
                    TrackingStatus(
                        waybill_number=str(item.get("Number", "")),
                        status=map_status(code),
                        provider_status=code,
                        description=str(item.get("Status") or ""),
                        changed_at=_moment(item),
                        raw=item,
                        cash_on_delivery=CASH_ON_DELIVERY.get(code, ""),
                    )
                )
    return out


@hookimpl
def crm_delivery_map_status(provider_status: str) -> str:
    return map_status(provider_status)


@hookimpl
def crm_delivery_check_number(waybill_number: str) -> str | None:
    if WAYBILL_NUMBER.match(str(waybill_number)):
        return None
    return _("A Nova Poshta waybill number is 11 to 14 digits.")


@hookimpl
async def crm_delivery_search_cities(config: dict, secrets: dict, query: str, limit: int) -> list[City]:
    text = (query or "").strip()
    if not text:
        return []
    props = {"CityName": text, "Limit": str(max(1, min(int(limit or 20), 100))), "Page": "1"}
    async with _api(config, secrets) as api:
        data = await api.data("Address", "searchSettlements", props)
    addresses = data[0].get("Addresses", []) if data and isinstance(data[0], dict) else []
    return [
        City(
            ref=str(a.get("DeliveryCity") or a.get("Ref")),
            name=str(a.get("MainDescription") or a.get("Present") or ""),
            region=str(a.get("Area") or ""),
            raw=a,
        )
        for a in addresses
        if a.get("DeliveryCity") or a.get("Ref")
    ]


@hookimpl
async def crm_delivery_branches(config: dict, secrets: dict, city_ref: str, query: str, limit: int) -> list[Branch]:
    props: dict[str, Any] = {"CityRef": city_ref, "Limit": str(max(1, min(int(limit or 50), 500))), "Page": "1"}
    if query and query.strip():
        props["FindByString"] = query.strip()
    async with _api(config, secrets) as api:
        data = await api.data("Address", "getWarehouses", props)
    return [
        Branch(
            ref=str(w["Ref"]),
            name=str(w.get("Description") or ""),
            number=str(w.get("Number") or ""),
            address=str(w.get("ShortAddress") or ""),
            city_ref=str(w.get("CityRef") or city_ref),
            raw=w,
        )
        for w in data
        if isinstance(w, dict) and w.get("Ref")
    ]
