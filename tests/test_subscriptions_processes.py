"""A subscriber on one `crm serve` process hears a change made through another: two API
processes and a `crm worker` (which relays the outbox) share PostgreSQL or a SQLite file, and
Redis, which carries the live events between them.

Needs Redis: REDIS_URL, or redis://127.0.0.1:6379/0 when unset (as tests/test_jobs_faults.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.live_client import LiveClient
from tests.test_cli import PASSWORD, _free_port, _stop, _wait_healthy, crm, fresh_db, new_org, ok  # noqa: F401
from tests.test_jobs_faults import ROOT, redis_url  # noqa: F401

LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"
ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"
ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { number } errors { code message } } }"""
ORDER_CREATED = "subscription { orderCreated { number account { name } } }"


def _start(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )


def _graphql(port: int, query: str, variables: dict, token: str | None = None, org: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}", "X-Organization": org} if token else {}
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=20
    )
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def _order(port: int, token: str, org: str, customer: str, phone: str) -> None:
    account = _graphql(port, ACCOUNT, {"i": {"name": customer, "phones": [phone]}}, token, org)
    account_id = account["createAccount"]["account"]["id"]
    item = {"sku": "A-1", "title": "Товар", "quantity": "1", "unitPrice": "100"}
    created = _graphql(port, ORDER, {"i": {"accountId": account_id, "items": [item]}}, token, org)
    assert created["createOrder"]["errors"] == [], created


def _wait_for_subscriptions(port: int, count: int) -> None:
    for _ in range(200):
        if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["live_subscriptions"] >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"{count} subscriptions never registered on port {port}")


async def test_a_subscriber_on_one_process_hears_a_change_made_through_another(fresh_db, redis_url, tmp_path):  # noqa: F811
    env = fresh_db()
    new_org(env, "shop")
    ok(crm(["org", "create", "other", "--name", "Інший магазин"], env))
    for org, email in (("shop", "owner@shop.ua"), ("other", "owner@other.ua")):
        ok(crm(["user", "create", "--org", org, "--email", email, "--role", "owner"], env, input=PASSWORD))
    env |= {
        "REDIS_URL": redis_url,
        "RATE_LIMIT_NAMESPACE": f"crm-live-{uuid.uuid4().hex[:10]}",
        "ARQ_QUEUE_NAME": f"crm-live:{uuid.uuid4().hex[:10]}",
        "RELAY_INTERVAL_SECONDS": "0.2",
        "WS_HEARTBEAT_SECONDS": "0.5",
    }
    listening, changing = _free_port(), _free_port()
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("listening", "changing", "worker")}
    procs = {
        "listening": _start(["serve", "--port", str(listening)], env, logs["listening"]),
        "changing": _start(["serve", "--port", str(changing)], env, logs["changing"]),
        "worker": _start(["worker"], env, logs["worker"]),
    }
    try:
        for name, port in (("listening", listening), ("changing", changing)):
            _wait_healthy(procs[name], port, tmp_path / f"{name}.log")
        shop = _graphql(changing, LOGIN, {"e": "owner@shop.ua", "p": PASSWORD})["login"]["token"]
        other = _graphql(changing, LOGIN, {"e": "owner@other.ua", "p": PASSWORD})["login"]["token"]
        base = f"http://127.0.0.1:{listening}"
        async with (
            LiveClient.connect(base, {"Authorization": f"Bearer {shop}"}) as shop_client,
            LiveClient.connect(base, {"Authorization": f"Bearer {other}"}) as other_client,
        ):
            await shop_client.subscribe("orders", ORDER_CREATED)
            await other_client.subscribe("orders", ORDER_CREATED)
            await asyncio.to_thread(_wait_for_subscriptions, listening, 2)

            await asyncio.to_thread(_order, changing, shop, "shop", "Олена Коваль", "0671234567")
            heard = await shop_client.next("orders", wait=30)
            assert heard["payload"]["data"]["orderCreated"] == {"number": 1, "account": {"name": "Олена Коваль"}}

            # The other organization's subscriber heard nothing of the shop's order: the first
            # thing it hears is its own.
            await asyncio.to_thread(_order, changing, other, "other", "Петро Інший", "0637654321")
            theirs = await other_client.next("orders", wait=30)
            assert theirs["payload"]["data"]["orderCreated"] == {"number": 1, "account": {"name": "Петро Інший"}}
            assert shop_client.pings >= 1  # the server's heartbeat (every 0.5 s here)
    finally:
        for proc in procs.values():
            _stop(proc)
        for log in logs.values():
            log.close()
