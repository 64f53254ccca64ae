"""Saved segments: rules checked all at once, live count and members, CSV export, the
campaign audience function, row scope, roles and tenancy."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from server.analytics.service import rebuild_figures
from server.auth.models import User
from server.auth.principal import for_user
from server.auth.scope import Scope
from server.graphql import ids
from server.notifications.models import ChannelConsent
from server.organizations.models import Organization
from server.segments.models import Segment
from server.segments.service import segment_account_ids
from tests.figures_helpers import new_account, placed_at

CREATE = """mutation($i: CreateSegmentInput!) { createSegment(input: $i) {
  segment { id name version count csvPath rules { rfmGroups cities tags orderCount { gte lte } revenue { gte }
    customFields consent { channel optedIn } }
    members(first: 10, orderBy: {field: NAME, direction: ASC}) { edges { node { name } } totalCount } }
  errors { field code message } } }"""
COUNT = "query($id: ID!) { segment(id: $id) { count members(first: 50) { edges { node { name } } } } }"


@pytest.fixture
async def shop(api, tenants):
    """Анна (Київ, vip, card gold, 3 orders of 100), Борис (Львів, 1 order of 1000, 200 days ago),
    Віра (Київ, no orders, opted out of SMS), Дмитро (Київ, the salesperson's, 2 orders of 50)."""
    t = await tenants.create(("owner", "sales", "logistics"))
    now = datetime.now(UTC)
    anna = await new_account(
        t.owner, api, "Анна", addresses=["Київ, вул. Хрещатик, 1"], tags=["VIP"], customFields={"card": "gold"}
    )
    borys = await new_account(t.owner, api, "Борис", addresses=["Львів, пл. Ринок, 2"], emails=["b@example.com"])
    vira = await new_account(
        t.owner,
        api,
        "Віра",
        addresses=["м. київ, вул. Січових Стрільців, 5"],
        customFields={"card": "silver", "age": 30},
    )
    dmytro = await new_account(t.sales, api, "Дмитро", addresses=["Київ, просп. Перемоги, 7"])
    await placed_at(t.slug, anna, [(now - timedelta(days=d), "100.00") for d in (5, 10, 15)])
    await placed_at(t.slug, borys, [(now - timedelta(days=200), "1000.00")])
    await placed_at(t.slug, dmytro, [(now - timedelta(days=d), "50.00") for d in (3, 30)])
    org = await Organization.get(slug=t.slug)
    await ChannelConsent.create(
        organization=org, account_id=ids.decode(vira, "Account")[1], channel="sms", opted_in=False
    )
    await rebuild_figures(org)
    t.accounts = {"Анна": anna, "Борис": borys, "Віра": vira, "Дмитро": dmytro}
    return t


async def _create(member, api, name: str, rules: dict) -> dict:
    return (await member.data(api, CREATE, {"i": {"name": name, "rules": rules}}))["createSegment"]


def _names(segment: dict) -> list[str]:
    return [e["node"]["name"] for e in segment["members"]["edges"]]


async def test_every_problem_with_a_segment_is_reported_at_once(api, shop):
    got = await _create(
        shop.owner,
        api,
        "  ",
        {
            "orderCount": {"gte": 5, "lte": 2},
            "revenue": {"gte": "-1"},
            "consent": {"channel": "fax"},
            "customFields": {"bad key": 1},
        },
    )
    assert got["segment"] is None
    assert [(e["field"], e["code"]) for e in got["errors"]] == [
        ("name", "REQUIRED"),
        ("rules.orderCount", "INVALID"),
        ("rules.revenue.gte", "INVALID"),
        ("rules.customFields", "INVALID"),
        ("rules.consent.channel", "INVALID"),
    ]
    org = await Organization.get(slug=shop.slug)
    assert await Segment.filter(organization=org).count() == 0


async def test_segment_rules_pick_the_right_customers(api, shop):
    cases = {
        "Київ, замовляли": ({"cities": ["КИЇВ"], "orderCount": {"gte": 1}}, ["Анна", "Дмитро"]),
        "Кияни": ({"cities": ["київ"]}, ["Анна", "Віра", "Дмитро"]),
        "VIP": ({"tags": ["vip"]}, ["Анна"]),
        "Золота картка": ({"customFields": {"card": "gold"}}, ["Анна"]),
        "30 років": ({"customFields": {"age": 30}}, ["Віра"]),
        "Великі чеки": ({"revenue": {"gte": "500"}}, ["Борис"]),
        "Без SMS": ({"consent": {"channel": "sms", "optedIn": False}}, ["Віра"]),
        "SMS можна": ({"consent": {"channel": "sms", "optedIn": True}}, ["Анна", "Борис", "Дмитро"]),
        "Давно": ({"daysSinceLastOrder": {"gte": 90}}, ["Борис"]),
        "Без замовлень": ({"orderCount": {"eq": 0}}, ["Віра"]),
    }
    for name, (rules, expected) in cases.items():
        got = await _create(shop.owner, api, name, rules)
        assert got["errors"] == [], (name, got)
        assert _names(got["segment"]) == expected, name
        assert got["segment"]["count"] == got["segment"]["members"]["totalCount"] == len(expected), name


async def test_rfm_group_segment_and_its_live_count(api, shop):
    figures = "query($id: ID!) { account(id: $id) { figures { rfm { group } } } }"
    group = (await shop.owner.data(api, figures, {"id": shop.accounts["Анна"]}))["account"]["figures"]["rfm"]["group"]
    got = await _create(shop.owner, api, "Група Анни", {"rfmGroups": [group]})
    assert "Анна" in _names(got["segment"])
    assert got["segment"]["rules"]["rfmGroups"] == [group]
    # Live: a new customer matching the rules is a member at once.
    kyiv = await _create(shop.owner, api, "Київ", {"cities": ["Київ"]})
    await new_account(shop.owner, api, "Галина", addresses=["Київ, вул. Нова, 1"])
    assert (await shop.owner.data(api, COUNT, {"id": kyiv["segment"]["id"]}))["segment"]["count"] == 4


async def test_members_follow_row_scope_and_tenancy(api, tenants, shop):
    got = await _create(shop.owner, api, "Кияни", {"cities": ["Київ"]})
    gid = got["segment"]["id"]
    seen = (await shop.sales.data(api, COUNT, {"id": gid}))["segment"]
    assert seen["count"] == 1 and [e["node"]["name"] for e in seen["members"]["edges"]] == ["Дмитро"]

    other = await tenants.create(("owner",))
    assert (await other.owner.data(api, COUNT, {"id": gid}))["segment"] is None
    assert (await other.owner.data(api, "{ segments { edges { node { id } } } }"))["segments"]["edges"] == []
    theirs = await _create(other.owner, api, "Кияни", {"cities": ["Київ"]})  # the same name: another shop
    assert theirs["errors"] == [] and theirs["segment"]["count"] == 0


async def test_segment_account_ids_for_a_campaign_audience(api, shop):
    got = await _create(shop.owner, api, "Кияни", {"cities": ["Київ"]})
    org = await Organization.get(slug=shop.slug)
    owner = await User.get(id=ids.decode(shop.owner.user_id, "User")[1])
    scope = Scope(await for_user(owner, org.slug))
    found = await segment_account_ids(scope, ids.decode(got["segment"]["id"], "Segment")[1])
    expected = {ids.decode(shop.accounts[n], "Account")[1] for n in ("Анна", "Віра", "Дмитро")}
    assert set(found) == expected and len(found) == 3


async def test_update_and_delete_with_versions_and_names(api, shop):
    first = (await _create(shop.owner, api, "Кияни", {"cities": ["Київ"]}))["segment"]
    again = await _create(shop.owner, api, "Кияни", {})
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("name", "DUPLICATE")]
    update = """mutation($i: UpdateSegmentInput!) { updateSegment(input: $i) {
      segment { name version count rules { cities tags } } errors { field code } } }"""
    changed = await shop.owner.data(
        api, update, {"i": {"id": first["id"], "version": first["version"], "name": "VIP", "rules": {"tags": ["vip"]}}}
    )
    assert changed["updateSegment"] == {
        "segment": {"name": "VIP", "version": 2, "count": 1, "rules": {"cities": [], "tags": ["vip"]}},
        "errors": [],
    }
    stale = await shop.owner.data(api, update, {"i": {"id": first["id"], "version": 1, "name": "X"}})
    assert stale["updateSegment"]["errors"] == [{"field": "version", "code": "CONFLICT"}]
    refused = await shop.logistics.execute(api, update, {"i": {"id": first["id"], "version": 2, "name": "X"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    delete = "mutation($i: DeleteSegmentInput!) { deleteSegment(input: $i) { errors { code } } }"
    assert (await shop.owner.data(api, delete, {"i": {"id": first["id"], "version": 2}}))["deleteSegment"] == {
        "errors": []
    }
    assert (await shop.owner.data(api, COUNT, {"id": first["id"]}))["segment"] is None


async def _csv(api, member, path: str):
    return await api.http.get(
        path, headers={"Authorization": f"Bearer {member.token}", "X-Organization": member.org, "Accept-Language": "en"}
    )


async def test_csv_export_streams_the_members_the_caller_may_see(api, tenants, shop):
    got = (await _create(shop.owner, api, "Кияни", {"cities": ["Київ"]}))["segment"]
    response = await _csv(api, shop.owner, got["csvPath"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "ID",
        "Name",
        "Phone",
        "E-mail",
        "Address",
        "Tags",
        "Orders",
        "Last order",
        "Revenue, UAH",
        "RFM group",
    ]
    by_name = {row[1]: row for row in rows[1:]}
    assert sorted(by_name) == ["Анна", "Віра", "Дмитро"]
    anna = by_name["Анна"]
    assert anna[0] == shop.accounts["Анна"] and anna[5] == "vip" and anna[6] == "3" and anna[8] == "300.00"
    assert anna[9] != "" and by_name["Віра"][6] == "0" and by_name["Віра"][7] == ""

    # Logistics may not see e-mails and tags: not in its export either. (A segment on cities is
    # not for logistics at all: it sees addresses masked, and the rule would tell the street.)
    assert (await _csv(api, shop.logistics, got["csvPath"])).status_code == 403
    buyers = (await _create(shop.owner, api, "Покупці", {"orderCount": {"gte": 1}}))["segment"]
    rows = list(csv.reader(io.StringIO((await _csv(api, shop.logistics, buyers["csvPath"])).text)))
    assert "E-mail" not in rows[0] and "Tags" not in rows[0] and len(rows) == 4
    # The salesperson exports their own customers only.
    rows = list(csv.reader(io.StringIO((await _csv(api, shop.sales, got["csvPath"])).text)))
    assert [row[1] for row in rows[1:]] == ["Дмитро"]
    # Another organization, or nobody signed in: nothing.
    other = await tenants.create(("owner",))
    assert (await _csv(api, other.owner, got["csvPath"])).status_code == 404
    assert (await api.http.get(got["csvPath"])).status_code == 401


async def test_the_demo_organization_has_figures_groups_and_segments(api, database):
    from server.analytics.models import CustomerFigures
    from server.demo.seed import DEMO_SLUG, seed_demo

    await seed_demo(postgres=database.is_postgres)
    member = await api.data(
        'mutation { login(input: {email: "owner@demo.example", password: "demo-password"}) { token } }'
    )
    token = member["login"]["token"]
    org = await Organization.get(slug=DEMO_SLUG)
    assert await CustomerFigures.filter(organization=org, order_count__gt=0).count() > 0
    data = await api.data(
        "{ rfmGroups { group accounts } segments { edges { node { name count } } } }", token=token, org=DEMO_SLUG
    )
    assert sum(g["accounts"] for g in data["rfmGroups"]) > 0
    segments = {e["node"]["name"]: e["node"]["count"] for e in data["segments"]["edges"]}
    assert {"Чемпіони", "Під загрозою"} <= set(segments)
    assert segments["Чемпіони"] > 0 and segments["Під загрозою"] > 0


async def test_a_caller_without_account_read_sees_no_segments_figures_or_export(api, http, shop):
    from tests.test_oauth import access_token, register

    gid = (await _create(shop.owner, api, "Кияни", {"cities": ["Київ"]}))["segment"]["id"]
    token = await access_token(http, await register(shop.owner, api, scopes=("orders:read",)))
    for query in ("{ segments { edges { node { id } } } }", "{ rfmGroups { accounts } }", COUNT):
        body = await api.execute(query, {"id": gid} if "$id" in query else None, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, body)
    response = await http.get(f"/segments/{gid}/members.csv", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    # With accounts:read (and pii:read, for a segment on cities) the same partner gets them.
    scopes = ("accounts:read", "pii:read")
    token = await access_token(http, await register(shop.owner, api, scopes=scopes, name="CRM sync"))
    assert (await api.data(COUNT, {"id": gid}, token=token))["segment"]["count"] == 3


async def test_a_role_that_may_not_see_tags_may_not_use_a_segment_on_tags(api, shop):
    vip = (await _create(shop.owner, api, "VIP", {"tags": ["vip"], "cities": ["Київ"]}))["segment"]
    rules = "query($id: ID!) { segment(id: $id) { name rules { tags cities } } }"
    seen = (await shop.logistics.data(api, rules, {"id": vip["id"]}))["segment"]
    assert seen == {"name": "VIP", "rules": {"tags": [], "cities": ["Київ"]}}
    body = await shop.logistics.execute(api, COUNT, {"id": vip["id"]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await _csv(api, shop.logistics, vip["csvPath"])).status_code == 403
    # A segment without such rules works for logistics.
    buyers = (await _create(shop.owner, api, "Покупці", {"orderCount": {"gte": 1}}))["segment"]
    assert (await shop.logistics.data(api, COUNT, {"id": buyers["id"]}))["segment"]["count"] == 3
