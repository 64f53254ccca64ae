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


class UserInputError(Exception):
    """An expected failure the caller can fix: bad input, a stale version, a forbidden move."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class UserInputErrors(UserInputError):
    """Several problems with one input, reported together so the user fixes them in one go."""

    def __init__(self, errors: list[UserInputError]):
        super().__init__(errors[0].code, errors[0].message, errors[0].field)
        self.errors = errors


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
