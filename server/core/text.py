"""Text and JSON the API accepts: lengths, characters every database can store, and the size
of free-form JSON objects. docs/api.md ("Input limits") lists these numbers for API users."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

# PostgreSQL cannot store NUL in text, and a lone UTF-16 surrogate is not a character at all
# (it cannot be encoded as UTF-8): both are refused wherever text enters.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_ANY_TEXT = 100_000  # any one string of any input; fields have their own, smaller limits
MAX_NUMBER_DIGITS = 15  # digits before the decimal point of any number in any input

# customFields (and other free-form JSON objects the API stores)
MAX_JSON_KEYS = 100
MAX_JSON_KEY_LENGTH = 100
MAX_JSON_VALUE_SIZE = 10_000  # characters of one top-level value, written as JSON
MAX_JSON_DEPTH = 5  # objects and arrays nested inside the object itself
MAX_JSON_SIZE = 65_536  # characters of the whole object, written as JSON


def invalid(field: str | None, message: str) -> UserInputError:
    return UserInputError(ErrorCode.INVALID, message, field)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text of any field, or None."""
    if UNSTORABLE.search(value):
        return _("Text contains a NUL character or an unpaired surrogate.")
    if len(value) > MAX_ANY_TEXT:
        return _("Text is longer than %(n)s characters.", n=MAX_ANY_TEXT)
    return None


def number_problem(value: Decimal) -> str | None:
    """Why ``value`` cannot be accepted as a number of any field, or None."""
    if not value.is_finite():
        return _("Must be a finite number.")
    if value and value.adjusted() >= MAX_NUMBER_DIGITS:
        return _("Must have at most %(n)s digits before the decimal point.", n=MAX_NUMBER_DIGITS)
    return None


def required_text(value: str | None, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise UserInputError(ErrorCode.REQUIRED, _("%(field)s is required.", field=field), field)
    return limited_text(text, field, max_length)


def limited_text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > max_length:
        raise UserInputError(
            ErrorCode.INVALID, _("%(field)s is longer than %(n)s characters.", field=field, n=max_length), field
        )
    problem = text_problem(text)
    if problem:
        raise invalid(field, problem)
    return text


MAX_POSITION = 1_000_000  # display order of pipelines, stages and statuses


def position(value: int, field: str = "position") -> int:
    """A place in a display order: small enough that "after the last" still fits the column."""
    if not -MAX_POSITION <= value <= MAX_POSITION:
        low, high = -MAX_POSITION, MAX_POSITION
        message = _("%(field)s must be between %(low)s and %(high)s.", field=field, low=low, high=high)
        raise invalid(field, message)
    return value


def one_of(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise UserInputError(
            ErrorCode.INVALID,
            _("%(field)s must be one of: %(allowed)s.", field=field, allowed=", ".join(allowed)),
            field,
        )
    return value


def json_depth(value: object) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0), without recursion, so
    a hostile 10,000-level document cannot exhaust the stack."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check_custom_fields(value: object, field: str) -> dict:
    """A free-form JSON object the organization keeps on its records, within the limits above."""
    if not isinstance(value, dict):
        raise invalid(field, _("%(field)s must be a JSON object.", field=field))
    if len(value) > MAX_JSON_KEYS:
        raise invalid(field, _("%(field)s has more than %(n)s keys.", field=field, n=MAX_JSON_KEYS))
    if json_depth(value) > MAX_JSON_DEPTH + 1:
        raise invalid(
            field, _("%(field)s nests objects and arrays deeper than %(n)s levels.", field=field, n=MAX_JSON_DEPTH)
        )
    for key, item in value.items():
        if not key or len(key) > MAX_JSON_KEY_LENGTH:
            message = _("Keys of %(field)s must be 1 to %(n)s characters.", field=field, n=MAX_JSON_KEY_LENGTH)
            raise invalid(field, message)
        if len(json.dumps(item, ensure_ascii=False)) > MAX_JSON_VALUE_SIZE:
            raise invalid(
                f"{field}.{key}",
                _("A value of %(field)s is longer than %(n)s characters.", field=field, n=MAX_JSON_VALUE_SIZE),
            )
    if len(json.dumps(value, ensure_ascii=False)) > MAX_JSON_SIZE:
        raise invalid(field, _("%(field)s is larger than %(n)s characters.", field=field, n=MAX_JSON_SIZE))
    return value


def camel_case(name: str) -> str:
    """A Python field name as the API spells it: ``nps_delay_days`` -> ``npsDelayDays``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def spreadsheet_safe(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula: not in our CSV exports."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
