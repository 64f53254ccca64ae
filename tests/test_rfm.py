"""RFM: quintile scores at their boundaries and with ties, the 125 cells in 11 groups, group
moves on the timeline, the nightly job once per day, and who may recompute."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from server.activities.models import Activity
from server.analytics.jobs import recompute_rfm_job, schedule_rfm
from server.analytics.rfm import GRID, GROUPS, group_of
from server.analytics.service import rebuild_figures
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.models import JobRun
from server.organizations.models import Organization
from tests.figures_helpers import figures, new_account, placed_at

RECOMPUTE = "mutation { recomputeRfm { scored errors { code message } } }"
GROUP_SIZES = "{ rfmGroups { group name accounts } }"


def test_every_cell_has_a_group_and_every_group_has_cells():
    cells = {(r, f, m): group_of(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert len(cells) == 125
    assert set(cells.values()) == set(GROUPS)
    assert len(GROUPS) == 11 and len(GRID) == 25


def test_cells_fall_in_the_documented_groups():
    expected = {
        (5, 5, 5): "champions",
        (5, 4, 4): "champions",
        (5, 3, 4): "champions",  # FM = (3+4+1)//2 = 4
        (5, 3, 3): "potential_loyalists",
        (5, 1, 1): "new_customers",
        (5, 1, 2): "potential_loyalists",
        (4, 5, 5): "loyal",
        (3, 4, 4): "loyal",
        (4, 1, 1): "promising",
        (4, 2, 3): "potential_loyalists",
        (3, 3, 3): "need_attention",
        (3, 1, 2): "about_to_sleep",
        (3, 2, 2): "about_to_sleep",
        (2, 3, 3): "at_risk",
        (1, 4, 4): "at_risk",
        (1, 5, 5): "cant_lose_them",
        (2, 5, 4): "cant_lose_them",
        (2, 1, 1): "hibernating",
        (1, 2, 2): "hibernating",
        (1, 1, 2): "hibernating",
        (1, 1, 1): "lost",
    }
    assert {cell: group_of(*cell) for cell in expected} == expected


async def _customers(api, t, histories: list[list[tuple[int, str]]]) -> list[str]:
    """One account per history of (days ago, UAH amount), named c0, c1, ..."""
    now = datetime.now(UTC)
    gids = []
    for i, history in enumerate(histories):
        gid = await new_account(t.owner, api, f"c{i}")
        await placed_at(t.slug, gid, [(now - timedelta(days=d, minutes=i), amount) for d, amount in history])
        gids.append(gid)
    await rebuild_figures(await Organization.get(slug=t.slug))
    return gids


def _days_ago(*history: tuple[int, str]) -> list[tuple[datetime, str]]:
    now = datetime.now(UTC)
    return [(now - timedelta(days=d), amount) for d, amount in history]


async def _cells(api, t, gids) -> list[str]:
    return [(await figures(t.owner, api, gid))["rfm"]["cell"] for gid in gids]


async def test_ten_customers_two_per_quintile(api, tenants):
    t = await tenants.create(("owner",))
    # Customer k (1..10): k orders of 10.00, the last one 11-k days ago: higher k, higher everything.
    histories = [[(11 - k + j, "10.00") for j in range(k)] for k in range(1, 11)]
    gids = await _customers(api, t, histories)
    assert await _cells(api, t, gids) == ["111", "111", "222", "222", "333", "333", "444", "444", "555", "555"]
    got = await figures(t.owner, api, gids[9])
    assert got["rfm"]["group"] == "CHAMPIONS" and got["rfm"]["computedAt"] is not None
    assert (await figures(t.owner, api, gids[0]))["rfm"]["group"] == "LOST"
    champions = await t.owner.data(
        api,
        "{ accounts(where: {rfmGroup: {in: [CHAMPIONS, LOYAL]}}, orderBy: {field: NAME, direction: ASC}) "
        "{ edges { node { name } } } }",
    )
    assert [e["node"]["name"] for e in champions["accounts"]["edges"]] == ["c6", "c7", "c8", "c9"]
    sizes = {g["group"]: g["accounts"] for g in (await t.owner.data(api, GROUP_SIZES))["rfmGroups"]}
    assert sizes == {
        **{g.upper(): 0 for g in GROUPS},
        "LOST": 2,
        "HIBERNATING": 2,
        "NEED_ATTENTION": 2,
        "LOYAL": 2,
        "CHAMPIONS": 2,
    }


async def test_five_customers_score_one_to_five(api, tenants):
    t = await tenants.create(("owner",))
    histories = [[(6 - k + j, "1.00") for j in range(k)] for k in range(1, 6)]
    gids = await _customers(api, t, histories)
    assert await _cells(api, t, gids) == ["111", "222", "333", "444", "555"]


async def test_equal_values_share_the_lower_score(api, tenants):
    t = await tenants.create(("owner",))
    # Order counts 1,1,1,2,2,3,5 over 7 customers: RANK 1,1,1,4,4,6,7 -> 1 + (rank-1)*5//7.
    counts = [1, 1, 1, 2, 2, 3, 5]
    # Monetary: the same 100.00 for everyone -> all 1. Recency: distinct, c0 the oldest.
    histories = [[(30 - i + j, f"{100 / n:.2f}") for j in range(n)] for i, n in enumerate(counts)]
    histories[5] = [(30 - 5, "33.34"), (31 - 5, "33.33"), (32 - 5, "33.33")]
    gids = await _customers(api, t, histories)
    cells = await _cells(api, t, gids)
    assert [int(c[1]) for c in cells] == [1, 1, 1, 3, 3, 4, 5]
    assert [int(c[2]) for c in cells] == [1] * 7
    assert [int(c[0]) for c in cells] == [1, 1, 2, 3, 3, 4, 5]  # ranks 1..7, no ties


async def test_outside_the_window_counts_as_lost_until_the_window_grows(api, tenants):
    t = await tenants.create(("owner",))
    gids = await _customers(api, t, [[(400, "50.00")], [(10, "50.00")], [(20, "50.00")]])
    assert await _cells(api, t, gids) == ["111", "311", "111"]
    changed = await t.owner.data(
        api, "mutation { updateRfmSettings(input: {windowDays: 500}) { settings { windowDays } errors { code } } }"
    )
    assert changed["updateRfmSettings"] == {"settings": {"windowDays": 500}, "errors": []}
    assert (await t.owner.data(api, RECOMPUTE))["recomputeRfm"] == {"scored": 3, "errors": []}
    assert await _cells(api, t, gids) == ["111", "411", "211"]
    bad = await t.owner.data(api, "mutation { updateRfmSettings(input: {windowDays: 2}) { errors { field code } } }")
    assert bad["updateRfmSettings"]["errors"] == [{"field": "rfmWindowDays", "code": "INVALID"}]


TIMELINE = """query($id: ID!) { account(id: $id) { timeline(first: 10) { edges { node {
    kind subject data } } } } }"""


async def test_a_group_move_is_on_the_timeline_in_the_organizations_language(api, tenants):
    t = await tenants.create(("owner",))
    gids = await _customers(api, t, [[(d, "10.00")] for d in (50, 40, 30, 20, 10)])
    assert await _cells(api, t, gids) == ["111", "211", "311", "411", "511"]
    # c0 orders a lot today: most recent, most orders, most money.
    await placed_at(t.slug, gids[0], _days_ago((0, "500.00"), (1, "500.00")))
    await rebuild_figures(await Organization.get(slug=t.slug))
    assert (await _cells(api, t, gids))[0] == "555"
    items = (await t.owner.data(api, TIMELINE, {"id": gids[0]}))["account"]["timeline"]["edges"]
    moves = [e["node"] for e in items if e["node"]["kind"] == "RFM_GROUP"]
    assert moves == [
        {
            "kind": "RFM_GROUP",
            "subject": "Група клієнта змінилася: Втрачені → Чемпіони",
            "data": {"from": "lost", "to": "champions"},
        }
    ]
    # A recompute with nothing changed notes nothing new.
    await t.owner.data(api, RECOMPUTE)
    account_id = ids.decode(gids[0], "Account")[1]
    assert await Activity.filter(account_id=account_id, kind="rfm_group").count() == 1


async def test_the_nightly_job_runs_once_per_organization_per_day(api, tenants, database):
    t = await tenants.create(("owner",))
    gids = await _customers(api, t, [[(d, "10.00")] for d in (50, 40, 30, 20, 10)])
    org = await Organization.get(slug=t.slug)
    await placed_at(t.slug, gids[0], _days_ago((0, "500.00"), (1, "500.00")))
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    assert await schedule_rfm(now=tomorrow) >= 1
    assert await schedule_rfm(now=tomorrow) >= 1  # a second worker, or a rerun: the same job ids
    await run_until_idle(database, now=tomorrow)
    job_id = f"analytics.rfm:{org.id}:{tomorrow.date().isoformat()}"
    assert await JobRun.filter(job_id=job_id).count() == 1
    assert (await JobRun.get(job_id=job_id)).state == "done"

    # The job itself, run again that day (a retry, a stale queue): nothing happens.
    day = tomorrow.date().isoformat()
    assert await recompute_rfm_job(str(org.id), day, now=tomorrow) == {"skipped": "Already done that day."}
    account_id = ids.decode(gids[0], "Account")[1]
    assert await Activity.filter(account_id=account_id, kind="rfm_group").count() == 1
    assert (await _cells(api, t, gids))[0] == "555"
    # The next day it runs again.
    assert "scored" in await recompute_rfm_job(str(org.id), now=tomorrow + timedelta(days=1))
    # A stale job of an earlier day, run late, does nothing either.
    assert "skipped" in await recompute_rfm_job(str(org.id), datetime.now(UTC).date().isoformat())


async def test_two_workers_at_once_recompute_once(api, tenants):
    import asyncio

    from server.analytics.service import nightly_rfm

    t = await tenants.create(("owner",))
    gids = await _customers(api, t, [[(d, "10.00")] for d in (50, 40, 30, 20, 10)])
    await placed_at(t.slug, gids[0], _days_ago((0, "500.00"), (1, "500.00")))
    org = await Organization.get(slug=t.slug)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    results = await asyncio.gather(*(nightly_rfm(org, day) for _ in range(3)))
    assert sorted(results, key=lambda r: r is None) == [5, None, None]
    account_id = ids.decode(gids[0], "Account")[1]
    assert await Activity.filter(account_id=account_id, kind="rfm_group").count() == 1


async def test_only_owners_and_admins_recompute_and_groups_are_per_organization(api, tenants):
    t = await tenants.create(("owner", "admin", "analyst", "manager"))
    await _customers(api, t, [[(5, "10.00")], [(6, "12.00")]])
    for role in ("analyst", "manager"):
        body = await getattr(t, role).execute(api, RECOMPUTE)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    assert (await t.admin.data(api, RECOMPUTE))["recomputeRfm"] == {"scored": 2, "errors": []}

    other = await tenants.create(("owner",))
    sizes = (await other.owner.data(api, GROUP_SIZES))["rfmGroups"]
    assert Counter(g["accounts"] for g in sizes) == Counter({0: 11})
    assert [g["name"] for g in sizes][:2] == ["Чемпіони", "Лояльні"]
