"""Exact money for payments: Decimal amounts with 2 places, kopiykas (integer minor units) for
providers that want them, and the parsing of providers' JSON numbers without a float.

Rounding: amounts entered in the CRM must already have at most 2 decimal places (more is
refused, never rounded silently). A provider's number with more places (a commission of
``20.405``) is rounded half-up to the kopiyka, as ``server.core.money.quantize`` does.
Converting to kopiykas is exact (``Decimal("0.30") * 100 == 30``); a value that is not a whole
number of kopiykas is an error, not a rounding.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import simplejson

from server.core.money import CENT, quantize

HUNDRED = Decimal(100)


def to_minor(amount: Decimal) -> int:
    """``Decimal("12.34")`` -> ``1234`` kopiykas. Refuses floats and fractions of a kopiyka."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    minor = amount * HUNDRED
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of kopiykas")
    return int(minor)


def from_minor(value: int | str) -> Decimal:
    """``1234`` kopiykas -> ``Decimal("12.34")``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"kopiykas must be an integer, not {type(value).__name__}")
    return (Decimal(int(value)) / HUNDRED).quantize(CENT)


def exact(value: Any) -> Decimal | None:
    """A provider's amount (a JSON number parsed as Decimal, an int, or a string) as a Decimal
    rounded half-up to the kopiyka. None for a missing value. A float is refused: parse the
    provider's JSON with ``loads`` below so numbers never become floats."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("a float amount: parse the provider's JSON with server.payments.money.loads")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount") from exc
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return quantize(amount)


def loads(text: str | bytes) -> Any:
    """``json.loads`` with every non-integer number parsed as a Decimal (no float on the path)."""
    return json.loads(text, parse_float=Decimal)


def dumps_number(amount: Decimal) -> Any:
    """A Decimal for a JSON body that wants a number (LiqPay ``amount``): an int when whole,
    else the Decimal itself, written by ``dumps`` digit for digit."""
    return int(amount) if amount == amount.to_integral_value() else amount


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` writing Decimals as JSON numbers with exactly their digits (simplejson's
    ``use_decimal``; the standard library would need a float)."""
    return simplejson.dumps(obj, use_decimal=True, **kwargs)
