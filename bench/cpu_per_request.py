"""CPU time per request of the planned pages, in process: a deterministic figure on a busy machine.

    python bench/cpu_per_request.py                   # SQLite in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/cpu_per_request.py
    PROFILE=1 python bench/cpu_per_request.py         # plus the top of cProfile per page

No HTTP server and no load generator: the real app (``create_app``) behind httpx's ASGI
transport, one request at a time, as the bench's OrdersPage caller (an owner with a session
token and ``X-Organization``). For each page (OrdersPage, an order by id, the account 360°
view): ``WARMUP`` requests, then ``REQUESTS`` requests timed with ``time.process_time()`` (CPU
of this process only: PostgreSQL's own work is not in it; SQLite's is, it runs in-process).
Wall-clock figures on a shared machine say little; CPU per request is what limits one process.
On PostgreSQL a throwaway database is created and dropped. Settings: ``ACCOUNTS`` (300),
``ORDERS`` (2000), ``REQUESTS`` (200), ``WARMUP`` (20), ``PROFILE``.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("CRM_PROFILE", "test")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from server.app import create_app
from server.auth.service import add_member, create_user
from server.config import Settings
from server.db import close_db, init_db, migrate
from server.demo import load_demo_data
from server.organizations.service import create_organization

ACCOUNTS = int(os.environ.get("ACCOUNTS", "300"))
ORDERS = int(os.environ.get("ORDERS", "2000"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
WARMUP = int(os.environ.get("WARMUP", "20"))
EMAIL, PASSWORD = "owner@bench.example", "bench-password-1"

ORDERS_PAGE = """query OrdersPage {
  orders(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) {
    edges { cursor node {
      id number createdAt
      status { code name group }
      total { amount currency }
      account { id name phone }
      items { sku title quantity unitPrice { amount currency } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

ORDER_PAGE = """query OrderPage($id: ID!) {
  order(id: $id) {
    id number createdAt updatedAt version currency source comment paymentStatus
    status { code name group }
    subtotal { amount currency } discountTotal { amount currency } total { amount currency }
    delivery { method recipientName recipientPhone city branch waybillNumber }
    account { id name phone emails }
    items { sku title quantity unitPrice { amount currency } discount { amount } total { amount currency } }
  }
}"""

ACCOUNT_PAGE = """query AccountPage($id: ID!) {
  account(id: $id) {
    id name kind phone phones emails tags source createdAt
    contacts { id name position phones emails }
    orders(first: 10) {
      edges { cursor node {
        id number createdAt
        status { code name group }
        total { amount currency }
        items { sku title quantity unitPrice { amount currency } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"


def _admin_dsn(url: str) -> str:
    return url.replace("asyncpg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


async def prepare(settings: Settings) -> None:
    await init_db(settings)
    await migrate(settings)
    org = await create_organization("bench", "Bench shop")
    user = await create_user(EMAIL, PASSWORD, "Owner")
    await add_member(org, user, "owner")
    await load_demo_data(org, ACCOUNTS, ORDERS, seed=1, postgres=settings.is_postgres)


async def measure(client: httpx.AsyncClient, headers: dict, name: str, body: dict) -> float:
    async def once() -> None:
        response = await client.post("/graphql", json=body, headers=headers)
        answer = response.json()
        assert response.status_code == 200 and not answer.get("errors"), answer

    for _ in range(WARMUP):
        await once()
    started = time.process_time()
    for _ in range(REQUESTS):
        await once()
    per_request = (time.process_time() - started) / REQUESTS * 1000
    # Python function calls per request: the same figure on a busy and an idle machine.
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall-clock
    profiler.enable()
    for _ in range(20):
        await once()
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls / 20
    print(
        f"{name:12} {per_request:7.2f} ms CPU per request ({REQUESTS} requests), {calls:8.0f} Python calls per request",
        flush=True,
    )
    if os.environ.get("PROFILE"):
        print(_by_library(pstats.Stats(profiler)))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    return per_request


LIBRARIES = [
    ("select.epoll", "waiting (epoll: the database, not CPU)"),
    ("site-packages/httpx", "httpx (the test client: not the server)"),
    ("server/graphql/fastpath", "fast path (plan, writer)"),
    ("server/auth", "auth (token, membership)"),
    ("server/", "our other code"),
    ("site-packages/tortoise", "Tortoise"),
    ("site-packages/pypika", "pypika (Tortoise's SQL builder)"),
    ("site-packages/asyncpg", "asyncpg"),
    ("site-packages/aiosqlite", "aiosqlite"),
    ("site-packages/strawberry", "strawberry"),
    ("site-packages/graphql", "graphql-core"),
    ("site-packages/starlette", "starlette"),
    ("site-packages/limits", "limits (rate limits)"),
    ("asyncio", "asyncio"),
]


def _by_library(stats: pstats.Stats) -> str:
    """Self time per library: where the CPU goes, in a few lines."""
    totals: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{function}"
        label = next((name for key, name in LIBRARIES if key in where), "other (stdlib, C builtins...)")
        totals[label] = totals.get(label, 0.0) + tottime
    cpu = sum(v for k, v in totals.items() if not k.startswith("waiting"))
    lines = [f"self time by library (of {cpu * 1000:.0f} ms CPU):"]
    for label, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        share = "" if label.startswith("waiting") else f"{100 * seconds / cpu:5.1f}%"
        lines.append(f"  {share:>6} {seconds * 1000:8.1f} ms  {label}")
    return "\n".join(lines)


async def main() -> None:
    settings = Settings()
    admin_dsn = temp_db = None
    if settings.is_postgres:
        admin_dsn = _admin_dsn(settings.database_url)
        temp_db = f"crm_cpu_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'CREATE DATABASE "{temp_db}"')
        await conn.close()
        settings = settings.model_copy(update={"database_url": admin_dsn.rsplit("/", 1)[0] + "/" + temp_db})
    else:
        folder = tempfile.mkdtemp(prefix="crm-cpu-")
        settings = settings.model_copy(update={"database_url": f"sqlite://{folder}/bench.sqlite3"})
    settings = settings.model_copy(
        update={"rate_limit_per_token": "1000000000/minute", "rate_limit_per_organization": "1000000000/minute"}
    )
    try:
        await prepare(settings)
        app = create_app(settings, manage_db=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            login = await client.post("/graphql", json={"query": LOGIN, "variables": {"e": EMAIL, "p": PASSWORD}})
            token = login.json()["data"]["login"]["token"]
            headers = {"Authorization": f"Bearer {token}", "X-Organization": "bench"}
            page = await client.post("/graphql", json={"query": ORDERS_PAGE}, headers=headers)
            edges = page.json()["data"]["orders"]["edges"]
            order_id, account_id = edges[0]["node"]["id"], edges[0]["node"]["account"]["id"]
            print(f"database: {'PostgreSQL' if settings.is_postgres else 'SQLite'}, {ORDERS} orders", flush=True)
            await measure(client, headers, "OrdersPage", {"query": ORDERS_PAGE})
            await measure(client, headers, "OrderPage", {"query": ORDER_PAGE, "variables": {"id": order_id}})
            await measure(client, headers, "AccountPage", {"query": ACCOUNT_PAGE, "variables": {"id": account_id}})
            stats = app.routes[0].endpoint.fast_path.stats
            print(f"fast path: {dict(stats)}")
    finally:
        await close_db()
        if temp_db:
            conn = await asyncpg.connect(admin_dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{temp_db}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
