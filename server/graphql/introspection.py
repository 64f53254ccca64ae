"""The schema is for signed-in callers: anonymous ones of a production server cannot read it.

Outside debug and demo, a caller without a valid token gets no introspection (``__schema``
and ``__type``; ``__typename`` stays) and no "Did you mean ...?" hints in error messages, so
probing the endpoint does not map the API. Signed-in users and partners' applications, and
everyone on a debug or demo server, keep both (GraphiQL's docs and autocomplete need them).
"""

from __future__ import annotations

import re
from functools import lru_cache

from graphql import GraphQLError, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# graphql-core's pyutils.did_you_mean: " Did you mean 'a', 'b', or 'c'?" (or "... to use ...?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def schema_hidden(context) -> bool:
    """True for an anonymous caller of a server that is neither in debug nor in demo mode."""
    settings = getattr(context, "settings", None)
    principal = getattr(context, "principal", None)
    if settings is None or principal is None or settings.debug or settings.demo:
        return False
    return not principal.is_authenticated


@lru_cache(maxsize=256)
def _validate_hidden(schema, document, rules: tuple) -> list[GraphQLError]:
    # Cached like strawberry's ValidationCache (the document comes from the ParserCache, so
    # the same text is the same object); kept apart from it, since its answer differs per caller.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule, NoSchemaIntrospectionCustomRule)
    return validate(schema, document, rules, hide_suggestions=True)


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


class HideSchemaFromAnonymous(SchemaExtension):
    """Runs after ValidationCache: for a hidden-schema caller it validates again with the
    no-introspection rule and without suggestions, and strips suggestions from the errors of
    variable coercion, which graphql-core reports during execution."""

    def on_validate(self):
        ctx = self.execution_context
        if schema_hidden(ctx.context) and ctx.graphql_document is not None:
            ctx.pre_execution_errors = _validate_hidden(
                ctx.schema._schema, ctx.graphql_document, tuple(ctx.validation_rules)
            )
        yield

    def on_operation(self):
        yield
        ctx = self.execution_context
        result = ctx.result
        if result is not None and result.errors and schema_hidden(ctx.context):
            for error in result.errors:
                error.message = without_suggestions(error.message)
