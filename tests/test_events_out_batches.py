"""The events-out paths in batches (docs/jobs.md, "Batches"): the webhook fan-out, webhook
deliveries, domain events to plugins, marketplace status pushes and live subscribers' reads
cost a fixed number of SQL statements whatever the batch's size, and an item of a batch that
fails is retried alone, the others being done."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from server.auth.models import User
from server.auth.principal import for_user
from server.auth.scope import Scope
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.models import JobRun
from server.jobs.plugin_events import hand_to_plugins
from server.jobs.registry import Event
from server.marketplace import service as marketplace
from server.orders.models import Order
from server.organizations.models import Organization
from server.plugins.models import PluginInstallation
from server.plugins.service import deliver_domain_events
from server.realtime.bus import LiveEvent
from server.realtime.reads import visible
from server.surveys import jobs as survey_jobs
from server.webhooks import delivery, jobs
from server.webhooks.models import WebhookMessage
from tests import test_plugins, test_webhooks
from tests.helpers import QueryCounter
from tests.plugin_fixtures import fake_pbx
from tests.test_orders import create_order, make_account
from tests.test_plugins import installed
from tests.test_webhooks import add_endpoint, new_account

receiver = test_webhooks.receiver
shop = test_webhooks.shop
pbx = test_plugins.pbx


async def _events(org_id, topic: str) -> list[Event]:
    rows = await OutboxEvent.filter(organization_id=org_id, topic=topic).order_by("created_at", "id")
    return [Event(r.id, r.organization_id, r.topic, r.payload, r.created_at) for r in rows]


async def _org(tenant) -> Organization:
    return await Organization.get(slug=tenant.slug)


def _items(messages: list[WebhookMessage]) -> list[tuple[str, int, int]]:
    return [(str(m.id), m.attempt_count, delivery.due_key(m.next_attempt_at)) for m in messages]


async def _twelve_messages(api, shop, receiver, database) -> tuple[dict, str, list[Event]]:
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    for n in range(12):
        await new_account(api, shop.manager, f"Batch {n}")
    batch = await _events((await _org(shop)).id, "account.created")
    assert len(batch) == 12
    return endpoint, secret, batch


async def _pending(endpoint: dict) -> list[WebhookMessage]:
    return await WebhookMessage.filter(endpoint_id=ids.decode(endpoint["id"])[1], status="pending").order_by(
        "created_at", "id"
    )


async def test_webhook_fan_out_and_delivery_batches_cost_the_same_statements_whatever_their_size(
    api, shop, receiver, database
):
    endpoint, secret, batch = await _twelve_messages(api, shop, receiver, database)
    counts = {}
    for name, part in (("small", batch[:2]), ("large", batch[2:])):
        with QueryCounter() as q:
            assert await jobs.fan_out_many(part, database) == len(part)
        counts[name] = q.count
    # Endpoints, organizations, the accounts, one INSERT of the messages, one read of those to
    # try, one delivery job queued (in process: one INSERT).
    assert counts["small"] == counts["large"] <= 6, counts
    assert await jobs.fan_out_many(batch, database) == 12  # again: nothing new
    messages = await _pending(endpoint)
    assert len(messages) == 12

    sends = {}
    for name, part in (("small", messages[:2]), ("large", messages[2:])):
        with QueryCounter() as q:
            outcome = await delivery.deliver_many(_items(part), database)
        assert set(outcome.values()) == {"delivered"}, outcome
        sends[name] = q.count
    # Messages, endpoints, the claim, the attempts, the messages' new state, the streak.
    assert sends["small"] == sends["large"] <= 6, sends

    # One signed request per event, each arriving once, each try recorded.
    assert len(receiver.requests) == 12
    verified = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
    accounts = {ids.encode("Account", e.payload["account_id"]) for e in batch}
    assert sorted(v["data"]["id"] for v in verified) == sorted(accounts)
    rows = await WebhookMessage.filter(id__in=[m.id for m in messages]).prefetch_related("attempts")
    assert all(r.status == "succeeded" and [a.status_code for a in r.attempts] == [200] for r in rows)

    # The delivery jobs the fan-out queued find their tries done: nothing is sent twice.
    await run_until_idle(database)
    assert len(receiver.requests) == 12


async def test_in_a_delivery_batch_only_the_failed_webhook_is_tried_again(api, shop, receiver, database):
    endpoint, secret, batch = await _twelve_messages(api, shop, receiver, database)
    await jobs.fan_out_many(batch, database)
    messages = await _pending(endpoint)
    receiver.script = [(503, 0)]  # the first request to arrive is refused, the others taken

    outcome = await delivery.deliver_many(_items(messages), database)
    assert Counter(outcome.values()) == {"delivered": 11, "failed": 1}
    [failed_id] = [i for i, o in outcome.items() if o == "failed"]
    failed = await WebhookMessage.get(id=failed_id)
    assert failed.status == "pending" and failed.attempt_count == 1
    # The first step of the retry schedule (5 s), counted from the batch's answers.
    assert timedelta(seconds=5) <= failed.next_attempt_at - failed.last_attempt_at < timedelta(minutes=1)
    # Its retry is a job of its own; nobody else's try is queued again.
    retries = await JobRun.filter(name=delivery.DELIVER_JOB, state="queued").values_list("job_id", flat=True)
    ours = [j for j in retries if any(str(m.id) in j for m in messages)]
    assert ours == [j for j in ours if j.startswith(f"{delivery.DELIVER_JOB}:{failed_id}:1:")] and len(ours) == 1

    await run_until_idle(database, now=datetime.now(UTC) + timedelta(minutes=1))
    arrivals = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert len(receiver.requests) == 13
    assert arrivals[delivery.message_id(failed)] == 2
    assert all(count == 1 for key, count in arrivals.items() if key != delivery.message_id(failed))
    rows = await WebhookMessage.filter(id__in=[m.id for m in messages]).prefetch_related("attempts")
    assert all(r.status == "succeeded" for r in rows)
    assert sorted(len(r.attempts) for r in rows) == [1] * 11 + [2]
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)


def _synthetic(org_id, count: int, topic: str = "test.batch_event") -> list[Event]:
    now = datetime.now(UTC)
    return [Event(uuid.uuid4(), org_id, topic, {"n": n}, now) for n in range(count)]


async def test_domain_event_batches_cost_one_query_and_a_refused_event_is_retried_alone(api, tenants, pbx, database):
    t = await tenants.create(("owner",))
    on = (await installed(t.owner, api))["installation"]
    org_id = (await PluginInstallation.get(id=ids.decode(on["id"])[1])).organization_id  # type: ignore[attr-defined]
    counts = {}
    for name, size in (("small", 2), ("large", 20)):
        fake_pbx.SEEN_EVENTS.clear()
        with QueryCounter() as q:
            outcome = await deliver_domain_events(database, _synthetic(org_id, size))
        counts[name] = q.count
        assert len(outcome) == size and len(fake_pbx.SEEN_EVENTS) == size
    # The installations; the first batch also reads the organization's language, once for all
    # its concurrent plugin calls (cached for a minute: docs/i18n.md).
    assert (counts["small"], counts["large"]) == (2, 1), counts

    batch = _synthetic(org_id, 12)
    busy = batch[5]
    fake_pbx.BUSY_FOR.add(str(busy.id))
    fake_pbx.SEEN_EVENTS.clear()
    try:
        await hand_to_plugins(events=batch, settings=database)
        assert len(fake_pbx.SEEN_EVENTS) == 12
        queued = await JobRun.filter(name="plugins.domain_event", job_id__contains=":alone:").values_list(
            "job_id", flat=True
        )
        assert [j for j in queued if any(str(e.id) in j for e in batch)] == [f"plugins.domain_event:alone:{busy.id}"]
    finally:
        fake_pbx.BUSY_FOR.clear()
    fake_pbx.SEEN_EVENTS.clear()
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(minutes=1))
    on_pk = str(ids.decode(on["id"])[1])
    assert [s for s in fake_pbx.SEEN_EVENTS if s[:2] == (on_pk, "test.batch_event")] == [
        (on_pk, "test.batch_event", fake_pbx.GOOD_KEY)
    ]


async def test_a_marketplace_push_batch_of_other_orders_costs_one_query(tenants, database):
    t = await tenants.create(("owner",))
    org_id = (await _org(t)).id
    counts = {}
    for name, size in (("small", 2), ("large", 30)):
        now = datetime.now(UTC)
        batch = [
            Event(uuid.uuid4(), org_id, "order.status_changed", {"order_id": str(uuid.uuid4()), "to": "sent"}, now)
            for _ in range(size)
        ]
        with QueryCounter() as q:
            assert await marketplace.push_status_changes(events=batch, settings=database) == 0
        counts[name] = q.count
    assert counts["small"] == counts["large"] == 1, counts  # the batch's marketplace links


async def test_a_survey_batch_reads_each_organizations_settings_once(tenants, database):
    org_id = (await _org(await tenants.create(("owner",)))).id

    def changes(size: int) -> list[Event]:
        now = datetime.now(UTC)
        payload = {"order_id": str(uuid.uuid4()), "to": "confirmed"}  # not the survey status
        return [Event(uuid.uuid4(), org_id, "order.status_changed", payload, now) for _ in range(size)]

    await survey_jobs.on_order_status(events=changes(1))  # the settings exist from now on
    counts = {}
    for name, size in (("small", 2), ("large", 30)):
        with QueryCounter() as q:
            await survey_jobs.on_order_status(events=changes(size))
        counts[name] = q.count
    assert counts["small"] == counts["large"] <= 2, counts


async def test_live_subscribers_share_one_read_of_an_event_and_each_scope_still_decides(api, tenants, database):
    shop = await tenants.create(("owner", "sales"))
    scopes = {
        role: Scope(await for_user(await User.get(email=shop.members[role].email), shop.slug))
        for role in ("owner", "sales")
    }
    org = await _org(shop)
    account = await make_account(shop.owner, api, "Спільне читання")
    owners = ids.decode((await create_order(shop.owner, api, account))["order"]["id"])[1]
    theirs = await Order.get(id=owners)
    theirs.manager_id = ids.decode(shop.sales.user_id)[1]  # type: ignore[attr-defined]
    await theirs.save(update_fields=["manager_id"])
    mine = ids.decode((await create_order(shop.owner, api, account))["order"]["id"])[1]

    seen = {}
    for name, pk in (("sales rep's", owners), ("owner's", mine)):
        event = LiveEvent(str(uuid.uuid4()), str(org.id), "order.status_changed", {"order_id": str(pk)})
        with QueryCounter() as q:
            seen[name] = {role: await visible(scope, event, Order, pk) for role, scope in scopes.items()}
        assert q.count == 1, q.statements  # one read for every subscriber
    # The owner sees every order; a sales rep only their own.
    assert all(row is not None for row in seen["sales rep's"].values())
    assert seen["owner's"]["owner"] is not None and seen["owner's"]["sales"] is None
    assert seen["sales rep's"]["owner"] is not seen["sales rep's"]["sales"]  # each resolves its own copy

    # An event of another organization naming this order shows it to nobody there.
    other = await tenants.create(("owner",))
    stranger = Scope(await for_user(await User.get(email=other.owner.email), other.slug))
    foreign = LiveEvent(str(uuid.uuid4()), str((await _org(other)).id), "order.status_changed", {})
    assert await visible(stranger, foreign, Order, mine) is None


async def test_a_delivery_batch_run_again_after_its_worker_died_sends_what_it_had_claimed_once(
    api, shop, receiver, database
):
    endpoint, secret, batch = await _twelve_messages(api, shop, receiver, database)
    await jobs.fan_out_many(batch, database)
    messages = await _pending(endpoint)
    items = _items(messages)
    # The first run of the batch's job claims its tries, then its worker dies before sending.
    claimant = json.dumps([[i, t, d] for i, t, d in items])
    wanted = {m.id: (t, d) for m, (_, t, d) in zip(messages, items, strict=True)}
    assert len(await delivery._claim(messages, database, wanted, claimant)) == 12
    # Another job holding one of those tries (the sweeper's) sends nothing, and the sweeper
    # leaves claimed tries alone ...
    first_id, tries, due = items[0]
    assert await delivery.deliver(first_id, tries, database, due) == "stale"
    await jobs.sweep(now=datetime.now(UTC) + timedelta(seconds=30))
    singles = await JobRun.filter(name=delivery.DELIVER_JOB).values_list("job_id", flat=True)
    assert not [j for j in singles if any(str(m.id) in j for m in messages)]
    assert receiver.requests == []
    # ... while the job's next run knows its own claim and sends each one, once.
    outcome = await delivery.deliver_many(items, database)
    assert set(outcome.values()) == {"delivered"}
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(
        delivery.message_id(m) for m in messages
    )
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(minutes=10))
    assert len(receiver.requests) == 12
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)
