"""Notifications and partner webhook deliveries per second, end to end: an order's status
change -> outbox -> relay -> arq -> `crm worker` -> the TurboSMS plugin -> the TurboSMS simulator
receiving the message, and -> the webhook fan-out -> a signed POST to a local receiver.

    python bench/notifications.py                 # 400 orders, with 1 and then 2 workers
    ORDERS=30000 WORKERS="1 2 4" python bench/notifications.py
    ORDERS=40 python bench/notifications.py       # a smoke run: does it work at all
    BACKLOG=1 ORDERS=3000 python bench/notifications.py   # the pipeline alone draining a backlog

Needs PostgreSQL (PG_URL, default postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/13). The shop and its ORDERS orders are made once per bench
process (the "new" rule switched off so creating them sends nothing, their order.created events
drained by a worker) in a template database; each run gets a copy of it and its own queue,
dropped at the end, and the workers are stopped whatever happens. A number repeated in WORKERS
("2 1 2 1") runs again on a fresh copy. Figures and the machine go in bench/README.md.

For each run (live, without BACKLOG): the workers are started on the copy and the clock starts
once each answers healthy; then every order is cancelled, CHANGERS (8) changes at a time (the
"cancelled" rule is on, Viber channel, no send delay, no quiet hours) and the clock runs until
the simulator has received ORDERS messages and the receiver ORDERS webhooks (an endpoint
subscribed to order.status_changed). Delay is per order:
arrival minus the moment its status change committed. Lost: orders whose message (webhook)
never arrived; doubled: arrivals beyond the first per order. SQL statements per notification:
every statement the workers sent during the measured phase (relay, notification, webhook and
plugin jobs: the whole pipeline), divided by ORDERS; the workers run through
bench/counting_worker.py, which counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator  # noqa: E402

PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
ORDERS = int(os.environ.get("ORDERS", "400"))
WORKERS = [int(n) for n in os.environ.get("WORKERS", "1 2").split()]
TIMEOUT = float(os.environ.get("TIMEOUT", "600"))
CHANGERS = int(os.environ.get("CHANGERS", "8"))  # status changes committed concurrently
# BACKLOG=1: every change commits first, with no worker running; then the workers start, and
# once they answer healthy the backlog is handed to them and the clock starts: what the pipeline
# itself can do, without sharing the CPU with the changes nor counting the processes' start.
BACKLOG = os.environ.get("BACKLOG", "") not in ("", "0")
# PROFILE_SECONDS=N: py-spy (from PATH or this interpreter's folder) records each worker for N
# seconds of the measured phase; raw stacks in bench/results/notify-profile-<workers>-<i>.txt.
PROFILE_SECONDS = int(os.environ.get("PROFILE_SECONDS", "0"))
# The simulator listens on 127.0.0.1 over http, which production settings refuse (docs/operations.md).
BENCH_SETTINGS = {"ALLOW_LOCAL_PROVIDERS": "true", "SECRET_KEY": "bench-secret-key-" + "x" * 32}


class Receiver:
    """A partner's webhook endpoint on 127.0.0.1: records (arrival time, webhook-id), answers 204."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a partner's web server would

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.arrivals.append((time.time(), self.headers.get("webhook-id", "")))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's default backlog of 5 drops connections when two workers open
            # theirs at once (nginx listens with 511): tries fail, and are sent again.
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def clear(self) -> None:
        with self.lock:
            self.arrivals.clear()

    def close(self) -> None:
        self.server.shutdown()


@contextlib.asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        yield connection
    finally:
        await connection.close()


async def admin(sql: str) -> None:
    async with connected(PG_URL + "/postgres") as connection:
        await connection.execute(sql)


async def prepare(database_url: str, sim: TurboSMSSimulator, receiver: Receiver) -> tuple[list[tuple[str, int]], dict]:
    """Schema, organization, plugin, rules, a webhook endpoint and ORDERS new orders; returns
    (order id, version) pairs."""
    from server.accounts.service import create_account
    from server.auth.principal import for_user
    from server.auth.scope import Scope
    from server.auth.service import add_member, create_user
    from server.config import Settings
    from server.db import close_db, init_db, migrate
    from server.notifications import service as notifications
    from server.orders.service import create_order
    from server.organizations.service import create_organization
    from server.plugins.service import install_plugin
    from server.webhooks.service import create_endpoint

    settings = Settings(
        database_url=database_url, redis_url=None, allow_local_providers=True, secret_key=BENCH_SETTINGS["SECRET_KEY"]
    )
    await init_db(settings)
    try:
        await migrate(settings)
        org = await create_organization("bench", "Bench shop")
        user = await create_user("owner@bench.example", "bench-password-1", "Owner")
        await add_member(org, user, "owner")
        scope = Scope(await for_user(user, "bench"))
        config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": sim.url, "viber_sms_fallback": False}
        await install_plugin(scope, settings, "turbosms", config=config, secrets={"token": TEST_TOKEN})
        await notifications.update_settings(
            scope, {"quiet_start": "00:00", "quiet_end": "00:00", "send_delay_seconds": 0}
        )
        await notifications.update_rule(scope, "new", channels=None, enabled=False, urgent=None)
        await notifications.update_rule(scope, "cancelled", channels=["viber"], enabled=True, urgent=True)
        await create_endpoint(scope, settings, {"url": receiver.url, "event_types": ["order.status_changed"]})
        orders = []
        for n in range(ORDERS):
            account = await create_account(scope, {"name": f"Покупець {n}", "phones": [f"+38067{n:07d}"]})
            order = await create_order(
                scope,
                {"account_id": account.id, "items": [{"sku": "A", "title": "Товар", "quantity": 1, "unit_price": 100}]},
            )
            orders.append((str(order.id), order.version))
        return orders, {"organization": str(org.id), "user": str(user.id)}
    finally:
        await close_db()


async def cancel_all(database_url: str, orders: list[tuple[str, int]]) -> dict[str, float]:
    """Cancel every order, CHANGERS at a time (a shop's bulk action, or many agents); returns
    order id -> the moment its change committed."""
    from server.auth.models import User
    from server.auth.principal import for_user
    from server.auth.scope import Scope
    from server.config import Settings
    from server.db import close_db, init_db
    from server.orders.service import change_status

    await init_db(Settings(database_url=database_url, redis_url=None, secret_key=BENCH_SETTINGS["SECRET_KEY"]))
    try:
        scope = Scope(await for_user(await User.get(email="owner@bench.example"), "bench"))
        committed = {}

        async def changer(share: list[tuple[str, int]]) -> None:
            for order_id, version in share:
                await change_status(scope, uuid.UUID(order_id), version, "cancelled", reason="bench")
                committed[order_id] = time.time()

        await asyncio.gather(*(changer(orders[i::CHANGERS]) for i in range(CHANGERS)))
        return committed
    finally:
        await close_db()


async def outbox_empty(database_url: str) -> bool:
    async with connected(database_url) as connection:
        waiting = await connection.fetchval("select count(*) from outbox_event where dispatched_at is null")
        queued = await connection.fetchval("select count(*) from notification where state = 'queued'")
        return waiting == 0 and queued == 0


HELD = datetime(2999, 1, 1, tzinfo=UTC)  # the dispatch time of events held back from the relays


async def hold_backlog(database_url: str, *, hold: bool) -> int:
    """Hide the undispatched events from the relays (``hold``), or hand them back; how many."""
    async with connected(database_url) as connection:
        if hold:
            sql = "update outbox_event set dispatched_at = $1 where dispatched_at is null"
        else:
            sql = "update outbox_event set dispatched_at = null where dispatched_at = $1"
        done = await connection.execute(sql, HELD)
        return int(done.split()[-1])


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


async def wait_healthy(ports: list[int], procs: list[subprocess.Popen], deadline: float) -> None:
    """Until every worker answers 200 on GET /health: imported, connected, its relay polling."""
    async with aiohttp.ClientSession() as session:
        for port, proc in zip(ports, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"a worker exited ({proc.returncode}): see bench/results/notify-worker-*.log")
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.time() > deadline:
                    raise TimeoutError(f"the worker with health port {port} did not become healthy")
                await asyncio.sleep(0.1)


async def notification_states(database_url: str) -> dict[str, int]:
    """How many notifications ended in each state (a refused message arrives at the simulator
    but ends "failed": it is not counted as delivered)."""
    async with connected(database_url) as connection:
        rows = await connection.fetch("select state, count(*) as n from notification group by state")
        return {row["state"]: row["n"] for row in rows}


async def failed_tries(database_url: str) -> dict[str, int]:
    """Webhook tries that did not get a 2xx, by answer or error: each one is sent again, and a
    receiver that got it already counts it twice."""
    async with connected(database_url) as connection:
        rows = await connection.fetch(
            "select coalesce(status_code::text, error) as why, count(*) as n from webhook_attempt "
            "where status_code is null or status_code not between 200 and 299 group by 1"
        )
        return {row["why"]: row["n"] for row in rows}


class CpuSplit:
    """CPU seconds by process during the measured phase: the workers, PostgreSQL (every backend,
    and those that exited, through the postmaster's children), Redis, and this process (the
    simulator and the receiver), against the whole machine's busy time."""

    def __init__(self, workers: list[subprocess.Popen]) -> None:
        self.workers = [p.pid for p in workers]
        self.start = self.read()

    @staticmethod
    def _pids(name: str) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if stat.read_text().split(" (", 1)[1].split(")", 1)[0] == name:
                    found.append(int(stat.parent.name))
            except (OSError, IndexError):
                pass
        return found

    @staticmethod
    def _seconds(pids: list[int], children: bool = False) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return total / os.sysconf("SC_CLK_TCK")

    def read(self) -> dict[str, float]:
        postgres = self._pids("postgres")
        postmaster = [p for p in postgres if Path(f"/proc/{p}/stat").exists() and self._ppid(p) not in postgres]
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return {
            "workers": self._seconds(self.workers),
            "postgres": self._seconds([p for p in postgres if p not in postmaster]) + self._seconds(postmaster, True),
            "redis": self._seconds(self._pids("redis-server")),
            "bench": self._seconds([os.getpid()]),
            "machine": (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"),
        }

    @staticmethod
    def _ppid(pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            return 0

    def since_start(self) -> dict[str, float]:
        now = self.read()
        return {k: now[k] - self.start.get(k, 0.0) for k in now}


async def webhook_orders(database_url: str) -> dict[str, str]:
    """webhook-id (``msg_<event id>``) -> order id, for the status changes' events."""
    async with connected(database_url) as connection:
        rows = await connection.fetch("select id, payload from outbox_event where topic = 'order.status_changed'")
        return {f"msg_{row['id'].hex}": json.loads(row["payload"])["order_id"] for row in rows}


def sends(sim: TurboSMSSimulator) -> list:
    return [r for r in sim.requests_to("/message/send.json") if r.status == 200]


def sql_statements(files: list[Path]) -> int:
    return sum(int(f.read_text() or 0) for f in files if f.exists())


def figures(arrivals: list[tuple[float, str]], committed: dict[str, float], t0: float) -> dict:
    """Rate, delays, lost and doubled from (arrival time, order id) pairs."""
    first: dict[str, float] = {}
    for at, order_id in sorted(arrivals):
        first.setdefault(order_id, at)
    delays = sorted(first[o] - committed[o] for o in committed if o in first)
    last = max(first.values(), default=t0)
    return {
        "arrived": len(first),
        "lost": len(committed) - len(set(first) & set(committed)),
        "doubled": len(arrivals) - len(first),
        "per_second": len(first) / (last - t0) if last > t0 else 0.0,
        "p50_ms": statistics.median(delays) * 1000 if delays else float("nan"),
        "p99_ms": delays[max(0, int(len(delays) * 0.99) - 1)] * 1000 if delays else float("nan"),
    }


def start_workers(
    procs: list[subprocess.Popen], env: dict, workers: int, phase: str, health_ports: list[int] | None = None
) -> list[Path]:
    """``workers`` counting workers (added to ``procs``), each answering GET /health on its
    port of ``health_ports`` if given; their SQL counter files."""
    logs = ROOT / "bench" / "results"
    logs.mkdir(exist_ok=True)
    counts = [logs / f"notify-sql-{workers}-{i}-{phase}.count" for i in range(workers)]
    for i in range(workers):
        counts[i].unlink(missing_ok=True)
        log = (logs / f"notify-worker-{workers}-{i}-{phase}.log").open("w")
        procs.append(
            subprocess.Popen(  # noqa: S603 - our own worker
                [sys.executable, str(ROOT / "bench" / "counting_worker.py"), "worker"]
                + (["--health-port", str(health_ports[i])] if health_ports else []),
                env={**env, "BENCH_SQL_COUNT_FILE": str(counts[i])},
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        )
    return counts


def profile_workers(procs: list[subprocess.Popen]) -> list[subprocess.Popen]:
    """py-spy on each worker for PROFILE_SECONDS (nothing when it is 0 or py-spy is missing)."""
    pyspy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not PROFILE_SECONDS:
        return []
    if not pyspy:
        print("[bench] PROFILE_SECONDS is set but py-spy is not installed: no profile", flush=True)
        return []
    results = ROOT / "bench" / "results"
    return [
        subprocess.Popen(  # noqa: S603 - py-spy on our own worker
            [
                pyspy,
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(PROFILE_SECONDS),
                "--rate",
                "97",
                "--format",
                "raw",
                "--output",
                str(results / f"notify-profile-{len(procs)}-{i}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, proc in enumerate(procs)
    ]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    procs.clear()


async def drain_warm_up(database_url: str, env: dict, workers: int, procs: list[subprocess.Popen]) -> list[Path]:
    """Start the workers, wait until each answers healthy (imported, connected, polling) and the
    outbox is drained with nothing queued (the order.created backlog sends nothing); their SQL
    counter files."""
    ports = free_ports(workers)
    counts = start_workers(procs, env, workers, "warm-up", ports)
    deadline = time.time() + TIMEOUT
    await wait_healthy(ports, procs, deadline)
    while not await outbox_empty(database_url):
        if time.time() > deadline:
            raise TimeoutError("the order.created backlog did not drain")
        await asyncio.sleep(0.5)
    await asyncio.sleep(1)  # the counters' files are current
    return counts


def worker_env(database_url: str, queue: str) -> dict:
    return {
        **os.environ,
        **BENCH_SETTINGS,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "ARQ_QUEUE_NAME": queue,
    }


async def make_template(sim: TurboSMSSimulator, receiver: Receiver) -> tuple[str, list[tuple[str, int]]]:
    """A database with the shop, its ORDERS orders and their order.created events drained by a
    worker: made once, copied for every run (PostgreSQL's CREATE DATABASE ... TEMPLATE takes
    seconds where making 30,000 orders takes minutes). The copies point at this ``sim`` and
    ``receiver``, which therefore serve every run."""
    name = f"crm_bench_notify_template_{uuid.uuid4().hex[:8]}"
    database_url = f"{PG_URL}/{name}"
    await admin(f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen] = []
    try:
        started = time.time()
        orders, _ = await prepare(database_url, sim, receiver)
        print(f"[bench] {ORDERS} orders ready in {time.time() - started:.1f} s", flush=True)
        await drain_warm_up(database_url, worker_env(database_url, f"crm-bench:{name}"), 1, procs)
        stop_workers(procs)
        # Vacuumed and with statistics, as autovacuum keeps a shop that has been running:
        # without them the planner takes the tables just filled for nearly empty, the drain's
        # dead index entries stay, and the runs measure that.
        async with connected(database_url) as connection:
            await connection.execute("VACUUM ANALYZE")
    except BaseException:
        stop_workers(procs)
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        raise
    return name, orders


async def run(
    workers: int, template: str, orders: list[tuple[str, int]], sim: TurboSMSSimulator, receiver: Receiver
) -> dict:
    name = f"crm_bench_notify_{uuid.uuid4().hex[:8]}"
    database_url = f"{PG_URL}/{name}"
    queue = f"crm-bench:{name}"
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    procs: list[subprocess.Popen] = []
    try:
        sim.set_balance(ORDERS * 10)  # the test account starts at 1,000: more would be refused (code 203)
        env = worker_env(database_url, queue)
        deadline = time.time() + TIMEOUT
        sim.clear_requests()
        receiver.clear()
        if BACKLOG:
            # Every change commits while no worker runs, and its events are held back from
            # the relays until the new workers are up (imported, connected, polling): the
            # clock starts when they get the backlog, so a process's start is not counted.
            t0 = time.time()
            committed = await cancel_all(database_url, orders)
            t_changes = time.time() - t0
            held = await hold_backlog(database_url, hold=True)
            ports = free_ports(workers)
            counts = start_workers(procs, env, workers, "backlog", ports)
            await wait_healthy(ports, procs, deadline)
            statements_before = sql_statements(counts)
            cpu = CpuSplit(procs)
            t0 = time.time()
            released = await hold_backlog(database_url, hold=False)
            if not held or released != held:
                raise RuntimeError(f"held {held} events back, handed {released} back")
            committed = dict.fromkeys(committed, t0)
            profilers = profile_workers(procs)
        else:
            counts = await drain_warm_up(database_url, env, workers, procs)  # the copy's outbox is empty
            statements_before = sql_statements(counts)
            cpu = CpuSplit(procs)
            t0 = time.time()
            profilers = profile_workers(procs)
            committed = await cancel_all(database_url, orders)
            t_changes = time.time() - t0
        while len(sends(sim)) < ORDERS or len({w for _, w in receiver.arrivals}) < ORDERS:
            if time.time() > deadline:
                print(f"[bench] timed out: {len(sends(sim))} messages, {len(receiver.arrivals)} webhooks")
                break
            await asyncio.sleep(0.1)
        cpu_seconds = cpu.since_start()
        for profiler in profilers:
            try:
                profiler.wait(timeout=PROFILE_SECONDS + 30)
            except subprocess.TimeoutExpired:
                profiler.kill()
                print("[bench] py-spy did not finish: no profile", flush=True)
        await asyncio.sleep(2)  # anything doubled arrives by now; the counters catch up
        statements = sql_statements(counts) - statements_before
        phone_to_order = {f"38067{n:07d}": order_id for n, (order_id, _) in enumerate(orders)}
        messages = [
            (request.at, phone_to_order[phone])
            for request in sends(sim)
            for phone in request.json().get("recipients", [])
            if phone in phone_to_order
        ]
        hook_orders = await webhook_orders(database_url)
        with receiver.lock:
            hooks = [(at, hook_orders[w]) for at, w in receiver.arrivals if w in hook_orders]
        return {
            "workers": workers,
            "sms": figures(messages, committed, t0),
            "webhooks": figures(hooks, committed, t0),
            "statements_per_notification": statements / ORDERS,
            "status_changes_seconds": t_changes,
            "states": await notification_states(database_url),
            "failed_tries": await failed_tries(database_url),
            "cpu": cpu_seconds,
        }
    finally:
        stop_workers(procs)
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    print(f"[bench] {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    receiver = Receiver()
    try:
        with TurboSMSSimulator() as sim:
            template, orders = await make_template(sim, receiver)
            try:
                rows = [await run(n, template, orders, sim, receiver) for n in WORKERS]
            finally:
                await admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    finally:
        receiver.close()
    if BACKLOG:
        print(f"\n{ORDERS} status changes committed first; delays from the backlog's release to each arrival")
    else:
        print(f"\n{ORDERS} status changes; delays from each change's commit to its arrival")
    print("| workers | what | arrived | lost | doubled | per second | p50 ms | p99 ms | SQL per notification |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        for what, key in (("notifications", "sms"), ("webhook deliveries", "webhooks")):
            f = r[key]
            per_notification = f"{r['statements_per_notification']:.1f}" if key == "sms" else ""
            print(
                f"| {r['workers']} | {what} | {f['arrived']} | {f['lost']} | {f['doubled']} | {f['per_second']:.1f} | "
                f"{f['p50_ms']:.0f} | {f['p99_ms']:.0f} | {per_notification} |"
            )
    for r in rows:
        print(f"[bench] {r['workers']} worker(s): the status changes took {r['status_changes_seconds']:.1f} s")
        print(f"[bench] {r['workers']} worker(s): notifications by state at the end: {r['states']}")
        if r["failed_tries"]:
            print(f"[bench] {r['workers']} worker(s): webhook tries without a 2xx: {r['failed_tries']}")
    print("\nCPU ms per notification (and its webhook) during the measured phase, by process")
    print(
        "| workers | workers' processes | PostgreSQL | Redis | bench (simulator, receiver; live: the changes too) "
        "| whole machine |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        c = {k: v * 1000 / ORDERS for k, v in r["cpu"].items()}
        print(
            f"| {r['workers']} | {c['workers']:.2f} | {c['postgres']:.2f} | {c['redis']:.2f} | {c['bench']:.2f} | "
            f"{c['machine']:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
