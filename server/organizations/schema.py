"""GraphQL for the organization's own settings."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.graphql.errors import UserError, run_mutation
from server.graphql.inputs import given
from server.graphql.types import DuplicatePolicy, OrganizationType
from server.organizations import service


@strawberry.input
class UpdateOrganizationInput:
    name: str | None = strawberry.UNSET
    currency: str | None = strawberry.field(default=strawberry.UNSET, description="ISO 4217 default for new records.")
    locale: str | None = strawberry.field(
        default=strawberry.UNSET, description="uk or en: customer messages' language."
    )
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="IANA name, e.g. Europe/Kyiv.")
    duplicate_policy: DuplicatePolicy | None = strawberry.field(
        default=strawberry.UNSET,
        description="What creating or changing a customer with a known phone or e-mail does (docs/duplicates.md).",
    )


@strawberry.type
class OrganizationPayload:
    organization: OrganizationType | None = None
    errors: list[UserError]


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(description="Owners and admins: rename the organization or change its defaults.")
    async def update_organization(self, info: Info, input: UpdateOrganizationInput) -> OrganizationPayload:
        scope = info.context.scope

        async def act():
            data = given(input)
            if data.get("duplicate_policy") is not None:
                data["duplicate_policy"] = data["duplicate_policy"].value
            return {"organization": await service.update_organization(scope, data)}

        return await run_mutation(OrganizationPayload, act)
