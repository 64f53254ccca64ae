"""Helpers for mutation inputs and field guards."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry

from server.graphql import ids


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
            value = ids.decode_pk(value, id_fields[f.name], _camel(f.name))
        out[f.name] = value
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
