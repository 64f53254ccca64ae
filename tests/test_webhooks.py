"""Partner webhooks end to end: real HTTP to a receiver on 127.0.0.1, signatures checked with
the `standardwebhooks` verifier a partner uses, jobs run by the in-process worker with time
moved forward through the jobs' due times (no sleeping)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq.connections import ArqRedis
from standardwebhooks import Webhook, WebhookVerificationError

from server.app import create_app
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.arq_worker import ArqBackend
from server.jobs.inprocess import DatabaseBackend, run_until_idle
from server.jobs.registry import set_backend
from server.jobs.relay import relay_once
from server.organizations.models import Organization
from server.plugins.crypto import SecretsUnreadable
from server.webhooks import delivery, jobs
from server.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from server.webhooks.secrets import rotate_all, signing_secrets
from tests.helpers import Client, QueryCounter
from tests.webhook_receiver import Receiver

ENDPOINT = "id url enabled disabledReason failureStreak version eventTypes filters"
CREATE = f"""mutation($i: CreateWebhookEndpointInput!) {{ createWebhookEndpoint(input: $i) {{
    endpoint {{ {ENDPOINT} }} secret errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($i: UpdateWebhookEndpointInput!) {{ updateWebhookEndpoint(input: $i) {{
    endpoint {{ {ENDPOINT} }} errors {{ field code message }} }} }}"""
ROTATE = f"""mutation($i: RotateWebhookSecretInput!) {{ rotateWebhookSecret(input: $i) {{
    endpoint {{ {ENDPOINT} }} secret errors {{ field code message }} }} }}"""
ENDPOINTS = f"{{ webhookEndpoints {{ {ENDPOINT} }} }}"
DELIVERY = """id eventId eventType status attemptCount payload
    attempts { attemptedAt statusCode durationMs responseExcerpt error trigger }"""
DELIVERIES = f"""query($e: ID, $s: WebhookDeliveryStatus, $since: DateTime) {{
    webhookDeliveries(endpointId: $e, status: $s, since: $since, first: 50) {{
        edges {{ node {{ {DELIVERY} }} }} totalCount }} }}"""
REDELIVER = f"""mutation($id: ID!) {{ redeliverWebhook(id: $id) {{ delivery {{ {DELIVERY} }} errors {{ code }} }} }}"""
REDELIVER_FAILED = """mutation($e: ID!, $since: DateTime!) {
    redeliverFailedWebhooks(endpointId: $e, since: $since) { count errors { code } } }"""
TEST = f"""mutation($e: ID!) {{ sendTestWebhook(endpointId: $e) {{ delivery {{ {DELIVERY} }} errors {{ code }} }} }}"""
CREATE_ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } errors { code } } }"""
UPDATE_ACCOUNT = """mutation($i: UpdateAccountInput!) { updateAccount(input: $i) {
    account { id version } errors { code } } }"""
EN = {"Accept-Language": "en"}
AUDIT = """query($id: ID!) { auditEntries(first: 10, where: {entityId: {eq: $id}}) {
    edges { node { action actorKind } } } }"""
LOG_PAGE = """query($e: ID!, $n: Int!) { webhookDeliveries(endpointId: $e, first: $n) {
    edges { node { id status attempts { statusCode durationMs } } } } }"""
EVENT_TYPES = "{ webhookEventTypes { name objectType } }"
MY_TASKS = """query($me: ID!) { activities(first: 50, where: {actor: {eq: $me}, done: false}) {
    edges { node { subject body dueAt } } } }"""
CHANGES = """query($t: [String!]!, $c: String, $f: Int) { changesSince(types: $t, cursor: $c, first: $f) {
    changes { type id data } cursor hasMore } }"""


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
async def shop(tenants):
    tenant = await tenants.create(("owner", "admin", "manager"))
    yield tenant
    # Tries still queued for this test's endpoints find nothing to send in later tests.
    await WebhookEndpoint.filter(organization__slug=tenant.slug).delete()


async def add_endpoint(api: Client, member, url: str, **fields) -> tuple[dict, str]:
    data = await member.data(api, CREATE, {"i": {"url": url, **fields}})
    payload = data["createWebhookEndpoint"]
    assert payload["errors"] == [], payload
    return payload["endpoint"], payload["secret"]


async def new_account(api: Client, member, name: str) -> str:
    data = await member.data(api, CREATE_ACCOUNT, {"i": {"name": name}})
    assert data["createAccount"]["errors"] == [], data
    return data["createAccount"]["account"]["id"]


async def deliveries(api: Client, member, endpoint_id: str, **filters) -> list[dict]:
    data = await member.data(api, DELIVERIES, {"e": endpoint_id, **filters})
    return [edge["node"] for edge in data["webhookDeliveries"]["edges"]]


def later(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def verified(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


async def test_a_change_arrives_signed_and_is_logged(api, shop, receiver, database):
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url, description="ERP")
    assert secret.startswith("whsec_")
    account_id = await new_account(api, shop.manager, "Олена Коваль")
    await run_until_idle(database)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    event = verified(secret, request)
    assert event["type"] == "account.created"
    assert event["data"]["id"] == account_id
    assert event["data"]["version"] == 1
    assert event["data"]["name"] == "Олена Коваль"
    assert "organizationId" not in event["data"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)

    [logged] = await deliveries(api, shop.owner, endpoint["id"])
    assert logged["status"] == "SUCCEEDED"
    assert logged["eventType"] == "account.created"
    assert request.headers["webhook-id"] == "msg_" + logged["eventId"].replace("-", "")
    assert [a["statusCode"] for a in logged["attempts"]] == [200]
    assert logged["attempts"][0]["responseExcerpt"] == "answered 200"
    assert logged["attempts"][0]["durationMs"] >= 0

    # Fanning the same event out again (a relay or a job running twice) sends nothing more.
    event_row = await OutboxEvent.get(id=logged["eventId"])
    assert await jobs.fan_out(_as_event(event_row)) == 1
    await run_until_idle(database)
    assert len(receiver.requests) == 1


def _as_event(row: OutboxEvent):
    from server.jobs.registry import Event

    return Event(row.id, row.organization_id, row.topic, row.payload, row.created_at)


async def test_5xx_and_timeouts_are_retried_with_backoff(api, shop, receiver, database):
    settings = database.model_copy(update={"webhook_timeout_seconds": 0.5})
    receiver.script = [(503, 0), (200, 2.0)]  # a 503, then an answer too late, then 200
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    await new_account(api, shop.manager, "Retry")
    await run_until_idle(settings)
    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "PENDING" and message["attemptCount"] == 1
    row = await WebhookMessage.get(id=ids.decode(message["id"])[1])
    waited = row.next_attempt_at - row.last_attempt_at
    assert timedelta(seconds=4) < waited < timedelta(seconds=6)  # the first retry: 5 s

    # Times from the try itself, not from the test's clock: a slow machine must not make it due.
    await run_until_idle(settings, now=row.last_attempt_at + timedelta(seconds=3))  # not due yet
    assert len(receiver.requests) == 1
    await run_until_idle(settings, now=row.next_attempt_at + timedelta(seconds=1))  # the timeout
    row = await WebhookMessage.get(id=row.id)
    assert timedelta(minutes=4) < row.next_attempt_at - row.last_attempt_at < timedelta(minutes=6)
    await run_until_idle(settings, now=later(minutes=10))

    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "SUCCEEDED"
    assert [a["statusCode"] for a in message["attempts"]] == [503, None, 200]
    assert "no answer within 0.5 s" in message["attempts"][1]["error"]
    assert message["attempts"][0]["responseExcerpt"] == "answered 503"
    # Every try carries the same webhook-id, so the receiver can tell a retry from a new event.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert all(verified(secret, r)["type"] == "account.created" for r in receiver.requests)


async def test_redeliver_one_delivery(api, shop, receiver, database):
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    await new_account(api, shop.manager, "Again")
    await run_until_idle(database)
    [message] = await deliveries(api, shop.admin, endpoint["id"])

    data = await shop.admin.data(api, REDELIVER, {"id": message["id"]})
    assert data["redeliverWebhook"]["errors"] == []
    await run_until_idle(database)
    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "SUCCEEDED" and message["attemptCount"] == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [receiver.requests[0].headers["webhook-id"]] * 2
    verified(secret, receiver.requests[1])

    # Managers cannot see or redeliver webhooks; another organization's admin cannot either.
    body = await shop.manager.execute(api, REDELIVER, {"id": message["id"]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await shop.manager.execute(api, ENDPOINTS)
    assert body["data"]["webhookEndpoints"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_failing_endpoint_is_disabled_admins_told_and_enabling_resumes(api, shop, tenants, receiver, database):
    settings = database.model_copy(update={"webhook_disable_after_failed": 1})
    receiver.script = [(500, 0)] * 10  # ten tries over three days, all failing
    endpoint, _secret = await add_endpoint(api, shop.admin, receiver.url)
    first = await new_account(api, shop.manager, "First")
    await run_until_idle(settings, now=later(days=4))

    [failed] = await deliveries(api, shop.admin, endpoint["id"])
    assert failed["status"] == "FAILED"
    assert failed["attemptCount"] == 10 == len(receiver.requests)
    [state] = (await shop.admin.data(api, ENDPOINTS))["webhookEndpoints"]
    assert state["enabled"] is False
    assert state["disabledReason"].startswith("1 ")  # "1 webhooks in a row could not be delivered ..."
    assert state["failureStreak"] == 1
    # Owners and admins each find a task about it among their open tasks; managers do not.
    for member, expected in ((shop.owner, 1), (shop.admin, 1), (shop.manager, 0)):
        data = await member.data(api, MY_TASKS, {"me": member.user_id})
        tasks = [e["node"] for e in data["activities"]["edges"] if receiver.url in e["node"]["subject"]]
        assert len(tasks) == expected, (member.role, data)

    audit = await shop.owner.data(api, AUDIT, {"id": endpoint["id"]})
    actions = [(e["node"]["action"], e["node"]["actorKind"]) for e in audit["auditEntries"]["edges"]]
    assert actions == [("webhook_endpoint.disable", "app"), ("webhook_endpoint.create", "user")]

    # Disabled: events are kept for it, nothing is sent.
    second = await new_account(api, shop.manager, "Second")
    third = await new_account(api, shop.manager, "Third")
    await run_until_idle(settings, now=later(days=1))
    assert len(receiver.requests) == 10
    pending = await deliveries(api, shop.admin, endpoint["id"], s="PENDING")
    assert len(pending) == 2

    # The receiver is fixed: a test event goes to the disabled endpoint, then enabling resumes.
    test = (await shop.admin.data(api, TEST, {"e": endpoint["id"]}))["sendTestWebhook"]["delivery"]
    assert test["status"] == "SUCCEEDED" and test["attempts"][0]["trigger"] == "test"
    data = await shop.admin.data(
        api, UPDATE, {"i": {"id": endpoint["id"], "version": state["version"], "enabled": True}}
    )
    assert data["updateWebhookEndpoint"]["endpoint"]["enabled"] is True
    assert data["updateWebhookEndpoint"]["endpoint"]["failureStreak"] == 0
    await run_until_idle(settings)
    sent = [json.loads(r.body)["data"]["id"] for r in receiver.requests[11:]]
    # The backlog, oldest first: the one that failed for good in the outage, then those kept.
    assert sent == [first, second, third]
    assert await deliveries(api, shop.admin, endpoint["id"], s="FAILED") == []
    assert {d["status"] for d in await deliveries(api, shop.admin, endpoint["id"])} == {"SUCCEEDED"}


async def test_redeliver_the_failed_ones_since_a_moment(api, shop, receiver, database):
    receiver.script = [(500, 0)] * 10
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    before = datetime.now(UTC)
    account = await new_account(api, shop.manager, "Gave up")
    await run_until_idle(database, now=later(days=4))
    [failed] = await deliveries(api, shop.admin, endpoint["id"], s="FAILED")
    [state] = (await shop.admin.data(api, ENDPOINTS))["webhookEndpoints"]
    assert state["enabled"] is True and state["failureStreak"] == 1  # one is not enough to disable

    later_only = {"e": endpoint["id"], "since": later(minutes=1).isoformat()}
    assert (await shop.admin.data(api, REDELIVER_FAILED, later_only))["redeliverFailedWebhooks"]["count"] == 0
    data = await shop.admin.data(api, REDELIVER_FAILED, {"e": endpoint["id"], "since": before.isoformat()})
    assert data["redeliverFailedWebhooks"]["count"] == 1
    await run_until_idle(database)
    assert verified(secret, receiver.requests[-1])["data"]["id"] == account
    assert receiver.requests[-1].headers["webhook-id"] == "msg_" + failed["eventId"].replace("-", "")
    [state] = (await shop.admin.data(api, ENDPOINTS))["webhookEndpoints"]
    assert state["failureStreak"] == 0


async def test_a_try_due_while_disabled_goes_once_enabled_again(api, shop, receiver, database):
    receiver.script = [(500, 0)]
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    await new_account(api, shop.manager, "Paused")
    await run_until_idle(database)  # a 500: the retry is queued for 5 s later
    data = await shop.admin.data(api, UPDATE, {"i": {"id": endpoint["id"], "version": 1, "enabled": False}})
    endpoint = data["updateWebhookEndpoint"]["endpoint"]
    assert endpoint["enabled"] is False
    await run_until_idle(database, now=later(minutes=10))  # the retry comes due: nothing is sent
    assert len(receiver.requests) == 1

    data = await shop.admin.data(
        api, UPDATE, {"i": {"id": endpoint["id"], "version": endpoint["version"], "enabled": True}}
    )
    assert data["updateWebhookEndpoint"]["errors"] == []
    await run_until_idle(database)
    await run_until_idle(database, now=later(days=4))
    assert len(receiver.requests) == 2
    assert verified(secret, receiver.requests[1])["data"]["name"] == "Paused"
    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "SUCCEEDED" and message["attemptCount"] == 2


async def test_receiver_down_for_a_while_then_delivered_once(api, shop, database):
    receiver = Receiver().start()
    port, url = receiver.port, receiver.url
    receiver.stop()  # down: connections are refused
    endpoint, secret = await add_endpoint(api, shop.admin, url)
    await new_account(api, shop.manager, "Patient")
    await run_until_idle(database, now=later(minutes=30))  # three tries (0, 5 s, 5 min later), all refused
    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "PENDING" and message["attemptCount"] == 3
    assert all(a["statusCode"] is None and a["error"] for a in message["attempts"])

    receiver = Receiver(port=port).start()
    try:
        await run_until_idle(database, now=later(hours=3))
        await run_until_idle(database, now=later(days=4))
        assert len(receiver.requests) == 1
        assert verified(secret, receiver.requests[0])["type"] == "account.created"
        [message] = await deliveries(api, shop.admin, endpoint["id"])
        assert message["status"] == "SUCCEEDED" and message["attemptCount"] == 4
    finally:
        receiver.stop()


def _redis_down() -> ArqBackend:
    """A real arq client of a Redis that is not there (nothing listens on port 9)."""
    return ArqBackend(ArqRedis(host="127.0.0.1", port=9, socket_connect_timeout=1), "crm-test:down")


async def test_nothing_is_lost_while_redis_is_down(api, shop, receiver, database):
    receiver.script = [(502, 0)]
    endpoint, secret = await add_endpoint(api, shop.admin, receiver.url)
    await new_account(api, shop.manager, "Outage")
    down = _redis_down()
    try:
        # The relay cannot hand the event on: it stays in the outbox.
        assert await relay_once(database, down) == 0
        # The relay gets it through, but the webhook's try cannot be queued: the message is
        # recorded (in the database, not in Redis) and the fan-out job fails, to run again.
        set_backend(down)
        await run_until_idle(database)
        assert receiver.requests == []
        [message] = await deliveries(api, shop.admin, endpoint["id"])
        assert message["status"] == "PENDING" and message["attemptCount"] == 0
        # A worker tries it (a 502) while Redis is still down: its retry cannot be queued.
        assert await jobs.deliver(ids.decode(message["id"])[1], 0, database) == "failed"
        assert len(receiver.requests) == 1
    finally:
        set_backend(DatabaseBackend())
    # Redis is back. The fan-out job's retry has nothing left to queue (the message was tried) ...
    await run_until_idle(database, now=later(minutes=1))
    assert len(receiver.requests) == 1
    # ... the sweeper finds the try that is due and hands it on, once.
    assert await jobs.sweep(now=later(minutes=1)) >= 1
    assert await jobs.sweep(now=later(minutes=1)) >= 1
    await run_until_idle(database, now=later(minutes=1))
    assert len(receiver.requests) == 2
    assert verified(secret, receiver.requests[1])["data"]["name"] == "Outage"
    [message] = await deliveries(api, shop.admin, endpoint["id"])
    assert message["status"] == "SUCCEEDED"
    assert [a["statusCode"] for a in message["attempts"]] == [502, 200]


async def test_secret_rotation_signs_with_both_during_the_overlap(api, shop, receiver, database):
    endpoint, old = await add_endpoint(api, shop.admin, receiver.url)
    data = await shop.admin.data(
        api, ROTATE, {"i": {"id": endpoint["id"], "version": endpoint["version"], "overlapHours": 24}}
    )
    new, endpoint = data["rotateWebhookSecret"]["secret"], data["rotateWebhookSecret"]["endpoint"]
    assert new != old and new.startswith("whsec_")
    await shop.admin.data(api, TEST, {"e": endpoint["id"]})
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verified(old, request)["type"] == "webhook.test"
    assert verified(new, request)["type"] == "webhook.test"

    data = await shop.admin.data(
        api, ROTATE, {"i": {"id": endpoint["id"], "version": endpoint["version"], "overlapHours": 0}}
    )
    newest = data["rotateWebhookSecret"]["secret"]
    await shop.admin.data(api, TEST, {"e": endpoint["id"]})
    request = receiver.requests[-1]
    verified(newest, request)
    for stale in (old, new):
        with pytest.raises(WebhookVerificationError):
            verified(stale, request)

    # The secret is stored encrypted, never as it is.
    row = await WebhookEndpoint.get(id=ids.decode(endpoint["id"])[1])
    assert newest not in row.secrets and newest.removeprefix("whsec_") not in row.secrets

    data = await shop.admin.data(api, ROTATE, {"i": {"id": endpoint["id"], "version": 99, "overlapHours": 500}})
    assert [e["field"] for e in data["rotateWebhookSecret"]["errors"]] == ["overlapHours"]


async def test_signing_secrets_follow_a_secret_key_rotation(api, shop, database):
    endpoint, secret = await add_endpoint(api, shop.admin, "https://erp.example.com/hooks")
    row = await WebhookEndpoint.get(id=ids.decode(endpoint["id"])[1])
    new = database.model_copy(
        update={"secret_key": "next-secret-key-of-32-characters!", "old_secret_keys": [database.secret_key]}
    )
    assert await rotate_all(new) >= 1
    await row.refresh_from_db()
    only_new = database.model_copy(update={"secret_key": new.secret_key, "old_secret_keys": []})
    assert signing_secrets(only_new, row, datetime.now(UTC)) == [secret]
    with pytest.raises(SecretsUnreadable):
        signing_secrets(database, row, datetime.now(UTC))  # the old key alone no longer reads it
    # Back to the suite's key, for the endpoints of the other tests.
    back = database.model_copy(update={"old_secret_keys": [new.secret_key]})
    assert await rotate_all(back) >= 1


async def test_event_types_and_filters_choose_what_is_sent(api, shop, receiver, database):
    _endpoint, secret = await add_endpoint(
        api, shop.admin, receiver.url, eventTypes=["order.created"], filters={"source": ["rozetka"]}
    )
    account = await new_account(api, shop.manager, "Buyer")  # account.created: not subscribed
    item = {"sku": "K-1", "title": "Чайник", "quantity": "1", "unitPrice": "100"}
    for source in ("manual", "rozetka"):
        data = await shop.manager.data(
            api, CREATE_ORDER, {"i": {"accountId": account, "items": [item], "source": source}}
        )
        assert data["createOrder"]["errors"] == []
    await run_until_idle(database)
    [request] = receiver.requests
    event = verified(secret, request)
    assert (event["type"], event["data"]["source"], event["data"]["accountId"]) == ("order.created", "rozetka", account)
    assert event["data"]["id"] == data["createOrder"]["order"]["id"]


async def test_bad_endpoint_input_is_refused_all_at_once(api, shop, database):
    data = await shop.admin.data(
        api, CREATE, {"i": {"url": "ftp://x", "eventTypes": ["order.exploded"], "filters": {"source": "x"}}}
    )
    assert sorted(e["field"] for e in data["createWebhookEndpoint"]["errors"]) == ["eventTypes", "filters", "url"]
    types = {t["name"]: t["objectType"] for t in (await shop.admin.data(api, EVENT_TYPES))["webhookEventTypes"]}
    assert types["order.status_changed"] == "Order" and types["shipment.status_changed"] == "Shipment"


async def test_egress_rules_of_plugins_apply(database, receiver, shop, api):
    strict = database.model_copy(update={"allow_local_providers": False})
    app = create_app(strict, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        for url, why in (
            (receiver.url, "must be an https:// address"),
            ("https://127.0.0.1:8443/hook", "not a loopback, private or link-local one"),
            ("https://10.0.0.5/hook", "not a loopback, private or link-local one"),
            ("https://169.254.169.254/latest", "not a loopback, private or link-local one"),
            ("https://localhost/hook", "not a local name"),
        ):
            headers = {"Authorization": f"Bearer {shop.admin.token}", "X-Organization": shop.slug, **EN}
            response = await http.post(
                "/graphql", json={"query": CREATE, "variables": {"i": {"url": url}}}, headers=headers
            )
            [error] = response.json()["data"]["createWebhookEndpoint"]["errors"]
            assert (error["field"], error["code"]) == ("url", "INVALID"), (url, error)
            assert why in error["message"], (url, error)
        assert await WebhookEndpoint.filter(organization__slug=shop.slug).count() == 0

    # An address that turns private after it was saved (DNS rebinding) is refused when connecting.
    endpoint, _secret = await add_endpoint(api, shop.admin, receiver.url)
    pk = ids.decode(endpoint["id"])[1]
    await WebhookEndpoint.filter(id=pk).update(url=f"https://127.0.0.1:{receiver.port}/hooks/crm")
    await new_account(api, shop.manager, "Rebind")
    await run_until_idle(strict)
    assert receiver.requests == []
    attempt = await WebhookAttempt.filter(message__endpoint_id=pk).first()
    assert attempt.status_code is None and "address refused" in attempt.error


async def test_changes_since_pages_through_current_state(api, shop, database):
    names = ["A", "B", "C"]
    created = [await new_account(api, shop.manager, n) for n in names]
    seen, cursor = [], None
    while True:
        data = await shop.admin.data(api, CHANGES, {"t": ["Account", "Order"], "c": cursor, "f": 2})
        page = data["changesSince"]
        seen += [c["id"] for c in page["changes"]]
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert [i for i in seen if i in created] == created
    assert len(seen) == len(set(seen))

    # A later change shows after the cursor, with its new version.
    version = 1
    data = await shop.manager.data(api, UPDATE_ACCOUNT, {"i": {"id": created[0], "version": version, "name": "A2"}})
    assert data["updateAccount"]["errors"] == []
    data = await shop.admin.data(api, CHANGES, {"t": ["Account"], "c": cursor})
    [change] = data["changesSince"]["changes"]
    assert (change["id"], change["data"]["name"], change["data"]["version"]) == (created[0], "A2", 2)

    body = await shop.admin.execute(api, CHANGES, {"t": ["Secret"]})
    assert body["data"]["changesSince"] is None


async def test_cleanup_deletes_old_records_in_batches(api, shop, receiver, database):
    endpoint, _ = await add_endpoint(api, shop.admin, receiver.url)
    for n in range(3):
        await new_account(api, shop.manager, f"Old {n}")
    await run_until_idle(database)
    pk = ids.decode(endpoint["id"])[1]
    assert await WebhookMessage.filter(endpoint_id=pk, status="succeeded").count() == 3
    # The log of a page of deliveries with their attempts takes the same statements for 1 or 3.
    counts = {}
    for first in (1, 3):
        with QueryCounter() as queries:
            data = await shop.admin.data(api, LOG_PAGE, {"e": endpoint["id"], "n": first})
        assert [len(e["node"]["attempts"]) for e in data["webhookDeliveries"]["edges"]] == [1] * first
        counts[first] = queries.count
    assert counts[1] == counts[3]
    pending = await WebhookMessage.create(
        organization_id=(await Organization.get(slug=shop.slug)).id,
        endpoint_id=pk,
        event_id=uuid.uuid4(),
        event_type="account.created",
        payload={},
    )
    settings = database.model_copy(update={"webhook_retention_days": 30, "webhook_cleanup_batch": 2})
    assert await jobs.cleanup(settings, now=later(days=29)) == 0
    deleted = await jobs.cleanup(settings, now=later(days=31))
    assert deleted >= 3
    assert await WebhookMessage.filter(endpoint_id=pk).count() == 1  # pending ones stay
    assert await WebhookAttempt.filter(message__endpoint_id=pk).count() == 0
    await pending.delete()


def test_retry_schedule_spans_three_days():
    total = sum(delivery.RETRY_SCHEDULE, timedelta())
    assert timedelta(days=2, hours=23) <= total <= timedelta(days=3)
    assert list(delivery.RETRY_SCHEDULE) == sorted(delivery.RETRY_SCHEDULE)


async def test_customers_data_is_masked_unless_the_endpoint_includes_it(api, shop, receiver, database, tenants):
    await add_endpoint(api, shop.admin, receiver.url, eventTypes=["account.created"])
    await add_endpoint(api, shop.admin, receiver.url + "-full", eventTypes=["account.created"], includePii=True)
    data = await shop.manager.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": "Олена", "phones": ["0671234599"], "emails": ["olena@gmail.com"]}},
    )
    assert data["createAccount"]["errors"] == []
    await run_until_idle(database)
    by_path = {r.path: json.loads(r.body) for r in receiver.requests}
    masked, full = by_path["/hooks/crm"]["data"], by_path["/hooks/crm-full"]["data"]
    assert (masked["phones"], masked["emails"]) == (["+38067*****99"], ["o***@gmail.com"])
    assert (full["phones"], full["emails"]) == (["+380671234599"], ["olena@gmail.com"])

    # changesSince follows the caller's own right: an analyst reads the same account masked.
    analyst = await tenants.add(shop, "analyst-pii", "analyst")
    analyst_view = await analyst.data(api, CHANGES, {"t": ["Account"]})
    [change] = [c for c in analyst_view["changesSince"]["changes"] if c["id"] == data["createAccount"]["account"]["id"]]
    assert change["data"]["phones"] == ["+38067*****99"]
    owner_view = await shop.owner.data(api, CHANGES, {"t": ["Account"]})
    [change] = [c for c in owner_view["changesSince"]["changes"] if c["id"] == data["createAccount"]["account"]["id"]]
    assert change["data"]["phones"] == ["+380671234599"]


async def test_only_a_role_with_pii_read_may_send_customers_data_in_full(shop, database):
    from server.auth.scope import Scope
    from server.core.errors import UserInputError, problems_of
    from server.organizations.models import Organization
    from server.webhooks import service

    # The webhooks app role manages endpoints (settings:write) but does not see customers' data.
    scope = Scope.for_app(await Organization.get(slug=shop.slug), "test", "webhooks")
    with pytest.raises(UserInputError) as refused:
        await service.create_endpoint(scope, database, {"url": "https://erp.example.com/hook", "include_pii": True})
    assert [(p.code.value, p.field) for p in problems_of(refused.value)] == [("FORBIDDEN", "includePii")]


async def test_who_may_send_what_to_an_endpoint(api, shop, receiver, database, tenants):
    from server.auth.models import Membership
    from server.auth.scope import Scope
    from server.core.errors import UserInputError, problems_of
    from server.organizations.models import Organization
    from server.webhooks import service

    # A filter on customers' data would let deliveries confirm a guessed phone number.
    body = await shop.admin.data(api, CREATE, {"i": {"url": receiver.url, "filters": {"phones": ["+380671234599"]}}})
    assert [(e["field"], e["code"]) for e in body["createWebhookEndpoint"]["errors"]] == [("filters", "INVALID")]

    # An endpoint with customers' data in full is changed only by someone who sees it.
    endpoint, _secret = await add_endpoint(api, shop.admin, receiver.url, includePii=True)
    settings_only = Scope.for_app(await Organization.get(slug=shop.slug), "test", "webhooks")  # no pii:read
    with pytest.raises(UserInputError) as refused:
        await service.update_endpoint(
            settings_only, database, ids.decode(endpoint["id"])[1], endpoint["version"], {"url": receiver.url + "-x"}
        )
    assert [(p.code.value, p.field) for p in problems_of(refused.value)] == [("FORBIDDEN", "includePii")]

    # A role with settings rights receives only what it may read itself.
    role = {
        "name": "hooks",
        "permissions": ["settings:read", "settings:create", "settings:update", "accounts:read"],
        "rowScope": "all",
    }
    made = await shop.owner.data(
        api, "mutation($i: CreateRoleInput!) { createRole(input: $i) { errors { code } } }", {"i": role}
    )
    assert made["createRole"]["errors"] == []
    hooks = await tenants.add(shop, "hooks", "admin")
    await Membership.filter(user_id=ids.decode(hooks.user_id)[1]).update(role="hooks")
    orders = await hooks.data(api, CREATE, {"i": {"url": receiver.url, "eventTypes": ["order.created"]}})
    assert [(e["field"], e["code"]) for e in orders["createWebhookEndpoint"]["errors"]] == [("eventTypes", "FORBIDDEN")]
    accounts = await hooks.data(api, CREATE, {"i": {"url": receiver.url, "eventTypes": ["account.created"]}})
    assert accounts["createWebhookEndpoint"]["errors"] == []


async def test_changes_since_leaves_out_fields_the_role_may_not_see(api, shop, tenants):
    logistics = await tenants.add(shop, "logistics-sync", "logistics")
    await new_account(api, shop.manager, "Клієнт")
    [change, *_] = (await logistics.data(api, CHANGES, {"t": ["Account"]}))["changesSince"]["changes"]
    assert "name" in change["data"] and not {"tags", "source", "customFields", "emails"} & set(change["data"])
