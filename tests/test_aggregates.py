"""Aggregates for tabs and boards: exact counts and sums on a hand-made data set, grouped in the
database, limited like the list (tenancy, row scope, where), in a constant number of statements."""

from tests.helpers import QueryCounter
from tests.test_orders import STATUS, make_account

CREATE = """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
    order { id version number } errors { field code message } } }"""

ORDERS_AGG = """query($w: OrderWhere, $by: OrderGroupBy!) { ordersAggregate(where: $w) {
    count total { amount currency } groups(by: $by) { key count total { amount currency } } } }"""


async def _order(member, api, account, price: str, currency: str = "UAH", source: str = "manual") -> dict:
    items = [{"sku": "X", "title": "Товар", "quantity": "1", "unitPrice": price}]
    body = await member.data(
        api, CREATE, {"i": {"accountId": account, "items": items, "currency": currency, "source": source}}
    )
    assert body["createOrder"]["errors"] == [], body
    return body["createOrder"]["order"]


async def _orders_data_set(api, tenants):
    """Owner: 3 orders (100.10 UAH website, 200.20 UAH cancelled, 5.50 USD rozetka);
    manager: 2 orders (1000 UAH and 0.05 UAH, manual)."""
    t = await tenants.create(("owner", "manager"))
    mine = await make_account(t.owner, api)
    theirs = await make_account(t.manager, api, "Тарас", ("0501112233",))
    await _order(t.owner, api, mine, "100.10", source="website")
    cancelled = await _order(t.owner, api, mine, "200.20")
    await t.owner.data(
        api, STATUS, {"input": {"id": cancelled["id"], "version": cancelled["version"], "status": "cancelled"}}
    )
    await _order(t.owner, api, mine, "5.50", currency="USD", source="rozetka")
    await _order(t.manager, api, theirs, "1000")
    await _order(t.manager, api, theirs, "0.05")
    return t


def _money(*pairs):
    return [{"amount": amount, "currency": currency} for amount, currency in pairs]


async def test_orders_aggregate_counts_and_sums_exactly(api, tenants):
    t = await _orders_data_set(api, tenants)
    data = (await t.owner.data(api, ORDERS_AGG, {"by": "STATUS"}))["ordersAggregate"]
    assert data["count"] == 5
    assert data["total"] == _money(("1300.35", "UAH"), ("5.50", "USD"))
    assert data["groups"] == [
        {"key": "new", "count": 4, "total": _money(("1100.15", "UAH"), ("5.50", "USD"))},
        {"key": "cancelled", "count": 1, "total": _money(("200.20", "UAH"))},
    ]

    by_source = (await t.owner.data(api, ORDERS_AGG, {"by": "SOURCE"}))["ordersAggregate"]["groups"]
    assert {g["key"]: (g["count"], g["total"]) for g in by_source} == {
        "manual": (3, _money(("1200.25", "UAH"))),
        "website": (1, _money(("100.10", "UAH"))),
        "rozetka": (1, _money(("5.50", "USD"))),
    }
    by_manager = (await t.owner.data(api, ORDERS_AGG, {"by": "MANAGER"}))["ordersAggregate"]["groups"]
    assert {g["key"]: g["count"] for g in by_manager} == {t.owner.user_id: 3, t.manager.user_id: 2}
    by_group = (await t.owner.data(api, ORDERS_AGG, {"by": "STATUS_GROUP"}))["ordersAggregate"]["groups"]
    assert [(g["key"], g["count"]) for g in by_group] == [("NEW", 4), ("CANCELLED", 1)]

    # The same `where` as the list.
    where = {"statusGroup": {"eq": "NEW"}}
    filtered = (await t.owner.data(api, ORDERS_AGG, {"w": where, "by": "PAYMENT_STATUS"}))["ordersAggregate"]
    listed = await t.owner.data(api, "query($w: OrderWhere) { orders(where: $w) { totalCount } }", {"w": where})
    assert filtered["count"] == listed["orders"]["totalCount"] == 4
    assert filtered["groups"] == [{"key": "UNPAID", "count": 4, "total": _money(("1100.15", "UAH"), ("5.50", "USD"))}]


async def test_a_manager_counts_only_own_orders_and_other_tenants_nothing(api, tenants):
    t = await _orders_data_set(api, tenants)
    data = (await t.manager.data(api, ORDERS_AGG, {"by": "MANAGER"}))["ordersAggregate"]
    assert data["count"] == 2
    assert data["total"] == _money(("1000.05", "UAH"))
    assert data["groups"] == [{"key": t.manager.user_id, "count": 2, "total": _money(("1000.05", "UAH"))}]

    other = await tenants.create(("owner",))
    empty = (await other.owner.data(api, ORDERS_AGG, {"by": "STATUS"}))["ordersAggregate"]
    assert empty == {"count": 0, "total": [], "groups": []}
    anonymous = await api.execute(ORDERS_AGG, {"by": "STATUS"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_aggregates_take_a_constant_number_of_statements(api, tenants):
    t = await _orders_data_set(api, tenants)
    query = """{ ordersAggregate { count total { amount } a: groups(by: STATUS) { key }
        b: groups(by: MANAGER) { key count } } }"""
    await t.owner.data(api, query)  # warm: the principal, the status cache...
    with QueryCounter() as few:
        await t.owner.data(api, query)
    account = await make_account(t.owner, api, "Ще один", ("0931112233",))
    for i in range(20):
        await _order(t.owner, api, account, f"{i + 1}.00", source=f"shop{i}")
    with QueryCounter() as many:
        await t.owner.data(api, query)
    assert many.count == few.count


async def _create(member, api, mutation: str, input_type: str, payload: str, values: dict) -> dict:
    query = (
        f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {payload} {{ id }} errors {{ code message }} }} }}"
    )
    body = await member.data(api, query, {"i": values})
    assert body[mutation]["errors"] == [], body
    return body[mutation][payload]


async def test_deals_tickets_and_accounts_aggregates(api, tenants):
    t = await tenants.create(("owner", "sales", "support", "logistics"))
    other = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    own = await make_account(t.sales, api, "Тарас", ("0501112233",))
    deal = lambda acc, amount, **kw: {"accountId": acc, "title": "Опт", "amount": amount, **kw}  # noqa: E731
    await _create(t.owner, api, "createDeal", "CreateDealInput", "deal", deal(account, "100.00", source="web"))
    await _create(t.owner, api, "createDeal", "CreateDealInput", "deal", deal(account, "50.25"))
    await _create(t.sales, api, "createDeal", "CreateDealInput", "deal", deal(own, "30"))

    deals = """query($by: DealGroupBy!) { dealsAggregate { count total { amount currency }
        groups(by: $by) { key count total { amount currency } } } }"""
    data = (await t.owner.data(api, deals, {"by": "OWNER"}))["dealsAggregate"]
    assert (data["count"], data["total"]) == (3, _money(("180.25", "UAH")))
    assert data["groups"] == [
        {"key": t.owner.user_id, "count": 2, "total": _money(("150.25", "UAH"))},
        {"key": t.sales.user_id, "count": 1, "total": _money(("30.00", "UAH"))},
    ]
    stages = await t.owner.data(api, "{ pipelines { stages { id kind } } }")
    first_stage = stages["pipelines"][0]["stages"][0]["id"]
    by_stage = (await t.owner.data(api, deals, {"by": "STAGE"}))["dealsAggregate"]["groups"]
    assert by_stage == [{"key": first_stage, "count": 3, "total": _money(("180.25", "UAH"))}]
    by_kind = (await t.owner.data(api, deals, {"by": "STAGE_KIND"}))["dealsAggregate"]["groups"]
    assert [(g["key"], g["count"]) for g in by_kind] == [("OPEN", 3)]
    mine = (await t.sales.data(api, deals, {"by": "SOURCE"}))["dealsAggregate"]
    assert (mine["count"], mine["total"], [g["key"] for g in mine["groups"]]) == (1, _money(("30.00", "UAH")), [None])
    assert (await other.owner.data(api, deals, {"by": "OWNER"}))["dealsAggregate"]["count"] == 0

    ticket = lambda **kw: {"subject": "Не працює", **kw}  # noqa: E731
    await _create(t.owner, api, "createTicket", "CreateTicketInput", "ticket", ticket(priority="HIGH"))
    await _create(
        t.owner,
        api,
        "createTicket",
        "CreateTicketInput",
        "ticket",
        ticket(priority="HIGH", assigneeId=t.support.user_id),
    )
    await _create(t.owner, api, "createTicket", "CreateTicketInput", "ticket", ticket())
    tickets = """query($by: TicketGroupBy!, $w: TicketWhere) { ticketsAggregate(where: $w) {
        count total { amount } groups(by: $by) { key count total { amount } } } }"""
    by_priority = (await t.owner.data(api, tickets, {"by": "PRIORITY"}))["ticketsAggregate"]
    assert by_priority == {
        "count": 3,
        "total": [],
        "groups": [{"key": "HIGH", "count": 2, "total": []}, {"key": "NORMAL", "count": 1, "total": []}],
    }
    by_assignee = (await t.owner.data(api, tickets, {"by": "ASSIGNEE"}))["ticketsAggregate"]["groups"]
    assert [(g["key"], g["count"]) for g in by_assignee] == [(None, 2), (t.support.user_id, 1)]
    high = await t.owner.data(api, tickets, {"by": "STATUS", "w": {"priority": {"eq": "HIGH"}}})
    assert high["ticketsAggregate"]["groups"] == [{"key": "NEW", "count": 2, "total": []}]
    assert (await other.owner.data(api, tickets, {"by": "STATUS"}))["ticketsAggregate"]["groups"] == []

    await _create(t.owner, api, "createAccount", "CreateAccountInput", "account", {"name": "А", "source": "web"})
    await _create(t.owner, api, "createAccount", "CreateAccountInput", "account", {"name": "Б", "source": "web"})
    accounts = "query($by: AccountGroupBy!) { accountsAggregate { count groups(by: $by) { key count } } }"
    by_source = (await t.owner.data(api, accounts, {"by": "SOURCE"}))["accountsAggregate"]
    assert by_source == {"count": 4, "groups": [{"key": "web", "count": 2}, {"key": None, "count": 2}]}
    by_owner = (await t.sales.data(api, accounts, {"by": "OWNER"}))["accountsAggregate"]
    assert by_owner == {"count": 1, "groups": [{"key": t.sales.user_id, "count": 1}]}
    # Logistics may not see where accounts come from, so it may not count by it either.
    refused = await t.logistics.execute(api, accounts, {"by": "SOURCE"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await t.logistics.data(api, accounts, {"by": "OWNER"}))["accountsAggregate"]["count"] == 4
