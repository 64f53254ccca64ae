"""Helpers for mutation inputs and field guards."""

from __future__ import annotations

import dataclasses
import inspect
import math
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension

from server.core.errors import UserInputError, UserInputErrors
from server.core.text import camel_case, invalid, json_depth, number_problem, text_problem
from server.graphql import ids
from server.graphql.errors import user_error
from server.i18n import _

# Bounds on any input, before a service applies its own, smaller ones (see docs/api.md).
MAX_INPUT_JSON_DEPTH = 20
MAX_INPUT_JSON_KEYS = 1_000
MAX_INPUT_LIST = 1_000


def given(
    input_obj,
    *,
    exclude: tuple[str, ...] = ("id", "version", "idempotency_key"),
    id_fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The fields the caller actually sent (UNSET ones skipped), global IDs decoded.

    ``id_fields`` maps an input field (``owner_id``) to the type its ID must be of (``User``)."""
    id_fields = id_fields or {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(input_obj):
        value = getattr(input_obj, f.name)
        if f.name in exclude or value is strawberry.UNSET:
            continue
        if f.name in id_fields:
            value = ids.decode_pk(value, id_fields[f.name], camel_case(f.name))
        out[f.name] = value
    return out


# -- hostile values, refused in one place before any resolver runs ----------------------


def input_problems(kwargs: dict[str, Any]) -> list[UserInputError]:
    """Every value of a root field's arguments that no field may accept: text with NUL or an
    unpaired surrogate or beyond any length, numbers that are not finite or beyond any size,
    JSON nested deeper than anything we store. Paths are relative to ``input`` (as in
    ``UserError.field``), or start with the argument's name for other arguments."""
    problems: list[UserInputError] = []
    stack: list[tuple[Any, str]] = [
        (value, "" if name == "input" else camel_case(name)) for name, value in kwargs.items()
    ]
    while stack:
        value, path = stack.pop()
        message = None
        if isinstance(value, str):
            message = text_problem(value)
        elif isinstance(value, Decimal):
            message = number_problem(value)
        elif isinstance(value, float) and not math.isfinite(value):
            message = _("Must be a finite number.")
        elif isinstance(value, dict):
            if json_depth(value) > MAX_INPUT_JSON_DEPTH:
                message = _("JSON nests deeper than %(n)s levels.", n=MAX_INPUT_JSON_DEPTH)
            elif len(value) > MAX_INPUT_JSON_KEYS:
                message = _("A JSON object has more than %(n)s keys.", n=MAX_INPUT_JSON_KEYS)
            else:
                stack.extend((k, path) for k in value)  # keys are text too
                stack.extend((v, _join(path, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            if len(value) > MAX_INPUT_LIST:
                message = _("A list has more than %(n)s entries.", n=MAX_INPUT_LIST)
            else:
                stack.extend((v, _join(path, str(i))) for i, v in enumerate(value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            stack.extend(
                (getattr(value, f.name), _join(path, camel_case(f.name)))
                for f in dataclasses.fields(value)
                if getattr(value, f.name) is not strawberry.UNSET
            )
        if message:
            problems.append(invalid(path or None, message))
    problems.sort(key=lambda e: e.field or "")
    return problems


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _payload_type(field) -> type | None:
    """The mutation payload a field returns, if it has ``errors`` and nothing else required."""
    definition = getattr(field.type, "__strawberry_definition__", None)
    if definition is None or "errors" not in {f.python_name for f in definition.fields}:
        return None
    required = [
        f.name
        for f in dataclasses.fields(field.type)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    return field.type if required == ["errors"] else None


class RefuseHostileInput(FieldExtension):
    """Put on every root field: values no field can store become ``INVALID`` user errors (in
    the payload's ``errors`` for a mutation, a ``BAD_USER_INPUT`` error for a query) instead
    of reaching a service, where the database would fail on them."""

    def apply(self, field) -> None:
        self.payload = _payload_type(field)

    def _refusal(self, kwargs: dict[str, Any]):
        problems = input_problems(kwargs)
        if not problems:
            return None
        if self.payload is None:
            raise UserInputErrors(problems)
        return self.payload(errors=[user_error(p) for p in problems])

    def resolve(self, next_, source, info, **kwargs):
        refusal = self._refusal(kwargs)
        return refusal if refusal is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info, **kwargs):
        refusal = self._refusal(kwargs)
        if refusal is not None:
            return refusal
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result
