"""Custom fields: the only writer of their definitions, values and of the tags of orders, deals
and tickets. The domains call ``clean`` before their transaction (all problems at once, with the
rest of their input) and ``save`` inside it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import BadRequest, ErrorCode, Forbidden, Problems, UserInputError, not_found, version_conflict
from server.core.text import limited_text, position, required_text
from server.customfields import values as cv
from server.customfields.models import (
    KINDS,
    OBJECT_TYPES,
    RESOURCES,
    CustomFieldDefinition,
    CustomFieldValue,
    ObjectTag,
)
from server.i18n import _
from server.search import index as search_index

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_CHOICES = 200
MAX_DEFINITIONS = 200  # per object type
# The GraphQL type of each object type (field rules are named after it: "Order.customFields").
TYPE_NAMES = {"account": "Account", "contact": "Contact", "deal": "Deal", "order": "Order", "ticket": "Ticket"}
TABLES = {"account": "account", "contact": "contact", "deal": "deal", "order": "order", "ticket": "ticket"}
MANAGE = "settings:write"

KEY_MAX = 64  # CustomFieldDefinition.key's length


# -- definitions -------------------------------------------------------------------------


def _check_object_type(value: str, field: str = "objectType") -> str:
    if value not in OBJECT_TYPES:
        raise UserInputError(ErrorCode.INVALID, _("Unknown object type."), field)
    return value


def _clean_choices(raw: list[dict], problems: Problems) -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()
    if len(raw) > MAX_CHOICES:
        problems.add(ErrorCode.INVALID, _("A field has at most %(n)s choices.", n=MAX_CHOICES), "choices")
    for i, choice in enumerate(raw):
        with problems:
            value = required_text(choice.get("value"), f"choices.{i}.value", 100)
            if value in seen:
                raise UserInputError(
                    ErrorCode.DUPLICATE, _("The choice '%(value)s' is given twice.", value=value), f"choices.{i}.value"
                )
            seen.add(value)
            label_uk = limited_text(choice.get("label_uk") or value, f"choices.{i}.labelUk", 200)
            label_en = limited_text(choice.get("label_en") or value, f"choices.{i}.labelEn", 200)
            out.append({"value": value, "label_uk": label_uk, "label_en": label_en})
    return out


def _clean_definition(data: dict, kind: str | None, problems: Problems) -> dict:
    values: dict = {}
    for name, api in (("label_uk", "labelUk"), ("label_en", "labelEn")):
        if name in data:
            with problems:
                if not (data[name] or "").strip():
                    raise UserInputError(ErrorCode.REQUIRED, _("Give the label in both languages."), api)
                values[name] = limited_text(data[name], api, 200)
    for name in ("required", "archived"):
        if data.get(name) is not None:
            values[name] = bool(data[name])
    if data.get("position") is not None:
        with problems:
            values["position"] = position(data["position"])
    if data.get("choices") is not None:
        values["choices"] = _clean_choices(data["choices"], problems)
    if kind in ("choice", "multi_choice"):
        if "choices" in values and not values["choices"] and not problems.has("choices"):
            problems.add(ErrorCode.REQUIRED, _("A choice field needs at least one choice."), "choices")
    elif values.get("choices"):
        problems.add(ErrorCode.INVALID, _("Only choice fields have choices."), "choices")
    return values


async def create_definition(scope: Scope, data: dict) -> CustomFieldDefinition:
    scope.require(MANAGE)
    problems = Problems()
    object_type = data.get("object_type")
    with problems:
        _check_object_type(object_type)
    key = (data.get("key") or "").strip()
    if not KEY_RE.match(key):
        problems.add(
            ErrorCode.INVALID,
            _("A key is 1 to 64 lower-case Latin letters, digits and underscores, starting with a letter."),
            "key",
        )
    kind = data.get("kind")
    if kind not in KINDS:
        problems.add(ErrorCode.INVALID, _("Unknown field type."), "kind")
    for name, api in (("label_uk", "labelUk"), ("label_en", "labelEn")):
        if not (data.get(name) or "").strip():
            problems.add(ErrorCode.REQUIRED, _("Give the label in both languages."), api)
    if kind in ("choice", "multi_choice") and not data.get("choices"):
        problems.add(ErrorCode.REQUIRED, _("A choice field needs at least one choice."), "choices")
    values = _clean_definition(
        {k: v for k, v in data.items() if k not in ("key", "kind", "object_type")}, kind, problems
    )
    problems.raise_if_any()
    async with in_transaction():
        qs = CustomFieldDefinition.filter(organization_id=scope.organization_id, object_type=object_type)
        if await qs.filter(key=key).exists():
            raise UserInputError(
                ErrorCode.DUPLICATE, _("There is already a field with the key '%(key)s'.", key=key), "key"
            )
        if await qs.count() >= MAX_DEFINITIONS:
            raise UserInputError(
                ErrorCode.INVALID, _("An object type has at most %(n)s custom fields.", n=MAX_DEFINITIONS), "objectType"
            )
        if "position" not in values:
            values["position"] = await qs.count()
        scope.__dict__.pop("_custom_field_definitions", None)
        definition = await CustomFieldDefinition.create(
            organization_id=scope.organization_id, object_type=object_type, key=key, kind=kind, **values
        )
        await audit.record(
            scope,
            "custom_field.create",
            definition,
            {"object_type": [None, object_type], "key": [None, key], "kind": [None, kind]},
        )
        await outbox.emit(scope.organization_id, "custom_field.created", {"definition_id": definition.id, "key": key})
    return definition


async def update_definition(scope: Scope, definition_id: UUID, version: int, data: dict) -> CustomFieldDefinition:
    scope.require(MANAGE)
    async with in_transaction():
        definition = (
            await CustomFieldDefinition.filter(organization_id=scope.organization_id, id=definition_id)
            .select_for_update()
            .first()
        )
        if definition is None:
            raise not_found("CustomFieldDefinition", "id")
        if definition.version != version:
            raise version_conflict()
        problems = Problems()
        values = _clean_definition(data, definition.kind, problems)
        problems.raise_if_any()
        changes = {k: [getattr(definition, k), v] for k, v in values.items() if getattr(definition, k) != v}
        scope.__dict__.pop("_custom_field_definitions", None)
        if changes:
            for k, (_old, new) in changes.items():
                setattr(definition, k, new)
            definition.version += 1
            await definition.save()
            if {"choices", "archived"} & changes.keys():  # labels found by search, or none of its values
                await search_index.index_definition(definition)
            await audit.record(scope, "custom_field.update", definition, changes)
            await outbox.emit(
                scope.organization_id,
                "custom_field.updated",
                {"definition_id": definition.id, "key": definition.key, "fields": list(changes)},
            )
    return definition


async def list_definitions(
    scope: Scope, object_type: str | None = None, include_archived: bool = False
) -> list[CustomFieldDefinition]:
    """The definitions of the object types the caller may read, without the fields their role
    may not see (a hidden field's name and choices say too much), except to those who manage
    the definitions (settings:write)."""
    types = [object_type] if object_type else list(OBJECT_TYPES)
    readable = [t for t in types if scope.can(f"{RESOURCES[t]}:read") or scope.can("settings:read")]
    qs = CustomFieldDefinition.filter(organization_id=scope.organization_id, object_type__in=readable)
    if not include_archived:
        qs = qs.filter(archived=False)
    definitions = await qs.order_by("object_type", "position", "key")
    return [d for d in definitions if may_see_definition(scope, d)]


def may_see_definition(scope: Scope, definition: CustomFieldDefinition) -> bool:
    """A field hidden from the role is not shown to it, by its list or by `node`, except to
    those who manage the definitions."""
    return scope.can("settings:write") or visible(scope, definition.object_type, definition.key)


async def definitions_of(organization_id: UUID, object_type: str) -> list[CustomFieldDefinition]:
    return await CustomFieldDefinition.filter(organization_id=organization_id, object_type=object_type).order_by(
        "position", "key"
    )


async def _definitions_cached(scope: Scope, object_type: str) -> list[CustomFieldDefinition]:
    """The definitions, read once per Scope (a request, or an import's chunk of rows)."""
    cache = scope.__dict__.setdefault("_custom_field_definitions", {})
    if object_type not in cache:
        cache[object_type] = await definitions_of(scope.organization_id, object_type)
    return cache[object_type]


# -- values --------------------------------------------------------------------------------


@dataclass
class Cleaned:
    """Checked custom-field values of one write: key -> (definition, canonical value or None)."""

    object_type: str
    values: dict[str, tuple[CustomFieldDefinition, object]]


def _given_value(item: dict, definition: CustomFieldDefinition, field: str):
    """The one typed value of an input item, checked to be the definition's kind."""
    wanted = cv.INPUT_OF[definition.kind]
    given = [name for name in cv.INPUT_FIELDS if item.get(name) is not None]
    wrong = [name for name in given if name != wanted]
    if wrong:
        raise UserInputError(
            ErrorCode.INVALID,
            _(
                "The field '%(key)s' takes %(wanted)s, not %(given)s.",
                key=definition.key,
                wanted=cv.API_NAMES[wanted],
                given=cv.API_NAMES[wrong[0]],
            ),
            field,
        )
    return item.get(wanted)


async def clean(scope: Scope, object_type: str, data: dict, problems: Problems, *, creating: bool) -> Cleaned:
    """Check the custom fields of a write's ``data`` against the organization's definitions:
    ``data["custom_field_values"]`` (``[{"key", "text_value" | "number_value" | ...}]``, the API)
    or ``data["custom_field_texts"]`` (``[{"key", "text"}]``, cells of an imported file).
    Unknown or archived keys, wrong types, bad values and (on create) missing required fields
    all go to ``problems``. A value of null clears the field."""
    texts = data.get("custom_field_texts") is not None
    items = data.get("custom_field_texts") if texts else data.get("custom_field_values")
    if not creating and items is None:
        return Cleaned(object_type, {})
    definitions = {d.key: d for d in await _definitions_cached(scope, object_type)}
    out: dict[str, tuple[CustomFieldDefinition, object]] = {}
    for item in items or []:
        key = (item.get("key") or "").strip()
        field = f"customFieldValues.{key}"
        definition = definitions.get(key)
        if definition is None or definition.archived:
            problems.add(ErrorCode.INVALID, _("There is no custom field '%(key)s'.", key=key[:64]), field)
            continue
        if not visible(scope, object_type, key):
            # A field hidden from the role is not the role's to write either (nor to probe by writing).
            problems.add(ErrorCode.FORBIDDEN, _("Your role may not change the custom field '%(key)s'.", key=key), field)
            continue
        if key in out:
            problems.add(ErrorCode.DUPLICATE, _("The field '%(key)s' is given twice.", key=key), field)
            continue
        with problems:
            if texts:
                value = cv.from_text(definition, item.get("text"), field)
            else:
                raw = _given_value(item, definition, field)
                value = None if raw is None else cv.check(definition, raw, field)
            if value is None and definition.required:
                raise UserInputError(ErrorCode.REQUIRED, _("'%(label)s' is required.", label=label(definition)), field)
            out[key] = (definition, value)
    # Required fields are asked of people (the API, imports); the CRM's own background work (a
    # marketplace plugin creating an order, a webhook creating an account) cannot know them.
    if creating and scope.principal.kind != "app":
        for definition in definitions.values():
            if (
                definition.required
                and not definition.archived
                and definition.key not in out
                and visible(scope, object_type, definition.key)
            ):
                if not problems.has(f"customFieldValues.{definition.key}"):
                    problems.add(
                        ErrorCode.REQUIRED,
                        _("'%(label)s' is required.", label=label(definition)),
                        f"customFieldValues.{definition.key}",
                    )
    return Cleaned(object_type, out)


def label(definition: CustomFieldDefinition) -> str:
    from server.i18n import current_locale

    return definition.label_uk if current_locale() == "uk" else definition.label_en


async def current_values(object_type: str, object_ids: list[UUID]) -> dict[UUID, dict[str, object]]:
    """Object id -> key -> canonical value (archived fields included)."""
    rows = (
        await CustomFieldValue.filter(object_type=object_type, object_id__in=object_ids)
        .select_related("definition")
        .order_by("position")
    )
    grouped: dict[UUID, dict[str, list]] = {}
    kinds: dict[str, str] = {}
    for row in rows:
        grouped.setdefault(row.object_id, {}).setdefault(row.definition.key, []).append(row)
        kinds[row.definition.key] = row.definition.kind
    return {
        oid: {key: cv.value_of(kinds[key], found) for key, found in per_key.items()} for oid, per_key in grouped.items()
    }


async def save(cleaned: Cleaned | None, object_id: UUID) -> dict:
    """Store the checked values of one record (inside the caller's transaction); the changes as
    the audit trail records them: ``{"custom_fields.<key>": [old, new]}``."""
    if cleaned is None or not cleaned.values:
        return {}
    old = (await current_values(cleaned.object_type, [object_id])).get(object_id, {})
    changes: dict = {}
    rows: list[CustomFieldValue] = []
    changed_defs: list[UUID] = []
    for key, (definition, value) in cleaned.values.items():
        if old.get(key) == value:
            continue
        changes[f"custom_fields.{key}"] = [old.get(key), value]
        changed_defs.append(definition.id)
        rows += cv.rows_of(definition, cleaned.object_type, object_id, value)
    if changed_defs:
        await CustomFieldValue.filter(object_id=object_id, definition_id__in=changed_defs).delete()
    if rows:
        await CustomFieldValue.bulk_create(rows)
    searched = [d for d, _v in cleaned.values.values() if d.id in changed_defs and d.kind in search_index.CUSTOM_KINDS]
    if searched:
        await search_index.index_custom(searched[0].organization_id, cleaned.object_type, [object_id])
    return changes


async def delete_values(object_type: str, object_ids: list[UUID]) -> None:
    await CustomFieldValue.filter(object_type=object_type, object_id__in=object_ids).delete()
    await ObjectTag.filter(object_type=object_type, object_id__in=object_ids).delete()


# -- tags of orders, deals and tickets -----------------------------------------------------


def clean_tags(raws: list[str] | None, problems: Problems, field: str = "tags") -> list[str]:
    out: set[str] = set()
    for i, raw in enumerate(raws or []):
        with problems:
            out.add(required_text(raw, f"{field}.{i}", 64).lower())
    return sorted(out)


async def sync_tags(obj, object_type: str) -> None:
    """Keep the tag index of ``obj`` (an order, deal or ticket with ``tags``) in step."""
    await ObjectTag.filter(object_type=object_type, object_id=obj.id).delete()
    if obj.tags:
        await ObjectTag.bulk_create(
            [
                ObjectTag(organization_id=obj.organization_id, object_type=object_type, object_id=obj.id, tag=t)
                for t in obj.tags
            ]
        )


def tag_q(organization_id: UUID, object_type: str):
    """`where: {tag: {eq | in}}` of orders, deals and tickets: one indexed subquery."""

    def build(f) -> Q:
        values = [f.eq] if f.eq is not None else list(f.in_ or [])
        if len(values) > 500:
            raise BadRequest(_("`tag.in` takes at most 500 values."))
        sub = ObjectTag.filter(
            organization_id=organization_id, object_type=object_type, tag__in=[v.strip().lower() for v in values]
        )
        return Q(id__in=Subquery(sub.values("object_id")))

    return build


# -- reading: field rules, filters and sorts -----------------------------------------------


def check_visible(scope: Scope, object_type: str, key: str | None = None) -> None:
    """A role that may not see ``<Type>.customFields`` (or ``<Type>.customFields.<key>``) may
    neither read nor filter or sort by them."""
    type_name = TYPE_NAMES[object_type]
    if not scope.can_see_field(type_name, "customFields"):
        raise Forbidden(_("Your role may not see %(type_name)s.customFields.", type_name=type_name))
    if key is not None and not scope.can_see_field(type_name, f"customFields.{key}"):
        raise Forbidden(_("Your role may not see %(type_name)s.customFields.%(key)s.", type_name=type_name, key=key))


def visible(scope: Scope, object_type: str, key: str) -> bool:
    type_name = TYPE_NAMES[object_type]
    return scope.can_see_field(type_name, "customFields") and scope.can_see_field(type_name, f"customFields.{key}")


def searchable_definitions(scope: Scope, object_type: str):
    """The custom fields of ``object_type`` whose values the caller may find by `search`: not
    archived, and not hidden from the role (``<Type>.customFields`` or ``<Type>.customFields.<key>``);
    a queryset of their ids to use as a subquery, or None when the role sees none of them."""
    type_name = TYPE_NAMES[object_type]
    if not scope.can_see_field(type_name, "customFields"):
        return None
    role = scope.principal.role
    prefix = f"{type_name}.customFields."
    hidden = sorted(f[len(prefix) :] for f in (role.hidden_fields if role else ()) if f.startswith(prefix))
    qs = CustomFieldDefinition.filter(organization_id=scope.organization_id, object_type=object_type, archived=False)
    if hidden:
        qs = qs.exclude(key__in=hidden)
    return qs.values("id")


def _number_of(text: str) -> float | None:
    try:
        number = Decimal(str(text).strip().replace(",", "."))
        return float(number) if number.is_finite() else None
    except ArithmeticError:  # not a number: this branch of the filter matches nothing
        return None


def _ordinal_of(text: str) -> float | None:
    try:
        return float(date.fromisoformat(str(text).strip()).toordinal())
    except ValueError:
        return None


def _bool_of(text: str) -> float | None:
    word = str(text).strip().lower()
    return 1.0 if word in cv.TRUE_WORDS else 0.0 if word in cv.FALSE_WORDS else None


def _eq_q(text: str) -> Q:
    """Equal to ``text`` as the field's kind reads it (the kind is joined, not looked up first)."""
    parts = [Q(definition__kind__in=cv.TEXT_KINDS, text_key=str(text).strip().lower()[:255])]
    for kinds, number in (
        (cv.NUMBER_KINDS, _number_of(text)),
        (("date",), _ordinal_of(text)),
        (("boolean",), _bool_of(text)),
    ):
        if number is not None:
            parts.append(Q(definition__kind__in=kinds, number_key=number))
    return Q(*parts, join_type="OR")


def _range_q(op: str, text: str) -> Q:
    parts = []
    for kinds, number in ((cv.NUMBER_KINDS, _number_of(text)), (("date",), _ordinal_of(text))):
        if number is not None:
            parts.append(Q(definition__kind__in=kinds, **{f"number_key__{op}": number}))
    if not parts:
        raise BadRequest(_("'%(text)s' is neither a number nor a date (YYYY-MM-DD).", text=str(text)[:50]))
    return Q(*parts, join_type="OR")


def custom_field_q(scope: Scope, object_type: str):
    """`where: {customField: {key, eq | in | contains | gt | gte | lt | lte | isSet}}`: an indexed
    subquery over the stored values (every given condition must hold for the same field)."""
    organization_id = scope.organization_id

    def build(f) -> Q:
        key = f.key.strip()
        check_visible(scope, object_type, key)
        base = CustomFieldValue.filter(
            organization_id=organization_id,
            object_type=object_type,
            definition__key=key,
            definition__object_type=object_type,
        )
        conditions: list[Q] = []
        if f.eq is not None:
            conditions.append(_eq_q(f.eq))
        if f.in_ is not None:
            if len(f.in_) > 500:
                raise BadRequest(_("`customField.in` takes at most 500 values."))
            conditions.append(Q(*[_eq_q(v) for v in f.in_], join_type="OR") if f.in_ else Q(id=None))
        if f.contains is not None:
            conditions.append(Q(definition__kind__in=cv.TEXT_KINDS, text_key__contains=f.contains.strip().lower()))
        for op in ("gt", "gte", "lt", "lte"):
            if getattr(f, op) is not None:
                conditions.append(_range_q(op, getattr(f, op)))
        parts = [Q(id__in=Subquery(base.filter(c).values("object_id"))) for c in conditions]
        if f.is_set is not None:
            present = Q(id__in=Subquery(base.values("object_id")))
            parts.append(present if f.is_set else ~present)
        return Q(*parts) if parts else Q()

    return build


async def sort_by(scope: Scope, object_type: str, qs, key: str, direction):
    """``qs`` annotated with the sort value of custom field ``key`` and the ``Sort`` over it.
    Records without a value sort as the lowest (first ascending, last descending)."""
    from server.graphql.pagination import Sort

    check_visible(scope, object_type, key)
    key = key.strip()
    definition = (
        await CustomFieldDefinition.get_or_none(organization_id=scope.organization_id, object_type=object_type, key=key)
        if len(key) <= KEY_MAX
        else None  # longer than any key can be: no such field (and not a query the column refuses)
    )
    if definition is None:
        raise BadRequest(_("There is no custom field '%(key)s' to sort by.", key=key[:64]))
    if definition.kind in cv.TEXT_KINDS:
        column, empty, kind = "text_key", "''", str
    else:
        column, empty, kind = "number_key", "-1e300", float
    table = TABLES[object_type]
    # Only names fixed above and the definition's own UUID go into the SQL: nothing from the caller.
    sql = (
        f"COALESCE((SELECT MIN(cfv.{column}) FROM custom_field_value cfv "  # noqa: S608
        f'WHERE cfv.object_id = "{table}"."id" AND cfv.definition_id = \'{definition.id}\'), {empty})'
    )
    return qs.annotate(custom_sort=RawSQL(sql)), Sort("custom_sort", kind, direction)


async def move_values(organization_id: UUID, object_type: str, from_id: UUID, to_id: UUID) -> int:
    """On a merge: the duplicate's values of fields the survivor has no value of move over (and
    the survivor is found by them)."""
    have = await CustomFieldValue.filter(object_type=object_type, object_id=to_id).values_list(
        "definition_id", flat=True
    )
    moved = CustomFieldValue.filter(object_type=object_type, object_id=from_id)
    if have:
        moved = moved.exclude(definition_id__in=list(set(have)))
    count = await moved.update(object_id=to_id)
    await CustomFieldValue.filter(object_type=object_type, object_id=from_id).delete()
    if count:
        await search_index.index_custom(organization_id, object_type, [to_id])
    return count
