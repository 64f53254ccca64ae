"""A worker's health, for supervisors (systemd, Docker, Kubernetes), readable without Redis.

The worker keeps the time of its last good contact with each part it needs (``redis``: a poll
of the queue; ``database``: a relay pass over the outbox) and any current problem. It is
*healthy* when both contacts are recent and nothing is failing. The state is published in
two ways, both local to the machine, so a probe works while Redis is away:

- a heartbeat file (``--health-file``), rewritten every second whatever the state, read by
  ``crm worker health`` (exit 0 healthy, 1 not) and ``crm worker health --live`` (exit 0 while
  the process is alive and looping, even when it waits for Redis). A file that stopped
  changing means a dead or hung worker.
- a small HTTP endpoint (``--health-port``): ``GET /health`` 200 or 503, ``GET /live`` 200,
  both with the same JSON body.

Why not arq's health key in Redis: a probe that needs Redis cannot tell "Redis is away" from
"the worker is dead", and restarting workers because Redis is away only adds noise."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

log = logging.getLogger("crm.jobs.worker")

PARTS = ("redis", "database")
WRITE_EVERY_SECONDS = 1.0
FILE_STALE_SECONDS = 10.0  # a file older than this: the worker died or its loop hangs


@dataclass
class Health:
    """What the worker knows about itself; ``stale_after``: a contact older than this is lost."""

    stale_after: float = 15.0
    path: Path | None = None
    started_at: float = field(default_factory=time.time)
    ok_at: dict[str, float] = field(default_factory=dict)  # part -> wall time of the last good contact
    problems: dict[str, str] = field(default_factory=dict)  # part -> what is wrong now
    _was_healthy: bool | None = None

    def ok(self, part: str) -> None:
        self.ok_at[part] = time.time()
        self.problems.pop(part, None)
        self._note_change()

    def down(self, part: str, problem: str) -> None:
        self.problems[part] = problem[:500]
        self._note_change()

    def healthy(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        fresh = all(now - self.ok_at.get(part, 0) <= self.stale_after for part in PARTS)
        return fresh and not self.problems

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        problems = dict(self.problems)
        for part in PARTS:
            if part not in problems and now - self.ok_at.get(part, 0) > self.stale_after:
                problems[part] = "no contact yet" if part not in self.ok_at else "no recent contact"
        return {
            "status": "healthy" if self.healthy(now) else "unhealthy",
            "problems": problems,
            "last_ok": {part: self.ok_at.get(part) for part in PARTS},
            "pid": os.getpid(),
            "started_at": self.started_at,
            "written_at": now,
            "stale_after": self.stale_after,
        }

    def _note_change(self) -> None:
        now_healthy = self.healthy()
        if now_healthy != self._was_healthy:
            self._was_healthy = now_healthy
            if now_healthy:
                log.info("worker healthy")
            else:
                problems = "; ".join(f"{k}: {v}" for k, v in self.problems.items())
                log.warning("worker unhealthy: %s", problems or "starting")
            self.write()

    def write(self) -> None:
        """Replace the heartbeat file in one step (a reader never sees half a file)."""
        if self.path is None:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            temporary.write_text(json.dumps(self.snapshot()), encoding="utf-8")
            temporary.replace(self.path)
        except OSError as exc:  # a full or read-only disk must not stop the jobs
            log.warning("could not write the health file %s: %s", self.path, exc)

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()

    async def keep_writing(self) -> None:
        """Rewrite the file every second: its age tells a probe the process still loops."""
        while True:
            self.write()
            await asyncio.sleep(WRITE_EVERY_SECONDS)


def read_health_file(path: Path, *, live_only: bool = False) -> tuple[bool, str]:
    """(healthy?, one line saying why) from a heartbeat file, for ``crm worker health``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, f"no health file at {path}: the worker is not running (or writes elsewhere)"
    except (OSError, ValueError) as exc:
        return False, f"cannot read the health file {path}: {exc}"
    age = time.time() - float(data.get("written_at", 0))
    if age > FILE_STALE_SECONDS:
        return False, f"the worker (pid {data.get('pid')}) last wrote its health file {age:.0f} s ago: dead or hung"
    if live_only:
        return True, f"the worker (pid {data.get('pid')}) is running ({data.get('status')})"
    if data.get("status") != "healthy":
        problems = "; ".join(f"{k}: {v}" for k, v in (data.get("problems") or {}).items())
        return False, f"the worker (pid {data.get('pid')}) is unhealthy: {problems}"
    return True, f"the worker (pid {data.get('pid')}) is healthy"


async def serve_http(health: Health, host: str, port: int) -> asyncio.Server:
    """``GET /health`` (200 healthy, 503 not) and ``GET /live`` (200 while the loop answers).

    A few lines of asyncio instead of a web framework: a probe sends one GET and needs one
    status line, and a second server in the worker must not take over its signal handling."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            parts = request.split(b"\r\n", 1)[0].split()
            path = parts[1].decode("ascii", "replace").split("?", 1)[0] if len(parts) >= 2 else ""
            snapshot = health.snapshot()
            if path == "/live":
                status = HTTPStatus.OK
            elif path == "/health":
                status = HTTPStatus.OK if snapshot["status"] == "healthy" else HTTPStatus.SERVICE_UNAVAILABLE
            else:
                status, snapshot = HTTPStatus.NOT_FOUND, {"error": "GET /health or /live"}
            body = json.dumps(snapshot).encode()
            writer.write(
                f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port, limit=16 * 1024)
