"""Deals and pipelines through GraphQL, as a user of the API sees them."""

from datetime import UTC, datetime, timedelta

from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.deals.models import Deal, DealStageChange
from server.graphql import ids
from tests.helpers import QueryCounter

DEAL = """id title version closedAt lostReason expectedCloseDate source createdAt updatedAt
    amount { amount currency } account { id name } contact { name } pipeline { id name } stage { id name kind }
    owner { email } stageHistory { from { name } to { name } actor { email } createdAt }"""
CREATE = f"""mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{
    deal {{ {DEAL} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($i: UpdateDealInput!) {{ updateDeal(input: $i) {{
    deal {{ {DEAL} }} errors {{ field code }} }} }}"""
MOVE = f"""mutation($i: MoveDealStageInput!) {{ moveDealStage(input: $i) {{
    deal {{ {DEAL} }} errors {{ field code }} }} }}"""
DELETE = "mutation($i: DeleteDealInput!) { deleteDeal(input: $i) { deal { id } errors { field code } } }"
GET = f"query($id: ID!) {{ deal(id: $id) {{ {DEAL} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Deal { title } } }"
LIST = """query($w: DealWhere, $o: DealOrder, $first: Int, $after: String) {
    deals(where: $w, orderBy: $o, first: $first, after: $after) {
        totalCount edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }"""
TIMELINE = "query($id: ID!) { account(id: $id) { timeline { edges { node { kind subject } } } } }"

PIPELINE = "id name position isDefault stages { id name kind probability position }"
PIPELINES = f"{{ pipelines {{ {PIPELINE} }} }}"
ONE_PIPELINE = f"query($id: ID!) {{ pipeline(id: $id) {{ {PIPELINE} }} }}"
PIPELINE_MUTATIONS = {
    name: f"""mutation($i: {input_type}!) {{ {name}(input: $i) {{
        pipeline {{ {PIPELINE} }} errors {{ field code }} }} }}"""
    for name, input_type in (
        ("createPipeline", "CreatePipelineInput"),
        ("updatePipeline", "UpdatePipelineInput"),
        ("deletePipeline", "DeleteByIdInput"),
    )
}
STAGE_MUTATIONS = {
    name: f"""mutation($i: {input_type}!) {{ {name}(input: $i) {{
        stage {{ id name kind probability position pipeline {{ name }} }} errors {{ field code }} }} }}"""
    for name, input_type in (
        ("createStage", "CreateStageInput"),
        ("updateStage", "UpdateStageInput"),
        ("deleteStage", "DeleteByIdInput"),
    )
}


async def make_account(member, api, name="Олена Коваль"):
    body = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": name}},
    )
    assert body["createAccount"]["errors"] == [], body
    return body["createAccount"]["account"]["id"]


async def make_contact(member, api, account, name="Петро"):
    body = await member.data(
        api,
        "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } errors { code } } }",
        {"i": {"accountId": account, "name": name}},
    )
    assert body["createContact"]["errors"] == [], body
    return body["createContact"]["contact"]["id"]


async def try_create(member, api, account, **extra):
    body = await member.data(
        api, CREATE, {"i": {"accountId": account, "title": "Опт 100 чайників", "amount": "25000", **extra}}
    )
    return body["createDeal"]


async def create_deal(member, api, account, **extra):
    result = await try_create(member, api, account, **extra)
    assert result["errors"] == [], result
    return result["deal"]


async def move(member, api, deal, stage_id, **extra):
    body = await member.data(
        api, MOVE, {"i": {"id": deal["id"], "version": deal["version"], "stageId": stage_id, **extra}}
    )
    return body["moveDealStage"]


async def default_pipeline(member, api):
    data = await member.data(api, PIPELINES)
    return next(p for p in data["pipelines"] if p["isDefault"])


async def stages_by_name(member, api):
    return {s["name"]: s for s in (await default_pipeline(member, api))["stages"]}


async def titles(member, api, where=None, order=None):
    data = await member.data(api, LIST, {"w": where, "o": order})
    return [e["node"]["title"] for e in data["deals"]["edges"]]


def pk(global_id):
    return ids.decode(global_id)[1]


async def outbox_topics(deal_global_id):
    """Outbox topics about a deal, oldest first (filtered in Python: JSON lookups differ per database)."""
    deal_id = str(pk(deal_global_id))
    rows = await OutboxEvent.filter(topic__startswith="deal.").order_by("created_at")
    return [r.topic for r in rows if r.payload.get("deal_id") == deal_id]


# -- deals: create, read, update, delete ------------------------------------------------


async def test_create_read_update_delete(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, "ТОВ Чайник")
    contact = await make_contact(t.owner, api, account, "Петро Петренко")
    deal = await create_deal(
        t.owner, api, account, contactId=contact, expectedCloseDate="2026-12-20", source="phone", currency="usd"
    )
    assert deal["title"] == "Опт 100 чайників"
    assert deal["amount"] == {"amount": "25000.00", "currency": "USD"}
    assert deal["account"] == {"id": account, "name": "ТОВ Чайник"}
    assert deal["contact"] == {"name": "Петро Петренко"}
    assert deal["pipeline"]["name"] == "Продажі"
    assert deal["stage"] == {"id": deal["stage"]["id"], "name": "Новий лід", "kind": "OPEN"}
    assert deal["owner"] == {"email": t.owner.email}
    assert (deal["expectedCloseDate"], deal["source"], deal["version"]) == ("2026-12-20", "phone", 1)
    assert deal["closedAt"] is None and deal["lostReason"] is None
    assert [(h["from"], h["to"]["name"]) for h in deal["stageHistory"]] == [(None, "Новий лід")]

    # Currency defaults to the organization's.
    plain = await create_deal(t.owner, api, account, title="Друга")
    assert plain["amount"]["currency"] == "UAH"

    assert (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"] == deal
    assert (await t.owner.data(api, NODE, {"id": deal["id"]}))["node"] == {"id": deal["id"], "title": deal["title"]}

    updated = await t.owner.data(
        api,
        UPDATE,
        {"i": {"id": deal["id"], "version": 1, "title": "Опт 200 чайників", "amount": "50000", "contactId": None}},
    )
    assert updated["updateDeal"]["errors"] == []
    deal = updated["updateDeal"]["deal"]
    assert (deal["title"], deal["amount"]["amount"], deal["contact"], deal["version"]) == (
        "Опт 200 чайників",
        "50000.00",
        None,
        2,
    )
    assert deal["source"] == "phone"  # fields not sent stay as they were

    bad = await t.owner.data(api, UPDATE, {"i": {"id": deal["id"], "version": 2, "title": "  "}})
    assert bad["updateDeal"]["errors"] == [{"field": "title", "code": "REQUIRED"}]
    bad = await t.owner.data(api, UPDATE, {"i": {"id": deal["id"], "version": 2, "amount": "-1"}})
    assert bad["updateDeal"]["errors"] == [{"field": "amount", "code": "INVALID"}]

    gone = await t.owner.data(api, DELETE, {"i": {"id": deal["id"], "version": 2}})
    assert gone["deleteDeal"] == {"deal": {"id": deal["id"]}, "errors": []}
    assert (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"] is None
    assert (await t.owner.data(api, NODE, {"id": deal["id"]}))["node"] is None
    assert await titles(t.owner, api) == ["Друга"]
    row = await Deal.get(id=pk(deal["id"]))  # a soft delete: the row and its history stay
    assert row.deleted_at is not None and await DealStageChange.filter(deal_id=row.id).count() == 1
    again = await t.owner.data(api, DELETE, {"i": {"id": deal["id"], "version": 3}})
    assert again["deleteDeal"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]

    actions = await AuditEntry.filter(entity_id=row.id).order_by("created_at").values_list("action", flat=True)
    assert actions == ["deal.create", "deal.update", "deal.delete"]
    assert await outbox_topics(deal["id"]) == ["deal.created", "deal.updated", "deal.deleted"]


async def test_create_validates_its_input(api, tenants):
    t = await tenants.create(("owner",))
    other = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    someone_else = await make_account(t.owner, api, "Інший клієнт")
    foreign_account = await make_account(other.owner, api)
    contact = await make_contact(t.owner, api, someone_else)

    async def error(**extra):
        result = await try_create(t.owner, api, account, **extra)
        assert result["deal"] is None
        return [(e["field"], e["code"]) for e in result["errors"]]

    assert await error(title=" ") == [("title", "REQUIRED")]
    assert await error(amount="1.005") == [("amount", "INVALID")]
    assert await error(currency="XXX") == [("currency", "INVALID")]
    assert await error(contactId=contact) == [("contactId", "INVALID")]
    foreign = await try_create(t.owner, api, foreign_account)
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [("accountId", "NOT_FOUND")]

    # A stage must belong to the named pipeline; a lost stage needs a reason even at creation.
    admin_pipeline = await t.owner.data(
        api,
        PIPELINE_MUTATIONS["createPipeline"],
        {"i": {"name": "Опт", "stages": [{"name": "Запит"}, {"name": "Відмова", "kind": "LOST"}]}},
    )
    wholesale = admin_pipeline["createPipeline"]["pipeline"]
    stages = await stages_by_name(t.owner, api)
    mismatch = await error(pipelineId=wholesale["id"], stageId=stages["Кваліфікація"]["id"])
    assert mismatch == [("stageId", "INVALID")]
    assert await error(stageId=stages["Програно"]["id"]) == [("lostReason", "REQUIRED")]
    lost = await create_deal(t.owner, api, account, stageId=stages["Програно"]["id"], lostReason="Архів: дорого")
    assert (lost["stage"]["kind"], lost["lostReason"]) == ("LOST", "Архів: дорого") and lost["closedAt"]

    # Nothing was created by the refused attempts.
    assert await Deal.filter(account_id=pk(account)).count() == 1


async def test_idempotent_create_returns_the_same_deal(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    a = await create_deal(t.owner, api, account, idempotencyKey="call-77")
    b = await create_deal(t.owner, api, account, idempotencyKey="call-77")
    assert a["id"] == b["id"]
    c = await create_deal(t.owner, api, account, idempotencyKey="call-78")
    assert c["id"] != a["id"]
    assert (await t.owner.data(api, LIST))["deals"]["totalCount"] == 2
    assert await Deal.filter(account_id=pk(account)).count() == 2
    assert await AuditEntry.filter(entity_id=pk(a["id"]), action="deal.create").count() == 1


async def test_version_conflict(api, tenants):
    t = await tenants.create(("owner",))
    stages = await stages_by_name(t.owner, api)
    deal = await create_deal(t.owner, api, await make_account(t.owner, api))
    first = await t.owner.data(api, UPDATE, {"i": {"id": deal["id"], "version": 1, "title": "Перша правка"}})
    assert first["updateDeal"]["errors"] == []
    stale = await t.owner.data(api, UPDATE, {"i": {"id": deal["id"], "version": 1, "title": "Друга правка"}})
    assert stale["updateDeal"] == {"deal": None, "errors": [{"field": "version", "code": "CONFLICT"}]}
    stale_move = await move(t.owner, api, deal, stages["Пропозиція"]["id"])
    assert stale_move["errors"] == [{"field": "version", "code": "CONFLICT"}]
    stale_delete = await t.owner.data(api, DELETE, {"i": {"id": deal["id"], "version": 1}})
    assert stale_delete["deleteDeal"]["errors"] == [{"field": "version", "code": "CONFLICT"}]
    now = (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"]
    assert (now["title"], now["version"], now["stage"]["name"]) == ("Перша правка", 2, "Новий лід")


# -- stage moves -----------------------------------------------------------------------


async def test_stage_moves_history_and_timeline(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    deal = await create_deal(t.owner, api, account)
    stages = await stages_by_name(t.owner, api)

    refused = await move(t.owner, api, deal, stages["Програно"]["id"])
    assert refused == {"deal": None, "errors": [{"field": "lostReason", "code": "REQUIRED"}]}
    unchanged = (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"]
    assert unchanged == deal  # same stage, version, history: nothing happened
    assert await outbox_topics(deal["id"]) == ["deal.created"]

    same = await move(t.owner, api, deal, stages["Новий лід"]["id"])
    assert same["errors"] == [{"field": "stageId", "code": "INVALID"}]

    lost = await move(t.owner, api, deal, stages["Програно"]["id"], lostReason="Дорого")
    assert lost["errors"] == []
    deal = lost["deal"]
    assert (deal["stage"]["kind"], deal["lostReason"], deal["version"]) == ("LOST", "Дорого", 2)
    assert deal["closedAt"]

    reopened = await move(t.owner, api, deal, stages["Переговори"]["id"], lostReason="ignored")
    deal = reopened["deal"]
    assert (deal["stage"]["name"], deal["closedAt"], deal["lostReason"]) == ("Переговори", None, None)

    won = await move(t.owner, api, deal, stages["Виграно"]["id"])
    deal = won["deal"]
    assert deal["stage"]["kind"] == "WON" and deal["closedAt"] and deal["lostReason"] is None

    assert [(h["from"] and h["from"]["name"], h["to"]["name"]) for h in deal["stageHistory"]] == [
        (None, "Новий лід"),
        ("Новий лід", "Програно"),
        ("Програно", "Переговори"),
        ("Переговори", "Виграно"),
    ]
    assert {h["actor"]["email"] for h in deal["stageHistory"]} == {t.owner.email}

    timeline = (await t.owner.data(api, TIMELINE, {"id": account}))["account"]["timeline"]["edges"]
    assert [e["node"]["kind"] for e in timeline] == ["STATUS_CHANGE", "STATUS_CHANGE", "STATUS_CHANGE", "DEAL"]
    assert "Переговори → Виграно" in timeline[0]["node"]["subject"]

    assert await AuditEntry.filter(entity_id=pk(deal["id"]), action="deal.stage").count() == 3
    assert await outbox_topics(deal["id"]) == ["deal.created"] + ["deal.stage_changed"] * 3
    event = await OutboxEvent.filter(topic="deal.stage_changed").order_by("-created_at").first()
    assert event.payload | {"deal_id": None} == {"deal_id": None, "from": "Переговори", "to": "Виграно", "kind": "won"}


async def test_move_to_a_stage_of_another_pipeline(api, tenants):
    t = await tenants.create(("admin",))
    created = await t.admin.data(
        api,
        PIPELINE_MUTATIONS["createPipeline"],
        {"i": {"name": "Опт", "position": 1, "stages": [{"name": "Запит"}, {"name": "Рахунок", "probability": 60}]}},
    )
    wholesale = created["createPipeline"]["pipeline"]
    deal = await create_deal(t.admin, api, await make_account(t.admin, api))
    moved = await move(t.admin, api, deal, wholesale["stages"][1]["id"])
    assert moved["errors"] == []
    assert (moved["deal"]["pipeline"]["name"], moved["deal"]["stage"]["name"]) == ("Опт", "Рахунок")
    listed = await titles(t.admin, api, {"pipeline": {"eq": wholesale["id"]}})
    assert listed == [deal["title"]]


# -- lists --------------------------------------------------------------------------


async def test_filters_ordering_and_pagination(api, tenants):
    t = await tenants.create(("owner", "sales"))
    acme = await make_account(t.owner, api, "Акме")
    globex = await make_account(t.owner, api, "Глобекс")
    for title, amount, account, source in (
        ("Бета", "100", acme, "phone"),
        ("Альфа", "300", globex, "website"),
        ("Гама", "200", acme, None),
        ("Дельта", "50", globex, "phone"),
    ):
        await create_deal(t.owner, api, account, title=title, amount=amount, source=source)
    mine = await create_deal(t.sales, api, await make_account(t.sales, api), title="Епсилон", amount="1000")
    stages = await stages_by_name(t.owner, api)
    gamma = (await t.owner.data(api, LIST, {"w": {"title": {"eq": "Гама"}}}))["deals"]["edges"][0]["node"]
    gamma = (await t.owner.data(api, GET, {"id": gamma["id"]}))["deal"]
    await move(t.owner, api, gamma, stages["Виграно"]["id"])

    assert await titles(t.owner, api) == ["Епсилон", "Дельта", "Гама", "Альфа", "Бета"]  # newest first
    assert await titles(t.owner, api, order={"field": "AMOUNT", "direction": "DESC"}) == [
        "Епсилон",
        "Альфа",
        "Гама",
        "Бета",
        "Дельта",
    ]
    assert await titles(t.owner, api, order={"field": "TITLE", "direction": "ASC"}) == [
        "Альфа",
        "Бета",
        "Гама",
        "Дельта",
        "Епсилон",
    ]
    assert (await titles(t.owner, api, order={"field": "UPDATED_AT", "direction": "DESC"}))[0] == "Гама"

    assert await titles(t.owner, api, {"title": {"contains": "ЛЬФ"}}) == ["Альфа"]
    assert await titles(t.owner, api, {"stageKind": {"eq": "WON"}}) == ["Гама"]
    assert await titles(t.owner, api, {"stage": {"eq": stages["Виграно"]["id"]}}) == ["Гама"]
    assert await titles(t.owner, api, {"account": {"eq": acme}}) == ["Гама", "Бета"]
    assert await titles(t.owner, api, {"owner": {"eq": t.sales.user_id}}) == ["Епсилон"]
    assert await titles(t.owner, api, {"source": {"eq": "phone"}}) == ["Дельта", "Бета"]
    assert await titles(t.owner, api, {"amount": {"gte": "100", "lte": "300"}, "stageKind": {"in": ["OPEN"]}}) == [
        "Альфа",
        "Бета",
    ]
    assert await titles(t.owner, api, {"OR": [{"title": {"contains": "бет"}}, {"amount": {"lte": "50"}}]}) == [
        "Дельта",
        "Бета",
    ]
    assert await titles(
        t.owner, api, {"AND": [{"account": {"in": [acme, globex]}}, {"source": {"eq": "website"}}]}
    ) == ["Альфа"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await titles(t.owner, api, {"createdAt": {"gte": future}}) == []
    assert len(await titles(t.owner, api, {"createdAt": {"lt": future}})) == 5

    # Pages of two by amount, following endCursor, give every deal once, in order.
    seen, after = [], None
    while True:
        page = (
            await t.owner.data(api, LIST, {"o": {"field": "AMOUNT", "direction": "ASC"}, "first": 2, "after": after})
        )["deals"]
        assert page["totalCount"] == 5 and len(page["edges"]) <= 2
        seen += [e["node"]["title"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Дельта", "Бета", "Гама", "Альфа", "Епсилон"]

    bad = await t.owner.execute(api, LIST, {"first": 1000})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert mine["owner"]["email"] == t.sales.email

    # An account's deals are the same list, for that account.
    account = await t.owner.data(
        api, "query($id: ID!) { account(id: $id) { deals { edges { node { title } } } } }", {"id": acme}
    )
    assert [e["node"]["title"] for e in account["account"]["deals"]["edges"]] == ["Гама", "Бета"]


DEALS_PAGE = """query($n: Int!) { deals(first: $n) { edges { node {
    id title amount { amount currency } account { name } contact { name } owner { email }
    pipeline { name stages { name } } stage { name kind }
    stageHistory { from { name } to { name } actor { email } } } } } }"""


async def test_deals_page_statement_count_does_not_grow_with_page_size(api, tenants):
    t = await tenants.create(("owner",))
    stages = await stages_by_name(t.owner, api)
    for i in range(12):
        account = await make_account(t.owner, api, f"Клієнт {i}")
        deal = await create_deal(
            t.owner, api, account, title=f"Угода {i}", contactId=await make_contact(t.owner, api, account)
        )
        await move(t.owner, api, deal, stages["Пропозиція"]["id"])
    counts = {}
    for n in (4, 12):
        with QueryCounter() as q:
            data = await t.owner.data(api, DEALS_PAGE, {"n": n})
        assert len(data["deals"]["edges"]) == n
        assert all(len(e["node"]["stageHistory"]) == 2 for e in data["deals"]["edges"])
        counts[n] = q.count
    assert counts[4] >= 5, counts  # the counter sees the statements
    assert counts[4] == counts[12], counts
    # Auth, deals, then one batch per relation (accounts, contacts, members, pipelines, stages, history).
    assert counts[12] <= 12, counts


# -- who may do what ----------------------------------------------------------------


async def test_sales_sees_and_changes_only_their_own_deals(api, tenants):
    t = await tenants.create(("owner", "sales"))
    colleague = await tenants.add(t, "sales2", "sales")
    mine = await create_deal(t.sales, api, await make_account(t.sales, api), title="Моя")
    theirs = await create_deal(colleague, api, await make_account(colleague, api), title="Колеги")
    owners = await create_deal(t.owner, api, await make_account(t.owner, api), title="Власника")
    assert mine["owner"]["email"] == t.sales.email

    assert await titles(t.sales, api) == ["Моя"]
    assert sorted(await titles(t.owner, api)) == ["Власника", "Колеги", "Моя"]
    for other in (theirs, owners):
        assert (await t.sales.data(api, GET, {"id": other["id"]}))["deal"] is None
        assert (await t.sales.data(api, NODE, {"id": other["id"]}))["node"] is None
        refused = await t.sales.data(api, UPDATE, {"i": {"id": other["id"], "version": 1, "title": "Моя тепер"}})
        assert refused["updateDeal"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
        stages = await stages_by_name(t.sales, api)
        refused = await move(t.sales, api, other, stages["Пропозиція"]["id"])
        assert refused["errors"] == [{"field": "id", "code": "NOT_FOUND"}]

    # They may not give their deal away, nor create one for someone else...
    give = await t.sales.data(api, UPDATE, {"i": {"id": mine["id"], "version": 1, "ownerId": colleague.user_id}})
    assert give["updateDeal"]["errors"] == [{"field": "ownerId", "code": "FORBIDDEN"}]
    create_for = await try_create(t.sales, api, await make_account(t.sales, api), ownerId=colleague.user_id)
    assert [(e["field"], e["code"]) for e in create_for["errors"]] == [("ownerId", "FORBIDDEN")]
    # ... nor delete (their role has no deals:delete).
    refused = await t.sales.execute(api, DELETE, {"i": {"id": mine["id"], "version": 1}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # An owner may hand a deal to a member who works on deals, not to one who does not.
    support = await tenants.add(t, "support", "support")
    to_support = await t.owner.data(api, UPDATE, {"i": {"id": owners["id"], "version": 1, "ownerId": support.user_id}})
    assert to_support["updateDeal"]["errors"] == [{"field": "ownerId", "code": "NOT_FOUND"}]
    handed = await t.owner.data(api, UPDATE, {"i": {"id": owners["id"], "version": 1, "ownerId": t.sales.user_id}})
    assert handed["updateDeal"]["deal"]["owner"] == {"email": t.sales.email}
    assert sorted(await titles(t.sales, api)) == ["Власника", "Моя"]


async def test_manager_sees_their_team(api, tenants):
    t = await tenants.create(("owner",))
    north = await tenants.add(t, "north", "manager", "North")
    seller = await tenants.add(t, "seller", "sales", "North")
    south = await tenants.add(t, "south", "sales", "South")
    ours = await create_deal(seller, api, await make_account(seller, api), title="Північ")
    await create_deal(south, api, await make_account(south, api), title="Південь")
    assert await titles(north, api) == ["Північ"]
    edited = await north.data(api, UPDATE, {"i": {"id": ours["id"], "version": 1, "amount": "1"}})
    assert edited["updateDeal"]["errors"] == []
    assert (await north.data(api, "{ deals { totalCount } }"))["deals"]["totalCount"] == 1


async def test_roles_without_deals_are_forbidden(api, tenants):
    t = await tenants.create(("owner", "support", "logistics", "analyst"))
    account = await make_account(t.owner, api)
    deal = await create_deal(t.owner, api, account)
    for member in (t.support, t.logistics):
        for query, variables in (
            ("{ deals { totalCount } }", None),
            (GET, {"id": deal["id"]}),
            (CREATE, {"i": {"accountId": account, "title": "X"}}),
            (UPDATE, {"i": {"id": deal["id"], "version": 1, "title": "X"}}),
        ):
            body = await member.execute(api, query, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (member.role, query)
        # Where deals are only a part of the page, they are simply absent.
        body = await member.data(
            api, "query($id: ID!) { account(id: $id) { name deals { totalCount } } }", {"id": account}
        )
        assert body["account"]["deals"] is None
    # The analyst reads everything and changes nothing.
    assert await titles(t.analyst, api) == [deal["title"]]
    assert len((await t.analyst.data(api, PIPELINES))["pipelines"]) == 1
    body = await t.analyst.execute(api, UPDATE, {"i": {"id": deal["id"], "version": 1, "title": "X"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"]["version"] == 1


async def test_other_organizations_deals_are_invisible(api, tenants):
    t = await tenants.create(("owner",))
    other = await tenants.create(("owner",))
    deal = await create_deal(t.owner, api, await make_account(t.owner, api))
    pipeline = await default_pipeline(t.owner, api)
    theirs = await stages_by_name(other.owner, api)

    assert (await other.owner.data(api, NODE, {"id": deal["id"]}))["node"] is None
    assert (await other.owner.data(api, GET, {"id": deal["id"]}))["deal"] is None
    assert (await other.owner.data(api, LIST))["deals"]["totalCount"] == 0
    assert await titles(other.owner, api, {"pipeline": {"eq": pipeline["id"]}}) == []
    refused = await other.owner.data(api, UPDATE, {"i": {"id": deal["id"], "version": 1, "title": "x"}})
    assert refused["updateDeal"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    refused = await move(other.owner, api, deal, theirs["Пропозиція"]["id"])
    assert refused["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    refused = await other.owner.data(api, DELETE, {"i": {"id": deal["id"], "version": 1}})
    assert refused["deleteDeal"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    # Nor can one's own deal be moved into another organization's stage.
    own = await create_deal(other.owner, api, await make_account(other.owner, api))
    refused = await move(other.owner, api, own, pipeline["stages"][1]["id"])
    assert refused["errors"] == [{"field": "stageId", "code": "NOT_FOUND"}]
    # ... or its pipelines read or changed.
    assert (await other.owner.data(api, ONE_PIPELINE, {"id": pipeline["id"]}))["pipeline"] is None
    refused = await other.owner.data(
        api, PIPELINE_MUTATIONS["updatePipeline"], {"i": {"id": pipeline["id"], "name": "Наш"}}
    )
    assert refused["updatePipeline"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert (await t.owner.data(api, GET, {"id": deal["id"]}))["deal"]["title"] == deal["title"]


# -- pipelines and stages ---------------------------------------------------------------


async def test_admin_configures_pipelines_and_stages(api, tenants):
    t = await tenants.create(("admin", "sales"))
    created = await t.admin.data(
        api,
        PIPELINE_MUTATIONS["createPipeline"],
        {
            "i": {
                "name": "Опт",
                "position": 1,
                "stages": [
                    {"name": "Запит", "probability": 20},
                    {"name": "Угода", "kind": "WON", "probability": 100},
                    {"name": "Відмова", "kind": "LOST"},
                ],
            }
        },
    )
    assert created["createPipeline"]["errors"] == []
    wholesale = created["createPipeline"]["pipeline"]
    assert [(s["name"], s["kind"], s["probability"], s["position"]) for s in wholesale["stages"]] == [
        ("Запит", "OPEN", 20, 0),
        ("Угода", "WON", 100, 1),
        ("Відмова", "LOST", 0, 2),
    ]
    # Everyone who works on deals sees the pipelines, stages in order.
    listed = (await t.sales.data(api, PIPELINES))["pipelines"]
    assert [(p["name"], p["isDefault"]) for p in listed] == [("Продажі", True), ("Опт", False)]
    one = await t.sales.data(api, ONE_PIPELINE, {"id": wholesale["id"]})
    assert one["pipeline"] == wholesale

    # Stages: added at the end unless placed, probability 0..100, renamed, deleted when unused.
    bad = await t.admin.data(
        api, STAGE_MUTATIONS["createStage"], {"i": {"pipelineId": wholesale["id"], "name": "X", "probability": 150}}
    )
    assert bad["createStage"]["errors"] == [{"field": "probability", "code": "INVALID"}]
    added = await t.admin.data(
        api,
        STAGE_MUTATIONS["createStage"],
        {"i": {"pipelineId": wholesale["id"], "name": "Рахунок", "probability": 70}},
    )
    invoice = added["createStage"]["stage"]
    assert (invoice["position"], invoice["kind"], invoice["pipeline"]) == (3, "OPEN", {"name": "Опт"})
    first = await t.admin.data(
        api,
        STAGE_MUTATIONS["updateStage"],
        {"i": {"id": invoice["id"], "name": "Рахунок виставлено", "position": 1, "probability": 80}},
    )
    assert first["updateStage"]["stage"] | {"pipeline": None} == {
        "id": invoice["id"],
        "name": "Рахунок виставлено",
        "kind": "OPEN",
        "probability": 80,
        "position": 1,
        "pipeline": None,
    }
    bad = await t.admin.data(api, STAGE_MUTATIONS["updateStage"], {"i": {"id": invoice["id"], "probability": -1}})
    assert bad["updateStage"]["errors"] == [{"field": "probability", "code": "INVALID"}]

    # A deal in a stage keeps it (and its kind) until moved out; its pipeline stays too.
    deal = await create_deal(t.admin, api, await make_account(t.admin, api), pipelineId=wholesale["id"])
    assert (deal["pipeline"]["name"], deal["stage"]["name"]) == ("Опт", "Запит")
    in_use = await t.admin.data(api, STAGE_MUTATIONS["deleteStage"], {"i": {"id": deal["stage"]["id"]}})
    assert in_use["deleteStage"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
    kind = await t.admin.data(api, STAGE_MUTATIONS["updateStage"], {"i": {"id": deal["stage"]["id"], "kind": "WON"}})
    assert kind["updateStage"]["errors"] == [{"field": "kind", "code": "CONFLICT"}]
    in_use = await t.admin.data(api, PIPELINE_MUTATIONS["deletePipeline"], {"i": {"id": wholesale["id"]}})
    assert in_use["deletePipeline"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
    unused = await t.admin.data(api, STAGE_MUTATIONS["deleteStage"], {"i": {"id": invoice["id"]}})
    assert unused["deleteStage"]["errors"] == []
    stages = await t.admin.data(api, ONE_PIPELINE, {"id": wholesale["id"]})
    assert [s["name"] for s in stages["pipeline"]["stages"]] == ["Запит", "Угода", "Відмова"]

    # Exactly one default pipeline: making one the default unmakes the other.
    made = await t.admin.data(
        api, PIPELINE_MUTATIONS["updatePipeline"], {"i": {"id": wholesale["id"], "name": "Гурт", "isDefault": True}}
    )
    assert made["updatePipeline"]["errors"] == []
    assert [(p["name"], p["isDefault"]) for p in (await t.admin.data(api, PIPELINES))["pipelines"]] == [
        ("Продажі", False),
        ("Гурт", True),
    ]
    undo = await t.admin.data(
        api, PIPELINE_MUTATIONS["updatePipeline"], {"i": {"id": wholesale["id"], "isDefault": False}}
    )
    assert undo["updatePipeline"]["errors"] == [{"field": "isDefault", "code": "CONFLICT"}]
    # New deals now land in the new default pipeline.
    landed = await create_deal(t.sales, api, await make_account(t.sales, api))
    assert (landed["pipeline"]["name"], landed["stage"]["name"]) == ("Гурт", "Запит")

    # A new default pipeline created with isDefault takes over too; the default cannot be deleted.
    third = await t.admin.data(
        api, PIPELINE_MUTATIONS["createPipeline"], {"i": {"name": "Тендери", "position": 2, "isDefault": True}}
    )
    third = third["createPipeline"]["pipeline"]
    assert [p["name"] for p in (await t.admin.data(api, PIPELINES))["pipelines"] if p["isDefault"]] == ["Тендери"]
    refused = await t.admin.data(api, PIPELINE_MUTATIONS["deletePipeline"], {"i": {"id": third["id"]}})
    assert refused["deletePipeline"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
    # A pipeline without stages has nowhere to put a deal.
    nowhere = await try_create(t.admin, api, await make_account(t.admin, api))
    assert [(e["field"], e["code"]) for e in nowhere["errors"]] == [("pipelineId", "INVALID")]

    # An unused pipeline can be deleted, with its stages.
    spare = await t.admin.data(
        api, PIPELINE_MUTATIONS["createPipeline"], {"i": {"name": "Зайвий", "stages": [{"name": "Один"}]}}
    )
    spare = spare["createPipeline"]["pipeline"]
    deleted = await t.admin.data(api, PIPELINE_MUTATIONS["deletePipeline"], {"i": {"id": spare["id"]}})
    assert deleted["deletePipeline"]["errors"] == []
    assert "Зайвий" not in [p["name"] for p in (await t.admin.data(api, PIPELINES))["pipelines"]]
    assert (await t.admin.data(api, NODE, {"id": spare["stages"][0]["id"]}))["node"] is None

    actions = set(
        await AuditEntry.filter(entity_type__in=["Pipeline", "Stage"])
        .filter(entity_id__in=[pk(wholesale["id"]), pk(invoice["id"]), pk(spare["id"])])
        .values_list("action", flat=True)
    )
    assert actions == {
        "pipeline.create",
        "pipeline.update",
        "pipeline.delete",
        "stage.create",
        "stage.update",
        "stage.delete",
    }


async def test_pipeline_with_history_cannot_be_deleted(api, tenants):
    """A deal that moved on still shows where it has been."""
    t = await tenants.create(("admin",))
    created = await t.admin.data(
        api, PIPELINE_MUTATIONS["createPipeline"], {"i": {"name": "Тимчасовий", "stages": [{"name": "Старт"}]}}
    )
    temporary = created["createPipeline"]["pipeline"]
    deal = await create_deal(t.admin, api, await make_account(t.admin, api), pipelineId=temporary["id"])
    stages = await stages_by_name(t.admin, api)
    deal = (await move(t.admin, api, deal, stages["Кваліфікація"]["id"]))["deal"]
    refused = await t.admin.data(api, PIPELINE_MUTATIONS["deletePipeline"], {"i": {"id": temporary["id"]}})
    assert refused["deletePipeline"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
    refused = await t.admin.data(api, STAGE_MUTATIONS["deleteStage"], {"i": {"id": temporary["stages"][0]["id"]}})
    assert refused["deleteStage"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
    history = (await t.admin.data(api, GET, {"id": deal["id"]}))["deal"]["stageHistory"]
    assert [h["to"]["name"] for h in history] == ["Старт", "Кваліфікація"]


async def test_only_admins_configure_pipelines(api, tenants):
    t = await tenants.create(("owner", "manager", "sales", "support"))
    pipeline = await default_pipeline(t.owner, api)
    stage = pipeline["stages"][0]
    attempts = (
        (PIPELINE_MUTATIONS["createPipeline"], {"i": {"name": "X"}}),
        (PIPELINE_MUTATIONS["updatePipeline"], {"i": {"id": pipeline["id"], "name": "X"}}),
        (PIPELINE_MUTATIONS["deletePipeline"], {"i": {"id": pipeline["id"]}}),
        (STAGE_MUTATIONS["createStage"], {"i": {"pipelineId": pipeline["id"], "name": "X"}}),
        (STAGE_MUTATIONS["updateStage"], {"i": {"id": stage["id"], "name": "X"}}),
        (STAGE_MUTATIONS["deleteStage"], {"i": {"id": stage["id"]}}),
    )
    for member in (t.manager, t.sales):
        assert len((await member.data(api, PIPELINES))["pipelines"]) == 1  # they read them
        for mutation, variables in attempts:
            body = await member.execute(api, mutation, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (member.role, mutation)
    body = await t.support.execute(api, PIPELINES)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await default_pipeline(t.owner, api) == pipeline
