"""What an SPA sees when part of a request is wrong: a forbidden root field fails alone and
the rest of the response keeps its data; a mutation names every invalid field at once and
writes nothing; an order needs items; customFields stay within their limits."""

from __future__ import annotations

import pytest

from tests.test_accounts import CREATE, CREATE_CONTACT, UPDATE, make_account, make_order

ERRORS = "errors { field code message }"
CREATE_ORDER = f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {{ order {{ id }} {ERRORS} }} }}"
UPDATE_ORDER = f"mutation($i: UpdateOrderInput!) {{ updateOrder(input: $i) {{ order {{ id }} {ERRORS} }} }}"
CREATE_DEAL = f"mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{ deal {{ id version }} {ERRORS} }} }}"
UPDATE_DEAL = f"mutation($i: UpdateDealInput!) {{ updateDeal(input: $i) {{ deal {{ id }} {ERRORS} }} }}"
CREATE_TICKET = f"""mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{
    ticket {{ id version }} {ERRORS} }} }}"""
UPDATE_TICKET = f"mutation($i: UpdateTicketInput!) {{ updateTicket(input: $i) {{ ticket {{ id }} {ERRORS} }} }}"
CREATE_ACTIVITY = f"""mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{
    activity {{ id version }} {ERRORS} }} }}"""
UPDATE_ACTIVITY = f"""mutation($i: UpdateActivityInput!) {{ updateActivity(input: $i) {{
    activity {{ id }} {ERRORS} }} }}"""
COUNTS = """query($id: ID!) { orders { totalCount } deals { totalCount } tickets { totalCount }
    accounts { totalCount } activities { totalCount }
    account(id: $id) { name version contacts { id } } }"""
ORDER = "query($id: ID!) { order(id: $id) { version comment items { sku quantity } } }"
ITEM = {"sku": "CUP-6", "title": "Чашки", "quantity": "2", "unitPrice": "349.50"}


def problems(payload: dict) -> dict[str, str]:
    """field -> code of every error in a payload."""
    return {e["field"]: e["code"] for e in payload["errors"]}


async def test_a_forbidden_root_field_fails_alone(api, tenants):
    t = await tenants.create(("owner", "logistics"))
    account = await make_account(t.owner, api)
    order = await make_order(t.owner, api, account["id"])
    # Logistics reads orders but not tickets (server/auth/roles.py).
    body = await t.logistics.execute(
        api, "{ orders { edges { node { id } } } tickets { edges { node { id } } } orderStatuses { code } }"
    )
    assert body["data"]["orders"]["edges"] == [{"node": {"id": order["id"]}}]
    assert body["data"]["tickets"] is None
    assert body["data"]["orderStatuses"]
    [error] = body["errors"]
    assert error["path"] == ["tickets"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def _counts(member, api, account_id: str) -> dict:
    data = await member.data(api, COUNTS, {"id": account_id})
    return {k: v if k == "account" else v["totalCount"] for k, v in data.items()}


async def test_accounts_and_contacts_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    before = await _counts(t.owner, api, account["id"])

    create = await t.owner.data(
        api, CREATE, {"i": {"name": " ", "phones": ["067 123 45 67", "12"], "emails": ["ok@x.ua", "nope", "a@"]}}
    )
    assert problems(create["createAccount"]) == {
        "name": "REQUIRED",
        "phones.1": "INVALID",
        "emails.1": "INVALID",
        "emails.2": "INVALID",
    }
    assert create["createAccount"]["account"] is None

    update = await t.owner.data(
        api,
        UPDATE,
        {
            "i": {
                "id": account["id"],
                "version": account["version"],
                "name": "x" * 301,
                "tags": ["vip", " "],
                "customFields": [1, 2],
            }
        },
    )
    assert problems(update["updateAccount"]) == {"name": "INVALID", "tags.1": "REQUIRED", "customFields": "INVALID"}

    contact = await t.owner.data(
        api, CREATE_CONTACT, {"i": {"accountId": account["id"], "name": "", "phones": ["000"], "emails": ["@"]}}
    )
    assert problems(contact["createContact"]) == {"name": "REQUIRED", "phones.0": "INVALID", "emails.0": "INVALID"}
    assert await _counts(t.owner, api, account["id"]) == before


async def test_orders_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    order = await make_order(t.owner, api, account["id"])
    before = await _counts(t.owner, api, account["id"])

    bad_items = [{**ITEM, "sku": " "}, {**ITEM, "quantity": "0", "unitPrice": "1.005"}, ITEM]
    create = await t.owner.data(
        api,
        CREATE_ORDER,
        {
            "i": {
                "accountId": account["id"],
                "items": bad_items,
                "currency": "XYZ",
                "delivery": {"recipientPhone": "12"},
            }
        },
    )
    assert problems(create["createOrder"]) == {
        "items.0.sku": "REQUIRED",
        "items.1.quantity": "INVALID",
        "items.1.unitPrice": "INVALID",
        "currency": "INVALID",
        "recipientPhone": "INVALID",
    }

    update = await t.owner.data(
        api,
        UPDATE_ORDER,
        {
            "i": {
                "id": order["id"],
                "version": order["version"],
                "comment": "x" * 5001,
                "items": [{**ITEM, "discount": "10000"}],
                "paymentStatus": "PAID",
                "currency": "US",
            }
        },
    )
    assert problems(update["updateOrder"]) == {
        "comment": "INVALID",
        "items.0.discount": "INVALID",
        "currency": "INVALID",
    }
    assert await _counts(t.owner, api, account["id"]) == before
    after = (await t.owner.data(api, ORDER, {"id": order["id"]}))["order"]
    assert after["version"] == order["version"] and after["comment"] is None


async def test_an_order_needs_items(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    create = await t.owner.data(api, CREATE_ORDER, {"i": {"accountId": account["id"], "items": []}})
    assert problems(create["createOrder"]) == {"items": "REQUIRED"}
    assert create["createOrder"]["order"] is None

    order = await make_order(t.owner, api, account["id"])
    update = await t.owner.data(api, UPDATE_ORDER, {"i": {"id": order["id"], "version": order["version"], "items": []}})
    assert problems(update["updateOrder"]) == {"items": "REQUIRED"}
    after = (await t.owner.data(api, ORDER, {"id": order["id"]}))["order"]
    assert after["version"] == order["version"]
    assert [i["sku"] for i in after["items"]] == ["KETTLE-1"]
    counts = await t.owner.data(api, "{ orders { totalCount } }")
    assert counts["orders"]["totalCount"] == 1


async def test_deals_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    good = await t.owner.data(api, CREATE_DEAL, {"i": {"accountId": account["id"], "title": "Опт"}})
    deal = good["createDeal"]["deal"]
    before = await _counts(t.owner, api, account["id"])

    create = await t.owner.data(
        api,
        CREATE_DEAL,
        {"i": {"accountId": account["id"], "title": "", "amount": "-5", "currency": "ZZZ", "source": "s" * 65}},
    )
    assert problems(create["createDeal"]) == {
        "title": "REQUIRED",
        "amount": "INVALID",
        "currency": "INVALID",
        "source": "INVALID",
    }
    update = await t.owner.data(
        api, UPDATE_DEAL, {"i": {"id": deal["id"], "version": deal["version"], "title": " ", "amount": "0.001"}}
    )
    assert problems(update["updateDeal"]) == {"title": "REQUIRED", "amount": "INVALID"}
    assert await _counts(t.owner, api, account["id"]) == before


async def test_tickets_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    good = await t.owner.data(api, CREATE_TICKET, {"i": {"subject": "Не працює", "accountId": account["id"]}})
    ticket = good["createTicket"]["ticket"]
    before = await _counts(t.owner, api, account["id"])

    create = await t.owner.data(
        api, CREATE_TICKET, {"i": {"subject": "  ", "description": "d" * 20_001, "idempotencyKey": "k" * 129}}
    )
    assert problems(create["createTicket"]) == {
        "subject": "REQUIRED",
        "description": "INVALID",
        "idempotencyKey": "INVALID",
    }
    update = await t.owner.data(
        api,
        UPDATE_TICKET,
        {"i": {"id": ticket["id"], "version": ticket["version"], "subject": "", "priority": None, "channel": None}},
    )
    assert problems(update["updateTicket"]) == {"subject": "REQUIRED", "priority": "REQUIRED", "channel": "REQUIRED"}
    assert await _counts(t.owner, api, account["id"]) == before


async def test_activities_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    good = await t.owner.data(api, CREATE_ACTIVITY, {"i": {"kind": "NOTE", "accountId": account["id"], "body": "ok"}})
    note = good["createActivity"]["activity"]
    before = await _counts(t.owner, api, account["id"])

    create = await t.owner.data(
        api,
        CREATE_ACTIVITY,
        {
            "i": {
                "kind": "NOTE",
                "accountId": account["id"],
                "subject": "s" * 301,
                "dueAt": "2026-01-01T10:00:00+02:00",
                "data": [1],
            }
        },
    )
    assert problems(create["createActivity"]) == {"subject": "INVALID", "dueAt": "INVALID", "data": "INVALID"}
    update = await t.owner.data(
        api,
        UPDATE_ACTIVITY,
        {"i": {"id": note["id"], "version": note["version"], "body": "b" * 20_001, "occurredAt": None}},
    )
    assert problems(update["updateActivity"]) == {"body": "INVALID", "occurredAt": "REQUIRED"}
    assert await _counts(t.owner, api, account["id"]) == before


@pytest.mark.parametrize(
    ("custom", "field"),
    [
        ({f"k{i}": i for i in range(101)}, "customFields"),  # more than 100 keys
        ({"k" * 101: 1}, "customFields"),  # a key longer than 100 characters
        ({"note": "x" * 10_001}, "customFields.note"),  # a value longer than 10,000 characters
        ({"a": [[[[[[1]]]]]]}, "customFields"),  # nested deeper than 5 levels
        ({"deep": {"x": 1}, "nul": "a\x00b"}, "customFields.nul"),  # text no database can store
    ],
)
async def test_custom_fields_stay_within_limits(api, tenants, custom, field):
    t = await tenants.create(("owner",))
    payload = (await t.owner.data(api, CREATE, {"i": {"name": "Олена", "customFields": custom}}))["createAccount"]
    assert problems(payload) == {field: "INVALID"}
    assert (await t.owner.data(api, "{ accounts { totalCount } }"))["accounts"]["totalCount"] == 0


async def test_custom_fields_at_the_limits_are_kept(api, tenants):
    t = await tenants.create(("owner",))
    custom = {f"k{i}": i for i in range(98)} | {"k" * 100: [[[[1]]]], "note": "x" * 9_990}
    account = await make_account(t.owner, api, customFields=custom)
    assert account["customFields"] == custom


async def test_settings_and_members_report_every_invalid_field(api, tenants):
    t = await tenants.create(("owner",))
    org = await t.owner.data(
        api,
        f"""mutation {{ updateOrganization(input: {{currency: "ZZZ", locale: "de", timezone: "Mars/Olympus"}}) {{
            organization {{ name }} {ERRORS} }} }}""",
    )
    assert problems(org["updateOrganization"]) == {"currency": "INVALID", "locale": "INVALID", "timezone": "INVALID"}
    settings = await t.owner.data(
        api,
        f"""mutation {{ updateNotificationSettings(input: {{quietStart: "25:00", sendDelaySeconds: 99999,
            supportPhone: "{"0" * 21}"}}) {{ settings {{ quietStart }} {ERRORS} }} }}""",
    )
    assert problems(settings["updateNotificationSettings"]) == {
        "quietStart": "INVALID",
        "sendDelaySeconds": "INVALID",
        "supportPhone": "INVALID",
    }
    member = await t.owner.data(
        api,
        f"""mutation {{ createMember(input: {{email: "not-an-email", role: "boss", name: "{"n" * 201}"}}) {{
            member {{ id }} {ERRORS} }} }}""",
    )
    assert problems(member["createMember"]) == {"email": "INVALID", "role": "INVALID", "name": "INVALID"}
    after = await t.owner.data(
        api, "{ me { organization { name } } members { id } notificationSettings { quietStart } }"
    )
    assert len(after["members"]) == 1
    assert after["notificationSettings"]["quietStart"] == "21:00"


async def test_a_pipeline_reports_every_invalid_stage(api, tenants):
    t = await tenants.create(("owner",))
    before = await t.owner.data(api, "{ pipelines { id } }")
    payload = await t.owner.data(
        api,
        f"""mutation {{ createPipeline(input: {{name: " ", position: 2000000, stages: [
              {{name: "Нова", probability: 10}}, {{name: "", probability: 150}}, {{name: "Виграно", position: -2000000}}]}}) {{
            pipeline {{ id }} {ERRORS} }} }}""",
    )
    assert problems(payload["createPipeline"]) == {
        "name": "REQUIRED",
        "position": "INVALID",
        "stages.1.name": "REQUIRED",
        "stages.1.probability": "INVALID",
        "stages.2.position": "INVALID",
    }
    assert await t.owner.data(api, "{ pipelines { id } }") == before
