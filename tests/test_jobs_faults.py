"""Faults, with real Redis and real `crm worker` processes on a database of their own:
a worker killed in the middle of a job, two workers at once, Redis going away while the relay
works. In every case each event's job has its effect exactly once.

Needs Redis: REDIS_URL, or redis://127.0.0.1:6379/0 when unset. CI always has it; without one
these tests fail unless CRM_TESTS_WITHOUT_REDIS=1 says to skip them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests import test_cli
from tests.test_cli import new_org, ok

fresh_db = test_cli.fresh_db  # the same fixture: an empty database of its own (SQLite file or PostgreSQL)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CRM_TESTS_WITHOUT_REDIS") == "1":
            pytest.skip(f"no Redis at {REDIS_URL} and CRM_TESTS_WITHOUT_REDIS=1")
        pytest.fail(f"these tests need Redis at {REDIS_URL} ({exc}); set CRM_TESTS_WITHOUT_REDIS=1 to skip them")
    return REDIS_URL


@pytest.fixture
def env(fresh_db, redis_url, tmp_path):
    """A migrated database with organization 'shop', a queue of its own, a markers folder."""
    environment = fresh_db()
    new_org(environment)
    markers = tmp_path / "markers"
    markers.mkdir()
    queue = f"crm-test:{uuid.uuid4().hex[:10]}"
    environment |= {
        "REDIS_URL": redis_url,
        "ARQ_QUEUE_NAME": queue,
        "CRM_JOB_MODULES": "tests.job_fixtures",
        "CRM_TEST_MARKERS": str(markers),
        "JOB_TIMEOUT_SECONDS": "2",  # a killed worker's job is taken again ~17 s later (arq adds 5 + 10 s)
        "RELAY_INTERVAL_SECONDS": "0.2",
    }
    yield environment
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{queue}*"):
        client.delete(key)


SEED = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.accounts.service import create_account
        from server.auth.scope import Scope
        from server.organizations.models import Organization
        scope = Scope.for_app(await Organization.get(slug="shop"), "test:seed", "plugin-webhook")
        ids = []
        for n in range(int(sys.argv[2])):
            account = await create_account(scope, {"name": f"{sys.argv[1]} {n}", "phones": [f"+38067{n:07d}"]})
            ids.append(str(account.id))
        print(json.dumps(ids))
    finally:
        await close_db()

asyncio.run(main())
"""

NOTES = r"""
import asyncio, json
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.activities.models import Activity
        from server.core.models import OutboxEvent
        subjects = [a.subject for a in await Activity.filter(kind="note", subject__startswith="job-test")]
        waiting = await OutboxEvent.filter(dispatched_at=None).count()
        print(json.dumps({"notes": subjects, "undispatched": waiting}))
    finally:
        await close_db()

asyncio.run(main())
"""


def seed(env: dict, name: str, count: int) -> list[str]:
    return json.loads(ok(crm_python(SEED, [name, str(count)], env)))


def state(env: dict) -> dict:
    return json.loads(ok(crm_python(NOTES, [], env)))


def crm_python(code: str, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    with log.open("a") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_for(check, what: str, timeout: float, logs: list[Path]) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.3)
    shown = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{shown}")


def runs(markers: Path, name: str) -> int:
    path = markers / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_worker_killed_mid_job_the_job_runs_again_and_its_effect_happens_once(env, tmp_path):
    markers = Path(env["CRM_TEST_MARKERS"])
    [account] = seed(env, "job-test slow", 1)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    first = start_worker(env, logs[0])
    try:
        started = lambda: [p for p in markers.iterdir() if not p.name.startswith("note-")]  # noqa: E731
        wait_for(started, "the first run of the slow job", 60, logs)
        first.send_signal(signal.SIGKILL)  # in the middle of the job: no cleanup, no ack
        first.wait(timeout=10)
    finally:
        stop(first)
    second = start_worker(env, logs[1])
    try:
        wait_for(lambda: len(state(env)["notes"]) >= 2, "the re-run after the kill", 90, logs)
        time.sleep(1)
        result = state(env)
    finally:
        stop(second)
    [marker] = [p for p in markers.iterdir() if not p.name.startswith("note-")]
    assert runs(markers, marker.name) == 2  # ran twice: killed once, then completed
    slow_notes = [s for s in result["notes"] if s.startswith("job-test slow ")]
    assert len(slow_notes) == 1, result  # ...and did its work once
    assert result["undispatched"] == 0
    assert account


FAILED_JOBS = test_cli.orm_program(
    """        from server.jobs.models import JobRun
        print(json.dumps(await JobRun.filter(state="failed").values("name", "attempts", "last_error")))
"""
)


def test_a_worker_killed_during_the_last_try_leaves_a_failure_record(env, tmp_path):
    # One try allowed: the worker dies in it. The job must not vanish into arq's log: the next
    # worker records it as failed (visible in job_run) and does not run it a second time.
    env = {**env, "JOB_MAX_TRIES": "1"}
    markers = Path(env["CRM_TEST_MARKERS"])
    seed(env, "job-test slow", 1)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    first = start_worker(env, logs[0])
    try:
        started = lambda: [p for p in markers.iterdir() if not p.name.startswith("note-")]  # noqa: E731
        wait_for(started, "the slow job's only try", 60, logs)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    second = start_worker(env, logs[1])
    failed = lambda: json.loads(ok(crm_python(FAILED_JOBS, [], env)))  # noqa: E731
    try:
        wait_for(lambda: any(r["name"] == "test.slow" for r in failed()), "the failure record", 90, logs)
    finally:
        stop(second)
    [row] = [r for r in failed() if r["name"] == "test.slow"]
    assert row["attempts"] == 1 and "stopped before it finished" in row["last_error"]
    [marker] = [p for p in markers.iterdir() if not p.name.startswith("note-")]
    assert runs(markers, marker.name) == 1  # not run again
    assert not [n for n in state(env)["notes"] if n.startswith("job-test slow ")]


def test_two_workers_at_once_run_each_job_once(env, tmp_path):
    # The fixture's 2 s job limit is for the kill tests. Here it would make a job that a loaded
    # machine slows past 2 s time out and run again (a second run by design, not by two
    # workers taking one job), so the limit is one no run here reaches: any second run is a
    # job both workers took.
    env = {**env, "JOB_TIMEOUT_SECONDS": "60"}
    markers = Path(env["CRM_TEST_MARKERS"])
    seed(env, "job-test pair", 12)
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(env, log) for log in logs]
    try:
        wait_for(lambda: len(state(env)["notes"]) >= 12, "12 notes", 180, logs)
        time.sleep(1.5)  # anything doubled would show up by now
        result = state(env)
    finally:
        for proc in workers:
            stop(proc)
    note_runs = {p.name: runs(markers, p.name) for p in markers.iterdir() if p.name.startswith("note-")}
    assert len(note_runs) == 12 and set(note_runs.values()) == {1}, note_runs
    assert len(result["notes"]) == 12 and result["undispatched"] == 0


class Outage:
    """A TCP proxy to Redis that the test can cut and restore: Redis 'goes away' for the relay."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.pairs += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        for s in self.pairs:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.pairs = []

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


RELAY = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    settings = Settings()
    await init_db(settings)
    try:
        from arq import create_pool
        from arq.connections import RedisSettings
        from server.core.models import OutboxEvent
        from server.jobs import load_job_modules
        from server.jobs.arq_worker import ArqBackend
        from server.jobs.relay import relay_once
        load_job_modules()
        redis_settings = RedisSettings.from_dsn(sys.argv[1])
        redis_settings.conn_retries = 0
        pool = await create_pool(redis_settings)
        backend = ArqBackend(pool, settings.arq_queue_name)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:  # one relay pass per line the test sends
            try:
                relayed = await relay_once(settings, backend)
            except Exception as exc:
                relayed = f"error {type(exc).__name__}"
            waiting = await OutboxEvent.filter(dispatched_at=None).count()
            print(json.dumps({"relayed": relayed, "undispatched": waiting}), flush=True)
    finally:
        await close_db()

asyncio.run(main())
"""


def test_events_wait_in_the_outbox_while_redis_is_away_then_go_once(env, redis_url, tmp_path):
    seed(env, "job-test outage", 3)
    with relay_behind_outage(env, redis_url, tmp_path) as (outage, relay_pass):
        away = relay_pass()
        assert away["undispatched"] == 3  # nothing lost, nothing marked as sent
        assert relay_pass()["undispatched"] == 3  # still waiting on the next pass
        outage.restore()
        back = relay_pass()
        assert (back["relayed"], back["undispatched"]) == (3, 0)
        assert relay_pass()["relayed"] == 0
    # Exactly one job per (event, handler) in the queue: a worker now runs each once.
    worker_log = tmp_path / "worker.log"
    worker = start_worker(env, worker_log)
    try:
        wait_for(lambda: len(state(env)["notes"]) >= 3, "3 notes after the outage", 60, [worker_log])
        time.sleep(1)
        notes = state(env)["notes"]
    finally:
        stop(worker)
    assert len(notes) == 3
    markers = Path(env["CRM_TEST_MARKERS"])
    assert {runs(markers, p.name) for p in markers.iterdir() if p.name.startswith("note-")} == {1}


SHOP = r"""
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
        account = await create_account(scope, {"name": "Олена", "phones": [sys.argv[3]]})
        item = {"sku": "A", "title": "Чайник", "quantity": 1, "unit_price": 100}
        order = await create_order(scope, {"account_id": account.id, "items": [item]})
        print(json.dumps({"order": str(order.id)}))
    finally:
        await close_db()

asyncio.run(main())
"""

NOTIFICATIONS = r"""
import asyncio, json
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.notifications.models import Notification
        rows = await Notification.all().order_by("created_at", "position")
        print(json.dumps([{"channel": n.channel, "state": n.state, "reason": n.reason} for n in rows]))
    finally:
        await close_db()

asyncio.run(main())
"""


def test_a_worker_killed_while_sending_a_notification_never_gives_the_customer_two(env, tmp_path):
    """The worker dies during the call to TurboSMS, which takes the message anyway. The job runs
    again on another worker: the customer has exactly one message, and the CRM says the send was
    interrupted instead of sending it again."""
    from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator

    phone = "+380671234567"
    with TurboSMSSimulator() as sim:
        ok(crm_python(SHOP, [sim.url, TEST_TOKEN, phone], env))
        sim.delay(6, count=1, path="/message/send.json")  # TurboSMS is slow to answer this one
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        first = start_worker(env, logs[0])
        try:
            wait_for(lambda: bool(sim.requests_to("/message/send.json")), "the send to TurboSMS", 60, logs)
            first.send_signal(signal.SIGKILL)  # in the middle of the provider call
            first.wait(timeout=10)
        finally:
            stop(first)
        second = start_worker(env, logs[1])
        try:

            def settled() -> bool:
                rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
                return bool(rows) and rows[-1]["state"] not in ("queued", "sending")

            wait_for(settled, "the job's re-run", 90, logs)
            time.sleep(7)  # TurboSMS finishes the delayed request by now
            rows = json.loads(ok(crm_python(NOTIFICATIONS, [], env)))
        finally:
            stop(second)
        with sim.lock:
            delivered = [m for m in sim.messages.values() if m.recipient == phone.lstrip("+")]
    assert len(delivered) == 1  # the customer got it once
    assert len(sim.requests_to("/message/send.json")) == 1  # and the CRM never sent it again
    assert [(r["channel"], r["state"]) for r in rows] == [("viber", "failed")]
    assert "Надсилання перервалося" in rows[0]["reason"]


@contextlib.contextmanager
def relay_behind_outage(env: dict, redis_url: str, tmp_path: Path):
    """A relay process that reaches Redis through an ``Outage`` proxy, already cut: yields the
    proxy and ``relay_pass()``, which runs one relay pass and returns what it reported."""
    url = redis.connection.parse_url(redis_url)
    outage = Outage((url.get("host", "127.0.0.1"), int(url.get("port", 6379))))
    proxied = f"redis://127.0.0.1:{outage.port}/{url.get('db', 0)}"
    log = tmp_path / "relay.log"
    relay = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", RELAY, proxied],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )

    def relay_pass() -> dict:
        relay.stdin.write("go\n")
        relay.stdin.flush()
        line = relay.stdout.readline()
        assert line, log.read_text()
        return json.loads(line)

    try:
        assert json.loads(relay.stdout.readline() or "{}").get("ready"), log.read_text()
        outage.cut()
        yield outage, relay_pass
    finally:
        relay.stdin.close()
        relay.wait(timeout=30)
        outage.close()
