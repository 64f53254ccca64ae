"""The outbox relay and the in-process worker (the embedded default, no Redis): each event
becomes one job per handler, once; failures are retried with backoff and end up visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.connection import get_connection

from server.activities.models import Activity
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import DatabaseBackend, run_until_idle
from server.jobs.models import JobRun
from server.jobs.registry import handlers_for
from server.jobs.relay import relay_once
from tests import job_fixtures

CREATE = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"""


@pytest.fixture
async def owner(api, tenants):
    return (await tenants.create(("owner",))).owner


async def create_account(owner, api, name: str) -> tuple[str, OutboxEvent]:
    data = await owner.data(api, CREATE, {"i": {"name": name, "phones": ["+380671112233"]}})
    account_id = str(ids.decode(data["createAccount"]["account"]["id"])[1])
    events = await OutboxEvent.filter(topic="account.created").order_by("-created_at").limit(20)
    event = next(e for e in events if e.payload["account_id"] == account_id)
    return account_id, event


async def notes(account_id: str) -> list[str]:
    return [a.subject for a in await Activity.filter(account_id=account_id, kind="note").order_by("created_at")]


async def test_relaying_twice_enqueues_each_handler_once(owner, api, database):
    _, event = await create_account(owner, api, "job-test relay")
    names = handlers_for("account.created")
    assert {"test.note", "test.flaky", "test.slow", "plugins.domain_event"} <= set(names)
    backend = DatabaseBackend()
    await relay_once(database, backend, limit=10_000)
    # As if the relay died after enqueueing but before marking: the event is relayed again.
    await OutboxEvent.filter(id=event.id).update(dispatched_at=None)
    await relay_once(database, backend, limit=10_000)
    jobs = await JobRun.filter(job_id__endswith=f":{event.id}")
    assert sorted(j.name for j in jobs) == sorted(names)
    assert all(j.job_id == f"{j.name}:{event.id}" for j in jobs)
    assert (await OutboxEvent.get(id=event.id)).dispatched_at is not None


async def test_the_in_process_worker_runs_each_handler_once(owner, api, database):
    account_id, event = await create_account(owner, api, "job-test once")
    await run_until_idle(database)
    await run_until_idle(database)
    assert job_fixtures.CALLS["test.note"].count(str(event.id)) == 1
    assert await notes(account_id) == [f"job-test {event.id}"]
    job = await JobRun.get(job_id=f"test.note:{event.id}")
    assert (job.state, job.attempts) == ("done", 1)


async def test_a_failing_job_is_retried_later_with_backoff_then_succeeds(owner, api, database):
    account_id, event = await create_account(owner, api, "job-test flaky 2")
    await run_until_idle(database)
    job = await JobRun.get(job_id=f"test.flaky:{event.id}")
    assert (job.state, job.attempts) == ("queued", 1)
    assert "The provider is down" in job.last_error
    assert job.run_after > datetime.now(UTC)  # waits: backoff, not a hot loop
    later = datetime.now(UTC) + timedelta(days=1)
    await run_until_idle(database, now=later)
    await run_until_idle(database, now=later)
    job = await JobRun.get(job_id=f"test.flaky:{event.id}")
    assert (job.state, job.attempts) == ("done", 3)
    assert await notes(account_id) == [f"job-test {event.id}", f"job-test flaky {event.id}"]


async def test_after_the_last_try_the_failure_is_recorded(owner, api, database):
    account_id, event = await create_account(owner, api, "job-test flaky 99")
    later = datetime.now(UTC)
    for _ in range(database.job_max_tries + 2):
        later += timedelta(days=1)
        await run_until_idle(database, now=later)
    job = await JobRun.get(job_id=f"test.flaky:{event.id}")
    assert (job.state, job.attempts) == ("failed", database.job_max_tries)
    assert job_fixtures.CALLS["test.flaky"].count(str(event.id)) == database.job_max_tries
    assert f"job-test flaky {event.id}" not in await notes(account_id)


async def test_a_permanent_refusal_is_not_retried(owner, api, database):
    _, event = await create_account(owner, api, "job-test refused")
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(days=1))
    job = await JobRun.get(job_id=f"test.flaky:{event.id}")
    assert (job.state, job.attempts) == ("failed", 1)
    assert "refused this for good" in job.last_error


async def test_the_server_s_own_loop_relays_and_runs_jobs_by_itself(owner, api, database):
    """What `crm serve` runs without Redis: no one calls run_until_idle, the loop does the work."""
    import asyncio

    from server.jobs.inprocess import InProcessWorker

    worker = InProcessWorker(database.model_copy(update={"relay_interval_seconds": 0.05}))
    worker.start()
    try:
        account_id, event = await create_account(owner, api, "job-test loop")
        for _ in range(200):
            if await notes(account_id):
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    assert await notes(account_id) == [f"job-test {event.id}"]


async def test_housekeeping_keeps_recent_and_failed_records(owner, api, database):
    from server.jobs.housekeeping import housekeeping

    _, event = await create_account(owner, api, "job-test housekeeping")
    await run_until_idle(database)
    job = await JobRun.get(job_id=f"test.note:{event.id}")
    assert (await housekeeping())["jobs"] >= 0
    assert await JobRun.filter(id=job.id).exists()  # a fresh one stays
    later = datetime.now(UTC) + timedelta(days=8)
    waiting = await OutboxEvent.create(organization_id=event.organization_id, topic="test.waiting", payload={})
    failed_before = await JobRun.filter(state="failed").count()
    try:
        result = await housekeeping(now=later)
        assert await OutboxEvent.filter(id=waiting.id).exists()  # old but not relayed yet: it stays
    finally:
        await OutboxEvent.filter(id=waiting.id).delete()  # no later test's relay gets it
    assert result["jobs"] >= 1 and result["outbox"] >= 1
    assert not await JobRun.filter(id=job.id).exists()
    assert not await OutboxEvent.filter(id=event.id).exists()
    assert await JobRun.filter(state="failed").count() == failed_before  # failures stay for people to see


async def test_the_relay_reads_its_batch_through_the_index_of_waiting_events(database):
    """Migration 0042's partial index, which no model declares: a later migration that rebuilds
    outbox_event on SQLite would drop it silently, and the relay would sort the whole backlog
    on every pass again (docs/jobs.md, "Reads that stay small in a surge")."""
    client = get_connection("default")
    if client.capabilities.dialect == "postgres":
        rows = await client.execute_query_dict(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'outbox_event_undispatched'"
        )
        assert [r["indexdef"].split(" USING ")[1] for r in rows] == [
            "btree (created_at, id) WHERE (dispatched_at IS NULL)"
        ]
        assert not await client.execute_query_dict(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'outbox_event' AND indexdef LIKE '%(dispatched_at)'"
        )
    else:
        relay_query = (
            OutboxEvent.filter(dispatched_at=None).order_by("created_at", "id").limit(200).sql(params_inline=True)
        )
        plan = " ".join(str(r["detail"]) for r in await client.execute_query_dict(f"EXPLAIN QUERY PLAN {relay_query}"))
        assert "outbox_event_undispatched" in plan and "TEMP B-TREE" not in plan  # read in order, not sorted
