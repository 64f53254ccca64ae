"""Types every domain uses: Node, Money, User, Organization."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from server.auth.models import User
from server.graphql import ids
from server.organizations.models import Organization


@strawberry.interface(description="An object with a global ID; fetch any of them with `node(id:)`.")
class Node:
    @strawberry.field(description="Opaque global ID.")
    def id(self) -> strawberry.ID:
        return ids.encode(type(self).__name__, self.id)  # type: ignore[attr-defined]


@strawberry.type(description="An amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def model_type(model, name: str | None = None, description: str | None = None):
    """A strawberry object type whose root value is the Tortoise model instance itself
    (no copying per row); ``is_type_of`` lets `node` and interfaces resolve it."""

    def wrap(cls):
        cls.is_type_of = classmethod(lambda _cls, obj, _info: isinstance(obj, model))
        return strawberry.type(cls, name=name or model.__name__, description=description)

    return wrap


@model_type(User, description="A person who signs in. Only names and e-mails are shown.")
class UserType(Node):
    email: str
    name: str


@model_type(Organization, description="The tenant: a shop or a company using the CRM.")
class OrganizationType(Node):
    name: str
    slug: str
    currency: str
    locale: str
    timezone: str

    @strawberry.field(description="What a new or changed customer with a known phone or e-mail does.")
    def duplicate_policy(self) -> DuplicatePolicy:
        return DuplicatePolicy(self.duplicate_policy)  # type: ignore[attr-defined]


@strawberry.enum(description="What creating or changing an account or contact with a phone or e-mail that "
                 "another one already has does.")
class DuplicatePolicy(Enum):
    WARN = strawberry.enum_value("warn", description="Saved; the payload's `duplicates` names the existing records.")
    REFUSE = strawberry.enum_value(
        "refuse",
        description="Not saved: a DUPLICATE error naming the existing record (imports and syncs only warn).",
    )
