from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

_PLAIN = frozenset({str, int, float, bool})


def jsonable(value):
    """A JSON-safe copy for audit entries and event payloads: Decimal and dates as strings."""
    if value is None or type(value) in _PLAIN:  # most columns: nothing to convert
        return value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj, fields: list[str]) -> dict:
    return {f: jsonable(getattr(obj, f)) for f in fields}


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
