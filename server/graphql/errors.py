"""The API's error shapes.

- Expected failures go in a mutation payload's ``errors: [UserError!]!``.
- Auth failures and bad requests are GraphQL errors with ``extensions.code``.
- Anything else is masked for the caller and logged with an id they can quote."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from server.core.errors import ErrorCode, PublicError, UserInputError, problems_of
from server.i18n import _

log = logging.getLogger("crm.errors")

UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode", description="Why a mutation did not apply.")


@strawberry.type(description="An expected failure of a mutation, for the user to fix.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (dotted path), if any.")
    code: UserErrorCode
    message: str


def user_error(exc: UserInputError) -> UserError:
    return UserError(field=exc.field, code=exc.code, message=exc.message)


P = TypeVar("P")


async def run_mutation(payload: Callable[..., P], action: Callable[[], Awaitable[dict]]) -> P:
    """Run a service call; its ``UserInputError`` becomes the payload's ``errors``."""
    try:
        values = await action()
    except UserInputError as exc:
        return payload(errors=[user_error(e) for e in problems_of(exc)])
    return payload(errors=[], **values)


class AuthFailure(SchemaExtension):
    """A request whose credentials resolved to an error (a foreign X-Organization) runs nothing."""

    def on_execute(self):
        error = getattr(self.execution_context.context, "auth_error", None)
        if error is not None:
            raise GraphQLError(error.message, extensions={"code": error.code})
        yield


class ErrorKind(Enum):
    PUBLIC = "public"
    GRAPHQL = "graphql"  # syntax/validation errors from graphql-core itself
    UNEXPECTED = "unexpected"


def classify(error: GraphQLError) -> ErrorKind:
    original = error.original_error
    if original is None:
        return ErrorKind.GRAPHQL
    if isinstance(original, PublicError | UserInputError):
        return ErrorKind.PUBLIC
    if isinstance(original, GraphQLError):
        return classify(original)
    return ErrorKind.UNEXPECTED


class PublicErrors(MaskErrors):
    """Gives known errors their ``extensions.code``; masks the rest, logged with an error id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: classify(e) is ErrorKind.UNEXPECTED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s at %s", error_id, error.path, exc_info=error.original_error)
        return GraphQLError(
            message=_("Internal server error. Quote error id %(id)s when reporting it.", id=error_id),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = []
        for error in super()._process_errors(errors):
            original = error.original_error
            if isinstance(original, PublicError):
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif isinstance(original, UserInputError):
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT", "field": original.field}
            out.append(error)
        return out
