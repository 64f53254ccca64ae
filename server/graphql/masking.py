"""Masked PII fields on the stock path: every field listed in ``server.auth.masking.PII_FIELDS``
gets a field extension that hands its value through ``Scope.mask`` (in full for callers with
``pii:read``, masked for the others). The fast path masks the same list (fastpath/run.py)."""

from __future__ import annotations

import inspect

from strawberry.extensions.field_extension import FieldExtension

from server.auth.masking import PII_FIELDS
from server.core.text import camel_case


class MaskPii(FieldExtension):
    def __init__(self, type_name: str, field_name: str):
        self.type_name = type_name
        self.field_name = field_name

    def resolve(self, next_, source, info, **kwargs):
        return info.context.scope.mask(self.type_name, self.field_name, next_(source, info, **kwargs))

    async def resolve_async(self, next_, source, info, **kwargs):
        value = next_(source, info, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        return info.context.scope.mask(self.type_name, self.field_name, value)


def mask_pii_fields(*types: type) -> None:
    """Put ``MaskPii`` on the PII fields of these strawberry types (before the schema is built);
    a listed field that none of them has is a mistake in the list, reported at start-up."""
    found: set[tuple[str, str]] = set()
    for cls in types:
        definition = cls.__strawberry_definition__
        for field in definition.fields:
            key = (definition.name, field.graphql_name or camel_case(field.python_name))
            if key in PII_FIELDS:
                field.extensions.append(MaskPii(*key))
                found.add(key)
    missing = set(PII_FIELDS) - found
    if missing:
        raise RuntimeError(f"PII fields not in the schema: {sorted(missing)}")
