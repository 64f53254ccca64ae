"""Statements built once (server/core/prepared.py) return what Tortoise returns for the same query,
for every caller's scope and any number of keys; the token and membership they read are fresh."""

from __future__ import annotations

from server.accounts.models import Account
from server.auth.models import Membership, User
from server.auth.principal import Principal
from server.auth.roles import ROLES
from server.auth.scope import Scope
from server.core.prepared import placeholder_uuid, prepare
from server.graphql.fastpath.prepared import rows_by_keys
from server.orders.models import Order, OrderItem
from server.organizations.models import Organization
from tests.helpers import QueryCounter
from tests.test_accounts import make_account, make_order

ME = "{ me { organization { slug } role } }"


async def test_a_prepared_query_answers_as_tortoise_does_for_other_values(api, tenants):
    t = await tenants.create(("owner",))
    org = await Organization.get(slug=t.slug)
    ids = [(await Account.get(id=_pk(await make_account(t.owner, api, name=f"Клієнт {i}")))).id for i in range(3)]
    placeholder = placeholder_uuid()
    statement = prepare(
        Account.filter(organization_id=org.id, id=placeholder).values("id", "name", "created_at"), [placeholder]
    )
    for pk in ids:
        expected = await Account.filter(organization_id=org.id, id=pk).values("id", "name", "created_at")
        assert await statement.fetch(pk) == expected
        assert expected[0]["name"].startswith("Клієнт")


async def test_rows_by_keys_match_the_scoped_query_for_every_role_and_page_size(api, tenants):
    t = await tenants.create()
    account = await make_account(t.owner, api)
    orders = [await make_order(t.owner, api, account["id"]) for _ in range(5)]
    order_ids = [_pk(o) for o in orders]
    org = await Organization.get(slug=t.slug)
    for role in ("owner", "sales", "logistics"):
        user = await User.get(id=(await Membership.filter(organization=org, role=role).first()).user_id)
        scope = Scope(Principal(kind="user", id=str(user.id), user=user, organization=org, role=ROLES[role]))
        for n in (1, 2, 3, 5):  # 3 and 5 are padded to 4 and 8 keys
            keys = order_ids[:n]
            expected = (
                await scope.queryset(OrderItem)
                .filter(order_id__in=keys)
                .order_by("position", "id")
                .values("id", "sku", "order_id")
                if scope.can("orders:read")
                else None
            )
            if expected is None:
                continue
            got = await rows_by_keys(
                scope, OrderItem, "order_id", keys, ["id", "order_id", "sku"], order_by=("position", "id")
            )
            assert [r["id"] for r in got] == [r["id"] for r in expected], (role, n)
            if role == "owner":
                assert got and len(got) == await OrderItem.filter(order_id__in=keys).count(), n
    # Another organization's caller gets none of them from the same shape of statement.
    other = await tenants.create(("owner",))
    other_org = await Organization.get(slug=other.slug)
    stranger = Scope(Principal(kind="user", id="x", organization=other_org, role=ROLES["owner"]))
    assert await rows_by_keys(stranger, Order, "id", order_ids, ["id"]) == []


async def test_a_changed_role_and_a_revoked_token_count_on_the_next_request(api, tenants):
    t = await tenants.create(("owner", "sales"))
    me = await t.sales.data(api, ME)
    assert me["me"]["role"] == "sales"
    org = await Organization.get(slug=t.slug)
    # Straight in the database, as another process would: nothing in this one is told.
    await Membership.filter(organization=org, role="sales").update(role="support")
    assert (await t.sales.data(api, ME))["me"]["role"] == "support"
    await Membership.filter(organization=org, role="support").update(is_active=False)
    answer = await t.sales.execute(api, ME)
    assert answer.get("errors"), answer
    logout = await api.execute("mutation { logout { ok } }", token=t.owner.token, org=t.slug)
    assert not logout.get("errors"), logout
    with QueryCounter() as q:
        refused = await t.owner.execute(api, ME)
    assert refused["data"]["me"] is None, refused  # signed out at once: an anonymous caller now
    assert any("auth_token" in s for s in q.statements), q.statements


def _pk(node: dict):
    from server.graphql import ids

    return ids.decode(node["id"])[1]
