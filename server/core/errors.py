"""Errors a service raises. The GraphQL layer turns them into the API's error shapes:

- ``UserInputError`` -> an entry in a mutation payload's ``errors`` (expected failures);
- ``AuthError`` subclasses -> a GraphQL error with ``extensions.code``.
"""

from __future__ import annotations

from enum import Enum

from server.i18n import N_, _


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
    OUT_OF_STOCK = "OUT_OF_STOCK"  # an order line wants more than the catalog has available (docs/catalog.md)


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


# "<Model> not found." for ``not_found(model.__name__)`` (``Scope.get``), whole sentences so a
# translator can make each agree in gender and case; other names go in "%(what)s not found.".
NOT_FOUND = {
    "Account": N_("Account not found."),
    "Activity": N_("Activity not found."),
    "ApiKey": N_("API key not found."),
    "Attachment": N_("Attachment not found."),
    "BulkJob": N_("Bulk action not found."),
    "Campaign": N_("Campaign not found."),
    "Contact": N_("Contact not found."),
    "Conversation": N_("Conversation not found."),
    "ConversationMessage": N_("Message not found."),
    "CustomFieldDefinition": N_("Custom field not found."),
    "CustomRole": N_("Role not found."),
    "Deal": N_("Deal not found."),
    "Export": N_("Export not found."),
    "Import": N_("Import not found."),
    "ImportBatch": N_("Import not found."),
    "Membership": N_("Member not found."),
    "Notification": N_("Notification not found."),
    "NotificationTemplate": N_("Notification template not found."),
    "OAuthClient": N_("OAuth client not found."),
    "OAuthInstallation": N_("Installed app not found."),
    "Order": N_("Order not found."),
    "OrderStatus": N_("Order status not found."),
    "Payment": N_("Payment not found."),
    "Pipeline": N_("Pipeline not found."),
    "PluginInstallation": N_("Plugin installation not found."),
    "Product": N_("Product not found."),
    "ProductCategory": N_("Category not found."),
    "ProductVariant": N_("Variant not found."),
    "Segment": N_("Segment not found."),
    "Shipment": N_("Shipment not found."),
    "SlaPolicy": N_("SLA policy not found."),
    "Stage": N_("Stage not found."),
    "Survey": N_("Survey not found."),
    "Team": N_("Team not found."),
    "Telephony installation": N_("Telephony installation not found."),
    "Ticket": N_("Ticket not found."),
    "TicketComment": N_("Comment not found."),
    "User": N_("User not found."),
    "Warehouse": N_("Warehouse not found."),
    "WebhookEndpoint": N_("Webhook endpoint not found."),
    "WebhookMessage": N_("Webhook delivery not found."),
}


def not_found(what: str, field: str | None = None) -> UserInputError:
    sentence = NOT_FOUND.get(what)
    message = _(sentence) if sentence else _("%(what)s not found.", what=_(what))
    return UserInputError(ErrorCode.NOT_FOUND, message, field)


def version_conflict() -> UserInputError:
    return UserInputError(
        ErrorCode.CONFLICT,
        _("The record was changed by someone else since you read it. Reload and try again."),
        "version",
    )
