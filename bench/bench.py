"""The page benchmark: our server, PostGraphile 5 and an asyncpg baseline, in one run.

Run it with ``bash bench/run.sh`` (which installs what is missing and cleans up); this script
does the work. Every step talks to 127.0.0.1 only, every load run lasts a fixed time, and only
one server runs at a time so they do not compete for the two cores.

Steps: a fresh PostgreSQL database; ``crm migrate``; organizations ``bench`` (20k accounts,
100k orders with ``crm demo-data --seed 1``, timed) and ``other`` (5k orders, so that the
tenancy filter has something to filter); ``VACUUM ANALYZE``; then for each server: start
it, check its answer, warm up, and measure with wrk at each concurrency. Our server is also
profiled with py-spy during an extra load run. Results go to bench/results/ and are printed
as a Markdown table.

Settings (environment): PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_DB (crm_bench),
DURATION (30, seconds per measured run), WARMUP (5), CONCURRENCY ("10 50"), PROFILE_SECONDS
(15), SERVERS ("ours postgraphile baseline"), PAGES ("orders order account": the OrdersPage, an
order by id, an account's 360° view; the baseline serves the OrdersPage only), KEEP_DB (1: do not
drop the database at the end), ACCOUNTS (20000) and ORDERS (100000) for a quick smoke run of
the script (its figures then mean nothing), e.g.
``ACCOUNTS=200 ORDERS=1000 DURATION=2 WARMUP=1 CONCURRENCY=4 PROFILE_SECONDS=0 bash bench/run.sh``.
"""

# ruff: noqa: S603, S607 - runs the tools it benchmarks (crm, wrk, py-spy, node) by design
from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
PGL_DIR = BENCH / "postgraphile"
NODE = PGL_DIR / "node_modules" / ".bin" / "node"
PIDFILE = RESULTS / "servers.pid"

PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_DB", "crm_bench")
DATABASE_URL = f"{PG_URL}/{DB}"
DURATION = int(os.environ.get("DURATION", "30"))
WARMUP = int(os.environ.get("WARMUP", "5"))
CONCURRENCY = [int(c) for c in os.environ.get("CONCURRENCY", "10 50").split()]
PROFILE_SECONDS = int(os.environ.get("PROFILE_SECONDS", "15"))
SERVERS = os.environ.get("SERVERS", "ours postgraphile baseline").split()
ACCOUNTS = int(os.environ.get("ACCOUNTS", "20000"))  # smaller for a smoke run of the script
ORDERS = int(os.environ.get("ORDERS", "100000"))
PAGES = os.environ.get("PAGES", "orders order account").split()
# After the measured runs, our server keeps serving the pages in turn for this long (concurrency
# 10), and its memory (RSS) is read at the end: the issue asks for RSS after 10 minutes (600).
SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "0"))
POOL = 5  # connections: Tortoise's default pool size; the other two are set to the same
EMAIL, PASSWORD = "owner@bench.example", "bench-password-1"
PORTS = {"ours": 8190, "postgraphile": 8191, "baseline": 8192}
LABELS = {
    "ours": "our server (strawberry + Tortoise, `crm serve`)",
    "postgraphile": "PostGraphile 5 (Node 22)",
    "baseline": "baseline: hand-written asyncpg + orjson (not a product)",
}

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

# The same page in PostGraphile's schema (names found by introspection). No tenancy there:
# the condition on organizationId keeps it to the benchmark organization.
PGL_ORDERS_PAGE = """query OrdersPage($org: UUID!) {
  orders(first: 50, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC], condition: {organizationId: $org}) {
    edges { cursor node {
      id number createdAt
      status { code name group }
      total currency
      account { id name phones }
      orderItems(orderBy: [POSITION_ASC, PRIMARY_KEY_ASC]) { nodes { sku title quantity unitPrice } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# An order by id: what the order's page shows (ours; PostGraphile's below).
ORDER_PAGE = """query OrderPage($id: ID!) {
  order(id: $id) {
    id number createdAt currency comment
    status { code name group }
    subtotal { amount currency }
    total { amount currency }
    account { id name phone }
    items { sku title quantity unitPrice { amount currency } total { amount currency } }
  }
}"""

PGL_ORDER_PAGE = """query OrderPage($id: UUID!) {
  order(rowId: $id) {
    id number createdAt currency comment
    status { code name group }
    subtotal
    total
    account { id name phones }
    orderItems(orderBy: [POSITION_ASC, PRIMARY_KEY_ASC]) { nodes { sku title quantity unitPrice total } }
  }
}"""

# The account's 360° view: its contacts and its last 10 orders with their items.
ACCOUNT_PAGE = """query AccountPage($id: ID!) {
  account(id: $id) {
    id name phone phones emails createdAt
    contacts { id name phones emails }
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

PGL_ACCOUNT_PAGE = """query AccountPage($id: UUID!) {
  account(rowId: $id) {
    id name phones emails createdAt
    contacts(orderBy: [NAME_ASC, PRIMARY_KEY_ASC]) { nodes { id name phones emails } }
    orders(first: 10, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) {
      edges { cursor node {
        id number createdAt
        status { code name group }
        total currency
        orderItems(orderBy: [POSITION_ASC, PRIMARY_KEY_ASC]) { nodes { sku title quantity unitPrice } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

PAGE_LABELS = {"orders": "OrdersPage (50 orders)", "order": "order by id", "account": "account 360°"}

_started: list[subprocess.Popen] = []


def log(msg: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], *, stdin: str | None = None, env: dict | None = None) -> str:
    out = subprocess.run(cmd, input=stdin, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


def crm(*args: str, stdin: str | None = None) -> str:
    return run([str(VENV_BIN / "crm"), *args], stdin=stdin, env={**os.environ, "DATABASE_URL": DATABASE_URL})


# -- machine ----------------------------------------------------------------------


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def machine() -> dict:
    from importlib.metadata import version

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    pgl = json.loads((PGL_DIR / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
        "python": platform.python_version(),
        "node": _version([str(NODE), "--version"]),
        "wrk": _version(["wrk", "--version"]).split(" [")[0],
        "packages": {
            p: version(p)
            for p in ("strawberry-graphql", "graphql-core", "tortoise-orm", "asyncpg", "uvicorn", "starlette", "orjson")
        }
        | {"postgraphile": pgl},
    }


# -- database -----------------------------------------------------------------------


async def sql(query: str, *args, db: str = DB):
    conn = await asyncpg.connect(f"{PG_URL}/{db}".replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def drop_db() -> None:
    await sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', db="postgres")


def prepare_database(info: dict) -> str:
    log(f"fresh database {DB}")
    asyncio.run(drop_db())
    asyncio.run(sql(f'CREATE DATABASE "{DB}"', db="postgres"))
    info["postgresql"] = asyncio.run(sql("SHOW server_version"))[0][0]
    crm("migrate")
    crm("org", "create", "bench", "--name", "Bench shop")
    crm("org", "create", "other", "--name", "Other shop")
    crm("user", "create", "--org", "bench", "--email", EMAIL, "--role", "owner", stdin=PASSWORD + "\n")
    log(f"crm demo-data: {ACCOUNTS} accounts, {ORDERS} orders (seed 1)")
    start = time.perf_counter()
    out = crm("demo-data", "--org", "bench", "--accounts", str(ACCOUNTS), "--orders", str(ORDERS), "--seed", "1")
    info["demo_data_seconds"] = round(time.perf_counter() - start, 1)
    info["demo_data_output"] = out.strip().splitlines()[-1] if out.strip() else ""
    log(f"  took {info['demo_data_seconds']} s: {info['demo_data_output']}")
    crm("demo-data", "--org", "other", "--accounts", "1000", "--orders", "5000", "--seed", "2")
    # `crm demo-data` leaves the planner statistics of a just-filled table empty: without this
    # the orders page is planned as a scan of all 100k orders (see the README).
    start = time.perf_counter()
    asyncio.run(sql("VACUUM ANALYZE"))
    info["vacuum_analyze_seconds"] = round(time.perf_counter() - start, 1)
    counts = asyncio.run(
        sql(
            """SELECT (SELECT count(*) FROM "order" o JOIN organization g ON g.id = o.organization_id
                       WHERE g.slug = 'bench') AS orders,
                      (SELECT count(*) FROM order_item i JOIN organization g ON g.id = i.organization_id
                       WHERE g.slug = 'bench') AS items,
                      (SELECT count(*) FROM account a JOIN organization g ON g.id = a.organization_id
                       WHERE g.slug = 'bench') AS accounts,
                      (SELECT count(*) FROM "order") AS all_orders"""
        )
    )[0]
    info["rows"] = dict(counts)
    return str(asyncio.run(sql("SELECT id FROM organization WHERE slug = 'bench'"))[0][0])


# -- servers ------------------------------------------------------------------------


def start(name: str) -> subprocess.Popen:
    port = PORTS[name]
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    if name == "ours":
        # A production-like server needs its own key; the load is one token at a few hundred
        # requests/s, far over a partner's default cost budget, so the bench lifts it.
        env.setdefault("SECRET_KEY", "bench-" + "k" * 40)
        env.setdefault("RATE_LIMIT_PER_TOKEN", "1000000000/minute")
        env.setdefault("RATE_LIMIT_PER_ORGANIZATION", "1000000000/minute")
        # No line per request, like the other two (PostGraphile in production logs none, the
        # baseline runs uvicorn with --no-access-log): the log costs about 5 % of a small read.
        cmd = [str(VENV_BIN / "crm"), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    elif name == "postgraphile":
        cmd = [
            str(NODE),
            str(PGL_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"),
            "-C",
            str(PGL_DIR / "graphile.config.mjs"),
        ]
        env |= {"PG_PORT": str(port), "PG_POOL_MAX": str(POOL), "GRAPHILE_ENV": "production", "NODE_ENV": "production"}
    else:
        cmd = [
            str(VENV_BIN / "uvicorn"),
            "--no-access-log",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--app-dir",
            str(BENCH),
            "baseline_asyncpg:app",
        ]
        env |= {"BASELINE_POOL_SIZE": str(POOL)}
    logfile = open(RESULTS / f"{name}.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    _started.append(proc)
    PIDFILE.write_text("".join(f"{p.pid}\n" for p in _started if p.poll() is None))
    log(f"started {name} (pid {proc.pid}) on 127.0.0.1:{port}: {' '.join(cmd)}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        except ProcessLookupError:
            pass
    PIDFILE.write_text("".join(f"{p.pid}\n" for p in _started if p.poll() is None))


def post(port: int, body: bytes, token: str | None = None, timeout: float = 10) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1 only
        return json.loads(resp.read())


def wait_ready(proc: subprocess.Popen, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}; see {RESULTS}/*.log")
        try:
            post(port, b'{"query":"{ __typename }"}', timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {seconds} s")


def login(port: int) -> str:
    body = json.dumps(
        {
            "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            "variables": {"e": EMAIL, "p": PASSWORD},
        }
    ).encode()
    return post(port, body)["data"]["login"]["token"]


def check_answer(name: str, data: dict, reference: dict | None) -> None:
    """Each server must return the real page: 50 orders, newest first, with their items; the
    same orders as our server (PostGraphile) or exactly our server's page (the baseline)."""
    edges = data["orders"]["edges"]
    assert len(edges) == 50, (name, len(edges))
    assert data["orders"]["pageInfo"]["hasNextPage"] is True, name
    times = [datetime.fromisoformat(e["node"]["createdAt"]) for e in edges]
    assert times == sorted(times, reverse=True), f"{name}: not newest first"
    if name == "postgraphile":
        n_items = sum(len(e["node"]["orderItems"]["nodes"]) for e in edges)
        assert "Order" in base64.b64decode(edges[0]["node"]["id"]).decode(), edges[0]["node"]["id"]
    else:
        n_items = sum(len(e["node"]["items"]) for e in edges)
    assert n_items >= 50, (name, n_items)
    if reference is not None:
        ours = [e["node"]["number"] for e in reference["orders"]["edges"]]
        if name == "postgraphile":
            theirs = [e["node"]["number"] for e in edges]
            assert theirs == ours, f"{name}: other orders than our server's page"
        else:
            assert data == reference, f"{name}: the page differs from our server's"


def check_page(name: str, page: str, data: dict, reference: dict | None) -> None:
    """The order and account pages: the right record with its items and orders; PostGraphile's
    the same order numbers and item counts as ours."""
    if page == "order":
        order = data["order"]
        items = order["orderItems"]["nodes"] if name == "postgraphile" else order["items"]
        assert items, f"{name}: an order without items"
        if reference is not None:
            assert order["number"] == reference["order"]["number"], f"{name}: another order"
            assert len(items) == len(reference["order"]["items"]), f"{name}: other items"
    else:
        account = data["account"]
        numbers = [e["node"]["number"] for e in account["orders"]["edges"]]
        assert numbers, f"{name}: an account without orders"
        if reference is not None:
            assert account["name"] == reference["account"]["name"], f"{name}: another account"
            ours = [e["node"]["number"] for e in reference["account"]["orders"]["edges"]]
            assert numbers == ours, f"{name}: other orders than our server's"


def _uuid_of(global_id: str) -> str:
    """The row id inside one of our global IDs (base64 of "Type:uuid")."""
    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().partition(":")[2]


# -- load ---------------------------------------------------------------------------

RESULT_RE = re.compile(r"(\w+)=([\d.]+(?:\.\.\d+)?)")


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes, in MiB (VmRSS from /proc)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return round(total_kb / 1024, 1)


def soak(proc: subprocess.Popen, bodies: list[Path], token: str) -> dict:
    """Our server under load for SOAK_SECONDS (the pages in turn, concurrency 10): its RSS before and after."""
    before = rss_mb(process_tree(proc.pid))
    log(f"ours: soak for {SOAK_SECONDS} s over {len(bodies)} pages (RSS now {before} MiB)")
    began, requests, errors = time.monotonic(), 0, 0
    while time.monotonic() - began < SOAK_SECONDS:
        for body in bodies:
            left = SOAK_SECONDS - (time.monotonic() - began)
            if left < 1:
                break
            r = wrk(PORTS["ours"], body, token, 10, min(60, int(left)))
            requests, errors = requests + int(r["requests"]), errors + int(r["errors"])
    after = rss_mb(process_tree(proc.pid))
    log(f"ours: after {SOAK_SECONDS} s of load ({requests} requests, {errors} errors) RSS {after} MiB")
    return {
        "soak_seconds": SOAK_SECONDS,
        "soak_requests": requests,
        "soak_errors": errors,
        "rss_before_soak_mib": before,
        "rss_after_soak_mib": after,
    }


def bench_backends() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the benchmark database (other
    databases on the same server, e.g. someone's test run, count as "others")."""
    found = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() != "postgres":
                    continue
                words = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
                if DB in words:
                    found[int(d.name)] = cpu_seconds([int(d.name)])
            except OSError:
                pass
    return found


class BackendWatch:
    """The benchmark database's backends, read every half second while a load runs.

    A backend that ends during the run (asyncpg replaces a pooled connection after 50,000
    queries, which the small pages reach within a run) takes its CPU time with it: read only at
    the end, it was counted as "others" and flagged the run as disturbed. Now a backend counts
    up to its last reading (at most half a second lost); one started during the run counts whole."""

    def __init__(self) -> None:
        self.before = bench_backends()
        self.last = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.last |= bench_backends()

    def cpu_seconds(self) -> float:
        self._stop.set()
        self._thread.join()
        self.last |= bench_backends()
        # A PID below its reading before the run is a new backend that took an old one's PID.
        return sum(
            cpu - self.before.get(pid, 0.0) if cpu >= self.before.get(pid, 0.0) else cpu
            for pid, cpu in self.last.items()
        )


def process_tree(root: int) -> list[int]:
    children = defaultdict(list)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int(open(d / "stat").read().rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children[pid])
    return out


def wrk(port: int, body_file: Path, token: str | None, concurrency: int, seconds: int) -> dict:
    env = {**os.environ, "BODY_FILE": str(body_file), "TOKEN": token or ""}
    cmd = [
        "wrk",
        "-t2" if concurrency >= 2 else "-t1",
        f"-c{concurrency}",
        f"-d{seconds}s",
        "--timeout",
        "15s",
        "--latency",
        "-s",
        str(BENCH / "graphql_post.lua"),
        f"http://127.0.0.1:{port}/graphql",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = {k: (v if ".." in v else float(v)) for k, v in RESULT_RE.findall(line)}
    result["errors"] = int(result["non2xx"] + result["socket_errors"] + result["graphql_errors"])
    result["wrk_output"] = out
    return result


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat)."""
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, proc: subprocess.Popen, body_file: Path, token: str | None, page: str = "orders") -> list[dict]:
    port = PORTS[name]
    log(f"{name} {page}: warm-up {WARMUP} s at concurrency 10")
    wrk(port, body_file, token, 10, WARMUP)
    rows = []
    for c in CONCURRENCY:
        server_pids = process_tree(proc.pid)
        cpu0, pg0, wrk0, all0 = (
            cpu_seconds(server_pids),
            BackendWatch(),
            children_cpu_seconds(),
            machine_busy_seconds(),
        )
        t0 = time.monotonic()
        r = wrk(port, body_file, token, c, DURATION)
        elapsed = time.monotonic() - t0

        def pct(seconds: float, elapsed: float = elapsed) -> int:  # percent of one core
            return round(100 * seconds / elapsed)

        r["server_cpu_pct"] = pct(cpu_seconds(process_tree(proc.pid)) - cpu0)
        r["server_rss_mib"] = rss_mb(process_tree(proc.pid))
        r["postgres_cpu_pct"] = pct(pg0.cpu_seconds())
        r["wrk_cpu_pct"] = pct(children_cpu_seconds() - wrk0)
        r["machine_cpu_pct"] = pct(machine_busy_seconds() - all0)
        # Whatever else ran on the machine meanwhile (other people's jobs): it disturbs the figures.
        r["others_cpu_pct"] = max(
            0, r["machine_cpu_pct"] - r["server_cpu_pct"] - r["postgres_cpu_pct"] - r["wrk_cpu_pct"]
        )
        r |= {"server": name, "concurrency": c, "page": page}
        (RESULTS / f"wrk-{name}-{page}-c{c}.txt").write_text(r.pop("wrk_output"))
        log(
            f"{name} {page} c={c}: {r['rps']:.1f} req/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
            f"errors {r['errors']}, RSS {r['server_rss_mib']} MiB, "
            f"CPU: server {r['server_cpu_pct']}%, postgres {r['postgres_cpu_pct']}%, "
            f"wrk {r['wrk_cpu_pct']}%, others {r['others_cpu_pct']}% (of one core; {os.cpu_count()} cores)"
        )
        if r["others_cpu_pct"] > 15:
            log(f"WARNING: other processes used {r['others_cpu_pct']}% of a core during this run: rerun when idle")
        rows.append(r)
    return rows


def profile(proc: subprocess.Popen, body_file: Path, token: str) -> None:
    """py-spy on our server while wrk sends the page at concurrency 10: raw stacks for the
    summary, then a flame graph (two recordings one after the other during the same run)."""
    pyspy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if not pyspy:
        log("py-spy not found: no profile")
        return
    seconds = PROFILE_SECONDS
    log(f"ours: profiling with py-spy ({seconds} s raw + {seconds} s flame graph) under load at concurrency 10")
    env = {**os.environ, "BODY_FILE": str(body_file), "TOKEN": token}
    load = subprocess.Popen(
        [
            "wrk",
            "-t2",
            "-c10",
            f"-d{2 * seconds + 4}s",
            "--timeout",
            "15s",
            "-s",
            str(BENCH / "graphql_post.lua"),
            f"http://127.0.0.1:{PORTS['ours']}/graphql",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(1)
        common = ["record", "--pid", str(proc.pid), "--rate", "100", "--idle", "--duration", str(seconds)]
        subprocess.run(
            [pyspy, *common, "--format", "raw", "-o", str(RESULTS / "profile.txt")],
            capture_output=True,
            check=True,
            timeout=seconds + 30,
        )
        subprocess.run(
            [pyspy, *common, "--format", "flamegraph", "-o", str(BENCH / "profile.svg")],
            capture_output=True,
            check=True,
            timeout=seconds + 30,
        )
    finally:
        out, _ = load.communicate(timeout=2 * seconds + 60)
    (RESULTS / "wrk-ours-profiled.txt").write_text(out)
    summary = summarize_profile(RESULTS / "profile.txt")
    (RESULTS / "profile-summary.md").write_text(summary)
    print(summary)


# -- profile summary -----------------------------------------------------------------

FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::\d+)?\)$")
CATEGORIES = [  # (label, test on the frame's file): the first match of the innermost frame wins
    ("graphql-core (execution, completion)", lambda f: f.startswith("graphql/")),
    ("strawberry (resolver wrapping, types, DataLoader)", lambda f: f.startswith("strawberry/")),
    ("Tortoise ORM (querysets, model construction)", lambda f: f.startswith(("tortoise/", "pypika"))),
    ("asyncpg (driver, decoding rows)", lambda f: f.startswith("asyncpg/")),
    ("our code (server/)", lambda f: f.startswith("server/")),
    ("JSON (json module)", lambda f: f.startswith("json/")),
    (
        "HTTP (uvicorn, h11/httptools, starlette)",
        lambda f: f.startswith(("uvicorn/", "h11/", "httptools/", "starlette/")),
    ),
    ("asyncio event loop", lambda f: f.startswith(("asyncio/", "selectors.py"))),
]
INCLUSIVE = [  # (label, regex on "func (file)"; func may be qualified by its class)
    ("graphql-core: executing the operation (execute_operation)", r"^(\w+\.)?execute_operation \(graphql/"),
    ("graphql-core + strawberry: resolving fields (execute_field)", r"^(\w+\.)?execute_field \(graphql/"),
    ("strawberry: per-field wrapper (extension_resolver, get_arguments)", r"extension_resolver \(strawberry/"),
    ("strawberry: building Info per field (build_resolve_info)", r"build_resolve_info \(strawberry/"),
    ("DataLoader batches (dispatch_batch: SQL + models)", r"^dispatch_batch \(strawberry/dataloader"),
    ("Tortoise QuerySet._execute (SQL + rows to models)", r"^QuerySet\._execute \(tortoise/"),
    ("Tortoise Model._init_from_db (building model instances)", r"^Model\._init_from_db \(tortoise/"),
    ("asyncio transport reads (includes asyncpg's compiled protocol)", r"_read_ready__data_received \(asyncio/"),
    ("asyncio task creation (create_task, gather)", r"^(BaseEventLoop\.create_task|gather|_ensure_future) \(asyncio/"),
    ("auth: CRMGraphQL.get_context (token, membership)", r"^CRMGraphQL\.get_context \(server/app"),
    ("paginate (orders query, cursors)", r"^paginate \(server/graphql/pagination"),
    ("graphql parse + validate (cached)", r"^(parse|validate|parse_document|validate_document) \("),
    ("query cost estimate (server/graphql/limits.py)", r"\(server/graphql/limits"),
    ("JSON encoding of the response (json.dumps)", r"^dumps \(json/"),
    (
        "HTTP: uvicorn + starlette outside the GraphQL view",
        r"^(H11Protocol|HttpToolsProtocol)\.(data_received|handle_events)",
    ),
    ("idle: event loop waiting in select (DB or client I/O)", r"select \(selectors\.py"),
]


def _parse_frame(frame: str) -> tuple[str, str]:
    m = FRAME_RE.match(frame.strip())
    return (m["func"], m["file"]) if m else (frame.strip(), "")


def summarize_profile(path: Path, top: int = 25, what: str = "OrdersPage load, concurrency 10") -> str:
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1
    own, category, inclusive = Counter(), Counter(), Counter()
    for frames, count in stacks:
        func, file = _parse_frame(frames[-1])
        own[f"{func} ({file})"] += count
        label = next((lab for lab, test in CATEGORIES if test(file)), "other (stdlib, uuid, datetime, decimal...)")
        category[label] += count
        seen = set()
        for frame in frames:
            func, file = _parse_frame(frame)
            key = f"{func} ({file})"
            for lab, pattern in INCLUSIVE:
                if lab not in seen and re.search(pattern, key):
                    inclusive[lab] += count
                    seen.add(lab)
    pct = lambda n: f"{100 * n / total:5.1f}%"  # noqa: E731
    lines = [f"py-spy: {total} samples at 100 Hz (idle included), our server under {what}", ""]
    lines += ["Self time by library (innermost frame):", "```"]
    lines += [f"{pct(n)}  {label}" for label, n in category.most_common()]
    lines += ["```", "", "Inclusive time (a sample counts once per line if the frame is anywhere on its stack):", "```"]
    lines += [f"{pct(inclusive[label])}  {label}" for label, _ in INCLUSIVE]
    lines += ["```", "", f"Top {top} functions by self time:", "```"]
    lines += [f"{pct(n)}  {key}" for key, n in own.most_common(top)]
    lines += ["```", ""]
    return "\n".join(lines)


# -- report -------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    out = [
        "| page | server | concurrency | requests/s | p50 ms | p99 ms | errors | requests "
        "| CPU % server / postgres / wrk / others | RSS MiB | ratio to PostGraphile |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    pgl = {(r["page"], r["concurrency"]): r["rps"] for r in rows if r["server"] == "postgraphile"}
    for r in rows:
        theirs = pgl.get((r["page"], r["concurrency"]))
        ratio = f"{r['rps'] / theirs:.2f}×" if theirs else "–"
        out.append(
            f"| {PAGE_LABELS[r['page']]} | {LABELS[r['server']]} | {r['concurrency']} | {r['rps']:.1f} "
            f"| {r['p50_ms']:.0f} | {r['p99_ms']:.0f} "
            f"| {r['errors']} | {int(r['requests'])} | {r['server_cpu_pct']} / {r['postgres_cpu_pct']} / "
            f"{r['wrk_cpu_pct']} / {r['others_cpu_pct']}% | {r.get('server_rss_mib', '–')} | {ratio} |"
        )
    return "\n".join(out)


def _terminate(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    RESULTS.mkdir(exist_ok=True)
    began = time.monotonic()
    info = machine()
    log(f"machine: {info['nproc']} cores {info['cpu']}, {info['memory_gib']} GiB, load {info['loadavg_before']}")
    rows: list[dict] = []
    try:
        org_id = prepare_database(info)
        ours_body = RESULTS / "body-ours.json"
        ours_body.write_text(json.dumps({"query": ORDERS_PAGE, "operationName": "OrdersPage"}))
        pgl_body = RESULTS / "body-postgraphile.json"
        pgl_body.write_text(
            json.dumps({"query": PGL_ORDERS_PAGE, "operationName": "OrdersPage", "variables": {"org": org_id}})
        )
        token, reference = None, None
        # The order and account pages ask for records found in our OrdersPage (first order).
        bodies: dict[tuple[str, str], Path] = {("ours", "orders"): ours_body, ("postgraphile", "orders"): pgl_body}
        references: dict[str, dict] = {}
        for name in SERVERS:
            proc = start(name)
            try:
                wait_ready(proc, PORTS[name])
                if name == "ours":
                    token = login(PORTS[name])
                    reference = post(PORTS[name], ours_body.read_bytes(), token)["data"]
                    check_answer(name, reference, None)
                    (RESULTS / "answer-ours.json").write_text(json.dumps(reference, ensure_ascii=False, indent=1))
                    first = reference["orders"]["edges"][0]["node"]
                    for page, query, pgl_query, gid in (
                        ("order", ORDER_PAGE, PGL_ORDER_PAGE, first["id"]),
                        ("account", ACCOUNT_PAGE, PGL_ACCOUNT_PAGE, first["account"]["id"]),
                    ):
                        bodies["ours", page] = RESULTS / f"body-ours-{page}.json"
                        bodies["ours", page].write_text(json.dumps({"query": query, "variables": {"id": gid}}))
                        bodies["postgraphile", page] = RESULTS / f"body-postgraphile-{page}.json"
                        bodies["postgraphile", page].write_text(
                            json.dumps({"query": pgl_query, "variables": {"id": _uuid_of(gid)}})
                        )
                        answer = post(PORTS[name], bodies["ours", page].read_bytes(), token)
                        assert not answer.get("errors"), answer["errors"]
                        check_page(name, page, answer["data"], None)
                        references[page] = answer["data"]
                        (RESULTS / f"answer-ours-{page}.json").write_text(
                            json.dumps(answer, ensure_ascii=False, indent=1)
                        )
                    for page in PAGES:
                        rows += measure(name, proc, bodies[name, page], token, page)
                    if SOAK_SECONDS > 0:
                        info["ours_soak"] = soak(proc, [bodies["ours", page] for page in PAGES], token)
                    if PROFILE_SECONDS > 0:
                        profile(proc, ours_body, token)
                elif name == "postgraphile":
                    answer = post(PORTS[name], pgl_body.read_bytes())
                    assert not answer.get("errors"), answer["errors"]
                    check_answer(name, answer["data"], reference)
                    (RESULTS / "answer-postgraphile.json").write_text(json.dumps(answer, ensure_ascii=False, indent=1))
                    for page in PAGES:
                        if page != "orders":
                            if ("postgraphile", page) not in bodies:
                                raise SystemExit("the order and account pages need 'ours' in SERVERS before them")
                            answer = post(PORTS[name], bodies[name, page].read_bytes())
                            assert not answer.get("errors"), answer["errors"]
                            check_page(name, page, answer["data"], references[page])
                            (RESULTS / f"answer-postgraphile-{page}.json").write_text(
                                json.dumps(answer, ensure_ascii=False, indent=1)
                            )
                        rows += measure(name, proc, bodies[name, page], None, page)
                else:
                    if token is None:  # the baseline checks the token like the server does
                        raise SystemExit("the baseline needs our server's token: keep 'ours' in SERVERS before it")
                    answer = post(PORTS[name], ours_body.read_bytes(), token)
                    check_answer(name, answer["data"], reference)
                    if "orders" in PAGES:  # the baseline serves the OrdersPage only
                        rows += measure(name, proc, ours_body, token)
            finally:
                stop(proc)
    finally:
        for proc in _started:
            stop(proc)
        if os.environ.get("KEEP_DB") != "1":
            asyncio.run(drop_db())
    info["total_seconds"] = round(time.monotonic() - began)
    info["duration_seconds"], info["warmup_seconds"], info["pool"] = DURATION, WARMUP, POOL
    (RESULTS / "results.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=1, default=str))
    md = [
        f"## Run of {info['date']}",
        "",
        "```",
        json.dumps(info, indent=1, default=str, ensure_ascii=False),
        "```",
        "",
        table(rows),
        "",
    ]
    (RESULTS / "results.md").write_text("\n".join(md))
    print("\n".join(md))
    log(f"done in {info['total_seconds']} s; results in {RESULTS}")


if __name__ == "__main__":
    main()
