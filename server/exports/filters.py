"""A list's ``where``/``orderBy`` input kept as JSON while the export waits for its job, and
rebuilt as the same strawberry input objects when it runs: the job then filters through the
list's own code (its lookups and field checks), exactly as the list does."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.lazy_type import LazyType


def to_json(value: Any) -> Any:
    """An input object as JSON (python field names; unset fields left out)."""
    if value is None:
        return None
    if has_object_definition(value):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is not None and not _is_unset(item):
                out[f.name] = to_json(item)
        return out
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _is_unset(value) -> bool:
    import strawberry

    return value is strawberry.UNSET


def from_json(type_: Any, value: Any) -> Any:
    """The inverse of ``to_json`` for a field of type ``type_`` (an input class, list, enum, scalar)."""
    if value is None:
        return None
    if isinstance(type_, StrawberryOptional):
        return from_json(type_.of_type, value)
    if isinstance(type_, StrawberryList):
        return [from_json(type_.of_type, v) for v in value]
    if isinstance(type_, LazyType):
        return from_json(type_.resolve_type(), value)
    wrapped = getattr(type_, "wrapped_cls", None)  # an enum's definition
    if wrapped is not None and issubclass(wrapped, Enum):
        return wrapped(value)
    if isinstance(type_, type) and issubclass(type_, Enum):
        return type_(value)
    if has_object_definition(type_):
        kwargs = {}
        for f in type_.__strawberry_definition__.fields:
            if f.python_name in value:
                kwargs[f.python_name] = from_json(f.type, value[f.python_name])
        return type_(**kwargs)
    if type_ is datetime:
        return datetime.fromisoformat(value)
    if type_ is Decimal:
        return Decimal(value)
    return value
