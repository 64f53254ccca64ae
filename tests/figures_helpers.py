"""Shared steps for the customer figures, RFM and segment tests: accounts and orders through
the API, as users make them, and orders with chosen dates straight into the tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from server.accounts.models import Account
from server.core import sequences
from server.graphql import ids
from server.orders.models import Order, OrderStatus
from server.organizations.models import Organization

FIGURES = """figures { firstOrderAt lastOrderAt orderCount daysSinceLastOrder
    revenue { amount currency } averageOrderValue { amount currency } lifetimeValue { amount currency }
    rfm { recency frequency monetary cell group groupName computedAt } }"""

ACCOUNT = f"query($id: ID!) {{ account(id: $id) {{ id name {FIGURES} }} }}"
CREATE_ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
    order { id version createdAt } errors { field code message } } }"""
STATUS = """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) {
    order { id version } errors { field code message } } }"""
DELETE = """mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { order { id } errors { code } } }"""


async def new_account(member, api, name: str, **extra) -> str:
    data = await member.data(api, CREATE_ACCOUNT, {"i": {"name": name, **extra}})
    assert data["createAccount"]["errors"] == [], data
    return data["createAccount"]["account"]["id"]


async def order(member, api, account_id: str, amount: str, currency: str | None = None) -> dict:
    item = {"sku": "SKU", "title": "Товар", "quantity": "1", "unitPrice": amount}
    data = await member.data(api, CREATE_ORDER, {"i": {"accountId": account_id, "items": [item], "currency": currency}})
    assert data["createOrder"]["errors"] == [], data
    return data["createOrder"]["order"]


async def move(member, api, placed: dict, status: str) -> dict:
    data = await member.data(api, STATUS, {"i": {"id": placed["id"], "version": placed["version"], "status": status}})
    assert data["changeOrderStatus"]["errors"] == [], data
    return data["changeOrderStatus"]["order"]


async def figures(member, api, account_id: str) -> dict:
    return (await member.data(api, ACCOUNT, {"id": account_id}))["account"]["figures"]


async def placed_at(slug: str, account_gid: str, when: list[tuple[datetime, str]], status: str = "new") -> None:
    """Orders (date, UAH amount) of an account written straight into the table: a history with
    dates the API cannot backdate. Run ``rebuild_figures`` afterwards."""
    org = await Organization.get(slug=slug)
    account = await Account.get(id=ids.decode(account_gid, "Account")[1])
    st = await OrderStatus.get(organization=org, code=status)
    for at, amount in when:
        number = await sequences.next_value(org.id, "order")
        created = await Order.create(
            organization=org,
            number=number,
            account=account,
            status=st,
            currency="UAH",
            subtotal=Decimal(amount),
            total=Decimal(amount),
        )
        await Order.filter(id=created.id).update(created_at=at)
