"""The ``ukrposhta`` plugin's hooks (see server/plugins/hookspecs.py for the contract).

Tracking only: the protocol the CRM has is Ukrposhta's status-tracking API. Its eCom API
(creating shipments, labels) is not documented for us, so a seller creates the parcel in
Ukrposhta's cabinet or at a branch and attaches the barcode to the order with
``registerShipment``; ``createShipment`` is refused with a message saying so. There is no city
or branch search either (that is Ukrposhta's address classifier, another API and token).

Settings: the StatusTracking bearer token (secret), the API URL and a timeout."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from plugins.ukrposhta.api import DEFAULT_API_URL, UkrposhtaAPI
from server.i18n import _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.types import (
    DELIVERY,
    ConfigField,
    ConnectionResult,
    PluginError,
    PluginInfo,
    Shipment,
    ShipmentRequest,
    TrackingQuery,
    TrackingStatus,
)

NAME = "ukrposhta"
VERSION = "1.0.0"
KYIV = ZoneInfo("Europe/Kyiv")  # an event date without an offset is Kyiv local time
# Domestic barcodes are 13 digits; international ones follow UPU S10 (RB123456789UA).
BARCODE = re.compile(r"^(\d{13}|[A-Z]{2}\d{9}[A-Z]{2})$")

# Ukrposhta event code -> types.DELIVERY_STATUSES. The provider notes list 20700 and 21500 as
# "in transit or out for delivery" without saying which is which: both are in transit here
# (the default order rule treats both the same anyway).
STATUS_MAP: dict[str, str] = {
    "10100": "in_transit",  # accepted at the post office: the parcel is on its way
    "20700": "in_transit",
    "21500": "in_transit",
    "21700": "arrived",  # at the branch, waiting for the addressee
    "41000": "delivered",  # handed to the addressee
    "31200": "returning",  # sent back to the sender
}


def map_status(provider_status: str) -> str:
    return STATUS_MAP.get(str(provider_status).strip(), "unknown")


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        title="Ukrposhta",
        version=VERSION,
        capabilities=(DELIVERY,),
        api_version=API_VERSION,
        description="Track Ukrposhta parcels by barcode. Parcels are created in Ukrposhta's cabinet or at a branch "
        "and attached to orders with registerShipment.",
        homepage="https://www.ukrposhta.ua/",
    )


@hookimpl
def crm_config_schema() -> list[ConfigField]:
    return [
        ConfigField(
            "token",
            secret=True,
            required=True,
            label="StatusTracking token",
            help="The bearer token for status tracking from your Ukrposhta contract (not the eCom one).",
        ),
        ConfigField(
            "api_url",
            type="url",
            default=DEFAULT_API_URL,
            label="API URL",
            help="Ukrposhta's status-tracking base URL; change only for testing.",
        ),
        ConfigField(
            "timeout_seconds",
            type="number",
            default=10.0,
            label="Timeout, seconds",
            help="How long to wait for Ukrposhta per attempt (below the CRM's 30 s hook limit).",
        ),
    ]


def _api(config: dict, secrets: dict) -> UkrposhtaAPI:
    return UkrposhtaAPI(
        str(secrets.get("token") or ""),
        str(config.get("api_url") or DEFAULT_API_URL),
        timeout=float(config.get("timeout_seconds") or 10.0),
    )


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=KYIV)
    return moment


def _status(event: dict) -> TrackingStatus:
    code = str(event.get("event", "")).strip()
    where = " ".join(str(event.get(k) or "") for k in ("index", "name")).strip()
    text = str(event.get("eventName") or "")
    return TrackingStatus(
        waybill_number=str(event.get("barcode", "")).strip(),
        status=map_status(code),
        provider_status=code,
        description=f"{text} ({where})" if text and where else text or where,
        changed_at=_moment(event.get("date")),
        raw=event,
    )


@hookimpl
async def crm_test_connection(config: dict, secrets: dict) -> ConnectionResult:
    """An empty batch status request: it needs the token and changes nothing."""
    async with _api(config, secrets) as api:
        await api.check_token()
    return ConnectionResult(ok=True, message=_("Connected to Ukrposhta status tracking; the token is accepted."))


@hookimpl
async def crm_delivery_create_shipment(shipment: ShipmentRequest) -> Shipment:
    raise PluginError(
        _(
            "Ukrposhta parcels cannot be created from the CRM: create the parcel in Ukrposhta's cabinet or at a "
            "branch, then attach its barcode to the order (registerShipment)."
        ),
        code="NOT_SUPPORTED",
    )


@hookimpl
async def crm_delivery_track(config: dict, secrets: dict, queries: list[TrackingQuery]) -> list[TrackingStatus]:
    """The last event of every barcode, in batch calls; a barcode Ukrposhta does not know (or
    that is not a barcode at all) is ``not_found``."""
    out: list[TrackingStatus] = []
    barcodes: list[str] = []
    for q in queries:
        number = str(q.waybill_number).strip().upper()
        if BARCODE.match(number):
            barcodes.append(number)
    found: dict[str, TrackingStatus] = {}
    if barcodes:
        async with _api(config, secrets) as api:
            for event in await api.last_statuses(barcodes):
                status = _status(event)
                found[status.waybill_number.upper()] = status
    for q in queries:
        number = str(q.waybill_number).strip().upper()
        status = found.get(number)
        # Answered under the number as the CRM asked for it (its lookup is by that string).
        out.append(
            replace(status, waybill_number=q.waybill_number)
            if status
            else TrackingStatus(q.waybill_number, "not_found", "", "")
        )
    return out


@hookimpl
def crm_delivery_map_status(provider_status: str) -> str:
    return map_status(provider_status)


@hookimpl
def crm_delivery_check_number(waybill_number: str) -> str | None:
    if BARCODE.match(str(waybill_number).strip().upper()):
        return None
    return _("An Ukrposhta barcode is 13 digits, or 2 letters, 9 digits and 2 letters (RB123456789UA).")
