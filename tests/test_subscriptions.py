"""GraphQL subscriptions over real websockets (graphql-transport-ws), against the live server.

Events flow as in production: a change writes its outbox event, the relay hands it to the bus
(Redis pub/sub on PostgreSQL+Redis runs, in process otherwise), and the API process sends it to
each subscriber after reading the object through the subscriber's own scope. The test waits
until the server has registered a subscription before causing an event; that an event did NOT
reach someone is shown by what they receive next: a later event meant for them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

from server.core import outbox
from server.jobs.inprocess import run_until_idle
from server.organizations.models import Organization
from server.realtime.bus import bus_for
from tests.live_client import LiveClient, closed_with
from tests.test_graphql_over_http import AUDIT_PROJECT, _install_audit, _node_tools
from tests.test_orders import create_order, make_account

ORDER_CREATED = "subscription { orderCreated { number account { name } } }"
STATUS_CHANGED = """subscription($id: ID) { orderStatusChanged(orderId: $id) {
    fromStatus toStatus order { number status { code } } } }"""
CALLS = """subscription { incomingCall { callId state caller { phone matches { account { name } openOrders } } } }"""
TIMELINE = "subscription($a: ID!) { timelineItemAdded(accountId: $a) { kind subject } }"
TICKETS = "subscription { ticketAssignedToMe { number subject } }"


async def subscribed(settings, slug: str, count: int) -> None:
    """Wait until ``count`` subscriptions of the organization listen on this process's bus."""
    org = await Organization.get(slug=slug)
    for _ in range(600):  # 30 s: a loaded machine starts node slowly
        if len(bus_for(settings).subscribers.get(str(org.id), ())) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} subscriptions of {slug} never registered")


async def test_an_order_reaches_its_organization_and_only_rows_the_subscriber_may_see(
    live_server, database, api, tenants
):
    shop = await tenants.create(("owner", "sales"))
    other = await tenants.create(("owner",))
    async with (
        LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner,
        LiveClient.connect(live_server, LiveClient.credentials(shop.sales)) as sales,
        LiveClient.connect(live_server, LiveClient.credentials(other.owner)) as stranger,
    ):
        for client in (owner, sales, stranger):
            await client.subscribe("orders", ORDER_CREATED)
        await subscribed(database, shop.slug, 2)
        await subscribed(database, other.slug, 1)

        account = await make_account(shop.owner, api, "Олена Коваль")
        await create_order(shop.owner, api, account)
        await run_until_idle(database)
        first = await owner.next("orders")
        assert first["type"] == "next"
        assert first["payload"]["data"]["orderCreated"] == {"number": 1, "account": {"name": "Олена Коваль"}}

        # The sales rep sees only their own orders: the owner's order never reached them, so
        # the next thing they hear is the order they create themselves.
        mine = await make_account(shop.sales, api, "Покупець продавця", phones=("0671112233",))
        await create_order(shop.sales, api, mine)
        # The other organization heard nothing of this shop: its first event is its own order.
        theirs = await make_account(other.owner, api, "Чужий клієнт", phones=("0675554433",))
        await create_order(other.owner, api, theirs)
        await run_until_idle(database)

        assert (await sales.next("orders"))["payload"]["data"]["orderCreated"]["account"]["name"] == (
            "Покупець продавця"
        )
        assert (await stranger.next("orders"))["payload"]["data"]["orderCreated"] == {
            "number": 1,
            "account": {"name": "Чужий клієнт"},
        }
        assert (await owner.next("orders"))["payload"]["data"]["orderCreated"]["number"] == 2


async def test_status_changes_of_one_order(live_server, database, api, tenants):
    shop = await tenants.create(("owner",))
    account = await make_account(shop.owner, api)
    watched = (await create_order(shop.owner, api, account))["order"]
    other = (await create_order(shop.owner, api, account))["order"]
    move = """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) { errors { code } } }"""
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner:
        await owner.subscribe("s", STATUS_CHANGED, {"id": watched["id"]})
        await subscribed(database, shop.slug, 1)
        for order in (other, watched):
            target = order["status"]["next"][0]["code"]
            body = await shop.owner.data(
                api, move, {"i": {"id": order["id"], "status": target, "version": order["version"]}}
            )
            assert body["changeOrderStatus"]["errors"] == []
        await run_until_idle(database)
        event = (await owner.next("s"))["payload"]["data"]["orderStatusChanged"]
    assert event == {
        "fromStatus": "new",
        "toStatus": watched["status"]["next"][0]["code"],
        "order": {"number": watched["number"], "status": {"code": watched["status"]["next"][0]["code"]}},
    }


async def test_a_ringing_call_pops_the_callers_card_for_those_who_may_see_it(live_server, database, api, tenants):
    shop = await tenants.create(("owner", "sales", "analyst"))
    await make_account(shop.owner, api, "Ірина Дзвінок", phones=("0509876543",))
    org = await Organization.get(slug=shop.slug)
    async with (
        LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner,
        LiveClient.connect(live_server, LiveClient.credentials(shop.sales)) as sales,
        LiveClient.connect(live_server, LiveClient.credentials(shop.analyst)) as analyst,
    ):
        for client in (owner, sales, analyst):
            await client.subscribe("calls", CALLS)
        await subscribed(database, shop.slug, 3)
        await outbox.emit(
            org.id,
            "call.ringing",
            {"call_id": "c-1", "state": "ringing", "direction": "inbound", "caller": "+380509876543", "callee": "100"},
        )
        await run_until_idle(database)
        seen_by_owner = (await owner.next("calls"))["payload"]["data"]["incomingCall"]
        seen_by_sales = (await sales.next("calls"))["payload"]["data"]["incomingCall"]
        seen_by_analyst = (await analyst.next("calls"))["payload"]["data"]["incomingCall"]
    assert seen_by_owner == {
        "callId": "c-1",
        "state": "ringing",
        "caller": {"phone": "+380509876543", "matches": [{"account": {"name": "Ірина Дзвінок"}, "openOrders": 0}]},
    }
    # The account is the owner's: the sales rep hears the call ring but sees no account.
    assert seen_by_sales["caller"] == {"phone": "+380509876543", "matches": []}
    # An analyst (no pii:read) sees the account, and the number masked.
    assert seen_by_analyst["caller"] == {
        "phone": "+38050*****43",
        "matches": [{"account": {"name": "Ірина Дзвінок"}, "openOrders": 0}],
    }


async def test_timeline_items_of_one_account(live_server, database, api, tenants):
    shop = await tenants.create(("owner",))
    watched = await make_account(shop.owner, api, "Спостережуваний")
    other = await make_account(shop.owner, api, "Інший", phones=("0661234567",))
    note = """mutation($i: CreateActivityInput!) { createActivity(input: $i) { errors { code message } } }"""
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner:
        await owner.subscribe("t", TIMELINE, {"a": watched})
        await subscribed(database, shop.slug, 1)
        for account, subject in ((other, "Не сюди"), (watched, "Передзвонити завтра")):
            body = await shop.owner.data(api, note, {"i": {"accountId": account, "kind": "NOTE", "subject": subject}})
            assert body["createActivity"]["errors"] == []
        await run_until_idle(database)
        item = (await owner.next("t"))["payload"]["data"]["timelineItemAdded"]
    assert item == {"kind": "NOTE", "subject": "Передзвонити завтра"}


async def test_a_subscription_the_role_may_not_have_is_refused_at_once(live_server, tenants):
    shop = await tenants.create(("sales",))
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.sales)) as sales:
        await sales.subscribe("t", TICKETS)
        answer = await sales.next("t")
    assert answer["type"] in ("next", "error"), answer
    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "tickets:read" in errors[0]["message"]


async def test_a_connection_without_valid_credentials_is_closed(live_server, tenants):
    assert await closed_with(live_server, {}) == 4403
    assert await closed_with(live_server, {"Authorization": "Bearer not-a-token"}) == 4403


async def test_connections_per_credential_are_capped(live_server, database, tenants):
    shop = await tenants.create(("owner",))
    cap = database.ws_max_connections_per_credential
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(cap):
            await stack.enter_async_context(LiveClient.connect(live_server, LiveClient.credentials(shop.owner)))
        assert await closed_with(live_server, LiveClient.credentials(shop.owner)) == 4429
    # Closed connections no longer count.
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)):
        pass


async def test_a_completed_subscription_or_a_closed_socket_stops_listening(live_server, database, tenants):
    shop = await tenants.create(("owner",))
    org = await Organization.get(slug=shop.slug)
    bus = bus_for(database)
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner:
        await owner.subscribe("o", ORDER_CREATED)
        await subscribed(database, shop.slug, 1)
        await owner.send({"id": "o", "type": "complete"})
        for _ in range(100):
            if str(org.id) not in bus.subscribers:
                break
            await asyncio.sleep(0.05)
        assert str(org.id) not in bus.subscribers
    # A closed socket leaves nothing behind either.
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner:
        await owner.subscribe("o", ORDER_CREATED)
        await subscribed(database, shop.slug, 1)
    for _ in range(100):
        if str(org.id) not in bus.subscribers:
            break
        await asyncio.sleep(0.05)
    assert str(org.id) not in bus.subscribers


async def test_the_graphql_ws_example_in_the_docs_runs(live_server, database, api, tenants):
    """docs/realtime.md shows tests/graphql_http_audit/subscribe.mjs; both must stay the same."""
    script = (AUDIT_PROJECT / "subscribe.mjs").read_text()
    doc = (Path(__file__).parent.parent / "docs" / "realtime.md").read_text()
    shown = re.search(r"```js\n(.*?)```", doc, re.S)
    assert shown and shown.group(1) == script, "docs/realtime.md must show subscribe.mjs as it is"
    node, _ = _node_tools()
    _install_audit()
    shop = await tenants.create(("owner",))
    process = await asyncio.create_subprocess_exec(
        node,
        "subscribe.mjs",
        live_server.replace("http://", "ws://") + "/graphql",
        shop.owner.token,
        shop.slug,
        cwd=AUDIT_PROJECT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        try:
            await subscribed(database, shop.slug, 1)
        except AssertionError:
            if process.returncode is None:
                process.kill()
            raise AssertionError((await process.communicate())[1].decode()) from None
        account = await make_account(shop.owner, api, "Клієнтка з прикладу")
        await create_order(shop.owner, api, account)
        await run_until_idle(database)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    order = json.loads(stdout)
    assert order["number"] == 1 and order["account"] == {"name": "Клієнтка з прикладу"}
    assert order["total"] == {"amount": "2849.48", "currency": "UAH"}


async def test_queries_and_mutations_are_refused_on_the_socket(live_server, tenants):
    """Only subscriptions run over the websocket: a query there would keep the credential of
    connection_init (a deactivated member would still read) and skip the HTTP rate limits."""
    shop = await tenants.create(("owner",))
    async with LiveClient.connect(live_server, LiveClient.credentials(shop.owner)) as owner:
        await owner.subscribe("q", "{ me { user { id } } }")
        refused = await owner.next("q")
        await owner.subscribe("m", "mutation { logout }")
        refused_mutation = await owner.next("m")
        await owner.subscribe("s", ORDER_CREATED)  # a subscription on the same socket still works
    for answer in (refused, refused_mutation):
        message = answer["payload"][0]["message"]  # in the server's default language (uk) here
        assert answer["type"] == "error" and "websocket" in message and "HTTP" in message, answer
