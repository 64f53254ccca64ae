"""Checking custom-field values against their definitions, and their stored form.

A value travels in a canonical, JSON-friendly form (audit trail, export, import):
text, link and choice a string; number a decimal string; money ``{"amount", "currency"}``;
date ``YYYY-MM-DD``; multi-choice a list of strings; boolean true/false."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.money import CURRENCIES
from server.core.text import text_problem
from server.customfields.models import CustomFieldDefinition, CustomFieldValue
from server.i18n import _

MAX_TEXT = 2000
MAX_NUMBER = Decimal("1e14")
TEXT_KINDS = ("text", "link", "choice", "multi_choice")
NUMBER_KINDS = ("number", "money")
# The typed input field each kind is given in (CustomFieldInput).
INPUT_OF = {
    "text": "text_value",
    "number": "number_value",
    "money": "money_value",
    "date": "date_value",
    "choice": "choice_values",
    "multi_choice": "choice_values",
    "boolean": "boolean_value",
    "link": "link_value",
}
INPUT_FIELDS = tuple(dict.fromkeys(INPUT_OF.values()))
API_NAMES = {
    "text_value": "textValue",
    "number_value": "numberValue",
    "money_value": "moneyValue",
    "date_value": "dateValue",
    "choice_values": "choiceValues",
    "boolean_value": "booleanValue",
    "link_value": "linkValue",
}


def _bad(field: str, message: str) -> UserInputError:
    return UserInputError(ErrorCode.INVALID, message, field)


def _text(value: object, field: str) -> str:
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _bad(field, _("A custom field's text is at most %(n)s characters.", n=MAX_TEXT))
    problem = text_problem(text)
    if problem:
        raise _bad(field, problem)
    return text


def _number(value: object, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise _bad(field, _("'%(value)s' is not a number.", value=str(value)[:50])) from exc
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise _bad(field, _("The number must be finite and less than 10^14."))
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise _bad(field, _("The number has more than 6 decimal places."))
    return number


def _link(value: object, field: str) -> str:
    text = _text(value, field)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise _bad(field, _("'%(value)s' is not a web address (http:// or https://).", value=text[:100]))
    return text


def _date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise _bad(field, _("'%(value)s' is not a date (YYYY-MM-DD).", value=str(value)[:50])) from exc


def _money(value: object, field: str) -> dict:
    amount = value.get("amount") if isinstance(value, dict) else getattr(value, "amount", None)
    currency = value.get("currency") if isinstance(value, dict) else getattr(value, "currency", None)
    problems = Problems()
    number = None
    if amount is None:
        problems.add(ErrorCode.REQUIRED, _("Give the amount of money."), f"{field}.amount")
    else:
        with problems:
            number = _number(amount, f"{field}.amount")
            if number.as_tuple().exponent < -2:  # type: ignore[operator]
                raise _bad(f"{field}.amount", _("An amount of money has at most 2 decimal places."))
    code = str(currency or "").strip().upper()
    if not code:
        problems.add(ErrorCode.REQUIRED, _("Give the currency (ISO 4217, e.g. UAH)."), f"{field}.currency")
    elif code not in CURRENCIES:
        problems.add(
            ErrorCode.INVALID,
            _(
                "Unsupported currency '%(code)s'; use one of: %(codes)s.",
                code=code[:10],
                codes=", ".join(sorted(CURRENCIES)),
            ),
            f"{field}.currency",
        )
    problems.raise_if_any()
    return {"amount": str(number.quantize(Decimal("0.01"))), "currency": code}


def _choices(definition: CustomFieldDefinition, values: list, field: str) -> list[str]:
    allowed = [c["value"] for c in definition.choices]
    out: list[str] = []
    problems = Problems()
    for raw in values:
        value = str(raw).strip()
        if value not in allowed:
            problems.add(
                ErrorCode.INVALID,
                _("'%(value)s' is not one of the choices: %(choices)s.", value=value[:100], choices=", ".join(allowed)),
                field,
            )
        elif value not in out:
            out.append(value)
    problems.raise_if_any()
    if definition.kind == "choice" and len(out) > 1:
        raise _bad(field, _("This field takes one choice."))
    return out


def check(definition: CustomFieldDefinition, raw: object, field: str):
    """The canonical value of ``raw`` (already the right input field), or a problem."""
    kind = definition.kind
    if kind == "text":
        return _text(raw, field) or None
    if kind == "link":
        return _link(raw, field) if str(raw).strip() else None
    if kind == "number":
        return format(_number(raw, field).normalize(), "f")
    if kind == "money":
        return _money(raw, field)
    if kind == "date":
        return _date(raw, field).isoformat()
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise _bad(field, _("Give true or false."))
        return raw
    values = raw if isinstance(raw, list | tuple) else [raw]
    chosen = _choices(definition, values, field)
    if not chosen:
        return None
    return chosen[0] if kind == "choice" else chosen


MONEY_TEXT = re.compile(r"([A-Za-z]{3})?\s*([-+]?[\d\s\u00a0.,]*\d)\s*([A-Za-z]{3})?")
TRUE_WORDS = {"true", "yes", "1", "так", "да", "y", "+"}
FALSE_WORDS = {"false", "no", "0", "ні", "нет", "n", "-"}


def from_text(definition: CustomFieldDefinition, text: str, field: str):
    """A value given as text (an import cell, a filter): parsed by the field's kind."""
    text = (text or "").strip()
    if not text:
        return None
    kind = definition.kind
    if kind == "boolean":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise _bad(field, _("Give true or false."))
    if kind == "money":  # "1 200,50 UAH", "UAH 1200.50"
        found = MONEY_TEXT.fullmatch(text)
        if found is None:
            return check(definition, {"amount": text, "currency": ""}, field)
        amount = re.sub(r"[\s\u00a0]", "", found.group(2)).replace(",", ".")
        return check(definition, {"amount": amount, "currency": found.group(1) or found.group(3) or ""}, field)
    if kind == "number":
        return check(definition, re.sub(r"[\s\u00a0]", "", text).replace(",", "."), field)
    if kind == "multi_choice":
        return check(definition, [p for p in (s.strip() for s in text.replace(";", ",").split(",")) if p], field)
    return check(definition, text, field)


def as_text(kind: str, value) -> str:
    """A canonical value as one spreadsheet cell (the inverse of ``from_text``)."""
    if value is None:
        return ""
    if kind == "money":
        return f"{value['amount']} {value['currency']}"
    if kind == "multi_choice":
        return ", ".join(value)
    if kind == "boolean":
        return "true" if value else "false"
    return str(value)


def rows_of(definition: CustomFieldDefinition, object_type: str, object_id, value) -> list[CustomFieldValue]:
    """The rows that store ``value`` (none for an empty value)."""
    if value is None:
        return []
    base = {
        "organization_id": definition.organization_id,
        "definition_id": definition.id,
        "object_type": object_type,
        "object_id": object_id,
    }
    kind = definition.kind
    if kind == "multi_choice":
        return [
            CustomFieldValue(**base, text_value=v, text_key=v.lower()[:255], position=i) for i, v in enumerate(value)
        ]
    if kind in ("text", "link", "choice"):
        return [CustomFieldValue(**base, text_value=value, text_key=value.lower()[:255])]
    if kind == "number":
        return [CustomFieldValue(**base, number_value=Decimal(value), number_key=float(value))]
    if kind == "money":
        amount = Decimal(value["amount"])
        return [CustomFieldValue(**base, number_value=amount, number_key=float(amount), currency=value["currency"])]
    if kind == "date":
        day = date.fromisoformat(value)
        return [CustomFieldValue(**base, date_value=day, number_key=float(day.toordinal()))]
    return [CustomFieldValue(**base, bool_value=value, number_key=1.0 if value else 0.0)]


def value_of(kind: str, rows: list[CustomFieldValue]):
    """The canonical value stored in ``rows`` (of one field of one record)."""
    if not rows:
        return None
    if kind == "multi_choice":
        return [r.text_value for r in sorted(rows, key=lambda r: r.position)]
    row = rows[0]
    if kind in ("text", "link", "choice"):
        return row.text_value
    if kind == "number":
        return format(Decimal(row.number_value).normalize(), "f") if row.number_value is not None else None
    if kind == "money":
        return {"amount": str(Decimal(row.number_value).quantize(Decimal("0.01"))), "currency": row.currency}
    if kind == "date":
        day = row.date_value
        return day.isoformat() if isinstance(day, date) else str(day)
    return bool(row.bool_value)
