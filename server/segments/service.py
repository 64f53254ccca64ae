"""Saved segments: create, change and delete them; their members, live, as a queryset that
lists, counts, CSV export and (later) campaign audiences share.

Members are always read through ``Scope.queryset(Account)``: a role sees (and exports) only
the accounts it may see, and never another organization's."""

from __future__ import annotations

from uuid import UUID

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.analytics.schema import with_figures
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import idempotency
from server.core.errors import ErrorCode, Forbidden, UserInputError, UserInputErrors, version_conflict
from server.core.serialize import snapshot
from server.core.versioning import update_versioned
from server.i18n import _
from server.segments.models import Segment
from server.segments.rules import apply_rules, clean_rules

NAME_MAX, DESCRIPTION_MAX = 200, 2000
SEGMENT_FIELDS = ["name", "description", "rules"]


def _clean(scope: Scope, data: dict, *, creating: bool) -> dict:
    """Every problem with the input at once."""
    errors: list[UserInputError] = []
    values: dict = {}
    if "name" in data or creating:
        name = (data.get("name") or "").strip()
        if not name:
            errors.append(UserInputError(ErrorCode.REQUIRED, _("Give the segment a name."), "name"))
        elif len(name) > NAME_MAX:
            errors.append(UserInputError(ErrorCode.INVALID, _("At most %(count)s characters.", count=NAME_MAX), "name"))
        values["name"] = name
    if data.get("description") is not None:
        description = data["description"].strip()
        if len(description) > DESCRIPTION_MAX:
            errors.append(
                UserInputError(
                    ErrorCode.INVALID, _("At most %(count)s characters.", count=DESCRIPTION_MAX), "description"
                )
            )
        values["description"] = description
    if "rules" in data or creating:
        try:
            values["rules"] = clean_rules(data.get("rules") or {})
        except UserInputErrors as exc:
            errors.extend(exc.errors)
        if (values.get("rules") or {}).get("cities") and not scope.sees_pii("Account", "addresses"):
            # "An address mentions ..." would probe the street a masked address hides.
            errors.append(
                UserInputError(
                    ErrorCode.FORBIDDEN,
                    _("Only roles that see customers' addresses in full may choose customers by city."),
                    "rules.cities",
                )
            )
    if errors:
        raise UserInputErrors(errors)
    return values


async def _check_unique_name(scope: Scope, name: str, exclude: UUID | None = None) -> None:
    qs = Segment.filter(organization_id=scope.organization_id, name=name)
    if exclude is not None:
        qs = qs.exclude(id=exclude)
    if await qs.exists():
        raise UserInputError(ErrorCode.DUPLICATE, _("A segment with this name exists."), "name")


async def create_segment(scope: Scope, data: dict, idempotency_key: str | None = None) -> Segment:
    scope.require("accounts:create")
    idempotency.check_key(idempotency_key)
    values = _clean(scope, data, creating=True)

    async def create() -> Segment:
        await _check_unique_name(scope, values["name"])
        segment = await Segment.create(organization_id=scope.organization_id, created_by_id=scope.user_id, **values)
        await audit.record(
            scope, "segment.create", segment, {k: [None, v] for k, v in snapshot(segment, SEGMENT_FIELDS).items()}
        )
        return segment

    return await idempotency.create_once(
        scope.organization_id, "createSegment", idempotency_key, create, lambda pk: scope.get(Segment, pk), request=data
    )


async def update_segment(scope: Scope, segment_id: UUID, version: int, data: dict) -> Segment:
    scope.require("accounts:update")
    values = _clean(scope, data, creating=False)
    async with in_transaction():
        segment = await scope.get(Segment, segment_id, "update", field="id")
        if "name" in values:
            await _check_unique_name(scope, values["name"], exclude=segment.id)
        changes = await update_versioned(segment, version, values)
        if changes:
            await audit.record(scope, "segment.update", segment, changes)
    return segment


async def delete_segment(scope: Scope, segment_id: UUID, version: int) -> Segment:
    async with in_transaction():
        segment = await scope.get(Segment, segment_id, "delete", field="id")
        if segment.version != version:
            raise version_conflict()
        await audit.record(
            scope, "segment.delete", segment, {k: [v, None] for k, v in snapshot(segment, SEGMENT_FIELDS).items()}
        )
        await segment.delete()
    return segment


# -- members ---------------------------------------------------------------------------------


# Rules on fields some roles may not see (``Role.hidden_fields``): such a role may not use the
# segment, or its members would tell who has the tag "vip" (as in accounts' GUARDED_FILTERS).
GUARDED_RULES = {"tags": "tags", "custom_fields": "customFields"}


def hidden_rules(scope: Scope, rules: dict) -> list[str]:
    """The Account fields the segment's rules use that the caller may not see."""
    return [
        field for key, field in GUARDED_RULES.items() if rules.get(key) and not scope.can_see_field("Account", field)
    ]


def members(scope: Scope, segment: Segment) -> QuerySet[Account]:
    """The segment's accounts that the caller may see, with their figures joined."""
    hidden = hidden_rules(scope, segment.rules)
    if hidden:
        raise Forbidden(
            _("Your role may not see Account.%(field)s, so it may not use segments on it.", field=hidden[0])
        )
    if segment.rules.get("cities") and not scope.sees_pii("Account", "addresses"):
        # A city rule matches any part of an address: used by someone who sees addresses masked,
        # it would tell what the mask hides (docs/roles.md, "Masked fields").
        raise Forbidden(_("Your role sees addresses masked, so it may not use segments on cities."))
    return apply_rules(with_figures(scope.queryset(Account)), scope.organization_id, segment.rules)


async def member_ids(scope: Scope, segment_id: UUID) -> tuple[str, ...]:
    """The segment's account ids the caller may see, as text, for the analytics filter
    (``filter.segmentId``)."""
    segment = await scope.get(Segment, segment_id, field="filter.segmentId")
    return tuple(str(pk) for pk in await members(scope, segment).values_list("id", flat=True))


async def segment_account_ids(scope: Scope, segment_id: UUID) -> list[UUID]:
    """The ids of the segment's accounts, for a campaign's audience (the caller's row scope
    applies: a campaign run by the organization should use an ``all``-rows scope)."""
    segment = await scope.get(Segment, segment_id, field="segmentId")
    return await members(scope, segment).order_by("id").values_list("id", flat=True)
