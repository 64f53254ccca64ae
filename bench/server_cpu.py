"""CPU time per request of a real server process (uvicorn + the app), one request at a time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/server_cpu.py

Where bench/cpu_per_request.py runs the app in process (no HTTP server), this one starts
uvicorn as ``crm serve`` does, once per HTTP/event-loop variant (``VARIANTS``, default
"h11/asyncio httptools/uvloop"; a variant whose library is not installed is skipped), sends
``REQUESTS`` requests of each page over one keep-alive connection and reads the server
process's CPU time (user + system, /proc) before and after. The figure is the server's CPU per
request, which is what limits one process under load; it hardly depends on how busy the
machine is. A throwaway PostgreSQL database is filled with ``crm demo-data`` and dropped.
Settings: ``ACCOUNTS`` (300), ``ORDERS`` (2000), ``REQUESTS`` (300), ``VARIANTS``.
"""

# ruff: noqa: S603 - starts the server it measures
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_per_request import ACCOUNT_PAGE, EMAIL, LOGIN, ORDER_PAGE, ORDERS_PAGE, PASSWORD, prepare

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.config import Settings
from server.db import close_db

REQUESTS = int(os.environ.get("REQUESTS", "300"))
VARIANTS = os.environ.get("VARIANTS", "h11/asyncio httptools/uvloop").split()
PORT = 8299
VENV_BIN = Path(sys.executable).parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_variant(variant: str, env: dict) -> None:
    http, loop = variant.split("/")
    missing = [lib for lib in (http, loop) if lib not in ("h11", "asyncio") and not importlib.util.find_spec(lib)]
    if missing:
        print(f"{variant}: skipped ({', '.join(missing)} not installed)")
        return
    cmd = [str(VENV_BIN / "uvicorn"), "server.app:app_from_environment", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(PORT), "--http", http, "--loop", loop, "--log-level", "info", "--no-access-log"]
    log = open(Path(os.environ.get("SERVER_LOG", os.devnull)), "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as client:
            for _ in range(600):  # up to 2 minutes: imports are slow on a busy machine
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None:
                        raise SystemExit(f"the server exited ({proc.returncode}): SERVER_LOG=file to see why") from None
                    time.sleep(0.2)
            token = client.post("/graphql", json={"query": LOGIN, "variables": {"e": EMAIL, "p": PASSWORD}}).json()
            headers = {"Authorization": f"Bearer {token['data']['login']['token']}", "X-Organization": "bench"}
            page = client.post("/graphql", json={"query": ORDERS_PAGE}, headers=headers).json()
            first = page["data"]["orders"]["edges"][0]["node"]
            pages = [
                ("OrdersPage", {"query": ORDERS_PAGE}),
                ("OrderPage", {"query": ORDER_PAGE, "variables": {"id": first["id"]}}),
                ("AccountPage", {"query": ACCOUNT_PAGE, "variables": {"id": first["account"]["id"]}}),
            ]
            for name, body in pages:
                data = json.dumps(body).encode()
                for _ in range(20):
                    client.post("/graphql", content=data, headers=headers | {"Content-Type": "application/json"})
                before = cpu_seconds(proc.pid)
                for _ in range(REQUESTS):
                    response = client.post(
                        "/graphql", content=data, headers=headers | {"Content-Type": "application/json"}
                    )
                    assert response.status_code == 200 and b'"errors"' not in response.content, response.text
                spent = (cpu_seconds(proc.pid) - before) / REQUESTS * 1000
                print(
                    f"{variant:18} {name:12} {spent:6.2f} ms server CPU per request ({REQUESTS} requests)", flush=True
                )
    finally:
        proc.terminate()
        proc.wait(10)


async def setup_db(url: str) -> None:
    settings = Settings().model_copy(update={"database_url": url})
    await prepare(settings)
    await close_db()


def main() -> None:
    settings = Settings()
    if not settings.is_postgres:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a throwaway database is made there)")
    admin = settings.database_url.replace("postgres://", "postgresql://", 1)
    db = f"crm_srvcpu_{uuid.uuid4().hex[:10]}"
    url = admin.rsplit("/", 1)[0] + "/" + db

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(statement)
        await conn.close()

    asyncio.run(sql(f'CREATE DATABASE "{db}"'))
    try:
        asyncio.run(setup_db(url))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "k" * 40,
            "RATE_LIMIT_PER_TOKEN": "1000000000/minute",
            "RATE_LIMIT_PER_ORGANIZATION": "1000000000/minute",
        }
        env.pop("REDIS_URL", None)
        for variant in VARIANTS:
            measure_variant(variant, env)
    finally:
        asyncio.run(sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
