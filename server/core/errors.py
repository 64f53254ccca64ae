"""Errors a service raises. The GraphQL layer turns them into the API's error shapes:

- ``UserInputError`` -> an entry in a mutation payload's ``errors`` (expected failures);
- ``AuthError`` subclasses -> a GraphQL error with ``extensions.code``.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    DUPLICATE = "DUPLICATE"
    FORBIDDEN = "FORBIDDEN"
    FORBIDDEN_TRANSITION = "FORBIDDEN_TRANSITION"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    IDEMPOTENCY_MISMATCH = "IDEMPOTENCY_MISMATCH"
    RATE_LIMITED = "RATE_LIMITED"
    PROVIDER_ERROR = "PROVIDER_ERROR"  # a plugin's provider refused or failed (message says why)
    TOO_LARGE = "TOO_LARGE"  # an uploaded file over the size limit
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"  # an uploaded file of a type not accepted (judged by its bytes)


class UserInputError(Exception):
    """An expected failure the caller can fix: bad input, a stale version, a forbidden move."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class UserInputErrors(UserInputError):
    """Several problems with one input, reported together so the user fixes them in one go.
    Behaves as its first problem where only one is shown (the CLI, a GraphQL error)."""

    def __init__(self, errors: list[UserInputError]):
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self.errors = errors


def problems_of(exc: UserInputError) -> list[UserInputError]:
    return list(exc.errors) if isinstance(exc, UserInputErrors) else [exc]


class Problems:
    """Collects the problems of one input instead of stopping at the first::

        problems = Problems()
        with problems:
            values["name"] = required_text(data["name"], "name", 300)
        with problems:
            values["phones"] = normalize_phones(data["phones"])
        problems.raise_if_any()  # UserInputErrors with both, before anything is written

    Each ``with`` block swallows only ``UserInputError`` (anything else propagates), so a
    value set in a failed block is simply missing; ``raise_if_any`` must run before it is used.
    """

    def __init__(self) -> None:
        self.errors: list[UserInputError] = []

    def __enter__(self) -> Problems:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, UserInputError):
            self.errors.extend(problems_of(exc))
            return True
        return False

    def add(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        self.errors.append(UserInputError(code, message, field))

    def has(self, field: str) -> bool:
        """Whether ``field`` (or something inside it, ``items.0.sku``) already has a problem."""
        return any(e.field == field or (e.field or "").startswith(field + ".") for e in self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise UserInputErrors(self.errors)


class PublicError(Exception):
    """An error shown to the caller as a GraphQL error with ``extensions.code``."""

    code = "BAD_REQUEST"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    code = "FORBIDDEN"


class OrganizationRequired(PublicError):
    code = "ORGANIZATION_REQUIRED"


class BadRequest(PublicError):
    code = "BAD_REQUEST"


def not_found(what: str, field: str | None = None) -> UserInputError:
    return UserInputError(ErrorCode.NOT_FOUND, f"{what} not found.", field)


def version_conflict() -> UserInputError:
    return UserInputError(
        ErrorCode.CONFLICT,
        "The record was changed by someone else since you read it. Reload and try again.",
        "version",
    )
