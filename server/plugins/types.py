"""The values plugins and the CRM exchange: plain dataclasses, never ORM models.

A plugin imports what it needs from here (``from server.plugins.types import CallEvent``) and
from ``server.plugins.hookspecs`` (``hookimpl``). Nothing in this module touches the database,
so a plugin's unit tests can build and compare these values without a running CRM.

Conventions, the same as the CRM's own:

- money is ``Decimal`` with an ISO 4217 currency, never a float;
- phone numbers are E.164 strings (``+380671234567``) when the plugin can tell, otherwise the
  provider's raw text (the CRM normalizes with the default region UA);
- times are timezone-aware ``datetime`` values (UTC preferred);
- every value has ``raw``: the provider's own item, kept for debugging and for fields the CRM
  does not model yet. It must be JSON-serializable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# -- what a plugin can do ---------------------------------------------------------------

DELIVERY = "delivery"
MARKETPLACE = "marketplace"
TELEPHONY = "telephony"
MESSAGING = "messaging"
WEBHOOKS = "webhooks"
DOMAIN_EVENTS = "domain_events"
PAYMENTS = "payments"
FISCAL = "fiscal"

CAPABILITIES = (DELIVERY, MARKETPLACE, TELEPHONY, MESSAGING, WEBHOOKS, DOMAIN_EVENTS, PAYMENTS, FISCAL)

# Notification channels the CRM knows by name. "viber" is Viber business messages to a phone
# number (TurboSMS); "viber_bot" and "telegram" are the customer's chat with the shop's bot.
# A messaging plugin may declare another channel of the same shape (CHANNEL_RE).
CHANNELS = ("sms", "viber", "viber_bot", "telegram", "whatsapp", "email")
CHANNEL_RE = r"^[a-z][a-z0-9_]{1,15}$"  # fits Notification.channel


@dataclass(frozen=True)
class PluginInfo:
    """Who the plugin is. ``name`` is the entry point name, the URL segment of its webhooks
    (``/hooks/<name>/...``) and what installations refer to: keep it stable forever."""

    name: str
    title: str
    version: str
    capabilities: tuple[str, ...] = ()
    description: str = ""
    homepage: str = ""
    # The version of the CRM's plugin API the plugin was written for ("1.0"); see
    # hookspecs.API_VERSION for what a CRM accepts. Required: a plugin built for an API the
    # CRM does not speak is refused at load instead of failing on a customer's order.
    api_version: str = ""
    # For ``messaging``: the notification channels the plugin sends over, from CHANNELS or a
    # new name of the same shape ("sms", "viber", "telegram", "email", "whatsapp"...).
    # Organizations choose which installation sends each channel (docs/notifications.md).
    channels: tuple[str, ...] = ()


# -- configuration ----------------------------------------------------------------------

CONFIG_TYPES = ("string", "text", "integer", "number", "boolean", "url", "phone", "choice")


@dataclass(frozen=True)
class ConfigField:
    """One setting an organization fills in when it installs the plugin.

    ``secret=True`` fields (API keys, tokens, passwords) are stored encrypted, are never shown
    again through the API (only whether they are set) and never appear in the audit trail.
    ``type`` is one of ``CONFIG_TYPES``; ``choice`` needs ``choices``; ``phone`` values are
    stored in E.164. ``default`` (non-secret fields) is filled in when the hooks are called
    and the organization did not set the field, so the plugin always sees a value."""

    name: str
    type: str = "string"
    required: bool = False
    secret: bool = False
    label: str = ""
    help: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Installation:
    """The installation a hook is called for: which organization, which plugin.

    ``webhook_url`` is the installation's current webhook URL (``<base>/hooks/<plugin>/<token>/``),
    for providers that take a callback URL with each request (Twilio's ``StatusCallback``).
    The CRM looks webhooks up by the token's hash and keeps the URL itself encrypted with the
    secrets; it is empty for installations whose URL was issued before it was kept (rotate the
    token to fill it). Treat it as a secret: never log it."""

    id: str
    organization_id: str
    plugin: str
    label: str = ""
    webhook_url: str = ""


@dataclass(frozen=True)
class ConnectionResult:
    """The answer of ``crm_test_connection``: shown to the admin as is, so say what to fix."""

    ok: bool
    message: str = ""


@dataclass(frozen=True)
class DomainEvent:
    """A CRM event (an outbox entry): ``order.created``, ``order.status_changed``,
    ``activity.created``... ``payload`` is JSON (ids as strings, amounts as strings)."""

    id: str
    topic: str
    organization_id: str
    payload: dict
    created_at: datetime | None = None


# -- delivery ---------------------------------------------------------------------------

# What a carrier status means for the CRM, whatever the carrier calls it.
DELIVERY_STATUSES = (
    "created",  # waybill exists, parcel not handed over yet
    "in_transit",
    "arrived",  # at the pickup point / branch / locker
    "out_for_delivery",
    "delivered",
    "refused",
    "returning",
    "returned",
    "cancelled",
    "not_found",
    "unknown",
)


@dataclass
class ShipmentRequest:
    """Everything a carrier needs to create a waybill for an order."""

    order_id: str
    order_number: int
    recipient_name: str
    recipient_phone: str
    declared_value: Decimal
    currency: str
    city: str | None = None
    city_ref: str | None = None
    branch: str | None = None
    branch_ref: str | None = None
    address: str | None = None
    weight_kg: Decimal | None = None
    seats: int = 1
    description: str = ""
    cash_on_delivery: Decimal | None = None
    payer: str = "recipient"  # recipient | sender
    extra: dict = field(default_factory=dict)


@dataclass
class Shipment:
    waybill_number: str
    provider_ref: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    estimated_delivery: date | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingQuery:
    waybill_number: str
    phone: str | None = None  # some carriers show the full status only with the recipient's phone


@dataclass
class TrackingStatus:
    waybill_number: str
    status: str  # one of DELIVERY_STATUSES
    provider_status: str  # the carrier's own code, as a string
    description: str = ""
    changed_at: datetime | None = None
    raw: dict = field(default_factory=dict)
    # The cash-on-delivery money of a delivered parcel: "" (none, or the carrier does not say),
    # "transferring" (collected, on its way to the shop) or "paid_out" (the shop has it).
    cash_on_delivery: str = ""


CASH_ON_DELIVERY_STATES = ("", "transferring", "paid_out")


@dataclass
class City:
    ref: str
    name: str
    region: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class Branch:
    ref: str
    name: str
    number: str = ""
    address: str = ""
    city_ref: str = ""
    raw: dict = field(default_factory=dict)


# -- marketplace ------------------------------------------------------------------------


@dataclass
class MarketplaceOrderItem:
    sku: str
    title: str
    quantity: Decimal
    unit_price: Decimal
    external_id: str = ""


@dataclass
class MarketplaceOrder:
    external_id: str
    status: str  # the marketplace's own status, as a string
    created_at: datetime
    changed_at: datetime
    buyer_name: str
    buyer_phone: str
    total: Decimal
    currency: str
    items: list[MarketplaceOrderItem] = field(default_factory=list)
    buyer_email: str = ""
    delivery: dict = field(default_factory=dict)  # method, city, branch, address, waybill_number
    comment: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class OrderBatch:
    """One page of new or changed orders. The CRM stores ``cursor`` and passes it back next
    time; ``has_more`` asks it to call again right away."""

    orders: list[MarketplaceOrder]
    cursor: str | None
    has_more: bool = False


# -- telephony --------------------------------------------------------------------------

CALL_STATES = ("ringing", "answered", "ended")


@dataclass
class CallEvent:
    """A moment of a phone call. The CRM writes a ``call`` activity on the caller's account
    when a call has ``ended`` (one per ``call_id``, however often the provider repeats it)
    and passes ``ringing`` / ``answered`` on as events (for a screen pop)."""

    call_id: str
    state: str  # one of CALL_STATES
    direction: str  # inbound | outbound
    caller: str  # the number that called
    callee: str  # the number that was called
    employee: str = ""  # the PBX extension or name of the employee who took or made the call
    started_at: datetime | None = None
    duration_seconds: int | None = None  # talk time
    wait_seconds: int | None = None
    disposition: str = ""  # answered | busy | no_answer | cancelled | failed | voicemail | ...
    recording_ref: str = ""  # provider's id to fetch the recording (links expire: not a URL to keep)
    recording_url: str = ""  # a lasting link to the recording, for providers whose links do not expire
    extension: str = ""  # the employee's PBX extension (whose call-back task a missed call becomes)
    # Where the caller came from (call tracking: utm_source, utm_medium, utm_campaign, utm_content,
    # utm_term, landing, referrer, client_id, pool_name): kept on the call for analytics.
    tracking: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def customer_phone(self) -> str:
        """The outside party: who called us, or whom we called."""
        return self.callee if self.direction == "outbound" else self.caller


# -- messaging --------------------------------------------------------------------------

MESSAGE_STATUSES = ("queued", "sent", "delivered", "read", "failed", "undelivered", "unknown")


@dataclass
class OutgoingMessage:
    """One message to one recipient. ``to`` is an E.164 number for SMS and phone-addressed
    channels; for chat channels (Telegram, Viber) it is the customer's address on the channel
    (``InboundMessage.address``: a Telegram chat id, a Viber user id); for ``channel="email"`` it
    is an e-mail address, and ``subject``, ``html`` (the HTML alternative of ``text``) and
    ``headers`` (e.g. ``List-Unsubscribe``) are filled in; other channels leave them empty."""

    to: str
    text: str
    channel: str = "sms"  # sms | viber | telegram | whatsapp | email ...
    sender: str = ""  # alpha name or number; the installation's default when empty
    reference: str = ""  # the CRM's own id of the message, for the plugin's logs
    subject: str = ""  # e-mail only
    html: str = ""  # e-mail only: the HTML part next to the plain text
    headers: dict[str, str] = field(default_factory=dict)  # e-mail only: extra header fields
    # Attach the channel's "share my phone number" button (Telegram request_contact, Viber share-phone).
    request_phone: bool = False
    attachments: list[dict] = field(default_factory=list)  # [{"url", "name", "mimeType"}]: sent as links
    # Quick-reply buttons (chat channels): tapping one sends its text back as the customer's message.
    buttons: list[str] = field(default_factory=list)


@dataclass
class SentMessage:
    provider_message_id: str | None
    status: str = "queued"  # one of MESSAGE_STATUSES
    error_code: str = ""
    error_message: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class MessageStatus:
    provider_message_id: str
    status: str  # one of MESSAGE_STATUSES
    provider_status: str = ""
    error_code: str = ""
    changed_at: datetime | None = None
    raw: dict = field(default_factory=dict)


# -- conversations (two-way chat) -------------------------------------------------------

INBOUND_KINDS = ("text", "image", "file", "contact", "sticker", "location", "other")


@dataclass
class InboundMessage:
    """A customer wrote to the organization on a chat channel: what ``crm_webhook`` returns
    for an incoming Telegram/Viber message, an inbound e-mail... The CRM files it in the
    customer's conversation (server/conversations), on the account's timeline.

    ``address`` is the customer's id on the channel, where replies go (Telegram ``chat.id`` as
    text, never a float: ids may exceed 2^53). ``provider_message_id`` names the message within
    that address: a provider retrying its webhook repeats it and the CRM files it once.
    ``phone`` is the customer's number when the channel gives one (SMS, a shared contact);
    ``phone_shared`` says the customer shared their own number (Telegram/Viber share-phone
    button), which links the conversation to the account with that phone. ``attachments``
    are links: ``[{"url", "name", "mimeType"}]``."""

    channel: str  # telegram | viber | email | web | sms
    address: str
    provider_message_id: str
    text: str = ""
    kind: str = "text"  # one of INBOUND_KINDS
    sender_name: str = ""
    phone: str = ""
    phone_shared: bool = False
    attachments: list[dict] = field(default_factory=list)
    sent_at: datetime | None = None
    raw: dict = field(default_factory=dict)
    # The sender's e-mail address when the channel gives one (inbound e-mail): the conversation
    # is linked to the account (or contact) with it, else the new lead gets it.
    email: str = ""
    # An automatic message (an e-mail auto-reply, ``Auto-Submitted``/``Precedence: bulk``): filed,
    # but it neither reopens the conversation, counts as unread, starts the first-reply SLA nor
    # emits ``conversation.message_received``.
    automated: bool = False


# -- payments (LiqPay, monobank acquiring...) -------------------------------------------

# What a provider says of a payment, normalized. ``paid`` means the money is taken (LiqPay
# ``success``/``sandbox``/``wait_accept``, monobank ``success``); ``refunded`` that all of it
# went back (``reversed``).
PAYMENT_STATES = ("created", "pending", "paid", "failed", "refunded", "partially_refunded")


@dataclass(frozen=True)
class CheckoutRequest:
    """A payment the CRM asks a provider to take: make a checkout link (or an invoice).

    ``reference`` is the CRM's payment id: send it as the provider's order reference
    (LiqPay ``order_id``, monobank ``merchantPaymInfo.reference``) so callbacks can be matched.
    ``amount`` is a ``Decimal`` with 2 places, never a float: convert with
    ``server.payments.money.to_minor`` for providers that want kopiykas and format it with
    ``str()`` for those that take a decimal number. ``callback_url`` is the installation's
    webhook URL (empty if none was kept)."""

    reference: str
    order_id: str
    order_number: int
    amount: Decimal
    currency: str
    description: str
    callback_url: str = ""
    result_url: str = ""
    language: str = "uk"


@dataclass(frozen=True)
class Checkout:
    """What ``crm_payment_create`` made: the link for the customer and the provider's id."""

    url: str
    provider_payment_id: str
    status: str = "pending"  # one of PAYMENT_STATES
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentUpdate:
    """A provider's news about a payment (a verified callback, a status query).

    ``reference`` is the CRM's payment id sent at creation, ``provider_payment_id`` the
    provider's. ``status`` is one of PAYMENT_STATES; ``provider_status`` the provider's own
    word. ``amount`` (paid) and ``fee`` are Decimals in ``currency``, never floats: parse the
    provider's JSON numbers with ``server.payments.money.exact`` (or integers in kopiykas with
    ``from_minor``). ``refunded_amount`` is the total refunded so far when the provider says it.
    ``changed_at`` orders updates that arrive out of order."""

    reference: str
    provider_payment_id: str
    status: str
    provider_status: str = ""
    amount: Decimal | None = None
    fee: Decimal | None = None
    currency: str = ""
    refunded_amount: Decimal | None = None
    refunds_confirmed: tuple[str, ...] = ()
    changed_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class RefundResult:
    """What ``crm_payment_refund`` got: ``succeeded`` (the money is going back), ``pending``
    (accepted, the outcome comes by callback) or ``failed``."""

    status: str
    provider_refund_id: str = ""
    error: str = ""
    raw: dict = field(default_factory=dict)


# -- webhooks ---------------------------------------------------------------------------


@dataclass
class WebhookRequest:
    """An inbound provider request, as the provider sent it.

    ``url`` is the full URL the provider called (scheme, host, path, query): what Twilio signs.
    ``path`` is the part after ``/hooks/<plugin>/<token>/``. ``headers`` have lower-case names.
    ``form`` is filled for ``application/x-www-form-urlencoded`` bodies (``form_items`` keeps
    repeated keys and order), ``json`` for JSON bodies; ``body`` is always the raw bytes."""

    method: str
    url: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    form_items: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None
    client_ip: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class WebhookResponse:
    """What to answer the provider. ``body``: a dict/list (sent as JSON), str or bytes."""

    status: int = 200
    body: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PluginEvent:
    """Any other normalized event: passed on as the domain event ``plugin.<topic>``."""

    topic: str
    payload: dict = field(default_factory=dict)


@dataclass
class WebhookResult:
    """What a plugin made of a webhook.

    ``dedupe_key`` identifies the delivery (e.g. ``"hangup:<call id>"``): a second delivery
    with the same key is answered with ``response`` and applies nothing. Without one the CRM
    uses the SHA-256 of the raw body, which catches byte-identical redeliveries only."""

    events: list[CallEvent | MessageStatus | InboundMessage | PaymentUpdate | PluginEvent] = field(default_factory=list)
    dedupe_key: str | None = None
    response: WebhookResponse = field(default_factory=lambda: WebhookResponse(200, {"ok": True}))


# -- fiscal receipts (Checkbox ПРРО...) ---------------------------------------------------

# How a receipt's money was taken: ``CASHLESS`` for a card (through a payment plugin), ``CASH`` for
# cash (cash on delivery the carrier paid out).
RECEIPT_PAYMENT_TYPES = ("CASHLESS", "CASH")
# Where a receipt stands: ``pending`` (the provider took it and is still registering it with the
# tax service), ``done`` (it has its fiscal code), ``failed`` (refused, ``error`` says why).
RECEIPT_STATES = ("pending", "done", "failed")


@dataclass(frozen=True)
class ReceiptLine:
    """One good or service on a receipt. ``price`` is the unit price and ``discount`` the line's
    discount, Decimals in the receipt's currency; ``quantity`` a Decimal with at most 3 places
    (2.25 kg). ``code`` is the shop's code (SKU)."""

    code: str
    name: str
    price: Decimal
    quantity: Decimal
    discount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ReceiptPayment:
    """How the customer paid: ``type`` is one of RECEIPT_PAYMENT_TYPES, ``amount`` a Decimal."""

    type: str
    amount: Decimal
    label: str = ""


@dataclass(frozen=True)
class ReceiptRequest:
    """A receipt the CRM asks a fiscal plugin to issue.

    ``receipt_id`` is the CRM's id of the receipt (a UUID), decided before the call and the same
    on every retry: send it as the provider's receipt id where the provider takes one (Checkbox
    ``id``), so that ``crm_fiscal_receipt_status`` finds a receipt whose answer was lost and
    nothing is sold twice. ``kind`` is ``sell`` or ``return``; a return names the sale's
    provider receipt id in ``related_receipt_id``. ``discount`` is a discount on the whole
    receipt (lines carry their own). ``email``/``phone`` (E.164) are the customer's, for a
    provider that delivers the receipt itself; empty when unknown."""

    receipt_id: str
    kind: str
    currency: str
    lines: tuple[ReceiptLine, ...]
    payments: tuple[ReceiptPayment, ...]
    discount: Decimal | None = None
    related_receipt_id: str = ""
    order_number: int = 0
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ReceiptResult:
    """What the provider says of a receipt. ``status`` is one of RECEIPT_STATES; a ``done``
    receipt has its ``fiscal_code`` and ``fiscal_date``; ``url`` is the page the customer can
    open (empty if the provider has none); ``error`` says why a ``failed`` receipt was refused."""

    status: str
    provider_receipt_id: str
    fiscal_code: str = ""
    fiscal_date: datetime | None = None
    url: str = ""
    error: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ShiftResult:
    """What ``crm_fiscal_close_shift`` did: ``closed`` (the Z report is made), ``not_open``
    (nothing to close), ``closing`` (accepted, not finished yet) or ``failed`` (``message``)."""

    status: str
    shift_id: str = ""
    message: str = ""
    raw: dict = field(default_factory=dict)


# -- errors a plugin raises -------------------------------------------------------------


class PluginError(Exception):
    """The provider refused or failed (bad credentials, validation, rate limit, outage).

    ``message`` is shown to the organization's admin: make it say what to do
    ("Nova Poshta rejected the API key: check it in your business account").
    ``retry_after``: the seconds the provider asked to wait (a 429's ``Retry-After``); the job
    system never tries again sooner."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


class WebhookRejected(Exception):
    """The request is not from the provider (bad or missing signature): the CRM answers
    ``status`` (403 by default) and records nothing."""

    def __init__(self, reason: str = "signature mismatch", status: int = 403):
        super().__init__(reason)
        self.reason = reason
        self.status = status
