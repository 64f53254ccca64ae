"""Customers' phones, e-mails and addresses, masked for callers without ``pii:read``.

``PII_FIELDS`` is the declarative list of every GraphQL field that carries such data and how it
is masked; the stock path (server/graphql/masking.py) and the fast path (server/graphql/fastpath)
both read it, and exports use the same functions. Whether a caller sees a field in full is one
decision of ``Scope.sees_pii``. Masking changes only what is shown to callers: the CRM's own work
(notifications, calls, imports) reads the stored values.

Formats (docs/roles.md, "Masked fields"):
- phone ``+380671234599`` -> ``+38067*****99``: country and operator (area) code and the last two digits;
- e-mail ``olena@gmail.com`` -> ``o***@gmail.com``: the first letter and the domain;
- address ``Київ, вул. Хрещатик, 1`` -> ``Київ, ***``: the city (the first part, by the CRM's
  "city, street, house" convention), the rest hidden; a delivery street address is hidden whole
  (its city is a field of its own);
- free text (timeline entries, messages): every phone number and e-mail recognised in it;
- an audit entry's changes: the fields above by their stored names, other texts as free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

from server.core.errors import ErrorCode, UserInputError
from server.core.phones import DEFAULT_REGION
from server.i18n import _

HIDDEN = "***"
STAR = "*"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def _stars(count: int) -> str:
    return STAR * max(count, 1)


def _mask_digits(value: str) -> str:
    """Anything phone-like that is not a valid number: keep three leading and two last digits."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) <= 5:
        return HIDDEN
    keep = set(digits[:3] + digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else STAR for i, ch in enumerate(value))


def mask_phone(value: str) -> str:
    """``+380671234599`` -> ``+38067*****99``."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return _mask_digits(value)
    if not phonenumbers.is_possible_number(number):
        return _mask_digits(value)
    national = phonenumbers.national_significant_number(number)
    code = phonenumbers.length_of_national_destination_code(number) or 2
    hidden = len(national) - code - 2
    if hidden < 3:  # too short to keep an operator code and still hide enough
        code, hidden = 0, len(national) - 2
    return f"+{number.country_code}{national[:code]}{_stars(hidden)}{national[-2:]}"


def mask_email(value: str) -> str:
    """``olena@gmail.com`` -> ``o***@gmail.com`` (always three stars: the length stays unknown)."""
    local, at, domain = value.partition("@")
    if not at:
        return HIDDEN
    return f"{local[:1]}{HIDDEN}@{domain}"


def mask_recipient(value: str) -> str:
    """A message's recipient: an e-mail address (the e-mail channel) or a phone number."""
    return mask_email(value) if "@" in value else mask_phone(value)


def mask_address(value: str) -> str:
    """``Київ, вул. Хрещатик, 1`` -> ``Київ, ***``; a bare city name (no digits, no comma) stays."""
    city, comma, _rest = value.partition(",")
    if comma:
        return f"{city.strip()}, {HIDDEN}"
    return value if not any(ch.isdigit() for ch in value) else HIDDEN


def mask_street(value: str) -> str:
    """A street address whose city is kept elsewhere (an order's delivery): hidden whole."""
    return HIDDEN


def mask_text(value: str) -> str:
    """Every phone number and e-mail recognised in a free text, masked; the rest as written."""
    spans: list[tuple[int, int, str]] = [
        (m.start, m.end, mask_phone(phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)))
        for m in phonenumbers.PhoneNumberMatcher(value, DEFAULT_REGION)
    ]
    spans += [(m.start(), m.end(), mask_email(m.group())) for m in _EMAIL.finditer(value)]
    out, position = [], 0
    for start, end, masked in sorted(spans):
        if start < position:  # a number inside an e-mail's local part: the e-mail wins
            continue
        out += [value[position:start], masked]
        position = end
    out.append(value[position:])
    return "".join(out)


def mask_json(value):
    """Texts anywhere in a JSON value (an activity's call details: caller, callee), masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    return value


# Stored field names in an audit entry's changes ({field: [before, after]}) -> their mask;
# any other value's texts are masked like free text.
AUDITED: dict[str, Callable[[str], str]] = {
    "phones": mask_phone,
    "emails": mask_email,
    "addresses": mask_address,
    "recipient_phone": mask_phone,
    "delivery_address": mask_street,
}


def mask_changes(changes):
    """An audit entry's ``{field: [before, after]}`` with customers' data masked."""
    if not isinstance(changes, dict):
        return mask_json(changes)
    out = {}
    for key, pair in changes.items():
        mask = AUDITED.get(key)
        if mask is None or not isinstance(pair, list):
            out[key] = mask_json(pair)
        else:
            out[key] = [masked(mask, value) for value in pair]
    return out


def refuse_masked(value: str | None, field: str) -> None:
    """A masked e-mail or address sent back (read, edited, saved by a caller without pii:read)
    would overwrite the real one: refused. Masked phones are not phone numbers anyway."""
    if value and HIDDEN in value:
        raise UserInputError(
            ErrorCode.INVALID, _("This is a masked value, as shown without pii:read: give the full one."), field
        )


Masker = Callable[[str], str]


def masked(mask: Masker, value):
    """``mask`` applied to a field's value: a string, a list of them, or null."""
    if value is None:
        return None
    if isinstance(value, list):
        return [mask(v) if isinstance(v, str) else v for v in value]
    return mask(value) if isinstance(value, str) else value


# (GraphQL type, field) -> how it is masked for a caller without pii:read. Names are the API's.
PII_FIELDS: dict[tuple[str, str], Callable] = {
    ("Account", "phone"): mask_phone,
    ("Account", "phones"): mask_phone,
    ("Account", "emails"): mask_email,
    ("Account", "addresses"): mask_address,
    ("Contact", "phones"): mask_phone,
    ("Contact", "emails"): mask_email,
    ("Delivery", "recipientPhone"): mask_phone,
    ("Delivery", "address"): mask_street,
    ("Activity", "subject"): mask_text,
    ("Activity", "body"): mask_text,
    ("Activity", "data"): mask_json,
    ("TicketComment", "body"): mask_text,
    ("Ticket", "subject"): mask_text,
    ("Ticket", "description"): mask_text,
    ("Notification", "recipient"): mask_recipient,
    ("EmailDeliverability", "address"): mask_email,
    ("Notification", "text"): mask_text,
    ("AuditEntry", "changes"): mask_changes,
    ("Conversation", "phone"): mask_phone,
    ("Conversation", "lastMessageText"): mask_text,
    ("ConversationMessage", "text"): mask_text,
    # A ringing call's number (the incomingCall subscription) and the lookup's echo of it.
    ("CallerLookup", "phone"): mask_phone,
}


def mask_field(type_name: str, field_name: str, value):
    """The value of a PII field as a caller without ``pii:read`` sees it."""
    mask = PII_FIELDS[(type_name, field_name)]
    return mask(value) if mask in (mask_json, mask_changes) else masked(mask, value)
