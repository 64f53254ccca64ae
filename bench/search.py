"""Times search on the bench's data set, on PostgreSQL (pg_trgm) and SQLite (FTS5).

    .venv/bin/python bench/search.py                                   # 20k accounts, 100k orders, ...
    ACCOUNTS=50 ORDERS=300 DEALS=100 TICKETS=100 .venv/bin/python bench/search.py   # a smoke run

The databases are made as bench/analytics.py makes them (``crm migrate``, organizations ``bench``
and ``other``, ``crm demo-data``, which also fills the search index). Then, in a separate
process per engine, as the bench owner through Scope (no HTTP): each query of QUERIES through
the `search` root field's service (20 best hits over every kind) and through the accounts and
orders lists' ``where.search`` (a page of 50); one warm-up call, then REPEAT timed calls; the
median and the slowest are printed as Markdown and written to bench/results/search.md.
On PostgreSQL the plan of one partial-phone search is printed too, to see the trigram index used.

Settings (environment): as bench/analytics.py (PG_URL, ACCOUNTS, ORDERS, DEALS, TICKETS,
ENGINES, KEEP_DB, REUSE_DB), BENCH_DB (crm_bench_search), SQLITE_FILE
(bench/results/search.sqlite3), REPEAT (7).
"""

# ruff: noqa: S603 - runs the crm command it benchmarks, by design
from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BENCH_DB", "crm_bench_search")
os.environ.setdefault("SQLITE_FILE", str(ROOT / "bench" / "results" / "search.sqlite3"))
sys.path.insert(0, str(ROOT / "bench"))
import analytics as base  # noqa: E402 - its settings come from the environment set above

REPEAT = int(os.environ.get("REPEAT", "7"))
# What agents type: a phone's last digits, a surname in either alphabet, a name start, an order
# number, a waybill's digits, an e-mail part.
QUERIES = ("4567", "Коваль", "koval", "Олен", "1042", "2045", "gmail")


async def measure(engine: str) -> dict:
    os.environ["DATABASE_URL"] = base.database_url(engine)
    sys.path.insert(0, str(ROOT))
    from server.accounts.models import Account
    from server.accounts.schema import AccountWhere
    from server.auth import principal as principals
    from server.auth.models import User
    from server.auth.scope import Scope
    from server.config import Settings
    from server.db import close_db, init_db
    from server.graphql.filters import StringFilter, build_q
    from server.orders.schema import OrderWhere, scoped_orders
    from server.search import service
    from server.search.query import search_lookup

    await init_db(Settings())
    try:
        user = await User.get(email=base.OWNER)
        scope = Scope(await principals.for_user(user, "bench"))

        async def accounts(text):
            where = AccountWhere(search=StringFilter(contains=text))
            q = build_q(where, {"search": search_lookup(scope, "account")})
            return await scope.queryset(Account).filter(q).order_by("-created_at").limit(50)

        async def orders(text):
            return await scoped_orders(scope, OrderWhere(search=StringFilter(contains=text))).limit(50)

        results = {}
        for text in QUERIES:
            for what, run in (
                ("search", lambda t=text: service.search(scope, t, 20)),
                ("accounts", lambda t=text: accounts(t)),
                ("orders", lambda t=text: orders(t)),
            ):
                found = len(await run())  # warm-up
                times = []
                for _ in range(REPEAT):
                    start = time.perf_counter()
                    await run()
                    times.append((time.perf_counter() - start) * 1000)
                results[f"{what} `{text}`"] = {"hits": found, "median": statistics.median(times), "max": max(times)}
        if engine == "postgres":
            from tortoise.connection import get_connection

            sql = "EXPLAIN SELECT id FROM search_term WHERE \"value\" LIKE '%4567%'"
            _, rows = await get_connection("default").execute_query(sql)
            results["plan"] = [next(iter(r.values())) for r in rows]
        return results
    finally:
        await close_db()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2]))))
        return
    now = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    sizes = f"{base.ACCOUNTS} accounts, {base.ORDERS} orders, {base.DEALS} deals, {base.TICKETS} tickets"
    lines = [f"# Search on {sizes}", ""]
    try:
        for engine in base.ENGINES:
            if os.environ.get("REUSE_DB") != "1":
                base.prepare(engine, now)
            out = subprocess.run(
                [sys.executable, __file__, "--measure", engine], capture_output=True, text=True, check=False
            )
            if out.returncode != 0:
                raise SystemExit(f"{engine}: measuring failed\n{out.stdout}\n{out.stderr}")
            results = json.loads(out.stdout.strip().splitlines()[-1])
            plan = results.pop("plan", None)
            lines += [f"## {engine}", "", "| what | hits | median ms | slowest ms |", "| --- | ---: | ---: | ---: |"]
            lines += [f"| {k} | {v['hits']} | {v['median']:.1f} | {v['max']:.1f} |" for k, v in results.items()]
            if plan:
                lines += ["", "Plan of `value LIKE '%4567%'`:", "", "```", *plan, "```"]
            lines.append("")
    finally:
        if os.environ.get("KEEP_DB") != "1":
            for engine in base.ENGINES:
                base.drop(engine)
    text = "\n".join(lines)
    print(text)
    base.RESULTS.mkdir(parents=True, exist_ok=True)
    (base.RESULTS / "search.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
