"""Custom fields: definitions per organization and object type (admin only, audited), values
checked on write against them (every problem at once, in Ukrainian and English), shown typed,
filtered and sorted in the lists with a fixed number of statements, hidden by field rules,
never seen by another organization; tags on orders, deals and tickets."""

from __future__ import annotations

from server.audit.models import AuditEntry
from server.customfields.models import CustomFieldValue
from tests.helpers import QueryCounter

ERRORS = "errors { field code message }"
CREATE_FIELD = f"""mutation($i: CreateCustomFieldInput!) {{ createCustomField(input: $i) {{
    definition {{ id key kind label labelUk labelEn required position archived version objectType
                  choices {{ value label }} }} {ERRORS} }} }}"""
VALUES = """customFieldValues { key label kind textValue numberValue moneyValue { amount currency } dateValue
    choiceValues booleanValue linkValue }"""
CREATE_ACCOUNT = f"""mutation($i: CreateAccountInput!) {{ createAccount(input: $i) {{
    account {{ id version {VALUES} }} {ERRORS} }} }}"""
UPDATE_ACCOUNT = f"""mutation($i: UpdateAccountInput!) {{ updateAccount(input: $i) {{
    account {{ id version {VALUES} }} {ERRORS} }} }}"""


async def post(api, member, query, variables, lang="en") -> dict:
    response = await api.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {member.token}", "X-Organization": member.org, "Accept-Language": lang},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def define(api, member, **fields) -> dict:
    data = await post(api, member, CREATE_FIELD, {"i": {"labelUk": fields["key"], "labelEn": fields["key"], **fields}})
    assert data["createCustomField"]["errors"] == [], data
    return data["createCustomField"]["definition"]


async def account_fields(api, member):
    await define(
        api,
        member,
        objectType="ACCOUNT",
        key="loyalty",
        kind="CHOICE",
        labelUk="Рівень",
        labelEn="Tier",
        choices=[{"value": "gold", "labelUk": "Золотий", "labelEn": "Gold"}, {"value": "silver"}],
    )
    await define(api, member, objectType="ACCOUNT", key="budget", kind="MONEY")
    await define(api, member, objectType="ACCOUNT", key="visits", kind="NUMBER")
    await define(api, member, objectType="ACCOUNT", key="birthday", kind="DATE")
    await define(api, member, objectType="ACCOUNT", key="site", kind="LINK")
    await define(api, member, objectType="ACCOUNT", key="vip", kind="BOOLEAN")
    await define(
        api,
        member,
        objectType="ACCOUNT",
        key="channels",
        kind="MULTI_CHOICE",
        choices=[{"value": "sms"}, {"value": "viber"}, {"value": "email"}],
    )
    await define(
        api, member, objectType="ACCOUNT", key="note", kind="TEXT", required=True, labelUk="Примітка", labelEn="Note"
    )


async def test_definitions_are_managed_by_admins_and_audited(api, tenants):
    t = await tenants.create(("owner", "manager"))
    made = await define(
        api,
        t.owner,
        objectType="ORDER",
        key="gift_wrap",
        kind="BOOLEAN",
        labelUk="Подарункове пакування",
        labelEn="Gift wrap",
    )
    assert made["objectType"] == "ORDER" and made["kind"] == "BOOLEAN" and made["version"] == 1
    uk = await post(api, t.manager, "{ customFieldDefinitions(objectType: ORDER) { key label } }", {}, "uk")
    assert uk["customFieldDefinitions"] == [{"key": "gift_wrap", "label": "Подарункове пакування"}]
    en = await post(api, t.manager, "{ customFieldDefinitions(objectType: ORDER) { key label } }", {}, "en")
    assert en["customFieldDefinitions"] == [{"key": "gift_wrap", "label": "Gift wrap"}]

    # A manager only reads the settings.
    refused = await t.manager.execute(
        api, CREATE_FIELD, {"i": {"objectType": "ORDER", "key": "x", "kind": "TEXT", "labelUk": "x", "labelEn": "x"}}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Every problem at once, in the caller's language.
    bad = {"objectType": "ORDER", "key": "Gift Wrap", "kind": "CHOICE", "labelUk": " ", "labelEn": "x"}
    en = await post(api, t.owner, CREATE_FIELD, {"i": bad}, "en")
    errors = {(e["field"], e["code"]): e["message"] for e in en["createCustomField"]["errors"]}
    assert errors == {
        (
            "key",
            "INVALID",
        ): "A key is 1 to 64 lower-case Latin letters, digits and underscores, starting with a letter.",
        ("labelUk", "REQUIRED"): "Give the label in both languages.",
        ("choices", "REQUIRED"): "A choice field needs at least one choice.",
    }
    uk = await post(api, t.owner, CREATE_FIELD, {"i": bad}, "uk")
    assert {e["message"] for e in uk["createCustomField"]["errors"]} == {
        "Ключ — від 1 до 64 малих латинських літер, цифр і підкреслень, починається з літери.",
        "Вкажіть назву обома мовами.",
        "Полю з вибором потрібен хоча б один варіант.",
    }
    again = await post(
        api,
        t.owner,
        CREATE_FIELD,
        {"i": {"objectType": "ORDER", "key": "gift_wrap", "kind": "TEXT", "labelUk": "a", "labelEn": "a"}},
        "en",
    )
    assert again["createCustomField"]["errors"][0]["code"] == "DUPLICATE"

    archived = await post(
        api,
        t.owner,
        f"""mutation($i: ArchiveCustomFieldInput!) {{ archiveCustomField(input: $i) {{
            definition {{ archived version }} {ERRORS} }} }}""",
        {"i": {"id": made["id"], "version": 1}},
    )
    assert archived["archiveCustomField"]["definition"] == {"archived": True, "version": 2}
    listed = await post(api, t.owner, "{ customFieldDefinitions { key } }", {})
    assert listed["customFieldDefinitions"] == []
    from server.graphql import ids

    entity = ids.decode(made["id"])[1]
    actions = await AuditEntry.filter(entity_id=entity).values_list("action", flat=True)
    assert sorted(actions) == ["custom_field.create", "custom_field.update"]


async def test_account_values_are_typed_and_checked_all_at_once(api, tenants):
    t = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    good = {
        "name": "Олена",
        "customFieldValues": [
            {"key": "loyalty", "choiceValues": ["gold"]},
            {"key": "budget", "moneyValue": {"amount": "1500.50", "currency": "uah"}},
            {"key": "visits", "numberValue": "12"},
            {"key": "birthday", "dateValue": "1990-05-17"},
            {"key": "site", "linkValue": "https://olena.example.com/shop"},
            {"key": "vip", "booleanValue": True},
            {"key": "channels", "choiceValues": ["viber", "sms", "viber"]},
            {"key": "note", "textValue": "Любить чай"},
        ],
    }
    made = (await post(api, t.owner, CREATE_ACCOUNT, {"i": good}))["createAccount"]
    assert made["errors"] == []
    values = {v["key"]: v for v in made["account"]["customFieldValues"]}
    assert [v["key"] for v in made["account"]["customFieldValues"]] == [
        "loyalty",
        "budget",
        "visits",
        "birthday",
        "site",
        "vip",
        "channels",
        "note",
    ]
    assert values["loyalty"]["choiceValues"] == ["gold"] and values["loyalty"]["label"] == "Tier"
    assert values["budget"]["moneyValue"] == {"amount": "1500.50", "currency": "UAH"}
    assert values["budget"]["kind"] == "MONEY" and values["budget"]["textValue"] is None
    assert values["visits"]["numberValue"] == "12"
    assert values["birthday"]["dateValue"] == "1990-05-17"
    assert values["site"]["linkValue"] == "https://olena.example.com/shop"
    assert values["vip"]["booleanValue"] is True
    assert values["channels"]["choiceValues"] == ["viber", "sms"]
    assert values["note"]["textValue"] == "Любить чай"

    bad = {
        "name": "Петро",
        "customFieldValues": [
            {"key": "nope", "textValue": "x"},
            {"key": "loyalty", "choiceValues": ["platinum"]},
            {"key": "budget", "moneyValue": {"amount": "10.555", "currency": "XYZ"}},
            {"key": "visits", "textValue": "many"},
            {"key": "site", "linkValue": "javascript:alert(1)"},
        ],
    }
    en = (await post(api, t.owner, CREATE_ACCOUNT, {"i": bad}, "en"))["createAccount"]
    assert en["account"] is None
    assert {(e["field"], e["code"]): e["message"] for e in en["errors"]} == {
        ("customFieldValues.nope", "INVALID"): "There is no custom field 'nope'.",
        ("customFieldValues.loyalty", "INVALID"): "'platinum' is not one of the choices: gold, silver.",
        ("customFieldValues.budget.amount", "INVALID"): "An amount of money has at most 2 decimal places.",
        (
            "customFieldValues.budget.currency",
            "INVALID",
        ): "Unsupported currency 'XYZ'; use one of: CZK, EUR, GBP, MDL, PLN, RON, UAH, USD.",
        ("customFieldValues.visits", "INVALID"): "The field 'visits' takes numberValue, not textValue.",
        ("customFieldValues.site", "INVALID"): "'javascript:alert(1)' is not a web address (http:// or https://).",
        ("customFieldValues.note", "REQUIRED"): "'Note' is required.",
    }
    uk = (await post(api, t.owner, CREATE_ACCOUNT, {"i": bad}, "uk"))["createAccount"]
    messages = {e["field"]: e["message"] for e in uk["errors"]}
    assert messages["customFieldValues.nope"] == "Немає додаткового поля «nope»."
    assert messages["customFieldValues.note"] == "«Примітка» — обов’язкове поле."
    assert messages["customFieldValues.loyalty"] == "«platinum» не є одним із варіантів: gold, silver."
    assert await CustomFieldValue.filter(text_value="x").count() == 0

    # An update changes only the given fields; null clears one; a required one cannot be cleared.
    account = made["account"]
    changed = (
        await post(
            api,
            t.owner,
            UPDATE_ACCOUNT,
            {
                "i": {
                    "id": account["id"],
                    "version": account["version"],
                    "customFieldValues": [{"key": "visits", "numberValue": "13.5"}, {"key": "site"}],
                }
            },
        )
    )["updateAccount"]
    assert changed["errors"] == []
    after = {v["key"]: v for v in changed["account"]["customFieldValues"]}
    assert after["visits"]["numberValue"] == "13.5" and "site" not in after and "loyalty" in after
    assert changed["account"]["version"] == account["version"] + 1
    cleared = (
        await post(
            api,
            t.owner,
            UPDATE_ACCOUNT,
            {
                "i": {
                    "id": account["id"],
                    "version": changed["account"]["version"],
                    "customFieldValues": [{"key": "note"}],
                }
            },
        )
    )["updateAccount"]
    assert [(e["field"], e["code"]) for e in cleared["errors"]] == [("customFieldValues.note", "REQUIRED")]
    entry = await AuditEntry.filter(action="account.update").order_by("-created_at").first()
    assert entry.changes["custom_fields.visits"] == ["12", "13.5"]
    assert entry.changes["custom_fields.site"] == ["https://olena.example.com/shop", None]


LIST = """query($w: AccountWhere, $o: AccountOrder, $first: Int) { accounts(where: $w, orderBy: $o, first: $first) {
    edges { node { name customFieldValues { key numberValue choiceValues } } } pageInfo { endCursor } } }"""


async def _names(api, member, where=None, order=None, first=50):
    data = await post(api, member, LIST, {"w": where, "o": order, "first": first})
    return [e["node"]["name"] for e in data["accounts"]["edges"]]


async def test_account_lists_filter_and_sort_by_custom_fields(api, tenants):
    t = await tenants.create(("owner", "logistics"))
    other = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    await account_fields(api, other.owner)
    rows = [
        ("Андрій", "gold", "100", "2026-01-10", "Чай і кава", ["sms"]),
        ("Богдан", "silver", "5", "2025-12-31", "кава", ["viber", "email"]),
        ("Василь", "gold", "42.5", "2026-03-01", "Нічого", []),
        ("Галина", None, None, None, "ЧАЙ", []),
    ]
    for name, tier, visits, day, note, channels in rows:
        values = [{"key": "note", "textValue": note}]
        if tier:
            values.append({"key": "loyalty", "choiceValues": [tier]})
        if visits:
            values.append({"key": "visits", "numberValue": visits})
        if day:
            values.append({"key": "birthday", "dateValue": day})
        if channels:
            values.append({"key": "channels", "choiceValues": channels})
        made = await post(api, t.owner, CREATE_ACCOUNT, {"i": {"name": name, "customFieldValues": values}})
        assert made["createAccount"]["errors"] == []
    # Another organization's gold customer with the same field never shows up.
    await post(
        api,
        other.owner,
        CREATE_ACCOUNT,
        {
            "i": {
                "name": "Чужий",
                "customFieldValues": [
                    {"key": "loyalty", "choiceValues": ["gold"]},
                    {"key": "note", "textValue": "чай"},
                ],
            }
        },
    )

    assert sorted(await _names(api, t.owner, {"customField": {"key": "loyalty", "eq": "gold"}})) == ["Андрій", "Василь"]
    assert sorted(await _names(api, t.owner, {"customField": {"key": "loyalty", "in": ["silver", "GOLD"]}})) == [
        "Андрій",
        "Богдан",
        "Василь",
    ]
    assert sorted(await _names(api, t.owner, {"customField": {"key": "visits", "gt": "10"}})) == ["Андрій", "Василь"]
    assert await _names(api, t.owner, {"customField": {"key": "visits", "gte": "5", "lt": "42.5"}}) == ["Богдан"]
    assert await _names(api, t.owner, {"customField": {"key": "birthday", "lt": "2026-01-01"}}) == ["Богдан"]
    assert sorted(await _names(api, t.owner, {"customField": {"key": "note", "contains": "чай"}})) == [
        "Андрій",
        "Галина",
    ]
    assert await _names(api, t.owner, {"customField": {"key": "channels", "eq": "email"}}) == ["Богдан"]
    assert await _names(api, t.owner, {"customField": {"key": "loyalty", "isSet": False}}) == ["Галина"]
    assert sorted(
        await _names(
            api,
            t.owner,
            {
                "OR": [
                    {"customField": {"key": "loyalty", "eq": "silver"}},
                    {"customField": {"key": "visits", "gt": "50"}},
                ]
            },
        )
    ) == ["Андрій", "Богдан"]

    assert await _names(api, t.owner, order={"customField": "visits", "direction": "DESC"}) == [
        "Андрій",
        "Василь",
        "Богдан",
        "Галина",
    ]
    assert await _names(api, t.owner, order={"customField": "visits", "direction": "ASC"}) == [
        "Галина",
        "Богдан",
        "Василь",
        "Андрій",
    ]
    # Text sorts ignoring case: "кава", "нічого", "чай" (Галина's "ЧАЙ"), "чай і кава".
    assert await _names(api, t.owner, order={"customField": "note", "direction": "ASC"}) == [
        "Богдан",
        "Василь",
        "Галина",
        "Андрій",
    ]
    # Keyset pages through a custom-field sort: two pages of two, nothing twice or missing.
    first = await post(api, t.owner, LIST, {"o": {"customField": "birthday", "direction": "ASC"}, "first": 2})
    cursor = first["accounts"]["pageInfo"]["endCursor"]
    rest = await post(
        api,
        t.owner,
        """query($o: AccountOrder, $after: String) { accounts(orderBy: $o, first: 2, after: $after) {
            edges { node { name } } } }""",
        {"o": {"customField": "birthday", "direction": "ASC"}, "after": cursor},
    )
    names = [e["node"]["name"] for e in first["accounts"]["edges"]] + [
        e["node"]["name"] for e in rest["accounts"]["edges"]
    ]
    assert names == ["Галина", "Богдан", "Андрій", "Василь"]

    # Warehouse staff may not see the customers' custom fields: not in lists, not as a filter.
    hidden = await t.logistics.execute(api, LIST, {"w": {"customField": {"key": "loyalty", "eq": "gold"}}})
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hidden = await t.logistics.execute(api, "{ accounts { edges { node { customFieldValues { key } } } } }")
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_statement_count_does_not_grow_with_page_size(api, tenants):
    t = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    for i in range(12):
        await post(
            api,
            t.owner,
            CREATE_ACCOUNT,
            {
                "i": {
                    "name": f"A{i}",
                    "customFieldValues": [
                        {"key": "visits", "numberValue": str(i)},
                        {"key": "note", "textValue": "n"},
                        {"key": "channels", "choiceValues": ["sms", "email"]},
                    ],
                }
            },
        )
    counts = []
    for size in (2, 10):
        with QueryCounter() as q:
            names = await _names(
                api,
                t.owner,
                {"customField": {"key": "visits", "gte": "0"}},
                {"customField": "visits", "direction": "ASC"},
                first=size,
            )
        assert len(names) == size
        counts.append(q.count)
    assert counts[0] == counts[1]


ORDER_Q = f"""order {{ id version tags {VALUES} }} {ERRORS}"""
ITEMS = [{"sku": "TEA-1", "title": "Чай", "quantity": "1", "unitPrice": "100"}]


async def _account(api, member, name="Клієнт") -> str:
    made = await post(api, member, CREATE_ACCOUNT, {"i": {"name": name}})
    assert made["createAccount"]["errors"] == [], made
    return made["createAccount"]["account"]["id"]


async def test_orders_deals_and_tickets_have_tags_and_custom_fields(api, tenants):
    t = await tenants.create(("owner", "logistics"))
    await define(api, t.owner, objectType="ORDER", key="gift_wrap", kind="BOOLEAN")
    await define(
        api, t.owner, objectType="ORDER", key="slot", kind="CHOICE", choices=[{"value": "am"}, {"value": "pm"}]
    )
    await define(
        api, t.owner, objectType="DEAL", key="budget", kind="MONEY", required=True, labelUk="Бюджет", labelEn="Budget"
    )
    await define(api, t.owner, objectType="TICKET", key="serial", kind="TEXT")
    account = await _account(api, t.owner)

    create_order = f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {{ {ORDER_Q} }} }}"
    orders = []
    for tags, wrap, slot in ((["Fragile", "vip", "fragile"], True, "am"), (["vip"], False, "pm"), ([], None, None)):
        values = [{"key": "gift_wrap", "booleanValue": wrap}] if wrap is not None else []
        values += [{"key": "slot", "choiceValues": [slot]}] if slot else []
        made = (
            await post(
                api,
                t.owner,
                create_order,
                {"i": {"accountId": account, "items": ITEMS, "tags": tags, "customFieldValues": values}},
            )
        )["createOrder"]
        assert made["errors"] == [], made
        orders.append(made["order"])
    assert orders[0]["tags"] == ["fragile", "vip"]
    assert [v["booleanValue"] for v in orders[0]["customFieldValues"] if v["key"] == "gift_wrap"] == [True]

    order_list = "query($w: OrderWhere, $o: OrderOrder) { orders(where: $w, orderBy: $o) { edges { node { id } } } }"

    async def order_ids(where=None, order=None):
        data = await post(api, t.owner, order_list, {"w": where, "o": order})
        return [e["node"]["id"] for e in data["orders"]["edges"]]

    assert await order_ids({"tag": {"eq": "FRAGILE"}}) == [orders[0]["id"]]
    assert sorted(await order_ids({"tag": {"in": ["vip"]}})) == sorted([orders[0]["id"], orders[1]["id"]])
    assert await order_ids({"customField": {"key": "gift_wrap", "eq": "false"}}) == [orders[1]["id"]]
    assert await order_ids({"customField": {"key": "slot", "eq": "pm"}, "tag": {"eq": "vip"}}) == [orders[1]["id"]]
    # No value first, then "am", then "pm".
    assert await order_ids(order={"customField": "slot", "direction": "ASC"}) == [
        orders[2]["id"],
        orders[0]["id"],
        orders[1]["id"],
    ]

    # Warehouse staff change delivery and status only: not an order's tags or custom fields.
    update_order = f"mutation($i: UpdateOrderInput!) {{ updateOrder(input: $i) {{ {ORDER_Q} }} }}"
    refused = (
        await post(
            api,
            t.logistics,
            update_order,
            {
                "i": {
                    "id": orders[0]["id"],
                    "version": orders[0]["version"],
                    "tags": ["lost"],
                    "customFieldValues": [{"key": "gift_wrap", "booleanValue": False}],
                }
            },
        )
    )["updateOrder"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", "customFieldValues")]
    changed = (
        await post(
            api,
            t.owner,
            update_order,
            {"i": {"id": orders[0]["id"], "version": orders[0]["version"], "tags": ["gift"]}},
        )
    )["updateOrder"]
    assert changed["errors"] == [] and changed["order"]["tags"] == ["gift"]
    assert await order_ids({"tag": {"eq": "fragile"}}) == []

    # A required deal field: refused without it, in both languages.
    create_deal = f"""mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{
        deal {{ id tags {VALUES} }} {ERRORS} }} }}"""
    bare = {"i": {"accountId": account, "title": "Опт", "tags": ["b2b"]}}
    en = (await post(api, t.owner, create_deal, bare, "en"))["createDeal"]
    assert [(e["field"], e["code"], e["message"]) for e in en["errors"]] == [
        ("customFieldValues.budget", "REQUIRED", "'Budget' is required.")
    ]
    uk = (await post(api, t.owner, create_deal, bare, "uk"))["createDeal"]
    assert [e["message"] for e in uk["errors"]] == ["«Бюджет» — обов’язкове поле."]
    deals = []
    for amount in ("5000", "700.5"):
        made = (
            await post(
                api,
                t.owner,
                create_deal,
                {
                    "i": {
                        **bare["i"],
                        "customFieldValues": [{"key": "budget", "moneyValue": {"amount": amount, "currency": "UAH"}}],
                    }
                },
            )
        )["createDeal"]
        assert made["errors"] == [] and made["deal"]["tags"] == ["b2b"]
        deals.append(made["deal"]["id"])
    data = await post(
        api,
        t.owner,
        """{ deals(where: {tag: {eq: "b2b"}, customField: {key: "budget", lt: "1000"}}) {
        edges { node { id customFieldValues { moneyValue { amount currency } } } } } }""",
        {},
    )
    assert [(e["node"]["id"], e["node"]["customFieldValues"][0]["moneyValue"]) for e in data["deals"]["edges"]] == [
        (deals[1], {"amount": "700.50", "currency": "UAH"})
    ]

    create_ticket = f"""mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{
        ticket {{ id version tags {VALUES} }} {ERRORS} }} }}"""
    made = (
        await post(
            api,
            t.owner,
            create_ticket,
            {
                "i": {
                    "subject": "Не працює",
                    "tags": ["warranty"],
                    "customFieldValues": [{"key": "serial", "textValue": "SN-123"}],
                }
            },
        )
    )["createTicket"]
    assert made["errors"] == [] and made["ticket"]["tags"] == ["warranty"]
    data = await post(
        api,
        t.owner,
        """{ tickets(where: {tag: {eq: "warranty"}, customField: {key: "serial",
        contains: "sn-1"}}) { edges { node { id customFieldValues { textValue } } } } }""",
        {},
    )
    assert [e["node"]["customFieldValues"] for e in data["tickets"]["edges"]] == [[{"textValue": "SN-123"}]]


async def test_bulk_tagging_of_orders_deals_and_tickets(api, tenants, database):
    from server.jobs.inprocess import run_until_idle

    t = await tenants.create(("owner",))
    account = await _account(api, t.owner)
    order = (
        await post(
            api,
            t.owner,
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            {"i": {"accountId": account, "items": ITEMS, "tags": ["old"]}},
        )
    )["createOrder"]["order"]
    deal = (
        await post(
            api,
            t.owner,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id } } }",
            {"i": {"accountId": account, "title": "Угода"}},
        )
    )["createDeal"]["deal"]
    ticket = (
        await post(
            api,
            t.owner,
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id } } }",
            {"i": {"subject": "Питання", "tags": ["old"]}},
        )
    )["createTicket"]["ticket"]
    start = "mutation($i: BulkActionInput!) { bulkAction(input: $i) { job { id } errors { code message } } }"
    for object_type, target, action in (
        ("ORDERS", order, "ADD_TAGS"),
        ("DEALS", deal, "ADD_TAGS"),
        ("TICKETS", ticket, "REMOVE_TAGS"),
    ):
        payload = await post(
            api,
            t.owner,
            start,
            {
                "i": {
                    "objectType": object_type,
                    "action": action,
                    "tags": ["Sale", "old"],
                    "ids": [{"id": target["id"]}],
                }
            },
        )
        assert payload["bulkAction"]["errors"] == [], payload
    await run_until_idle(database)
    data = await post(
        api,
        t.owner,
        """query($o: ID!, $d: ID!, $t: ID!) { order(id: $o) { tags }
        deal(id: $d) { tags } ticket(id: $t) { tags } }""",
        {"o": order["id"], "d": deal["id"], "t": ticket["id"]},
    )
    assert data == {"order": {"tags": ["old", "sale"]}, "deal": {"tags": ["old", "sale"]}, "ticket": {"tags": []}}
    tagged = await post(api, t.owner, '{ orders(where: {tag: {eq: "sale"}}) { edges { node { id } } } }', {})
    assert [e["node"]["id"] for e in tagged["orders"]["edges"]] == [order["id"]]


async def _latest_export(api, tenant, database) -> str:
    """Run the export jobs, then download the newest export as the owner: its text."""
    from server.jobs.inprocess import run_until_idle

    await run_until_idle(database)
    nodes = await post(api, tenant.owner, "{ exports(first: 1) { edges { node { downloadPath } } } }", {})
    path = nodes["exports"]["edges"][0]["node"]["downloadPath"]
    headers = {"Authorization": f"Bearer {tenant.owner.token}", "X-Organization": tenant.slug}
    return (await api.http.get(path, headers=headers)).content.decode("utf-8-sig")


async def test_export_has_a_column_per_field_and_import_fills_them(api, tenants, database):
    import base64
    import csv
    import io

    from server.jobs.inprocess import run_until_idle

    t = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    made = await post(
        api,
        t.owner,
        CREATE_ACCOUNT,
        {
            "i": {
                "name": "Олена",
                "customFieldValues": [
                    {"key": "loyalty", "choiceValues": ["gold"]},
                    {"key": "budget", "moneyValue": {"amount": "99.90", "currency": "EUR"}},
                    {"key": "visits", "numberValue": "7"},
                    {"key": "vip", "booleanValue": True},
                    {"key": "channels", "choiceValues": ["sms", "email"]},
                    {"key": "note", "textValue": "=cmd()"},
                ],
            }
        },
    )
    assert made["createAccount"]["errors"] == []
    started = await post(
        api,
        t.owner,
        """mutation($i: StartExportInput!) { startExport(input: $i) {
        export { id } errors { code } } }""",
        {
            "i": {
                "list": "ACCOUNTS",
                "format": "CSV",
                "accounts": {"where": {"customField": {"key": "loyalty", "eq": "gold"}}},
            }
        },
        "uk",
    )
    assert started["startExport"]["errors"] == []
    rows = list(csv.reader(io.StringIO(await _latest_export(api, t, database))))
    assert len(rows) == 2
    cells = dict(zip(rows[0], rows[1], strict=True))
    # Headers are the fields' labels in the requester's language (Ukrainian here).
    assert cells["Рівень"] == "gold" and cells["budget"] == "99.90 EUR" and cells["visits"] == "7"
    assert cells["vip"] in ("true", "True") and cells["channels"] == "sms, email"
    assert cells["Примітка"] == "'=cmd()"  # never a formula in a spreadsheet
    assert cells["birthday"] == "" and cells["site"] == ""

    # The same columns map back on import; a bad value is a problem of its row, in the dry run too.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ПІБ", "Рівень", "Бюджет", "Візити", "День народження", "Примітка"])
    writer.writerow(["Андрій Коваль", "silver", "1 200,50 UAH", "3", "1990-01-02", "з імпорту"])
    writer.writerow(["Борис Бондар", "diamond", "", "x", "", "теж"])
    mapping = {
        "ПІБ": "name",
        "Рівень": "custom.loyalty",
        "Бюджет": "custom.budget",
        "Візити": "custom.visits",
        "День народження": "custom.birthday",
        "Примітка": "custom.note",
    }
    file = {"fileName": "clients.csv", "contentBase64": base64.b64encode(out.getvalue().encode()).decode()}
    for dry in (True, False):
        started = await post(
            api,
            t.owner,
            """mutation($i: StartImportInput!) { startImport(input: $i) {
            batch { id } errors { field code message } } }""",
            {"i": {"kind": "ACCOUNTS", "mapping": mapping, "dryRun": dry, **file}},
            "en",
        )
        assert started["startImport"]["errors"] == [], started
        await run_until_idle(database)
        batch = await post(
            api,
            t.owner,
            """query($id: ID!) { importBatch(id: $id) { createdCount failedCount
            problems { row field code message } } }""",
            {"id": started["startImport"]["batch"]["id"]},
            "en",
        )
        batch = batch["importBatch"]
        assert batch["failedCount"] == 1 and batch["createdCount"] == 1, batch
        # Written in the organization's language (Ukrainian) when the job runs.
        assert {(p["row"], p["field"], p["message"]) for p in batch["problems"]} == {
            (3, "customFieldValues.loyalty", "«diamond» не є одним із варіантів: gold, silver."),
            (3, "customFieldValues.visits", "«x» — не число."),
        }
    imported = await post(
        api,
        t.owner,
        """{ accounts(where: {customField: {key: "loyalty", eq: "silver"}}) {
        edges { node { name customFieldValues { key textValue numberValue dateValue moneyValue { amount currency }
        choiceValues } } } } }""",
        {},
    )
    [node] = [e["node"] for e in imported["accounts"]["edges"]]
    values = {v["key"]: v for v in node["customFieldValues"]}
    assert node["name"] == "Андрій Коваль"
    assert values["budget"]["moneyValue"] == {"amount": "1200.50", "currency": "UAH"}
    assert values["visits"]["numberValue"] == "3" and values["birthday"]["dateValue"] == "1990-01-02"
    assert values["note"]["textValue"] == "з імпорту" and values["loyalty"]["choiceValues"] == ["silver"]


async def test_a_role_may_hide_one_custom_field(api, tenants):
    from tests.test_custom_roles import add_member, make_role

    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ORDER", key="cost", kind="MONEY")
    await define(api, t.owner, objectType="ORDER", key="slot", kind="TEXT")
    role = await make_role(
        t.owner,
        api,
        "Комплектувальник",
        permissions=["orders:read", "orders:update", "accounts:read"],
        hiddenFields=["Order.customFields.cost"],
    )
    assert role["hiddenFields"] == ["Order.customFields.cost"]
    picker, _ = await add_member(api, tenants, t, t.owner, "Комплектувальник")
    account = await _account(api, t.owner)
    made = await post(
        api,
        t.owner,
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
        {
            "i": {
                "accountId": account,
                "items": ITEMS,
                "customFieldValues": [
                    {"key": "cost", "moneyValue": {"amount": "40", "currency": "UAH"}},
                    {"key": "slot", "textValue": "ранок"},
                ],
            }
        },
    )
    order_id = made["createOrder"]["order"]["id"]
    query = "query($id: ID!) { order(id: $id) { customFieldValues { key } } }"
    owner_sees = await post(api, t.owner, query, {"id": order_id})
    assert [v["key"] for v in owner_sees["order"]["customFieldValues"]] == ["cost", "slot"]
    picker_sees = await post(api, picker, query, {"id": order_id})
    assert [v["key"] for v in picker_sees["order"]["customFieldValues"]] == ["slot"]
    # The hidden field is not among the definitions the role reads either; the owner sees both.
    definitions = "{ customFieldDefinitions(objectType: ORDER) { key } }"
    assert [d["key"] for d in (await post(api, picker, definitions, {}))["customFieldDefinitions"]] == ["slot"]
    assert [d["key"] for d in (await post(api, t.owner, definitions, {}))["customFieldDefinitions"]] == ["cost", "slot"]
    # Nor by its global ID, for a role that reads the settings but not the field.
    await make_role(
        t.owner,
        api,
        "Аналітик",
        permissions=["orders:read", "settings:read"],
        hiddenFields=["Order.customFields.cost"],
    )
    analyst, _ = await add_member(api, tenants, t, t.owner, "Аналітик")
    with_ids = "{ customFieldDefinitions(objectType: ORDER) { id key } }"
    by_key = {d["key"]: d["id"] for d in (await post(api, t.owner, with_ids, {}))["customFieldDefinitions"]}
    node = "query($id: ID!) { node(id: $id) { ... on CustomFieldDefinition { key } } }"
    assert (await post(api, analyst, node, {"id": by_key["cost"]}))["node"] is None
    assert (await post(api, analyst, node, {"id": by_key["slot"]}))["node"] == {"key": "slot"}
    assert (await post(api, t.owner, node, {"id": by_key["cost"]}))["node"] == {"key": "cost"}
    for where, order in (({"customField": {"key": "cost", "gt": "1"}}, None), (None, {"customField": "cost"})):
        refused = await picker.execute(
            api,
            "query($w: OrderWhere, $o: OrderOrder) { orders(where: $w, orderBy: $o) { edges { node { id } } } }",
            {"w": where, "o": order},
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nor may the role write (or probe by writing) a field it cannot see; the others it may.
    version = (await post(api, t.owner, "query($id: ID!) { order(id: $id) { version } }", {"id": order_id}))["order"]
    write = "mutation($i: UpdateOrderInput!) { updateOrder(input: $i) { errors { field code message } } }"
    values = [{"key": "cost", "moneyValue": {"amount": "1", "currency": "UAH"}}, {"key": "slot", "textValue": "вечір"}]
    tried = await post(
        api, picker, write, {"i": {"id": order_id, "version": version["version"], "customFieldValues": values}}
    )
    assert [(e["field"], e["code"]) for e in tried["updateOrder"]["errors"]] == [
        ("customFieldValues.cost", "FORBIDDEN")
    ]
    assert tried["updateOrder"]["errors"][0]["message"] == "Your role may not change the custom field 'cost'."
    bad = await t.owner.data(
        api,
        """mutation($i: CreateRoleInput!) { createRole(input: $i) { errors { field code } } }""",
        {"i": {"name": "x", "permissions": ["orders:read"], "hiddenFields": ["Order.customFields.Bad Key"]}},
    )
    assert bad["createRole"]["errors"] == [{"field": "hiddenFields.0", "code": "INVALID"}]


async def test_a_required_field_is_asked_of_people_not_of_background_work(api, tenants):
    from decimal import Decimal

    from server.accounts import service as accounts
    from server.auth.scope import Scope
    from server.orders import service as orders
    from server.organizations.models import Organization

    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ORDER", key="packer", kind="TEXT", required=True)
    account = await _account(api, t.owner)
    refused = await post(
        api,
        t.owner,
        f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {{ {ORDER_Q} }} }}",
        {"i": {"accountId": account, "items": ITEMS}},
    )
    assert [(e["field"], e["code"]) for e in refused["createOrder"]["errors"]] == [
        ("customFieldValues.packer", "REQUIRED")
    ]
    # A marketplace plugin's order sync is not refused for it.
    scope = Scope.for_app(await Organization.get(slug=t.slug), "rozetka", "marketplace-sync")
    buyer = await accounts.create_account(scope, {"name": "Покупець", "phones": ["+380671112233"]})
    item = {"sku": "A", "title": "Чай", "quantity": Decimal(1), "unit_price": Decimal(100), "discount": Decimal(0)}
    order = await orders.create_order(scope, {"account_id": buyer.id, "items": [item]})
    assert order.number >= 1 and await CustomFieldValue.filter(object_id=order.id).count() == 0


async def test_a_merge_keeps_the_survivors_values_and_takes_the_rest(api, tenants):
    t = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    keep = await post(
        api,
        t.owner,
        CREATE_ACCOUNT,
        {
            "i": {
                "name": "Олена",
                "customFieldValues": [
                    {"key": "note", "textValue": "основний"},
                    {"key": "loyalty", "choiceValues": ["gold"]},
                ],
            }
        },
    )
    dup = await post(
        api,
        t.owner,
        CREATE_ACCOUNT,
        {
            "i": {
                "name": "Олена К.",
                "customFieldValues": [{"key": "note", "textValue": "дубль"}, {"key": "visits", "numberValue": "4"}],
            }
        },
    )
    keep, dup = keep["createAccount"]["account"], dup["createAccount"]["account"]
    merged = await post(
        api,
        t.owner,
        f"""mutation($i: MergeAccountsInput!) {{ mergeAccounts(input: $i) {{
        account {{ {VALUES} }} {ERRORS} }} }}""",
        {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}},
    )
    assert merged["mergeAccounts"]["errors"] == []
    values = {v["key"]: v for v in merged["mergeAccounts"]["account"]["customFieldValues"]}
    assert values["note"]["textValue"] == "основний" and values["loyalty"]["choiceValues"] == ["gold"]
    assert values["visits"]["numberValue"] == "4"
    from server.graphql import ids

    entry = await AuditEntry.get(action="account.merge", entity_id=ids.decode(keep["id"])[1])
    assert entry.changes["moved"][1]["custom_field_values"] == 1


async def test_an_export_is_sorted_by_a_custom_field_as_the_list_is(api, tenants, database):
    import csv
    import io


    t = await tenants.create(("owner",))
    await account_fields(api, t.owner)
    for name, visits in (("Андрій", "7"), ("Борис", None), ("Віра", "11"), ("Галина", "2")):
        values = [{"key": "note", "textValue": "-"}]  # a required field
        values += [{"key": "visits", "numberValue": visits}] if visits else []
        made = await post(api, t.owner, CREATE_ACCOUNT, {"i": {"name": name, "customFieldValues": values}})
        assert made["createAccount"]["errors"] == []
    order_by = {"customField": "visits", "direction": "DESC"}
    listed = await post(
        api, t.owner, "query($o: AccountOrder) { accounts(orderBy: $o) { edges { node { name } } } }", {"o": order_by}
    )
    expected = [e["node"]["name"] for e in listed["accounts"]["edges"]]
    assert expected == ["Віра", "Андрій", "Галина", "Борис"]  # without a value: last, descending
    started = await post(
        api,
        t.owner,
        "mutation($i: StartExportInput!) { startExport(input: $i) { export { id } errors { code } } }",
        {"i": {"list": "ACCOUNTS", "format": "CSV", "accounts": {"orderBy": order_by}}},
    )
    assert started["startExport"]["errors"] == []
    rows = list(csv.DictReader(io.StringIO(await _latest_export(api, t, database))))
    names = [row[next(k for k in row if k in ("Name", "Назва", "Ім'я"))] for row in rows]
    assert names == expected
