"""Times every analytics metric on the bench's data set on PostgreSQL.

    .venv/bin/python bench/analytics.py                    # 20k accounts, 100k orders (the goal: < 300 ms each)
    ACCOUNTS=50 ORDERS=300 .venv/bin/python bench/analytics.py   # a smoke run in seconds

Steps: a fresh database; ``crm migrate``; organizations ``bench`` (``crm demo-data --seed 1``)
and ``other`` (a twentieth of the orders, so tenancy has something to filter out); ``VACUUM
ANALYZE``; then each metric is computed as the API computes it (the same service functions,
as the bench owner, through Scope) over the last 365 days in the organization's time zone:
one warm-up call, then REPEAT timed calls; the median and the slowest are reported. No HTTP:
the figure is what the database and the metric's Python cost, which is what grows with data.

Settings (environment): PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_DB
(crm_bench_analytics), ACCOUNTS (20000), ORDERS (100000), REPEAT (5), KEEP_DB (1: keep the
database). Results: printed as Markdown and written to bench/results/analytics.md.
"""

# ruff: noqa: S603 - runs the crm command it benchmarks, by design
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_DB", "crm_bench_analytics")
DATABASE_URL = f"{PG_URL}/{DB}"
ACCOUNTS = int(os.environ.get("ACCOUNTS", "20000"))
ORDERS = int(os.environ.get("ORDERS", "100000"))
REPEAT = int(os.environ.get("REPEAT", "5"))
GOAL_MS = 300
EMAIL, PASSWORD = "owner@bench.example", "bench-password-analytics"
CRM = str(Path(sys.executable).parent / "crm")


def log(msg: str) -> None:
    print(f"[analytics {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def crm(*args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    out = subprocess.run([CRM, *args], input=stdin, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): crm {' '.join(args)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


async def sql(query: str, db: str = DB):
    conn = await asyncpg.connect(f"{PG_URL}/{db}".replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


def prepare() -> None:
    log(f"fresh database {DB}")
    asyncio.run(sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', db="postgres"))
    asyncio.run(sql(f'CREATE DATABASE "{DB}"', db="postgres"))
    crm("migrate")
    crm("org", "create", "bench", "--name", "Bench shop")
    crm("org", "create", "other", "--name", "Other shop")
    crm("user", "create", "--org", "bench", "--email", EMAIL, "--role", "owner", stdin=PASSWORD + "\n")
    log(f"crm demo-data: {ACCOUNTS} accounts, {ORDERS} orders (seed 1)")
    start = time.perf_counter()
    crm("demo-data", "--org", "bench", "--accounts", str(ACCOUNTS), "--orders", str(ORDERS), "--seed", "1")
    log(f"  took {time.perf_counter() - start:.1f} s")
    other_accounts, other_orders = str(max(ACCOUNTS // 20, 5)), str(max(ORDERS // 20, 10))
    crm("demo-data", "--org", "other", "--accounts", other_accounts, "--orders", other_orders, "--seed", "2")
    asyncio.run(sql("VACUUM ANALYZE"))


async def measure() -> list[tuple[str, float, float, str]]:
    os.environ["DATABASE_URL"] = DATABASE_URL
    from server.analytics import cohorts, funnel, ltv, metrics, metrics_settings, support
    from server.analytics.metrics_sql import Filter, make_period
    from server.auth import principal as principals
    from server.auth.models import User
    from server.auth.scope import Scope
    from server.config import Settings
    from server.db import close_db, init_db

    await init_db(Settings())
    try:
        user = await User.get(email=EMAIL)
        scope = Scope(await principals.for_user(user, "bench"))
        org = scope.organization
        today = datetime.now(ZoneInfo(org.timezone)).date()
        period = make_period(today - timedelta(days=364), today, org.timezone)
        settings = await metrics_settings.current(scope)
        flt = Filter()
        runs = {
            "customers (AOV, frequency, repeat, lifespan, retention, churn)": lambda: metrics.customer_metrics(
                scope, period, flt, settings.lost_after_days
            ),
            "cohorts (13 months)": lambda: cohorts.cohorts(scope, period, flt),
            "ltv (five formulas, per source)": lambda: ltv.ltv_report(scope, period, flt, settings),
            "funnel": lambda: funnel.funnel(scope, period, flt),
            "funnel by manager": lambda: funnel.funnel(scope, period, flt, "manager"),
            "support": lambda: support.support_metrics(scope, period),
        }
        rows = []
        for name, call in runs.items():
            result = await call()  # warm-up; also what the table shows as a sanity check
            times = []
            for _ in range(REPEAT):
                start = time.perf_counter()
                await call()
                times.append((time.perf_counter() - start) * 1000)
            rows.append((name, statistics.median(times), max(times), _gist(result)))
            log(f"{name}: median {rows[-1][1]:.1f} ms")
        return rows
    finally:
        await close_db()


def _gist(result) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    orders = getattr(result, "orders", None)
    if orders is not None:
        return f"{orders} orders, {result.customers_who_ordered} customers"
    overall = getattr(result, "overall", None)
    if overall is not None:
        return f"{overall.tickets} tickets"
    return f"{len(getattr(result, 'by_formula', []))} LTV values"


def report(rows) -> str:
    lines = [
        f"Analytics on {ORDERS} orders / {ACCOUNTS} accounts, PostgreSQL, last 365 days, {REPEAT} runs each",
        "",
        "| metric | median ms | slowest ms | goal | result |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, median, slowest, gist in rows:
        ok = "ok" if median < GOAL_MS else f"over {GOAL_MS} ms"
        lines.append(f"| {name} | {median:.1f} | {slowest:.1f} | {ok} | {gist} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    prepare()
    try:
        text = report(asyncio.run(measure()))
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "analytics.md").write_text(text)
        print(text)
    finally:
        if os.environ.get("KEEP_DB") != "1":
            asyncio.run(sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', db="postgres"))
            log(f"dropped {DB}")


if __name__ == "__main__":
    main()
