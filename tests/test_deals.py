"""Deals and pipelines through GraphQL."""

from server.audit.models import AuditEntry
from server.graphql import ids
from tests.test_orders import make_account

DEAL = """id title version closedAt lostReason amount { amount currency }
    account { name } pipeline { name } stage { name kind }
    stageHistory { from { name } to { name } actor { email } }"""
CREATE = f"mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{ deal {{ {DEAL} }} errors {{ field code message }} }} }}"
MOVE = (
    f"mutation($i: MoveDealStageInput!) {{ moveDealStage(input: $i) {{ deal {{ {DEAL} }} errors {{ field code }} }} }}"
)
UPDATE = f"mutation($i: UpdateDealInput!) {{ updateDeal(input: $i) {{ deal {{ {DEAL} }} errors {{ field code }} }} }}"
PIPELINES = "{ pipelines { id name isDefault stages { id name kind probability } } }"


async def stages_by_name(member, api):
    data = await member.data(api, PIPELINES)
    default = next(p for p in data["pipelines"] if p["isDefault"])
    return {s["name"]: s for s in default["stages"]}


async def create_deal(member, api, account, **extra):
    body = await member.data(
        api, CREATE, {"i": {"accountId": account, "title": "Опт 100 чайників", "amount": "25000", **extra}}
    )
    assert body["createDeal"]["errors"] == [], body
    return body["createDeal"]["deal"]


async def test_deal_lifecycle_through_stages(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    deal = await create_deal(t.owner, api, account)
    assert deal["stage"] == {"name": "Новий лід", "kind": "OPEN"}
    assert deal["pipeline"]["name"] == "Продажі"
    assert deal["amount"] == {"amount": "25000.00", "currency": "UAH"}
    stages = await stages_by_name(t.owner, api)

    lost = await t.owner.data(
        api, MOVE, {"i": {"id": deal["id"], "version": deal["version"], "stageId": stages["Програно"]["id"]}}
    )
    assert lost["moveDealStage"]["errors"] == [{"field": "lostReason", "code": "REQUIRED"}]

    moved = await t.owner.data(
        api,
        MOVE,
        {
            "i": {
                "id": deal["id"],
                "version": deal["version"],
                "stageId": stages["Програно"]["id"],
                "lostReason": "Дорого",
            }
        },
    )
    deal = moved["moveDealStage"]["deal"]
    assert deal["stage"]["kind"] == "LOST" and deal["lostReason"] == "Дорого" and deal["closedAt"]

    reopened = await t.owner.data(
        api, MOVE, {"i": {"id": deal["id"], "version": deal["version"], "stageId": stages["Переговори"]["id"]}}
    )
    deal = reopened["moveDealStage"]["deal"]
    assert deal["closedAt"] is None and deal["lostReason"] is None
    assert [(h["from"] and h["from"]["name"], h["to"]["name"]) for h in deal["stageHistory"]] == [
        (None, "Новий лід"),
        ("Новий лід", "Програно"),
        ("Програно", "Переговори"),
    ]
    assert deal["stageHistory"][-1]["actor"]["email"] == t.owner.email

    timeline = await t.owner.data(
        api, "query($id: ID!) { account(id: $id) { timeline { edges { node { kind } } } } }", {"id": account}
    )
    assert [e["node"]["kind"] for e in timeline["account"]["timeline"]["edges"]] == [
        "STATUS_CHANGE",
        "STATUS_CHANGE",
        "DEAL",
    ]
    assert await AuditEntry.filter(entity_id=ids.decode(deal["id"])[1], action="deal.stage").count() == 2


async def test_version_conflict_idempotency_and_delete(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    a = await create_deal(t.owner, api, account, idempotencyKey="deal-1")
    b = await create_deal(t.owner, api, account, idempotencyKey="deal-1")
    assert a["id"] == b["id"]
    upd = await t.owner.data(api, UPDATE, {"i": {"id": a["id"], "version": a["version"], "title": "Нова назва"}})
    assert upd["updateDeal"]["deal"]["title"] == "Нова назва"
    stale = await t.owner.data(api, UPDATE, {"i": {"id": a["id"], "version": a["version"], "amount": "1"}})
    assert stale["updateDeal"]["errors"] == [{"field": "version", "code": "CONFLICT"}]
    bad = await t.owner.data(api, UPDATE, {"i": {"id": a["id"], "version": a["version"] + 1, "amount": "-1"}})
    assert bad["updateDeal"]["errors"] == [{"field": "amount", "code": "INVALID"}]
    deleted = await t.owner.data(
        api,
        "mutation($i: DeleteDealInput!) { deleteDeal(input: $i) { errors { code } } }",
        {"i": {"id": a["id"], "version": a["version"] + 1}},
    )
    assert deleted["deleteDeal"]["errors"] == []
    assert (await t.owner.data(api, "{ deals { totalCount } }"))["deals"]["totalCount"] == 0


async def test_filters_and_order(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    for title, amount in (("Бета", "100"), ("Альфа", "300"), ("Гама", "200")):
        await create_deal(t.owner, api, account, title=title, amount=amount)
    stages = await stages_by_name(t.owner, api)
    won = await t.owner.data(api, '{ deals(where: {title: {eq: "Гама"}}) { edges { node { id version } } } }')
    g = won["deals"]["edges"][0]["node"]
    await t.owner.data(api, MOVE, {"i": {"id": g["id"], "version": g["version"], "stageId": stages["Виграно"]["id"]}})

    async def titles(where=None, order=None):
        q = "query($w: DealWhere, $o: DealOrder) { deals(where: $w, orderBy: $o) { edges { node { title } } } }"
        return [e["node"]["title"] for e in (await t.owner.data(api, q, {"w": where, "o": order}))["deals"]["edges"]]

    assert await titles(order={"field": "AMOUNT", "direction": "DESC"}) == ["Альфа", "Гама", "Бета"]
    assert await titles(order={"field": "TITLE", "direction": "ASC"}) == ["Альфа", "Бета", "Гама"]
    assert await titles({"stageKind": {"eq": "WON"}}) == ["Гама"]
    assert await titles({"amount": {"gte": "150"}, "stageKind": {"in": ["OPEN"]}}) == ["Альфа"]
    assert await titles({"OR": [{"title": {"contains": "бет"}}, {"amount": {"lte": "100"}}]}) == ["Бета"]


async def test_roles_and_tenancy(api, tenants):
    t = await tenants.create(("owner", "sales", "support", "manager"))
    other = await tenants.create(("owner",))
    mine = await create_deal(t.sales, api, await make_account(t.sales, api))
    await create_deal(t.owner, api, await make_account(t.owner, api))
    seen = await t.sales.data(api, "{ deals { edges { node { id } } } }")
    assert [e["node"]["id"] for e in seen["deals"]["edges"]] == [mine["id"]]
    assert (await t.support.execute(api, "{ deals { totalCount } }"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await t.manager.execute(api, 'mutation { createPipeline(input: {name: "X"}) { errors { code } } }')
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    assert (await other.owner.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": mine["id"]}))["node"] is None
    assert (await other.owner.data(api, "query($id: ID!) { deal(id: $id) { id } }", {"id": mine["id"]}))["deal"] is None
    foreign = await other.owner.data(api, UPDATE, {"i": {"id": mine["id"], "version": mine["version"], "title": "x"}})
    assert foreign["updateDeal"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]


async def test_admin_configures_pipelines(api, tenants):
    t = await tenants.create(("admin",))
    body = await t.admin.data(
        api,
        """mutation { createPipeline(input: {name: "Опт", stages: [
        {name: "Запит", probability: 20}, {name: "Угода", kind: WON, probability: 100},
        {name: "Відмова", kind: LOST}]}) { pipeline { id name stages { name kind position } } errors { field code } } }""",
    )
    pipeline = body["createPipeline"]["pipeline"]
    assert [(s["name"], s["kind"], s["position"]) for s in pipeline["stages"]] == [
        ("Запит", "OPEN", 0),
        ("Угода", "WON", 1),
        ("Відмова", "LOST", 2),
    ]
    bad = await t.admin.data(
        api,
        'mutation($p: ID!) { createStage(input: {pipelineId: $p, name: "X", probability: 150}) { errors { field code } } }',
        {"p": pipeline["id"]},
    )
    assert bad["createStage"]["errors"] == [{"field": "probability", "code": "INVALID"}]
    account = await make_account(t.admin, api)
    deal = await create_deal(t.admin, api, account, pipelineId=pipeline["id"])
    assert deal["stage"]["name"] == "Запит"
    in_use = await t.admin.data(
        api, "mutation($p: ID!) { deletePipeline(input: {id: $p}) { errors { code } } }", {"p": pipeline["id"]}
    )
    assert in_use["deletePipeline"]["errors"] == [{"code": "CONFLICT"}]
