"""Notifications per second, end to end: an order's status change -> outbox -> relay -> arq ->
`crm worker` -> the TurboSMS plugin -> the TurboSMS simulator receiving the message.

    python bench/notifications.py                 # 400 orders, with 1 and then 2 workers
    ORDERS=1000 WORKERS="1 2 4" python bench/notifications.py

Needs PostgreSQL (PG_URL, default postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/13). Each run gets a fresh database and queue, dropped at the
end; the workers are stopped whatever happens. Figures and the machine go in bench/README.md.

For each run: ORDERS orders are created (the "new" rule switched off so creating them sends
nothing), the workers are started and the backlog of order.created events drained; then every
order is cancelled in one loop (the "cancelled" rule is on, Viber channel, no send delay, no
quiet hours) and the clock runs until the simulator has received ORDERS messages. Latency is
per order: simulator arrival minus the moment its status change committed.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator  # noqa: E402

PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
ORDERS = int(os.environ.get("ORDERS", "400"))
WORKERS = [int(n) for n in os.environ.get("WORKERS", "1 2").split()]
TIMEOUT = float(os.environ.get("TIMEOUT", "600"))
# The simulator listens on 127.0.0.1 over http, which production settings refuse (docs/operations.md).
BENCH_SETTINGS = {"ALLOW_LOCAL_PROVIDERS": "true", "SECRET_KEY": "bench-secret-key-" + "x" * 32}


async def admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1) + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def prepare(database_url: str, sim: TurboSMSSimulator) -> tuple[list[tuple[str, int]], dict]:
    """Schema, organization, plugin, rules and ORDERS new orders; returns (order id, version) pairs."""
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
    """Cancel every order; returns phone -> the moment its change committed."""
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
        for n, (order_id, version) in enumerate(orders):
            await change_status(scope, uuid.UUID(order_id), version, "cancelled", reason="bench")
            committed[f"38067{n:07d}"] = time.time()
        return committed
    finally:
        await close_db()


async def outbox_empty(database_url: str) -> bool:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        waiting = await connection.fetchval("select count(*) from outbox_event where dispatched_at is null")
        queued = await connection.fetchval("select count(*) from notification where state = 'queued'")
        return waiting == 0 and queued == 0
    finally:
        await connection.close()


def sends(sim: TurboSMSSimulator) -> list:
    return [r for r in sim.requests_to("/message/send.json") if r.status == 200]


async def run(workers: int) -> dict:
    name = f"crm_bench_notify_{uuid.uuid4().hex[:8]}"
    database_url = f"{PG_URL}/{name}"
    queue = f"crm-bench:{name}"
    await admin(f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen] = []
    try:
        with TurboSMSSimulator() as sim:
            started = time.time()
            orders, _ = await prepare(database_url, sim)
            print(f"[bench] {ORDERS} orders ready in {time.time() - started:.1f} s", flush=True)
            env = {
                **os.environ,
                **BENCH_SETTINGS,
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_URL,
                "ARQ_QUEUE_NAME": queue,
            }
            logs = ROOT / "bench" / "results"
            logs.mkdir(exist_ok=True)
            for i in range(workers):
                log = (logs / f"notify-worker-{workers}-{i}.log").open("w")
                procs.append(
                    subprocess.Popen(  # noqa: ASYNC220 - starting workers is not on a hot path
                        [sys.executable, "-m", "server.cli", "worker"], env=env, cwd=ROOT, stdout=log, stderr=log
                    )
                )
            deadline = time.time() + TIMEOUT
            while not await outbox_empty(database_url):  # the order.created backlog: nothing to send
                if time.time() > deadline:
                    raise TimeoutError("the order.created backlog did not drain")
                await asyncio.sleep(0.5)
            sim.clear_requests()
            t0 = time.time()
            committed = await cancel_all(database_url, orders)
            t_changes = time.time() - t0
            while len(sends(sim)) < ORDERS:
                if time.time() > deadline:
                    raise TimeoutError(f"only {len(sends(sim))} of {ORDERS} messages arrived")
                await asyncio.sleep(0.1)
            arrivals = {}
            for request in sends(sim):
                for phone in request.json().get("recipients", []):
                    arrivals.setdefault(phone, request.at)
            latencies = sorted(arrivals[p] - committed[p] for p in committed)
            last = max(arrivals.values())
            return {
                "workers": workers,
                "messages": len(arrivals),
                "duplicates": len(sends(sim)) - len(arrivals),
                "seconds": last - t0,
                "per_second": ORDERS / (last - t0),
                "status_changes_seconds": t_changes,
                "p50_ms": statistics.median(latencies) * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    print(f"[bench] {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    rows = [await run(n) for n in WORKERS]
    print("| workers | messages | duplicates | seconds | notifications/s | p50 ms | p99 ms | status changes took s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['workers']} | {r['messages']} | {r['duplicates']} | {r['seconds']:.1f} | {r['per_second']:.1f} | "
            f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['status_changes_seconds']:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
