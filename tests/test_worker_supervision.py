"""`crm worker` processes that outlive faults (docs/jobs.md, "Running workers under a supervisor"):
a worker killed -9 in the middle of a batch, a long job that keeps its lease, and Redis cut
(through a proxy) for longer than the reconnect interval, after which the same processes carry
on. Real Redis, real worker processes, loopback only; every wait is bounded.

Needs Redis, like tests/test_jobs_faults.py (whose fixtures and helpers these tests share): the
tests fail without it unless CRM_TESTS_WITHOUT_REDIS=1 says to skip them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from server.jobs.health import read_health_file
from tests import test_jobs_faults as faults
from tests.test_cli import ON_POSTGRES, ok
from tests.test_jobs_faults import (
    NOTIFICATIONS,
    ROOT,
    Outage,
    crm_python,
    runs,
    seed,
    start_worker,
    state,
    stop,
    wait_for,
)

# The same fixtures: a database of its own with organization "shop", a queue of its own, Redis.
fresh_db, redis_url, env = faults.fresh_db, faults.redis_url, faults.env

# -- a long job keeps its lease; a killed worker's job is free a lease later -------------------


def started_on(logs: list[Path], job_id: str) -> int:
    """Which worker's log shows the start of the job (arq logs "→ <job id>:<function>(...)")."""
    found = [i for i, log in enumerate(logs) if log.exists() and f"→ {job_id}:" in log.read_text()]
    assert len(found) == 1, found
    return found[0]


def test_a_long_job_keeps_its_lease_and_a_killed_workers_job_runs_again_a_lease_later(env, tmp_path):
    # The job time limit is a minute: with arq's own lock (the limit + 10 s) a killed worker's
    # job would wait 75 s. The lease is 3 s: the job must come back long before that, and must
    # not be taken by the other worker while its first run is alive, however long it takes.
    env = {**env, "JOB_TIMEOUT_SECONDS": "60", "WORKER_LEASE_SECONDS": "3"}
    markers = Path(env["CRM_TEST_MARKERS"])
    seed(env, "job-test slow", 1)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(env, log) for log in logs]
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        slow_runs = lambda: [p for p in markers.iterdir() if not p.name.startswith("note-")]  # noqa: E731
        wait_for(slow_runs, "the first run of the slow job", 60, logs)
        [marker] = slow_runs()
        time.sleep(3 * 3)  # three leases: without renewal the other worker would have taken it
        assert runs(markers, marker.name) == 1, "the job ran twice while its first run was alive"
        assert 0 < client.pttl(f"arq:in-progress:test.slow:{marker.name}") <= 3000  # a lease, not the time limit
        runner = workers[started_on(logs, f"test.slow:{marker.name}")]
        runner.send_signal(signal.SIGKILL)  # no cleanup: the lease is simply not renewed any more
        runner.wait(timeout=10)
        # Bounded well below the 75 s of arq's own lock: the other worker takes it a lease later.
        wait_for(lambda: runs(markers, marker.name) == 2, "the re-run on the other worker", 30, logs)
        wait_for(lambda: any("slow" in n for n in state(env)["notes"]), "the slow job's note", 30, logs)
    finally:
        for proc in workers:
            stop(proc)
    assert [n for n in state(env)["notes"] if n.startswith("job-test slow ")] and runs(markers, marker.name) == 2


# -- a worker killed -9 in the middle of a batch of notifications ------------------------------

BATCH = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    settings = Settings()
    await init_db(settings)
    try:
        from server.accounts.service import create_account
        from server.auth.principal import for_user
        from server.auth.scope import Scope
        from server.auth.service import add_member, create_user
        from server.notifications import service as notifications
        from server.orders.service import create_order
        from server.organizations.models import Organization
        from server.plugins.service import install_plugin
        org = await Organization.get(slug="shop")
        user = await create_user("owner@shop.example", "owner-password-1", "Owner")
        await add_member(org, user, "owner")
        scope = Scope(await for_user(user, "shop"))
        config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": sys.argv[1], "viber_sms_fallback": False}
        await install_plugin(scope, settings, "turbosms", config=config, secrets={"token": sys.argv[2]})
        await notifications.update_settings(scope, {"quiet_start": "00:00", "quiet_end": "00:00", "send_delay_seconds": 0})
        for phone in sys.argv[3:]:
            account = await create_account(scope, {"name": f"Клієнт {phone}", "phones": [phone]})
            item = {"sku": "A", "title": "Чайник", "quantity": 1, "unit_price": 100}
            await create_order(scope, {"account_id": account.id, "items": [item]})
    finally:
        await close_db()

asyncio.run(main())
"""


def test_a_worker_killed_in_the_middle_of_a_batch_the_other_one_finishes_it_and_nobody_gets_two(env, tmp_path):
    """Eight order notifications, two workers taking two jobs each. The first four sends are slow
    at TurboSMS; with all four under way (two per worker, so neither is between claiming a
    message and handing it over), one worker is killed. The other sends the rest. Every customer
    has exactly one message; the two the killed worker had handed over are marked interrupted
    (the CRM cannot know they arrived), none is sent twice, none is left waiting."""
    from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator

    # A job time limit above TurboSMS's slowness here: the other worker's own slow sends finish.
    # The killed worker's two come back a lease (10 s) later, still within that limit after
    # their claim, so the job looks again once it has passed (it could have been a live sender).
    env = {**env, "WORKER_CONCURRENCY": "2", "JOB_TIMEOUT_SECONDS": "15"}
    phones = [f"+38067{n:07d}" for n in range(1, 9)]
    with TurboSMSSimulator() as sim:
        ok(crm_python(BATCH, [sim.url, TEST_TOKEN, *phones], env))
        sim.delay(7, count=4, path="/message/send.json")
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [start_worker(env, log) for log in logs]
        try:
            sends = lambda: len(sim.requests_to("/message/send.json"))  # noqa: E731
            wait_for(lambda: sends() >= 4, "four sends under way", 60, logs)
            assert sends() == 4  # both workers are full: nothing else runs until one of these ends
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)

            def settled() -> bool:
                rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
                return len(rows) == 8 and all(r["state"] not in ("queued", "sending") for r in rows)

            wait_for(settled, "all eight notifications settled by the other worker", 60, logs)
            time.sleep(1)  # anything sent twice would show by now
            rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
            assert workers[1].poll() is None  # the same other worker did it all
        finally:
            for proc in workers:
                stop(proc)
        with sim.lock:
            received = sorted(m.recipient for m in sim.messages.values())
    assert received == sorted(p.lstrip("+") for p in phones)  # each customer once
    assert len(sim.requests_to("/message/send.json")) == 8  # nothing was sent again
    states = sorted(r["state"] for r in rows)
    assert states == ["failed", "failed"] + ["sent"] * 6, json.dumps(rows, indent=1, ensure_ascii=False)
    assert all("Надсилання перервалося" in r["reason"] for r in rows if r["state"] == "failed")


# -- Redis cut for longer than the reconnect interval ------------------------------------------


def health_of(path: Path, *, live: bool = False) -> bool:
    return read_health_file(path, live_only=live)[0]


def health_command(path: Path, environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter, our own command
        [sys.executable, "-m", "server.cli", "worker", "health", "--health-file", str(path), *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_workers_outlive_a_redis_cut_longer_than_their_reconnect_interval(env, redis_url, tmp_path):
    url = redis.connection.parse_url(redis_url)
    outage = Outage((url.get("host", "127.0.0.1"), int(url.get("port", 6379))))
    cut_seconds = 6
    env = {
        **env,
        "REDIS_URL": f"redis://127.0.0.1:{outage.port}/{url.get('db', 0)}",
        "WORKER_RECONNECT_MIN_SECONDS": "0.5",
        "WORKER_RECONNECT_MAX_SECONDS": "2",  # well under the cut: several tries while it lasts
    }
    markers = Path(env["CRM_TEST_MARKERS"])
    files = [tmp_path / "worker-1.health", tmp_path / "worker-2.health"]
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    port = free_port()
    workers = [
        start_worker({**env, "WORKER_HEALTH_FILE": str(files[0]), "WORKER_HEALTH_PORT": str(port)}, logs[0]),
        start_worker({**env, "WORKER_HEALTH_FILE": str(files[1])}, logs[1]),
    ]
    try:
        seed(env, "job-test before", 3)
        wait_for(lambda: len(state(env)["notes"]) >= 3, "3 notes before the cut", 60, logs)
        wait_for(lambda: all(health_of(f) for f in files), "both workers healthy", 30, logs)
        assert health_command(files[0], env).returncode == 0
        assert http_status(port, "/health") == 200

        outage.cut()
        cut_at = time.monotonic()
        wait_for(lambda: not any(health_of(f) for f in files), "both workers unhealthy", 20, logs)
        assert http_status(port, "/health") == 503 and http_status(port, "/live") == 200
        unhealthy = health_command(files[1], env)
        assert unhealthy.returncode == 1 and "redis" in unhealthy.stderr, unhealthy.stderr
        assert health_command(files[1], env, "--live").returncode == 0  # alive, waiting for Redis
        seed(env, "job-test during", 4)  # written while Redis is away: they wait in the outbox
        time.sleep(max(0.0, cut_seconds - (time.monotonic() - cut_at)))
        assert [w.poll() for w in workers] == [None, None]  # nobody gave up
        assert len(state(env)["notes"]) == 3
        outage.restore()

        wait_for(lambda: len(state(env)["notes"]) >= 7, "the 4 events of the cut delivered", 60, logs)
        wait_for(lambda: all(health_of(f) for f in files), "both workers healthy again", 30, logs)
        seed(env, "job-test after", 2)
        wait_for(lambda: len(state(env)["notes"]) >= 9, "2 more notes after the cut", 60, logs)
        time.sleep(1.5)  # anything doubled would show up by now
        result = state(env)
        assert [w.poll() for w in workers] == [None, None]  # the same processes, never restarted
        assert http_status(port, "/health") == 200
    finally:
        for proc in workers:
            stop(proc)
        outage.close()
    assert [w.returncode for w in workers] == [0, 0]  # SIGTERM: a clean stop
    assert not any(f.exists() for f in files)  # a stopped worker leaves no "healthy" file behind
    note_runs = {p.name: runs(markers, p.name) for p in markers.iterdir() if p.name.startswith("note-")}
    assert len(note_runs) == 9 and set(note_runs.values()) == {1}, note_runs
    assert len(result["notes"]) == 9 and result["undispatched"] == 0
    assert all("lost Redis" in log.read_text() for log in logs)  # both really were cut off


# -- the database cut for a while --------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="a network cut needs a database server: PostgreSQL runs only")
def test_workers_outlive_a_database_cut_and_relay_what_was_written_meanwhile(env, tmp_path):
    direct = urlsplit(env["DATABASE_URL"])
    outage = Outage((direct.hostname or "127.0.0.1", direct.port or 5432))
    proxied = urlunsplit(direct._replace(netloc=f"{direct.username}@127.0.0.1:{outage.port}"))
    worker_env = {**env, "DATABASE_URL": proxied, "JOB_RETRY_BASE_SECONDS": "1", "JOB_RETRY_MAX_SECONDS": "2"}
    health = tmp_path / "worker.health"
    log = tmp_path / "worker.log"
    worker = start_worker({**worker_env, "WORKER_HEALTH_FILE": str(health)}, log)
    try:
        seed(env, "job-test before", 2)  # seeds and checks go straight to the database
        wait_for(lambda: len(state(env)["notes"]) >= 2, "2 notes before the cut", 60, [log])
        wait_for(lambda: health_of(health), "the worker healthy", 30, [log])

        outage.cut()
        wait_for(lambda: not health_of(health), "the worker unhealthy", 20, [log])
        assert "database" in read_health_file(health)[1]
        seed(env, "job-test during", 3)
        time.sleep(6)
        assert worker.poll() is None and len(state(env)["notes"]) == 2
        outage.restore()

        wait_for(lambda: len(state(env)["notes"]) >= 5, "the 3 events of the cut delivered", 60, [log])
        wait_for(lambda: health_of(health), "the worker healthy again", 30, [log])
        time.sleep(1.5)
        result = state(env)
        assert worker.poll() is None  # the same process
    finally:
        stop(worker)
        outage.close()
    assert worker.returncode == 0
    markers = Path(env["CRM_TEST_MARKERS"])
    note_runs = {p.name: runs(markers, p.name) for p in markers.iterdir() if p.name.startswith("note-")}
    assert len(note_runs) == 5 and set(note_runs.values()) == {1}, note_runs
    assert len(result["notes"]) == 5 and result["undispatched"] == 0
