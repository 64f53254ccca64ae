"""Which column of a file goes to which field: given by the caller, or a preset for the exports
of Bitrix24 and KeyCRM (their headers in Ukrainian, Russian or English)."""

from __future__ import annotations

from server.core.errors import ErrorCode, Problems
from server.i18n import _

KINDS = ("accounts", "orders", "deals", "tickets")
# A column mapped to "custom.<key>" fills the custom field <key> (docs/custom-fields.md).
CUSTOM_PREFIX = "custom."

# field -> whether several columns may feed it (phones from "work" and "mobile" columns...)
FIELDS: dict[str, dict[str, bool]] = {
    "accounts": {
        "external_id": False,
        "name": False,
        "first_name": False,
        "middle_name": False,
        "last_name": False,
        "kind": False,
        "phone": True,
        "email": True,
        "address": True,
        "tags": True,
        "source": False,
    },
    "orders": {
        "external_id": False,
        "created_at": False,
        "status": False,
        "customer_external_id": False,
        "customer_name": False,
        "customer_phone": False,
        "customer_email": False,
        "item_sku": False,
        "item_title": False,
        "item_quantity": False,
        "item_price": False,
        "currency": False,
        "payment_status": False,
        "delivery_method": False,
        "delivery_city": False,
        "delivery_branch": False,
        "delivery_address": False,
        "waybill_number": False,
        "recipient_name": False,
        "recipient_phone": False,
        "comment": False,
        "tags": True,
    },
    "deals": {
        "external_id": False,
        "title": False,
        "amount": False,
        "currency": False,
        "pipeline": False,
        "stage": False,
        "created_at": False,
        "expected_close_date": False,
        "customer_external_id": False,
        "customer_name": True,  # Bitrix24: the contact, else the company
        "customer_phone": False,
        "customer_email": False,
        "owner_email": False,
        "source": False,
        "tags": True,
    },
    "tickets": {
        "external_id": False,
        "subject": False,
        "description": False,
        "status": False,
        "priority": False,
        "channel": False,
        "created_at": False,
        "customer_external_id": False,
        "customer_name": False,
        "customer_phone": False,
        "customer_email": False,
        "assignee_email": False,
        "tags": True,
    },
}

REQUIRED: dict[str, list[tuple[str, ...]]] = {
    # each tuple: at least one of these fields must be mapped
    "accounts": [("name", "first_name", "last_name")],
    "orders": [
        ("external_id",),
        ("customer_phone", "customer_email", "customer_name"),
        ("item_title", "item_sku"),
        ("item_price",),
    ],
    "deals": [("title",), ("customer_phone", "customer_email", "customer_name")],
    "tickets": [("subject",)],
}


def _preset(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {header.casefold(): field for field, headers in pairs.items() for header in headers}


# Headers as the systems write them in their Ukrainian, Russian and English interfaces.
PRESETS: dict[tuple[str, str], dict[str, str]] = {
    ("bitrix24", "accounts"): _preset(
        {
            "external_id": ("ID",),
            "first_name": ("Ім'я", "Имя", "First name", "Name"),
            "middle_name": ("По батькові", "Отчество", "Second name", "Middle name"),
            "last_name": ("Прізвище", "Фамилия", "Last name"),
            "phone": (
                "Робочий телефон",
                "Мобільний телефон",
                "Домашній телефон",
                "Рабочий телефон",
                "Мобильный телефон",
                "Домашний телефон",
                "Work phone",
                "Mobile phone",
                "Home phone",
            ),
            "email": (
                "Робочий e-mail",
                "Приватний e-mail",
                "Рабочий e-mail",
                "Частный e-mail",
                "Work e-mail",
                "Personal e-mail",
            ),
            "address": ("Адреса", "Адрес", "Address"),
            "source": ("Джерело", "Источник", "Source"),
        }
    ),
    ("keycrm", "accounts"): _preset(
        {
            "external_id": ("ID", "ID покупця", "Buyer ID"),
            "name": ("ПІБ", "ФИО", "Full name"),
            "phone": ("Телефон", "Phone"),
            "email": ("Email", "E-mail"),
            "tags": ("Теги", "Tags"),
        }
    ),
    ("keycrm", "orders"): _preset(
        {
            "external_id": ("ID замовлення", "ID заказа", "Order ID"),
            "created_at": ("Дата створення", "Дата создания", "Created at"),
            "status": ("Статус", "Status"),
            "customer_external_id": ("ID покупця", "ID покупателя", "Buyer ID"),
            "customer_name": ("Покупець", "Покупатель", "Buyer"),
            "customer_phone": ("Телефон покупця", "Телефон покупателя", "Buyer phone"),
            "customer_email": ("Email покупця", "Email покупателя", "Buyer email"),
            "item_sku": ("Артикул", "SKU"),
            "item_title": ("Назва товару", "Название товара", "Product"),
            "item_quantity": ("Кількість", "Количество", "Quantity"),
            "item_price": ("Ціна", "Цена", "Price"),
            "currency": ("Валюта", "Currency"),
            "delivery_method": ("Служба доставки", "Delivery service"),
            "delivery_city": ("Місто", "Город", "City"),
            "delivery_branch": ("Відділення", "Отделение", "Branch"),
            "waybill_number": ("ТТН", "Tracking number"),
            "recipient_name": ("Отримувач", "Получатель", "Recipient"),
            "recipient_phone": ("Телефон отримувача", "Телефон получателя", "Recipient phone"),
            "comment": ("Коментар", "Комментарий", "Comment"),
        }
    ),
    # CRM → Deals → Export (CSV/Excel). Bitrix24 puts the contact's and the company's names in
    # columns of their own; the contact is the customer, the company a fallback (its own column).
    ("bitrix24", "deals"): _preset(
        {
            "external_id": ("ID",),
            "title": ("Назва угоди", "Название сделки", "Deal name", "Deal Name"),
            "stage": ("Стадія угоди", "Стадия сделки", "Stage", "Deal stage"),
            "pipeline": ("Напрямок", "Направление", "Pipeline"),
            "amount": ("Сума", "Сумма", "Amount", "Opportunity"),
            "currency": ("Валюта", "Currency"),
            "created_at": ("Дата створення", "Дата создания", "Created", "Date created"),
            "expected_close_date": ("Дата завершення", "Дата завершения", "Expected close date", "Close date"),
            # Bitrix24 writes the responsible person's name: matched to a member by e-mail or name.
            "owner_email": ("Відповідальний", "Ответственный", "Responsible", "Responsible person"),
            "customer_external_id": ("ID контакту", "ID контакта", "Contact ID"),
            "customer_name": ("Контакт", "Contact", "Компанія", "Компания", "Company"),
            "customer_phone": ("Телефон", "Phone", "Робочий телефон", "Рабочий телефон", "Work phone"),
            "customer_email": ("E-mail", "Email", "Робочий e-mail", "Рабочий e-mail", "Work e-mail"),
            "source": ("Джерело", "Источник", "Source"),
        }
    ),
    # KeyCRM → Воронки (pipelines) → a funnel's cards → Export. A card is a deal; its "Статус" is
    # the stage. Headers as KeyCRM names them in its order export (Покупець, Телефон покупця...).
    ("keycrm", "deals"): _preset(
        {
            "external_id": ("ID картки", "ID карточки", "Card ID"),
            "title": ("Назва", "Название", "Title"),
            "pipeline": ("Воронка", "Funnel", "Pipeline"),
            "stage": ("Статус", "Status", "Stage"),
            "amount": ("Сума", "Сумма", "Amount"),
            "currency": ("Валюта", "Currency"),
            "created_at": ("Дата створення", "Дата создания", "Created at"),
            "owner_email": ("Відповідальний", "Ответственный", "Manager"),
            "customer_external_id": ("ID покупця", "ID покупателя", "Buyer ID"),
            "customer_name": ("Покупець", "Покупатель", "Buyer"),
            "customer_phone": ("Телефон покупця", "Телефон покупателя", "Buyer phone"),
            "customer_email": ("Email покупця", "Email покупателя", "Buyer email"),
            "source": ("Джерело", "Источник", "Source"),
            "tags": ("Теги", "Tags"),
        }
    ),
}
PRESET_NAMES = sorted({system for system, _kind in PRESETS})


def resolve(kind: str, header: list[str], preset: str | None, mapping: dict[str, str] | None) -> dict[str, str]:
    """column header -> field for this file; every problem of the mapping at once."""
    problems = Problems()
    if kind not in KINDS:
        problems.add(ErrorCode.INVALID, _("Import kind must be one of: %(kinds)s.", kinds=", ".join(KINDS)), "kind")
        problems.raise_if_any()
    fields = FIELDS[kind]
    chosen: dict[str, str] = {}
    if mapping is not None and (
        not isinstance(mapping, dict)
        or not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items())
    ):
        problems.add(ErrorCode.INVALID, _("The mapping must be an object of column -> field name."), "mapping")
        problems.raise_if_any()
    if preset:
        table = PRESETS.get((preset, kind))
        if table is None:
            problems.add(
                ErrorCode.INVALID,
                _("There is no preset '%(preset)s' for %(kind)s.", preset=preset, kind=kind),
                "preset",
            )
        else:
            chosen = {h: table[h.casefold()] for h in header if h.casefold() in table}
    for column, field in (mapping or {}).items():
        if field and field not in fields and not _is_custom(field):
            problems.add(
                ErrorCode.INVALID, _("'%(field)s' is not a field of %(kind)s.", field=field, kind=kind), "mapping"
            )
        elif column not in header:
            problems.add(ErrorCode.INVALID, _("The file has no column '%(column)s'.", column=column), "mapping")
        elif field:
            chosen[column] = field
        else:
            chosen.pop(column, None)  # mapped to nothing: left out
    used: dict[str, int] = {}
    for field in chosen.values():
        used[field] = used.get(field, 0) + 1
    for field, count in used.items():
        if count > 1 and not fields.get(field, False):
            problems.add(ErrorCode.INVALID, _("Only one column can go to '%(field)s'.", field=field), "mapping")
    for group in REQUIRED[kind]:
        if not any(f in used for f in group):
            problems.add(
                ErrorCode.REQUIRED,
                _("No column goes to %(fields)s.", fields=" / ".join(group)),
                "mapping",
            )
    problems.raise_if_any()
    return chosen


def _is_custom(field: str) -> bool:
    return field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX)


def custom_texts(values: dict[str, list[str]]) -> list[dict] | None:
    """The custom-field cells of a row, as ``custom_field_texts`` for the services (None: no such column)."""
    found = [{"key": f[len(CUSTOM_PREFIX) :], "text": v[0]} for f, v in values.items() if _is_custom(f) and v]
    return found or None


def values_of(header: list[str], mapping: dict[str, str], row: list[str]) -> dict[str, list[str]]:
    """field -> the non-empty cells of the row that feed it, in column order."""
    out: dict[str, list[str]] = {}
    for column, cell in zip(header, row, strict=True):
        field = mapping.get(column)
        if field and cell.strip():
            out.setdefault(field, []).append(cell.strip())
    return out
