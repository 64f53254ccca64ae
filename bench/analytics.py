"""Times every analytics metric and a full RFM recompute on the bench's data set, on PostgreSQL
and on SQLite, and checks that both engines give the same numbers.

    .venv/bin/python bench/analytics.py                      # 20k accounts, 100k orders, 20k deals, 20k tickets
    ACCOUNTS=50 ORDERS=300 DEALS=100 TICKETS=100 .venv/bin/python bench/analytics.py   # a smoke run

Steps, per engine (ENGINES, default "postgres sqlite"): a fresh database; ``crm migrate``;
organizations ``bench`` and ``other``; the bench's members (an owner, a manager, two sales
people, a support agent); ``crm demo-data --seed 1`` with orders, deals (moving through the
pipeline, with stage history) and tickets (first responses, resolutions, SLA due dates), all
ending at the same moment (``--now``), so both engines hold the same data; a twentieth of it
for ``other``, so tenancy has something to filter out; ``VACUUM ANALYZE`` (PostgreSQL).

Then, in a separate process per engine, each metric is computed as the API computes it (the
same service functions, as the bench owner, through Scope) over the last 365 days in the
organization's time zone: one warm-up call, then REPEAT timed calls (REPEAT_SQLITE on SQLite);
the median and the slowest are reported. The RFM recompute is timed with the window switching
between 365 and 60 days, so every run moves thousands of customers between groups (score
writes and timeline entries), not a no-op. No HTTP: the figure is the database's and the
metric's own Python cost, the part that grows with the data.

Every metric's result (IDs replaced by names/e-mails, which differ between the two databases)
must be the same on both engines: a difference is printed in full and the script exits with
status 1. Results: printed as Markdown and written to bench/results/analytics.md.

Settings (environment): PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_DB
(crm_bench_analytics), SQLITE_FILE (bench/results/analytics.sqlite3), ACCOUNTS (20000), ORDERS
(100000), DEALS (20000), TICKETS (20000), REPEAT (5), REPEAT_SQLITE (2), RFM_REPEAT (4, both engines),
ENGINES, KEEP_DB (1: keep both databases), REUSE_DB (1: measure the databases a KEEP_DB run kept,
without loading them again).
"""

# ruff: noqa: S603 - runs the crm command it benchmarks, by design
from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_DB", "crm_bench_analytics")
SQLITE_FILE = Path(os.environ.get("SQLITE_FILE", str(RESULTS / "analytics.sqlite3"))).resolve()
ACCOUNTS = int(os.environ.get("ACCOUNTS", "20000"))
ORDERS = int(os.environ.get("ORDERS", "100000"))
DEALS = int(os.environ.get("DEALS", "20000"))
TICKETS = int(os.environ.get("TICKETS", "20000"))
REPEAT = int(os.environ.get("REPEAT", "5"))
REPEAT_SQLITE = int(os.environ.get("REPEAT_SQLITE", "2"))
RFM_REPEAT = int(os.environ.get("RFM_REPEAT", "4"))
ENGINES = os.environ.get("ENGINES", "postgres sqlite").split()
GOAL_MS, RFM_GOAL_MS = 300, 10_000
RFM_WINDOWS = (60, 365)  # days; alternating, so every recompute moves customers
PASSWORD = "bench-password-analytics"  # noqa: S105 - a throwaway bench database
OWNER = "owner@bench.example"
MEMBERS = [  # e-mail, role: deals and tickets get owners and assignees to break down by
    (OWNER, "owner"),
    ("manager@bench.example", "manager"),
    ("sales1@bench.example", "sales"),
    ("sales2@bench.example", "sales"),
    ("support@bench.example", "support"),
]
CRM = str(Path(sys.executable).parent / "crm")


def log(msg: str) -> None:
    print(f"[analytics {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def database_url(engine: str) -> str:
    return f"{PG_URL}/{DB}" if engine == "postgres" else f"sqlite://{SQLITE_FILE}"


def crm(engine: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": database_url(engine)}
    out = subprocess.run([CRM, *args], input=stdin, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): crm {' '.join(args)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


async def pg(query: str, db: str = DB):
    conn = await asyncpg.connect(f"{PG_URL}/{db}".replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


def drop(engine: str) -> None:
    if engine == "postgres":
        asyncio.run(pg(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', db="postgres"))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)


def prepare(engine: str, now: str) -> float:
    """A fresh database with the bench data; the seconds ``crm demo-data`` took for ``bench``."""
    log(f"{engine}: fresh database")
    drop(engine)
    if engine == "postgres":
        asyncio.run(pg(f'CREATE DATABASE "{DB}"', db="postgres"))
    else:
        SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    crm(engine, "migrate")
    crm(engine, "org", "create", "bench", "--name", "Bench shop")
    crm(engine, "org", "create", "other", "--name", "Other shop")
    for email, role in MEMBERS:
        crm(engine, "user", "create", "--org", "bench", "--email", email, "--role", role, stdin=PASSWORD + "\n")
    sizes = ("--accounts", str(ACCOUNTS), "--orders", str(ORDERS), "--deals", str(DEALS), "--tickets", str(TICKETS))
    log(f"{engine}: crm demo-data {' '.join(sizes)} --seed 1 --now {now}")
    start = time.perf_counter()
    crm(engine, "demo-data", "--org", "bench", *sizes, "--seed", "1", "--now", now)
    took = time.perf_counter() - start
    log(f"{engine}:   took {took:.1f} s")
    small = [str(max(n // 20, 5)) for n in (ACCOUNTS, ORDERS, DEALS, TICKETS)]
    other = ("--accounts", small[0], "--orders", small[1], "--deals", small[2], "--tickets", small[3])
    crm(engine, "demo-data", "--org", "other", *other, "--seed", "2", "--now", now)
    if engine == "postgres":
        asyncio.run(pg("VACUUM ANALYZE"))
    return took


# -- measuring (in a child process per engine) ---------------------------------------------


def plain(value, labels: dict[str, str]):
    """A result as JSON-able data for comparing engines: global IDs replaced by stable labels."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), labels) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        items = [plain(v, labels) for v in value]
        if items and all(isinstance(i, dict) and ("agent_id" in i or "manager_id" in i) for i in items):
            # Listed by the user's ID, which differs between the two databases: order by e-mail.
            items.sort(key=lambda i: json.dumps([i.get("pipeline_id"), i.get("manager_id"), i.get("agent_id")]))
        return items
    if isinstance(value, dict):
        return {str(k): plain(v, labels) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return plain(value.value, labels)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, str):
        return labels.get(value, value)
    return value


async def measure(engine: str, today: date, now: datetime) -> dict:
    os.environ["DATABASE_URL"] = database_url(engine)
    sys.path.insert(0, str(ROOT))
    from server.activities.models import Activity
    from server.analytics import cohorts, funnel, ltv, metrics, metrics_settings, support
    from server.analytics import service as analytics
    from server.analytics.metrics_sql import Filter, make_period
    from server.analytics.models import RfmSettings
    from server.auth import principal as principals
    from server.auth.models import User
    from server.auth.scope import Scope
    from server.campaigns import results as campaign_results
    from server.config import Settings
    from server.db import close_db, init_db
    from server.deals.models import Pipeline, Stage
    from server.graphql import ids
    from server.surveys import service as surveys

    await init_db(Settings())
    try:
        user = await User.get(email=OWNER)
        scope = Scope(await principals.for_user(user, "bench"))
        org = scope.organization
        labels = {ids.encode("User", u.id): f"user:{u.email}" for u in await User.all()}
        pipelines = {p.id: p.name for p in await Pipeline.filter(organization_id=org.id)}
        labels |= {ids.encode("Pipeline", pk): f"pipeline:{name}" for pk, name in pipelines.items()}
        for st in await Stage.filter(pipeline_id__in=list(pipelines)):
            labels[ids.encode("Stage", st.id)] = f"stage:{pipelines[st.pipeline_id]}/{st.name}"
        period = make_period(today - timedelta(days=364), today, org.timezone)
        settings = await metrics_settings.current(scope)
        flt = Filter()

        async def campaigns():
            return [
                {
                    "kind": r.campaign.kind,
                    "total": r.total,
                    "steps": [(s.step.position, s.total, s.variants) for s in r.steps],
                }
                for r in await campaign_results.results(scope)
            ]

        runs = {
            "customers (AOV, frequency, repeat, lifespan, retention, churn)": lambda: metrics.customer_metrics(
                scope, period, flt, settings.lost_after_days
            ),
            "cohorts (13 months)": lambda: cohorts.cohorts(scope, period, flt),
            "LTV (five formulas, LTV:CAC per source)": lambda: ltv.ltv_report(scope, period, flt, settings),
            "funnel": lambda: funnel.funnel(scope, period, flt),
            "funnel by source": lambda: funnel.funnel(scope, period, flt, "source"),
            "funnel by manager": lambda: funnel.funnel(scope, period, flt, "manager"),
            "support (overall, by priority, by agent)": lambda: support.support_metrics(scope, period, now),
            "surveys NPS/CSAT/CES by month": lambda: surveys.figures(scope, period.first, period.last, ["month"]),
            "campaign results (per step and variant)": campaigns,
        }
        repeat = REPEAT if engine == "postgres" else REPEAT_SQLITE
        out: dict = {"metrics": {}, "rfm": None}
        for name, call in runs.items():
            result = await call()  # warm-up; also the numbers compared between engines
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                await call()
                times.append((time.perf_counter() - start) * 1000)
            out["metrics"][name] = {"times": times, "result": plain(result, labels), "gist": gist(result)}
            log(f"{engine}: {name}: median {statistics.median(times):.1f} ms")

        # RFM: the window switches each run, so each run rescores and moves customers.
        times, runs_seen = [], []
        for i in range(RFM_REPEAT + 1):
            window = RFM_WINDOWS[i % 2]
            await RfmSettings.filter(organization_id=org.id).update(rfm_window_days=window)
            before = await Activity.filter(organization_id=org.id, kind="rfm_group").count()
            start = time.perf_counter()
            scored = await analytics.recompute_rfm(scope, now=now)
            elapsed = (time.perf_counter() - start) * 1000
            moved = await Activity.filter(organization_id=org.id, kind="rfm_group").count() - before
            runs_seen.append({"window": window, "scored": scored, "moved": moved})
            if i:  # the first run is the warm-up
                times.append(elapsed)
            log(f"{engine}: RFM recompute (window {window} d): {scored} scored, {moved} moved, {elapsed:.0f} ms")
        out["rfm"] = {
            "times": times,
            # Without the warm-up, whose moves depend on what the database held before the run.
            "result": {"runs": runs_seen[1:], "groups": await analytics.rfm_group_sizes(scope)},
            "gist": f"{runs_seen[-1]['scored']} scored, {runs_seen[-1]['moved']} moved per run",
        }
        return out
    finally:
        await close_db()


def gist(result) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    orders = getattr(result, "orders", None)
    if orders is not None:
        return f"{orders} orders, {result.customers_who_ordered} customers"
    overall = getattr(result, "overall", None)
    if overall is not None:
        return f"{overall.tickets} tickets"
    return f"{len(getattr(result, 'by_formula', []))} LTV values"


def child(engine: str, today: str, now: str, output: str) -> None:
    result = asyncio.run(measure(engine, date.fromisoformat(today), datetime.fromisoformat(now)))
    Path(output).write_text(json.dumps(result))


def run_child(engine: str, today: date, now: datetime) -> dict:
    output = RESULTS / f"analytics-{engine}.json"
    args = [sys.executable, __file__, "--measure", engine, today.isoformat(), now.isoformat(), str(output)]
    subprocess.run(args, check=True, cwd=ROOT)
    return json.loads(output.read_text())


# -- comparing and reporting ------------------------------------------------------------------


def differences(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += differences(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


def report(results: dict[str, dict], loads: dict[str, float], mismatches: dict[str, list[str]]) -> str:
    engines = list(results)
    head = " | ".join(f"{e} median ms | {e} slowest ms" for e in engines)
    lines = [
        f"Analytics on {ORDERS} orders / {ACCOUNTS} accounts / {DEALS} deals / {TICKETS} tickets, last 365 days; "
        f"runs per metric: PostgreSQL {REPEAT}, SQLite {REPEAT_SQLITE}; RFM recompute: {RFM_REPEAT} runs, "
        f"window switching {RFM_WINDOWS[0]}/{RFM_WINDOWS[1]} days",
        "",
        f"`crm demo-data` for bench: {', '.join(f'{e} {s:.1f} s' for e, s in loads.items())}",
        "",
        f"| metric | {head} | goal | same on both engines | result |",
        f"| --- | {' | '.join('---: | ---:' for _ in engines)} | --- | --- | --- |",
    ]
    first = results[engines[0]]
    names = [*first["metrics"], "RFM recompute"]
    for name in names:
        cells, goal = [], GOAL_MS if name != "RFM recompute" else RFM_GOAL_MS
        for engine in engines:
            entry = results[engine]["rfm"] if name == "RFM recompute" else results[engine]["metrics"][name]
            cells.append(f"{statistics.median(entry['times']):.1f} | {max(entry['times']):.1f}")
        entry = first["rfm"] if name == "RFM recompute" else first["metrics"][name]
        median = statistics.median(entry["times"])
        ok = f"< {goal} ms: {'met' if median < goal else '**not met**'}"
        same = "—" if len(engines) < 2 else ("**NO**" if mismatches.get(name) else "yes")
        lines.append(f"| {name} | {' | '.join(cells)} | {ok} | {same} | {entry['gist']} |")
    lines.append("")
    lines.append("(goal judged on the first engine's median)")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        child(*sys.argv[2:6])
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    today_override = os.environ.get("BENCH_TODAY")
    results: dict[str, dict] = {}
    loads: dict[str, float] = {}
    try:
        for engine in ENGINES:
            if os.environ.get("REUSE_DB") == "1":
                log(f"{engine}: reusing the kept database (REUSE_DB=1)")
                loads[engine] = float("nan")
            else:
                loads[engine] = prepare(engine, now.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
        # One "today" for every engine (the organization's zone is Kyiv by default; a run across
        # its midnight would otherwise compare different periods).
        from zoneinfo import ZoneInfo

        today = date.fromisoformat(today_override) if today_override else datetime.now(ZoneInfo("Europe/Kyiv")).date()
        for engine in ENGINES:
            log(f"{engine}: measuring")
            results[engine] = run_child(engine, today, now)
    finally:
        if os.environ.get("KEEP_DB") != "1":
            for engine in ENGINES:
                drop(engine)
            log("dropped the bench databases")
    mismatches: dict[str, list[str]] = {}
    if len(results) > 1:
        base, *others = list(results)
        for other in others:
            for name in results[base]["metrics"]:
                found = differences(results[base]["metrics"][name]["result"], results[other]["metrics"][name]["result"])
                if found:
                    mismatches[name] = found
            found = differences(results[base]["rfm"]["result"], results[other]["rfm"]["result"])
            if found:
                mismatches["RFM recompute"] = found
    text = report(results, loads, mismatches)
    (RESULTS / "analytics.md").write_text(text)
    print(text)
    if mismatches:
        print("!" * 78)
        print("!!! THE ENGINES DISAGREE: these numbers differ between " + " and ".join(results))
        for name, found in mismatches.items():
            print(f"!!! {name}:")
            for line in found[:40]:
                print(f"!!!    {line}")
            if len(found) > 40:
                print(f"!!!    ... and {len(found) - 40} more")
        print("!" * 78)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
