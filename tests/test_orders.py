"""Orders through GraphQL: totals, numbering, the status machine, history, filters, config."""

import pytest

from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ORDER_FIELDS = """id number version currency source externalId
    status { code group next { code } }
    subtotal { amount currency } discountTotal { amount } total { amount currency }
    items { sku title quantity unitPrice { amount } discount { amount } total { amount } }
    delivery { method recipientName recipientPhone city branch waybillNumber }
    statusHistory { from { code } to { code } reason actor { email } }
    account { id name }"""

CREATE = f"""mutation($input: CreateOrderInput!) {{ createOrder(input: $input) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($input: UpdateOrderInput!) {{ updateOrder(input: $input) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""
STATUS = f"""mutation($input: ChangeOrderStatusInput!) {{ changeOrderStatus(input: $input) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""

ITEMS = [
    {"sku": "KETTLE-1", "title": "Чайник Bosch", "quantity": "2", "unitPrice": "1299.99", "discount": "100"},
    {"sku": "CUP-6", "title": "Чашки, 6 шт.", "quantity": "1", "unitPrice": "349.50"},
]


async def make_account(member, api, name="Олена Коваль", phones=("0671234567",)):
    data = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": name, "phones": list(phones)}},
    )
    return data["createAccount"]["account"]["id"]


async def create_order(member, api, account_id, **extra):
    body = await member.data(api, CREATE, {"input": {"accountId": account_id, "items": ITEMS, **extra}})
    return body["createOrder"]


async def test_create_order_computes_totals_and_numbers(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    first = await create_order(
        t.owner,
        api,
        account,
        delivery={
            "method": "nova_poshta",
            "recipientName": "Олена",
            "recipientPhone": "+38 (067) 123-45-67",
            "city": "Київ",
            "branch": "Відділення №12",
        },
    )
    assert first["errors"] == []
    order = first["order"]
    assert order["number"] == 1
    assert order["subtotal"] == {"amount": "2949.48", "currency": "UAH"}
    assert order["discountTotal"]["amount"] == "100.00"
    assert order["total"] == {"amount": "2849.48", "currency": "UAH"}
    assert [i["total"]["amount"] for i in order["items"]] == ["2499.98", "349.50"]
    assert [i["quantity"] for i in order["items"]] == ["2", "1"]
    assert order["status"]["code"] == "new"
    assert order["delivery"]["recipientPhone"] == "+380671234567"
    assert [(h["from"], h["to"]["code"]) for h in order["statusHistory"]] == [(None, "new")]
    second = await create_order(t.owner, api, account)
    assert second["order"]["number"] == 2

    # Another organization counts from 1 on its own.
    other = await tenants.create(("owner",))
    assert (await create_order(other.owner, api, await make_account(other.owner, api)))["order"]["number"] == 1


async def test_bad_items_are_rejected_and_nothing_is_written(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    cases = [
        ({"sku": "A", "title": "A", "quantity": "0", "unitPrice": "1"}, "items.0.quantity"),
        ({"sku": "A", "title": "A", "quantity": "1", "unitPrice": "-5"}, "items.0.unitPrice"),
        ({"sku": "A", "title": "A", "quantity": "1", "unitPrice": "10", "discount": "11"}, "items.0.discount"),
        ({"sku": "A", "title": "A", "quantity": "1", "unitPrice": "10.001"}, "items.0.unitPrice"),
        ({"sku": " ", "title": "A", "quantity": "1", "unitPrice": "10"}, "items.0.sku"),
    ]
    for item, field in cases:
        body = await t.owner.data(api, CREATE, {"input": {"accountId": account, "items": [item]}})
        assert body["createOrder"]["order"] is None
        assert body["createOrder"]["errors"][0]["field"] == field, (item, body)
    bad_phone = await t.owner.data(
        api, CREATE, {"input": {"accountId": account, "items": ITEMS, "delivery": {"recipientPhone": "12"}}}
    )
    assert bad_phone["createOrder"]["errors"][0] == {
        "field": "recipientPhone",
        "code": "INVALID",
        "message": "'12' is not a valid phone number.",
    }
    orders = await t.owner.data(api, "{ orders { edges { node { id } } } }")
    assert orders["orders"]["edges"] == []


async def test_status_follows_allowed_transitions_only(api, tenants):
    t = await tenants.create(("owner",))
    order = (await create_order(t.owner, api, await make_account(t.owner, api)))["order"]
    assert [s["code"] for s in order["status"]["next"]] == ["processing", "cancelled"]

    jump = await t.owner.data(
        api, STATUS, {"input": {"id": order["id"], "version": order["version"], "status": "delivered"}}
    )
    assert jump["changeOrderStatus"]["errors"] == [
        {"field": "status", "code": "FORBIDDEN_TRANSITION", "message": "An order cannot go from 'new' to 'delivered'."}
    ]
    ok = await t.owner.data(
        api, STATUS, {"input": {"id": order["id"], "version": order["version"], "status": "processing"}}
    )
    moved = ok["changeOrderStatus"]["order"]
    assert moved["status"] == {
        "code": "processing",
        "group": "IN_PROGRESS",
        "next": [{"code": "picking"}, {"code": "delayed"}, {"code": "cancelled"}],
    }
    assert moved["version"] == order["version"] + 1
    cancel = await t.owner.data(
        api,
        STATUS,
        {
            "input": {
                "id": order["id"],
                "version": moved["version"],
                "status": "cancelled",
                "reason": "Клієнт передумав",
            }
        },
    )
    history = cancel["changeOrderStatus"]["order"]["statusHistory"]
    assert [(h["from"] and h["from"]["code"], h["to"]["code"], h["reason"]) for h in history] == [
        (None, "new", None),
        ("new", "processing", None),
        ("processing", "cancelled", "Клієнт передумав"),
    ]
    assert history[-1]["actor"]["email"] == t.owner.email
    unknown = await t.owner.data(api, STATUS, {"input": {"id": order["id"], "version": 3, "status": "nope"}})
    assert unknown["changeOrderStatus"]["errors"][0]["code"] == "NOT_FOUND"

    pk = ids.decode(order["id"])[1]
    events = (
        await OutboxEvent.filter(topic="order.status_changed", payload__contains={}).all()
        if False
        else [e for e in await OutboxEvent.filter(topic="order.status_changed") if e.payload["order_id"] == str(pk)]
    )
    assert [(e.payload["from"], e.payload["to"]) for e in sorted(events, key=lambda e: e.created_at)] == [
        ("new", "processing"),
        ("processing", "cancelled"),
    ]


async def test_stale_version_is_a_conflict_and_changes_nothing(api, tenants):
    t = await tenants.create(("owner",))
    order = (await create_order(t.owner, api, await make_account(t.owner, api)))["order"]
    await t.owner.data(api, UPDATE, {"input": {"id": order["id"], "version": order["version"], "comment": "first"}})
    stale = await t.owner.data(
        api, UPDATE, {"input": {"id": order["id"], "version": order["version"], "items": [ITEMS[1]]}}
    )
    assert stale["updateOrder"]["errors"][0]["code"] == "CONFLICT"
    current = await t.owner.data(
        api, "query($id: ID!) { order(id: $id) { total { amount } comment } }", {"id": order["id"]}
    )
    assert current["order"] == {"total": {"amount": "2849.48"}, "comment": "first"}


async def test_update_items_recomputes_totals_and_audits(api, tenants):
    t = await tenants.create(("owner",))
    order = (await create_order(t.owner, api, await make_account(t.owner, api)))["order"]
    body = await t.owner.data(
        api,
        UPDATE,
        {
            "input": {
                "id": order["id"],
                "version": order["version"],
                "items": [{"sku": "CUP-6", "title": "Чашки", "quantity": "3", "unitPrice": "10.10"}],
                "delivery": {"waybillNumber": "20450000000001"},
            }
        },
    )
    updated = body["updateOrder"]["order"]
    assert updated["total"]["amount"] == "30.30"
    assert updated["delivery"]["waybillNumber"] == "20450000000001"
    assert updated["delivery"]["city"] is None
    entry = await AuditEntry.filter(entity_id=ids.decode(order["id"])[1], action="order.update").first()
    assert entry.changes["total"] == ["2849.48", "30.30"]
    assert entry.changes["waybill_number"] == [None, "20450000000001"]
    assert entry.actor_id == str(ids.decode(t.owner.user_id)[1])


async def test_idempotent_create_and_unique_external_id(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    a = await create_order(t.owner, api, account, idempotencyKey="checkout-42")
    b = await create_order(t.owner, api, account, idempotencyKey="checkout-42")
    assert a["order"]["id"] == b["order"]["id"]
    count = await t.owner.data(api, "{ orders { totalCount } }")
    assert count["orders"]["totalCount"] == 1

    # The same key with other input is a client bug: refused, nothing created.
    reused = await create_order(
        t.owner,
        api,
        account,
        idempotencyKey="checkout-42",
        items=[{"sku": "X", "title": "X", "quantity": "1", "unitPrice": "1"}],
    )
    assert reused["order"] is None
    assert reused["errors"][0]["code"] == "IDEMPOTENCY_MISMATCH"
    assert reused["errors"][0]["field"] == "idempotencyKey"
    count = await t.owner.data(api, "{ orders { totalCount } }")
    assert count["orders"]["totalCount"] == 1

    await create_order(t.owner, api, account, source="rozetka", externalId="R-1001")
    dup = await t.owner.data(
        api, CREATE, {"input": {"accountId": account, "items": ITEMS, "source": "rozetka", "externalId": "R-1001"}}
    )
    assert dup["createOrder"]["errors"][0]["code"] == "DUPLICATE"
    other_source = await create_order(t.owner, api, account, source="prom", externalId="R-1001")
    assert other_source["errors"] == []


async def test_filters_and_keyset_pagination(api, tenants):
    t = await tenants.create(("owner",))
    olena = await make_account(t.owner, api)
    taras = await make_account(t.owner, api, "Тарас Шевчук", ("0501112233",))
    created = [
        await create_order(t.owner, api, olena if i % 2 else taras, source="website" if i < 3 else "rozetka")
        for i in range(6)
    ]
    for c in created[:2]:
        o = c["order"]
        await t.owner.data(api, STATUS, {"input": {"id": o["id"], "version": o["version"], "status": "cancelled"}})

    async def numbers(where=None, order_by=None, first=None):
        q = """query($w: OrderWhere, $o: OrderOrder, $f: Int) { orders(where: $w, orderBy: $o, first: $f) {
            edges { node { number } } } }"""
        data = await t.owner.data(api, q, {"w": where, "o": order_by, "f": first})
        return [e["node"]["number"] for e in data["orders"]["edges"]]

    assert await numbers() == [6, 5, 4, 3, 2, 1]
    assert await numbers(order_by={"field": "NUMBER", "direction": "ASC"}) == [1, 2, 3, 4, 5, 6]
    assert await numbers({"statusGroup": {"eq": "CANCELLED"}}) == [2, 1]
    assert await numbers({"statusGroup": {"in": ["NEW"]}, "source": {"eq": "rozetka"}}) == [6, 5, 4]
    assert await numbers({"account": {"eq": olena}}) == [6, 4, 2]
    assert await numbers({"OR": [{"number": {"eq": 1}}, {"number": {"eq": 6}}]}) == [6, 1]
    assert await numbers({"number": {"gte": 2, "lte": 3}}) == [3, 2]
    assert await numbers({"status": {"in": ["new"]}, "AND": [{"source": {"eq": "website"}}]}) == [3]
    assert await numbers({"manager": {"eq": t.owner.user_id}}) == [6, 5, 4, 3, 2, 1]
    assert await numbers({"createdAt": {"gte": "2000-01-01T00:00:00Z", "lt": "2001-01-01T00:00:00Z"}}) == []
    by_number = {"field": "NUMBER", "direction": "ASC"}
    assert await numbers({"total": {"gte": "2849.48"}}, by_number) == [1, 2, 3, 4, 5, 6]
    assert await numbers({"total": {"gte": "2849.49"}}) == []
    bad = await t.owner.execute(api, '{ orders(where: {account: {eq: "garbage"}}) { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    seen, after = [], None
    while True:
        page = await t.owner.data(
            api,
            """query($a: String) { orders(first: 4, after: $a) {
            edges { node { number } } pageInfo { hasNextPage hasPreviousPage endCursor } } }""",
            {"a": after},
        )
        conn = page["orders"]
        seen += [e["node"]["number"] for e in conn["edges"]]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [6, 5, 4, 3, 2, 1]
    empty = await t.owner.data(api, "{ orders(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } }")
    assert empty["orders"] == {"edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}


async def test_delete_is_soft(api, tenants):
    t = await tenants.create(("owner",))
    order = (await create_order(t.owner, api, await make_account(t.owner, api)))["order"]
    body = await t.owner.data(
        api,
        "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { code } } }",
        {"i": {"id": order["id"], "version": order["version"]}},
    )
    assert body["deleteOrder"]["errors"] == []
    assert (await t.owner.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": order["id"]}))["node"] is None
    assert await AuditEntry.filter(entity_id=ids.decode(order["id"])[1], action="order.delete").exists()


async def test_admin_configures_statuses_and_transitions(api, tenants):
    t = await tenants.create(("admin", "manager"))
    statuses = await t.admin.data(api, "{ orderStatuses { id code } }")
    by_code = {s["code"]: s["id"] for s in statuses["orderStatuses"]}
    created = await t.admin.data(
        api,
        """mutation { createOrderStatus(input: {code: "awaiting_payment",
        name: "Очікує оплату", group: NEW, position: 1}) { status { id code group } errors { code } } }""",
    )
    new_status = created["createOrderStatus"]["status"]
    assert new_status["group"] == "NEW"
    setq = """mutation($i: SetOrderStatusTransitionsInput!) { setOrderStatusTransitions(input: $i) {
        status { next { code } } errors { code } } }"""
    result = await t.admin.data(
        api, setq, {"i": {"fromId": by_code["new"], "toIds": [new_status["id"], by_code["cancelled"]]}}
    )
    assert [s["code"] for s in result["setOrderStatusTransitions"]["status"]["next"]] == [
        "awaiting_payment",
        "cancelled",
    ]

    account = await make_account(t.admin, api)
    order = (await create_order(t.admin, api, account))["order"]
    refused = await t.admin.data(
        api, STATUS, {"input": {"id": order["id"], "version": order["version"], "status": "processing"}}
    )
    assert refused["changeOrderStatus"]["errors"][0]["code"] == "FORBIDDEN_TRANSITION"
    in_use = await t.admin.data(
        api,
        "mutation($i: DeleteOrderStatusInput!) { deleteOrderStatus(input: $i) { errors { code } } }",
        {"i": {"id": by_code["new"]}},
    )
    assert in_use["deleteOrderStatus"]["errors"][0]["code"] == "CONFLICT"

    forbidden = await t.manager.execute(api, setq, {"i": {"fromId": by_code["new"], "toIds": []}})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_concurrent_retries_with_one_key_create_one_order(api, tenants):
    import asyncio

    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    variables = {"input": {"accountId": account, "items": ITEMS, "idempotencyKey": "double-click"}}
    results = await asyncio.gather(*(t.owner.data(api, CREATE, variables) for _ in range(5)))
    assert {r["createOrder"]["order"]["id"] for r in results} == {results[0]["createOrder"]["order"]["id"]}
    assert all(r["createOrder"]["errors"] == [] for r in results)
    assert (await t.owner.data(api, "{ orders { totalCount } }"))["orders"]["totalCount"] == 1


async def test_contains_is_case_insensitive_for_cyrillic(api, tenants):
    t = await tenants.create(("owner",))
    await make_account(t.owner, api, "Оксана Мельник")
    data = await t.owner.data(api, '{ accounts(where: {name: {contains: "оксана"}}) { edges { node { name } } } }')
    assert [e["node"]["name"] for e in data["accounts"]["edges"]] == ["Оксана Мельник"]
