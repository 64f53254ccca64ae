"""The CRM plugin API.

This file IS the API: every function below is a hook a plugin may implement. A plugin is a
Python module (or an object) whose functions carry the ``@hookimpl`` marker and have the name
of a hook; it is published under the ``crm.plugins`` entry point group::

    # pyproject.toml of your package
    [project.entry-points."crm.plugins"]
    smsfly = "crm_smsfly.plugin"          # the entry point name is the plugin's name

    # crm_smsfly/plugin.py
    from server.plugins.hookspecs import hookimpl
    from server.plugins.types import ConfigField, PluginInfo, SentMessage

    @hookimpl
    def crm_plugin_info():
        return PluginInfo(
            name="smsfly", title="SMS-Fly", version="1.0.0", api_version="1.0",
            capabilities=("messaging",), channels=("sms",),
        )

    @hookimpl
    async def crm_messaging_send(config, secrets, message):
        ...
        return SentMessage(provider_message_id="...")

docs/plugins.md walks through a whole plugin, with tests.

How hooks are called
--------------------

*One plugin at a time, for one installation.* Many plugins live in one CRM process, but each
organization installs, configures and enables its own. So, apart from ``crm_plugin_info`` and
``crm_config_schema`` (asked once per plugin when it is loaded), the CRM never broadcasts a
hook to every plugin: it calls the hook of the one plugin an installation belongs to and
passes that installation's settings as arguments:

- ``installation``: an ``Installation`` (its id, organization id, plugin name, label);
- ``config``: the installation's non-secret settings (a dict, defaults filled in);
- ``secrets``: its decrypted secret settings (a dict). Use them, never log them, never store
  them anywhere else. They are decrypted for the call and dropped afterwards.

A plugin therefore keeps no per-organization state of its own: module-level state is shared
by every organization in the process, and by no other process (the CRM runs several API
processes and workers). Put what must survive in the CRM (through the values you return).

As in any pluggy hook, an implementation may accept only the arguments it needs, in any
order (``def crm_test_connection(secrets)`` is fine).

*Sync or async.* An implementation may be ``def`` or ``async def``: the CRM awaits the result
when it is awaitable. Use ``async def`` for anything doing I/O (``httpx.AsyncClient``), never
block the event loop with a synchronous HTTP client. The CRM cancels a call after a timeout
(30 seconds by default); set your HTTP client's timeout below that.

*Errors.* Raise ``server.plugins.types.PluginError`` with a message for the organization's
admin when the provider refuses or fails (bad credentials, validation, rate limit, outage;
``retryable=True`` when trying later may help). Any other exception is a bug in the plugin:
it is logged with an id and shown to the user as an internal error.

*Capabilities.* ``crm_plugin_info().capabilities`` says which groups of hooks the plugin
implements (``delivery``, ``marketplace``, ``telephony``, ``messaging``, ``webhooks``,
``domain_events``, ``payments``, ``fiscal``). The CRM checks at load time that the hooks a capability needs are there
(see ``REQUIRED_HOOKS``) and refuses a plugin that claims one without them.
"""

from __future__ import annotations

from decimal import Decimal

import pluggy
from packaging.version import InvalidVersion, Version

from server.plugins.types import (
    Branch,
    Checkout,
    CheckoutRequest,
    City,
    ConfigField,
    ConnectionResult,
    DomainEvent,
    Installation,
    OrderBatch,
    OutgoingMessage,
    PaymentUpdate,
    PluginInfo,
    ReceiptRequest,
    ReceiptResult,
    RefundResult,
    SentMessage,
    ShiftResult,
    Shipment,
    ShipmentRequest,
    TrackingQuery,
    TrackingStatus,
    WebhookRequest,
    WebhookResult,
)

PROJECT = "crm"
ENTRY_POINT_GROUP = "crm.plugins"

# The plugin API's version, MAJOR.MINOR. MINOR grows when hooks, arguments or fields are added
# (old plugins keep working); MAJOR grows when something a plugin relies on changes or goes.
# A plugin says which version it was written for (``PluginInfo.api_version``); the CRM loads it
# when the majors are equal and the plugin's minor is not newer than this one.
API_VERSION = "1.1"  # 1.1: crm_delivery_check_number and the ``fiscal`` hooks


def api_version_problem(wanted: str, current: str | None = None) -> str | None:
    """Why a plugin written for plugin API ``wanted`` cannot load here, or None."""
    current = current or API_VERSION
    if not wanted:
        return f'crm_plugin_info must say which plugin API it was written for: api_version="{current}"'
    if not isinstance(wanted, str):
        return f'api_version must be a string such as "{current}", not {wanted!r}'
    try:
        plugin, crm = Version(wanted), Version(current)
    except InvalidVersion:
        return f"api_version '{wanted}' is not a version like '{current}'"
    if plugin.major != crm.major or plugin.minor > crm.minor:
        return f"it was written for plugin API {wanted}; this CRM speaks {current} (loads {crm.major}.0 to {current})"
    return None


hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# Every hook returns one value from one plugin, so every spec is ``firstresult``.
_spec = hookspec(firstresult=True)


# == lifecycle ==============================================================================


@_spec
def crm_plugin_info() -> PluginInfo:
    """Required, and a plain ``def`` (it is asked once, when the plugin is loaded). Who the
    plugin is: ``PluginInfo(name, title, version, capabilities, api_version=API_VERSION)``,
    and for ``messaging`` the ``channels`` it sends over.

    ``name`` must equal the entry point name (lower case letters, digits, ``-`` and ``_``).
    It appears in webhook URLs and in every installation: never rename a published plugin."""


@_spec
def crm_config_schema() -> list[ConfigField]:
    """The settings an organization fills in when it installs the plugin (a plain ``def``,
    asked once, when the plugin is loaded).

    Return a list of ``ConfigField(name, type, required, secret, label, help, default,
    choices)``. The CRM validates ``installPlugin``/``configurePlugin`` input against it
    (unknown keys, missing required fields and wrong types are refused field by field), stores
    ``secret=True`` fields encrypted and never shows them again. Without this hook the plugin
    takes no settings."""


@_spec
def crm_test_connection(installation: Installation, config: dict, secrets: dict) -> ConnectionResult:
    """Check the settings against the provider (e.g. call an endpoint that needs the API
    key) and say what is wrong in ``ConnectionResult(ok=False, message=...)``, or raise
    ``PluginError``. Called by the ``testPluginConnection`` mutation. Must not change anything
    at the provider."""


@_spec
def crm_webhook_url_issued(installation: Installation, config: dict, secrets: dict, url: str) -> str | None:
    """A webhook URL was issued for the installation (on install and on rotation). The CRM
    finds webhooks by a hash of the token; it keeps the URL itself only encrypted with the
    secrets, for hooks that pass it to the provider (``installation.webhook_url``).

    Register it with the provider if the provider has an API for that (Telegram
    ``setWebhook``, Viber ``set_webhook``) and return a short note for the admin, or return
    None and let the admin paste the URL into the provider's console. A ``PluginError`` is
    shown to the admin; the URL is issued anyway."""


@_spec
def crm_domain_event(installation: Installation, config: dict, secrets: dict, event: DomainEvent) -> None:
    """Something happened in the organization (``event.topic``: ``order.created``,
    ``order.status_changed``, ``activity.created``...). Called by the background worker, after
    the change committed, once per enabled installation whose plugin has the
    ``domain_events`` capability. May be called more than once for the same ``event.id``
    (at-least-once delivery): make it idempotent. Raise ``PluginError(retryable=True)`` to be
    retried later."""


# == delivery (Nova Poshta, Ukrposhta...) ===================================================


@_spec
def crm_delivery_create_shipment(
    installation: Installation, config: dict, secrets: dict, shipment: ShipmentRequest
) -> Shipment:
    """Create a waybill for an order; return its number (``Shipment.waybill_number``) and
    what the carrier said about cost and delivery date."""


@_spec
def crm_delivery_cancel_shipment(installation: Installation, config: dict, secrets: dict, waybill_number: str) -> None:
    """Cancel (delete) a waybill that was not handed over yet. Raise ``PluginError`` if the
    carrier refuses (already in transit)."""


@_spec
def crm_delivery_track(
    installation: Installation, config: dict, secrets: dict, queries: list[TrackingQuery]
) -> list[TrackingStatus]:
    """The current status of many waybills in as few provider calls as possible (the CRM
    passes up to 100 at a time). Return one ``TrackingStatus`` per waybill found, with
    ``status`` mapped by ``crm_delivery_map_status``; an unknown number gets ``not_found``.
    A carrier that collects cash on delivery says where the money stands in
    ``cash_on_delivery`` (``"transferring"``, ``"paid_out"``): on ``"paid_out"`` the CRM
    records the order's payment and stops tracking the parcel (docs/payments.md)."""


@_spec
def crm_delivery_map_status(config: dict, provider_status: str) -> str:
    """Map the carrier's status code (a string, e.g. Nova Poshta ``"7"``) to one of
    ``types.DELIVERY_STATUSES`` (``"arrived"``). Unknown codes map to ``"unknown"``."""


@_spec
def crm_delivery_check_number(config: dict, waybill_number: str) -> str | None:
    """Optional, a plain check without I/O: whether ``waybill_number`` looks like one of this
    carrier's numbers. Return None when it does, else a message for the user saying what the
    carrier's numbers look like ("A Nova Poshta waybill number is 11 to 14 digits."). The CRM
    asks it before ``registerShipment`` asks the carrier whether the number exists."""


@_spec
def crm_delivery_search_cities(
    installation: Installation, config: dict, secrets: dict, query: str, limit: int
) -> list[City]:
    """Cities/settlements matching what the user typed, for the order form."""


@_spec
def crm_delivery_branches(
    installation: Installation, config: dict, secrets: dict, city_ref: str, query: str, limit: int
) -> list[Branch]:
    """Branches, pickup points and lockers of a city (``City.ref``), filtered by ``query``."""


# == marketplace (Rozetka, Prom...) =========================================================


@_spec
def crm_marketplace_fetch_orders(
    installation: Installation, config: dict, secrets: dict, cursor: str | None
) -> OrderBatch:
    """New and changed orders since ``cursor`` (None: the first sync, the plugin decides how
    far back). Return them with the cursor to pass next time. Called periodically by the
    worker; the CRM matches orders by ``external_id`` so returning one twice is harmless."""


@_spec
def crm_marketplace_push_status(
    installation: Installation,
    config: dict,
    secrets: dict,
    external_id: str,
    status: str,
    waybill_number: str | None,
) -> None:
    """Tell the marketplace the order's new status (the marketplace's own status, as
    ``crm_marketplace_status_from_crm`` mapped it), with the waybill number when there is one.
    Raise ``PluginError`` if the marketplace refuses the transition."""


@_spec
def crm_marketplace_status_to_crm(config: dict, status: str) -> str | None:
    """The CRM order status code for a marketplace status, or None to leave the order's
    status alone. ``config`` may hold the organization's own mapping."""


@_spec
def crm_marketplace_status_from_crm(config: dict, status: str) -> str | None:
    """The marketplace status for a CRM order status code, or None if the marketplace need
    not be told."""


# == telephony (Binotel, Asterisk, Twilio Voice...) =========================================
# Inbound calls arrive through ``crm_webhook`` as ``types.CallEvent`` values.


@_spec
def crm_telephony_click_to_call(
    installation: Installation, config: dict, secrets: dict, employee: str, phone: str
) -> str:
    """Ring the employee's extension (``employee``), then connect it to ``phone`` (E.164).
    Return the provider's call id; the call's events then arrive through ``crm_webhook``."""


@_spec
def crm_telephony_listen(installation: Installation, config: dict, secrets: dict, emit) -> None:
    """For PBXs that tell their calls over a connection the CRM keeps open (Asterisk AMI over
    TCP) or that must be asked (a call log polled to catch webhooks the provider never
    repeats): a long-running coroutine. Connect, log in, and for each call moment call
    ``await emit(events, dedupe_key)``: the events are applied exactly as a webhook's are
    (one transaction, the dedupe key makes a repeated moment a no-op).

    Return, or raise ``PluginError``, when the connection ends: the CRM calls the hook again
    after a growing pause (1 s up to a minute). Raise ``PluginError`` without retrying
    yourself for bad credentials: the message is logged for the admin. The CRM cancels the
    coroutine when the installation is disabled, changed or removed, and when the process
    stops; it runs in ``crm worker`` (or in ``crm serve`` when there is no separate worker,
    docs/telephony.md)."""


# == messaging (TurboSMS, Twilio, Viber, Telegram...) =======================================
# Delivery callbacks arrive through ``crm_webhook`` as ``types.MessageStatus`` values.


@_spec
def crm_messaging_send(
    installation: Installation, config: dict, secrets: dict, message: OutgoingMessage
) -> SentMessage:
    """Send one message; return the provider's message id (needed to follow its delivery).
    A refusal for this recipient (stop list, invalid number) is a ``SentMessage`` with
    ``status="failed"`` and the provider's error, not an exception; raise ``PluginError`` when
    the provider cannot be used at all (bad credentials, no balance, outage).

    Mark a ``PluginError`` ``retryable=True`` only when the provider certainly did not take the
    message (no connection, 429, 503): the CRM then sends again later. When it may have taken it
    (a timeout, a 500 after the request went out) raise it with ``code="OUTCOME_UNKNOWN"``: the
    CRM neither retries nor tries the customer's next channel, so nobody gets a message twice."""


@_spec
def crm_messaging_statuses(installation: Installation, config: dict, secrets: dict, message_ids: list[str]) -> list:
    """Delivery statuses (``types.MessageStatus``) of messages sent earlier, for providers
    polled rather than calling back. The CRM passes up to 100 ids at a time."""


# == payments (LiqPay, monobank acquiring...) ===============================================
# Callbacks arrive through ``crm_webhook`` as ``types.PaymentUpdate`` values: verify the
# provider's signature there (raise ``WebhookRejected`` if it does not match), parse the body
# into one ``PaymentUpdate`` and name the delivery with a ``dedupe_key`` (e.g.
# ``"<provider id>:<status>:<modified date>"``). docs/payments.md has the whole flow.


@_spec
def crm_payment_create(installation: Installation, config: dict, secrets: dict, payment: CheckoutRequest) -> Checkout:
    """Make a checkout link (LiqPay) or an invoice (monobank) for ``payment`` and return it as
    ``Checkout(url, provider_payment_id)``. Send nothing to the customer: the CRM decides
    whether and how the link is sent. Pass ``payment.callback_url`` as the provider's
    callback URL and ``payment.reference`` as its order reference. Amounts are Decimals:
    never convert them through a float."""


@_spec
def crm_payment_status(
    installation: Installation, config: dict, secrets: dict, reference: str, provider_payment_id: str
) -> PaymentUpdate:
    """Ask the provider where a payment stands (for a callback that never came). Must not
    change anything at the provider."""


@_spec
def crm_payment_refund(
    installation: Installation,
    config: dict,
    secrets: dict,
    reference: str,
    provider_payment_id: str,
    amount: Decimal,
    currency: str,
    refund_reference: str,
) -> RefundResult:
    """Give back ``amount`` (a Decimal, all or part of what was paid) of a paid payment.
    ``refund_reference`` is the CRM's id of this refund (monobank ``extRef``). Raise
    ``PluginError`` when the provider refuses (the message is shown to the user); return
    ``RefundResult("pending")`` when the provider only accepted it."""


# == fiscal receipts (Checkbox ПРРО...) =====================================================
# The CRM issues a sale receipt when a card payment or cash on delivery is paid and a return
# receipt when a refund succeeds, from a job (docs/fiscal.md). A plugin may declare a config
# field ``shift_close_time`` ("HH:MM", the organization's local time): the CRM then calls
# ``crm_fiscal_close_shift`` once a day after that time.


@_spec
def crm_fiscal_issue_receipt(
    installation: Installation, config: dict, secrets: dict, receipt: ReceiptRequest
) -> ReceiptResult:
    """Issue a sale (``receipt.kind == "sell"``) or return receipt and return where it stands.
    Send ``receipt.receipt_id`` as the provider's receipt id. Open the cashier's shift yourself
    when the provider says none is open, then issue once more. Wait a little for the provider's
    fiscal code; return ``ReceiptResult("pending", ...)`` if it is not there yet (the CRM asks
    ``crm_fiscal_receipt_status`` later). A receipt the provider refused for its content is a
    ``ReceiptResult("failed", error=...)``; raise ``PluginError`` when the provider cannot be
    used (bad credentials: not retryable; outage, 429, 5xx: ``retryable=True``). Amounts are
    Decimals: never convert them through a float."""


@_spec
def crm_fiscal_receipt_status(
    installation: Installation, config: dict, secrets: dict, receipt_id: str
) -> ReceiptResult | None:
    """Where the receipt with the CRM's id ``receipt_id`` stands at the provider, or None if
    the provider has no such receipt (it was never taken: the CRM issues it). Called before
    issuing again after a try whose answer was lost, and to follow a pending receipt. Must not
    change anything at the provider."""


@_spec
def crm_fiscal_close_shift(installation: Installation, config: dict, secrets: dict) -> ShiftResult:
    """Close the cashier's open shift (the Z report). Nothing open: ``ShiftResult("not_open")``."""


# == inbound webhooks =======================================================================


@_spec
def crm_webhook(installation: Installation, config: dict, secrets: dict, request: WebhookRequest) -> WebhookResult:
    """A provider called ``/hooks/<plugin>/<token>/<path>``. The CRM has already found the
    installation by the token (an unknown token or a disabled installation never gets here)
    and checked the installation's IP allow-list.

    1. Verify the request is from the provider: check its signature against ``secrets``
       (compare with ``hmac.compare_digest``) and raise ``WebhookRejected`` if it does not
       match. Providers without signatures (Binotel) rely on the URL token and the allow-list.
    2. Normalize it into events: ``CallEvent`` (telephony), ``MessageStatus`` (delivery
       reports), or ``PluginEvent`` for anything else.
    3. Return ``WebhookResult(events, dedupe_key, response)``. ``dedupe_key`` names this
       delivery (e.g. ``"apiCallCompleted:<generalCallID>"``): a redelivery with the same key
       gets ``response`` again and changes nothing. ``response`` is what the provider expects
       (Binotel: ``{"status": "success"}``).

    Do not call the provider from here and do not write anything: the CRM applies the events
    in one transaction together with the delivery record."""


# Which hooks a capability needs (``a|b``: either); checked when a plugin is loaded.
REQUIRED_HOOKS: dict[str, tuple[str, ...]] = {
    "delivery": ("crm_delivery_create_shipment", "crm_delivery_track", "crm_delivery_map_status"),
    "marketplace": ("crm_marketplace_fetch_orders", "crm_marketplace_push_status"),
    # Calls arrive by webhook (Binotel, Ringostat) or over a connection the CRM opens (Asterisk).
    "telephony": ("crm_webhook|crm_telephony_listen",),
    "messaging": ("crm_messaging_send",),
    "webhooks": ("crm_webhook",),
    "domain_events": ("crm_domain_event",),
    "payments": ("crm_payment_create", "crm_payment_refund", "crm_webhook"),
    "fiscal": ("crm_fiscal_issue_receipt", "crm_fiscal_receipt_status"),
}
