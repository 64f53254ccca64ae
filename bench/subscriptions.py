"""Subscription fan-out: the delay from an order's commit to each subscriber's socket, with
SUBSCRIPTIONS open subscriptions split over two `crm serve` processes and one `crm worker`
relaying the outbox (PostgreSQL and Redis, as in production).

    python bench/subscriptions.py                      # 1,000 subscriptions, 20 orders
    SUBSCRIPTIONS=2000 ORDERS=50 python bench/subscriptions.py

Needs PostgreSQL (PG_URL, default postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/13). A fresh database (dropped at the end) and namespace; the
servers and the worker are stopped whatever happens. Figures go in bench/README.md.

Every subscription is `orderCreated { number }` of the same organization, 20 per websocket
(the default cap), half of the sockets on each API process. Orders are created one at a time
through the first process, PAUSE seconds apart; the clock of an order starts when its
`createOrder` answer arrives (the transaction has committed) and stops when each subscription
receives it. Lost = subscriptions that never heard an order within WAIT seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
SUBSCRIPTIONS = int(os.environ.get("SUBSCRIPTIONS", "1000"))
ORDERS = int(os.environ.get("ORDERS", "20"))
PAUSE = float(os.environ.get("PAUSE", "0.5"))
WAIT = float(os.environ.get("WAIT", "30"))
PER_SOCKET = 20
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway database's only user

LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"
ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } } }"
ORDER = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { number } errors { message } } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1) + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def crm(args: list[str], env: dict, stdin: str | None = None) -> None:
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
    )


async def wait_healthy(port: int, subscriptions: int | None = None) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1200):
            try:
                health = (await client.get(f"http://127.0.0.1:{port}/health", timeout=2)).json()
                if subscriptions is None or health.get("live_subscriptions", 0) >= subscriptions:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"port {port} never became ready")


async def graphql(port: int, query: str, variables: dict, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        )
    body = answer.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    return body["data"]


async def listener(port: int, token: str, count: int, heard: dict[int, list[float]], ready: asyncio.Event) -> None:
    async with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n in range(count):
            query = "subscription { orderCreated { number } }"
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": query}}))
        ready.set()
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                heard.setdefault(message["payload"]["data"]["orderCreated"]["number"], []).append(time.perf_counter())


async def run() -> dict:
    database = f"crm_bench_live_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG_URL}/{database}",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "RATE_LIMIT_NAMESPACE": f"bench-live-{uuid.uuid4().hex[:8]}",
        "ARQ_QUEUE_NAME": f"bench-live:{uuid.uuid4().hex[:8]}",
        "WS_MAX_CONNECTIONS_PER_CREDENTIAL": "1000",
        "RATE_LIMIT_PER_TOKEN": "100000/minute",
        "RATE_LIMIT_PER_ORGANIZATION": "100000/minute",
        "PYTHONUNBUFFERED": "1",
    }
    logs = Path(os.environ.get("LOG_DIR", tempfile.gettempdir()))
    procs: list[subprocess.Popen] = []
    tasks: list[asyncio.Task] = []
    try:
        crm(["migrate"], env)
        crm(["org", "create", "bench", "--name", "Bench"], env)
        crm(["user", "create", "--org", "bench", "--email", "owner@bench.ua", "--role", "owner"], env, PASSWORD)
        ports = [free_port(), free_port()]
        procs += [start(["serve", "--port", str(p)], env, logs / f"bench-live-serve-{p}.log") for p in ports]
        procs.append(start(["worker"], env, logs / "bench-live-worker.log"))
        for port in ports:
            await wait_healthy(port)
        token = (await graphql(ports[0], LOGIN, {"e": "owner@bench.ua", "p": PASSWORD}))["login"]["token"]
        account = await graphql(ports[0], ACCOUNT, {"i": {"name": "Bench", "phones": ["0671234567"]}}, token)
        account_id = account["createAccount"]["account"]["id"]

        heard: dict[int, list[float]] = {}
        sockets = SUBSCRIPTIONS // PER_SOCKET
        for n in range(sockets):
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(listener(ports[n % 2], token, PER_SOCKET, heard, ready)))
            await ready.wait()
        for i, port in enumerate(ports):
            await wait_healthy(port, subscriptions=(sockets + 1 - i) // 2 * PER_SOCKET)

        committed: dict[int, float] = {}
        item = {"sku": "B-1", "title": "Bench", "quantity": "1", "unitPrice": "10"}
        for _ in range(ORDERS):
            created = await graphql(ports[0], ORDER, {"i": {"accountId": account_id, "items": [item]}}, token)
            committed[created["createOrder"]["order"]["number"]] = time.perf_counter()
            await asyncio.sleep(PAUSE)
        expected = ORDERS * sockets * PER_SOCKET
        deadline = time.perf_counter() + WAIT
        while time.perf_counter() < deadline and sum(len(v) for v in heard.values()) < expected:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

        delays = sorted(t - committed[n] for n, times in heard.items() if n in committed for t in times)
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [float("nan")] * 99
        return {
            "subscriptions": sockets * PER_SOCKET,
            "sockets": sockets,
            "orders": ORDERS,
            "deliveries": len(delays),
            "lost": expected - len(delays),
            "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(max(delays) * 1000, 1) if delays else None,
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    load = os.getloadavg()[0]
    print(f"{platform.node()}: {os.cpu_count()} cores, load {load:.2f} before the run")
    if load > 1.0:
        print("WARNING: the machine is busy: these figures are disturbed, run again when it is idle")
    result = asyncio.run(run())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
