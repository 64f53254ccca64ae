"""GraphQL for custom fields: their definitions (settings), the typed values every account,
contact, deal, order and ticket shows, the input to set them and the filter to find by them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.core.errors import Forbidden
from server.customfields import service
from server.customfields import values as cv
from server.customfields.models import CustomFieldDefinition, CustomFieldValue
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Money, Node, model_type
from server.i18n import _, current_locale


@strawberry.enum(description="The kind of records a custom field belongs to.")
class CustomFieldObjectType(Enum):
    ACCOUNT = "account"
    CONTACT = "contact"
    DEAL = "deal"
    ORDER = "order"
    TICKET = "ticket"


@strawberry.enum(description="What a custom field holds; its value comes in the matching typed field.")
class CustomFieldKind(Enum):
    TEXT = strawberry.enum_value("text", description="Text, up to 2,000 characters: `textValue`.")
    NUMBER = strawberry.enum_value("number", description="A decimal number: `numberValue`.")
    MONEY = strawberry.enum_value("money", description="An amount with an ISO 4217 currency: `moneyValue`.")
    DATE = strawberry.enum_value("date", description="A calendar date: `dateValue`.")
    CHOICE = strawberry.enum_value("choice", description="One of the field's choices: `choiceValues` (one).")
    MULTI_CHOICE = strawberry.enum_value("multi_choice", description="Any of the field's choices: `choiceValues`.")
    BOOLEAN = strawberry.enum_value("boolean", description="Yes or no: `booleanValue`.")
    LINK = strawberry.enum_value("link", description="A web address (http or https): `linkValue`.")


def _label(uk: str, en: str) -> str:
    return uk if current_locale() == "uk" else en


@strawberry.type(description="One choice of a choice or multi-choice field.")
class CustomFieldChoice:
    value: str = strawberry.field(description="What is stored, filtered on and imported.")
    label_uk: str = strawberry.field(description="The label in Ukrainian.")
    label_en: str = strawberry.field(description="The label in English.")

    @strawberry.field(description="The label in the caller's language.")
    def label(self) -> str:
        return _label(self.label_uk, self.label_en)


def _choices(definition) -> list[CustomFieldChoice]:
    return [
        CustomFieldChoice(value=c["value"], label_uk=c["label_uk"], label_en=c["label_en"]) for c in definition.choices
    ]


@model_type(
    CustomFieldDefinition,
    name="CustomFieldDefinition",
    description="A field an organization added to one object type (Settings > Custom fields).",
)
class CustomFieldDefinitionType(Node):
    key: str = strawberry.field(description="The field's key in inputs, filters, sorts, imports and exports.")
    label_uk: str = strawberry.field(description="The label in Ukrainian.")
    label_en: str = strawberry.field(description="The label in English.")
    required: bool = strawberry.field(description="Records of this type cannot be saved without a value.")
    position: int = strawberry.field(description="Display order among the type's fields, ascending.")
    archived: bool = strawberry.field(
        description="Archived fields are no longer shown or writable; their values are kept."
    )
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    created_at: datetime = strawberry.field(description="When the field was added.")
    updated_at: datetime = strawberry.field(description="When the field was last changed.")

    @strawberry.field(description="The kind of records the field belongs to.")
    def object_type(self) -> CustomFieldObjectType:
        return CustomFieldObjectType(self.object_type)  # type: ignore[attr-defined]

    @strawberry.field(description="What the field holds.")
    def kind(self) -> CustomFieldKind:
        return CustomFieldKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="The label in the caller's language.")
    def label(self) -> str:
        return _label(self.label_uk, self.label_en)  # type: ignore[attr-defined]

    @strawberry.field(description="The choices of a choice or multi-choice field (empty for other kinds).")
    def choices(self) -> list[CustomFieldChoice]:
        return _choices(self)


@strawberry.type(
    name="CustomFieldValue",
    description="The value of one custom field of a record. Exactly the typed field of its `kind` is set "
    "(e.g. `moneyValue` for MONEY); fields without a value are not listed.",
)
class CustomFieldValueType:
    key: str = strawberry.field(description="The field's key.")
    label: str = strawberry.field(description="The field's label in the caller's language.")
    kind: CustomFieldKind = strawberry.field(description="What the field holds.")
    text_value: str | None = strawberry.field(default=None, description="A TEXT field's value.")
    number_value: Decimal | None = strawberry.field(default=None, description="A NUMBER field's value.")
    money_value: Money | None = strawberry.field(default=None, description="A MONEY field's value.")
    date_value: date | None = strawberry.field(default=None, description="A DATE field's value.")
    choice_values: list[str] | None = strawberry.field(
        default=None, description="A CHOICE field's value (one) or a MULTI_CHOICE field's values, as stored."
    )
    boolean_value: bool | None = strawberry.field(default=None, description="A BOOLEAN field's value.")
    link_value: str | None = strawberry.field(default=None, description="A LINK field's web address.")
    _definition: strawberry.Private[CustomFieldDefinition | None] = None

    @strawberry.field(description="The field's definition (labels, choices, whether it is required).")
    def definition(self) -> CustomFieldDefinitionType:
        return self._definition  # type: ignore[return-value]


def value_type(definition: CustomFieldDefinition, value) -> CustomFieldValueType:
    kind = definition.kind
    out = CustomFieldValueType(
        key=definition.key,
        label=_label(definition.label_uk, definition.label_en),
        kind=CustomFieldKind(kind),
        _definition=definition,
    )
    if kind == "text":
        out.text_value = value
    elif kind == "link":
        out.link_value = value
    elif kind == "number":
        out.number_value = Decimal(value)
    elif kind == "money":
        out.money_value = Money(amount=Decimal(value["amount"]), currency=value["currency"])
    elif kind == "date":
        out.date_value = date.fromisoformat(value)
    elif kind == "choice":
        out.choice_values = [value]
    elif kind == "multi_choice":
        out.choice_values = list(value)
    else:
        out.boolean_value = bool(value)
    return out


def _values_loader(object_type: str):
    def factory(ctx):
        async def load(object_ids):
            rows = (
                await CustomFieldValue.filter(
                    organization_id=ctx.scope.organization_id,
                    object_type=object_type,
                    object_id__in=list(set(object_ids)),
                )
                .select_related("definition")
                .order_by("position")
            )
            grouped: dict = {}
            for row in rows:
                grouped.setdefault(row.object_id, {}).setdefault(row.definition_id, []).append(row)
            out = []
            for oid in object_ids:
                per_def = grouped.get(oid, {})
                items = []
                for found in per_def.values():
                    definition = found[0].definition
                    if definition.archived or not service.visible(ctx.scope, object_type, definition.key):
                        continue
                    items.append((definition, cv.value_of(definition.kind, found)))
                items.sort(key=lambda x: (x[0].position, x[0].key))
                out.append([value_type(d, v) for d, v in items if v is not None])
            return out

        return load

    return factory


async def custom_field_values(info: Info, object_type: str, obj) -> list[CustomFieldValueType]:
    """The typed custom-field values of ``obj``, one statement for a whole page (a DataLoader)."""
    scope = info.context.scope
    type_name = service.TYPE_NAMES[object_type]
    if not scope.can_see_field(type_name, "customFields"):
        raise Forbidden(_("Your role may not see %(type_name)s.customFields.", type_name=type_name))
    loader = info.context.loader(("custom_field_values", object_type), _values_loader(object_type))
    return await loader.load(obj.id)


CUSTOM_FIELD_VALUES = (
    "The organization's own fields of this record (see `customFieldDefinitions`), typed, in the fields' order; "
    "fields without a value are left out. A FORBIDDEN error for roles that may not see them."
)


# -- inputs --------------------------------------------------------------------------------


@strawberry.input(description="An amount of money with its currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(description="Decimal amount, at most 2 decimal places.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. UAH.")


@strawberry.input(
    description="Sets one custom field: give `key` and the one typed value of the field's kind "
    "(`textValue` for TEXT, `moneyValue` for MONEY, ...); all values null clears the field. "
    "Fields not given are left as they are."
)
class CustomFieldInput:
    key: str = strawberry.field(description="The field's key.")
    text_value: str | None = strawberry.field(default=None, description="For TEXT fields.")
    number_value: Decimal | None = strawberry.field(default=None, description="For NUMBER fields.")
    money_value: MoneyInput | None = strawberry.field(default=None, description="For MONEY fields.")
    date_value: date | None = strawberry.field(default=None, description="For DATE fields.")
    choice_values: list[str] | None = strawberry.field(
        default=None, description="For CHOICE (one value) and MULTI_CHOICE fields: the choices' values."
    )
    boolean_value: bool | None = strawberry.field(default=None, description="For BOOLEAN fields.")
    link_value: str | None = strawberry.field(default=None, description="For LINK fields: an http(s) address.")


def input_items(items) -> list[dict] | None:
    """``CustomFieldInput`` objects as the service reads them."""
    if items is None:
        return None
    return [{"key": i.key, **{name: getattr(i, name) for name in cv.INPUT_FIELDS}} for i in items]


@strawberry.input(
    description="Records whose custom field `key` matches; every given condition must hold. Values are given "
    "as text and read by the field's kind: numbers and money amounts `12.5`, dates `2026-01-31`, booleans "
    "`true`/`false`, choices by their value. Text comparisons ignore case."
)
class CustomFieldFilter:
    key: str = strawberry.field(description="The field's key.")
    eq: str | None = strawberry.field(default=None, description="Equal to (a multi-choice field: has this choice).")
    in_: list[str] | None = strawberry.field(default=None, name="in", description="Equal to one of.")
    contains: str | None = strawberry.field(default=None, description="Text, link or choice containing.")
    gt: str | None = strawberry.field(default=None, description="Number, money amount or date greater than.")
    gte: str | None = strawberry.field(default=None, description="Number, money amount or date at least.")
    lt: str | None = strawberry.field(default=None, description="Number, money amount or date less than.")
    lte: str | None = strawberry.field(default=None, description="Number, money amount or date at most.")
    is_set: bool | None = strawberry.field(default=None, description="Has a value (true) or has none (false).")


CUSTOM_FIELD_SORT = (
    "Sort by this custom field's value instead of `field` (records without a value sort as the lowest); "
    "numbers, money amounts, dates and booleans by value, text and choices alphabetically ignoring case."
)


# -- definitions: queries and mutations ----------------------------------------------------


@strawberry.input(description="One choice of a choice field.")
class CustomFieldChoiceInput:
    value: str = strawberry.field(description="What is stored; 1 to 100 characters.")
    label_uk: str | None = strawberry.field(default=None, description="The label in Ukrainian (default: value).")
    label_en: str | None = strawberry.field(default=None, description="The label in English (default: value).")


@strawberry.input(description="A new custom field.")
class CreateCustomFieldInput:
    object_type: CustomFieldObjectType = strawberry.field(description="The records it belongs to.")
    key: str = strawberry.field(description="1 to 64 lower-case Latin letters, digits, underscores; fixed.")
    kind: CustomFieldKind = strawberry.field(description="What it holds; fixed.")
    label_uk: str = strawberry.field(description="The label in Ukrainian.")
    label_en: str = strawberry.field(description="The label in English.")
    choices: list[CustomFieldChoiceInput] | None = strawberry.field(
        default=None, description="Required for CHOICE and MULTI_CHOICE fields."
    )
    required: bool = strawberry.field(default=False, description="Records cannot be saved without a value.")
    position: int | None = strawberry.field(default=None, description="Display order (default: after the last).")


@strawberry.input(description="Changes to a custom field; its key and kind stay.")
class UpdateCustomFieldInput:
    id: strawberry.ID = strawberry.field(description="The field's definition.")
    version: int = strawberry.field(description="The version you read; a CONFLICT error if it changed since.")
    label_uk: str | None = strawberry.field(default=None, description="The label in Ukrainian.")
    label_en: str | None = strawberry.field(default=None, description="The label in English.")
    choices: list[CustomFieldChoiceInput] | None = strawberry.field(
        default=None, description="The whole list of choices (stored values outside it are kept)."
    )
    required: bool | None = strawberry.field(default=None, description="Records cannot be saved without a value.")
    position: int | None = strawberry.field(default=None, description="Display order.")
    archived: bool | None = strawberry.field(default=None, description="Archive (true) or bring back (false).")


@strawberry.input(description="Archive a custom field: hidden and not writable, its values kept.")
class ArchiveCustomFieldInput:
    id: strawberry.ID = strawberry.field(description="The field's definition.")
    version: int = strawberry.field(description="The version you read.")


@strawberry.type(description="The result of changing a custom field definition.")
class CustomFieldDefinitionPayload:
    definition: CustomFieldDefinitionType | None = strawberry.field(default=None, description="The definition.")
    errors: list[UserError] = strawberry.field(description="What was wrong with the input; empty on success.")


def _choice_dicts(choices) -> list[dict] | None:
    if choices is None:
        return None
    return [{"value": c.value, "label_uk": c.label_uk, "label_en": c.label_en} for c in choices]


@strawberry.type
class CustomFieldQueries:
    @strawberry.field(
        description="The organization's custom fields of the object types the caller may read, by type and position; "
        "fields the caller's role may not see are left out, except for those who manage them (settings:write)."
    )
    async def custom_field_definitions(
        self,
        info: Info,
        object_type: Annotated[
            CustomFieldObjectType | None, strawberry.argument(description="Only this object type's fields.")
        ] = None,
        include_archived: Annotated[bool, strawberry.argument(description="Also the archived fields.")] = False,
    ) -> list[CustomFieldDefinitionType]:
        return await service.list_definitions(
            info.context.scope, object_type.value if object_type else None, include_archived
        )


@strawberry.type
class CustomFieldMutations:
    @strawberry.mutation(description="Add a custom field to an object type; audited.")
    async def create_custom_field(self, info: Info, input: CreateCustomFieldInput) -> CustomFieldDefinitionPayload:
        scope = info.context.scope

        async def act():
            data = {
                "object_type": input.object_type.value,
                "key": input.key,
                "kind": input.kind.value,
                "label_uk": input.label_uk,
                "label_en": input.label_en,
                "choices": _choice_dicts(input.choices) or [],
                "required": input.required,
                "position": input.position,
            }
            return {"definition": await service.create_definition(scope, data)}

        return await run_mutation(CustomFieldDefinitionPayload, act)

    @strawberry.mutation(
        description="Change a custom field's labels, choices, order or whether it is required; audited."
    )
    async def update_custom_field(self, info: Info, input: UpdateCustomFieldInput) -> CustomFieldDefinitionPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "CustomFieldDefinition")[1]
            data = {
                "label_uk": input.label_uk,
                "label_en": input.label_en,
                "choices": _choice_dicts(input.choices),
                "required": input.required,
                "position": input.position,
                "archived": input.archived,
            }
            data = {k: v for k, v in data.items() if v is not None}
            return {"definition": await service.update_definition(scope, pk, input.version, data)}

        return await run_mutation(CustomFieldDefinitionPayload, act)

    @strawberry.mutation(
        description="Archive a custom field (values kept; bring it back with updateCustomField); audited."
    )
    async def archive_custom_field(self, info: Info, input: ArchiveCustomFieldInput) -> CustomFieldDefinitionPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "CustomFieldDefinition")[1]
            return {"definition": await service.update_definition(scope, pk, input.version, {"archived": True})}

        return await run_mutation(CustomFieldDefinitionPayload, act)


# -- what the domains' schemas share ----------------------------------------------------------


def typed_lookups(scope, object_type: str, *, tags: bool = True) -> dict:
    """The `where` lookups of custom fields (and, for orders, deals and tickets, of tags)."""
    from server.graphql.filters import Lookup

    out = {"custom_field": Lookup("id", build=service.custom_field_q(scope, object_type))}
    if tags:
        out["tag"] = Lookup("id", build=service.tag_q(scope.organization_id, object_type))
    return out


def with_input_items(data: dict) -> dict:
    """A mutation's ``given`` data with its ``customFieldValues`` as the service reads them."""
    if data.get("custom_field_values") is not None:
        data["custom_field_values"] = input_items(data["custom_field_values"])
    return data


TAGS = "Tags, lower case."
TAG_FILTER = "Has the tag (eq) or one of the tags (in)."
CUSTOM_FIELD_FILTER = "By a custom field's value."
CUSTOM_FIELD_VALUES_CREATE = "Values of the organization's custom fields (required ones must be given)."
CUSTOM_FIELD_VALUES_UPDATE = "Custom fields to set; those not given stay as they are."
TAGS_UPDATE = "Replaces all tags."
