"""Creating organizations (the CLI and the demo do; there is no self sign-up yet)."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.models import Sequence
from server.core.money import check_currency
from server.core.text import required_text
from server.deals.models import Pipeline, Stage
from server.i18n import _, gettext_in
from server.orders.models import OrderStatus, OrderStatusTransition
from server.organizations import defaults
from server.organizations.models import Organization
from server.tickets.models import SlaPolicy

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
LOCALES = ("uk", "en")


async def create_organization(
    slug: str, name: str, currency: str = "UAH", locale: str = "uk", timezone: str = "Europe/Kyiv"
) -> Organization:
    if not SLUG_RE.match(slug):
        raise UserInputError(ErrorCode.INVALID, _("Slug: 2-63 lowercase letters, digits and dashes."), "slug")
    async with in_transaction():
        if await Organization.filter(slug=slug).exists():
            raise UserInputError(ErrorCode.DUPLICATE, _("Organization '%(slug)s' already exists.", slug=slug), "slug")
        org = await Organization.create(
            slug=slug,
            name=required_text(name, "name", 200),
            currency=check_currency(currency),
            locale=locale,
            timezone=timezone,
        )
        await seed_defaults(org)
    return org


async def seed_defaults(org: Organization) -> None:
    await Sequence.bulk_create([Sequence(organization=org, name=n, value=0) for n in ("order", "ticket")])

    # Names in the organization's language; codes and kinds stay the same in every language.
    def named(text: str) -> str:
        return gettext_in(org.locale, text)

    pipeline_name, stages = defaults.PIPELINE
    pipeline = await Pipeline.create(organization=org, name=named(pipeline_name), position=0, is_default=True)
    await Stage.bulk_create(
        [
            Stage(organization=org, pipeline=pipeline, name=named(name), position=i, probability=p, kind=kind)
            for i, (name, p, kind) in enumerate(stages)
        ]
    )
    await OrderStatus.bulk_create(
        [
            OrderStatus(organization=org, code=code, name=named(name), group=group, position=i, is_initial=(i == 0))
            for i, (code, name, group) in enumerate(defaults.ORDER_STATUSES)
        ]
    )
    by_code = {s.code: s for s in await OrderStatus.filter(organization=org)}
    await OrderStatusTransition.bulk_create(
        [
            OrderStatusTransition(organization=org, from_status=by_code[a], to_status=by_code[b])
            for a, targets in defaults.ORDER_TRANSITIONS.items()
            for b in targets
        ]
    )
    await SlaPolicy.bulk_create(
        [
            SlaPolicy(organization=org, priority=p, first_response_minutes=fr, resolution_minutes=res)
            for p, (fr, res) in defaults.SLA.items()
        ]
    )


async def update_organization(scope, data: dict) -> Organization:
    """Owners and admins change the name, default currency, locale, timezone and what a
    duplicate phone or e-mail does (docs/duplicates.md)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from server.audit import service as audit
    from server.organizations import language

    scope.require("settings:write")
    org = await Organization.get(id=scope.organization_id)
    values: dict = {}
    problems = Problems()
    with problems:
        if data.get("name") is not None:
            values["name"] = required_text(data["name"], "name", 200)
    with problems:
        if data.get("currency") is not None:
            values["currency"] = check_currency(data["currency"])
    if data.get("locale") is not None:
        if data["locale"] not in LOCALES:
            problems.add(
                ErrorCode.INVALID, _("Locale must be one of: %(locales)s.", locales=", ".join(LOCALES)), "locale"
            )
        values["locale"] = data["locale"]
    if data.get("timezone") is not None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.add(
                ErrorCode.INVALID, _("Unknown timezone '%(timezone)s'.", timezone=data["timezone"][:64]), "timezone"
            )
        values["timezone"] = data["timezone"]
    if data.get("duplicate_policy") is not None:
        from server.accounts.duplicates import POLICIES

        if data["duplicate_policy"] not in POLICIES:
            problems.add(
                ErrorCode.INVALID,
                _("Duplicate policy must be one of: %(policies)s.", policies=", ".join(POLICIES)),
                "duplicatePolicy",
            )
        values["duplicate_policy"] = data["duplicate_policy"]
    problems.raise_if_any()
    async with in_transaction():
        changes = {k: [getattr(org, k), v] for k, v in values.items() if getattr(org, k) != v}
        if changes:
            await Organization.filter(id=org.id).update(**values)
            for k, v in values.items():
                setattr(org, k, v)
            await audit.record(scope, "organization.update", org, changes)
    if "locale" in changes:
        language.forget(org.id)
    return org
