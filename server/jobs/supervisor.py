"""``crm worker`` as a long-lived process: it outlives Redis or the database going away.

One *session* is one connection to Redis and one arq worker on it (arq_worker.py), plus the
outbox relay. When Redis stops answering (arq's poll loop raises), the session ends: the worker
reports itself unhealthy, waits (exponential backoff with jitter, ``tenacity``), connects
again and starts a new session in the same process. Connecting checks the database too, so a
worker does not start taking jobs it cannot run. Events written meanwhile wait in the outbox.

Jobs running when the connection broke are not interrupted: they finish (their effect is in
the database) or, if Redis stays away until their lease would run out, they are stopped
(leases.py) and run again later. SIGTERM or SIGINT stops the worker at any point: running jobs
are cancelled and handed back to the queue, as arq does, and the process exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter
from tortoise.exceptions import DBConnectionError, OperationalError

from server.config import Settings
from server.jobs import registry
from server.jobs.arq_worker import ArqBackend, CrmWorker, build_worker, relay_loop
from server.jobs.health import Health, serve_http
from server.jobs.leases import Leases
from server.plugins import egress

log = logging.getLogger("crm.jobs.worker")

# What "Redis or the database is away" looks like; anything else is a bug: the process exits
# (with the traceback) and its supervisor starts it again.
OUTAGES = (RedisError, OSError, TimeoutError, DBConnectionError, OperationalError)
REDIS_SOCKET_TIMEOUT_SECONDS = 5  # a silent network (no reset, no answer) counts as away too


class _Stopping(Exception):
    """SIGTERM arrived while waiting to reconnect."""


class Supervisor:
    def __init__(self, settings: Settings, health: Health, *, burst: bool = False):
        self.settings = settings
        self.health = health
        self.burst = burst
        self.leases = Leases(settings.worker_lease_seconds)
        self.stopping = asyncio.Event()
        self.worker: CrmWorker | None = None
        self.left_running: set[asyncio.Task] = set()  # jobs of an ended session still running
        self.database_ready = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig)
        helpers = [asyncio.create_task(self.leases.keep(), name="crm-leases")]
        if self.health.path is not None:
            helpers.append(asyncio.create_task(self.health.keep_writing(), name="crm-health-file"))
        try:
            if not self.burst:
                helpers.append(asyncio.create_task(self._telephony(), name="crm-telephony"))
            while not self.stopping.is_set():
                try:
                    pool = await self._connect_with_backoff()
                except _Stopping:
                    break
                if self.stopping.is_set():  # SIGTERM while connecting
                    await pool.aclose()
                    break
                ended_cleanly = await self._session(pool)
                if ended_cleanly or self.burst:
                    break
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, *self.left_running, return_exceptions=True)
            from server.db import close_db

            if self.database_ready:
                await close_db()
            self.health.remove()
            log.info("worker stopped")

    async def _telephony(self) -> None:
        """PBX connections (Asterisk AMI...) for as long as the worker runs, once the database
        is up: they outlive Redis outages, their events go to the database."""
        from server.telephony.listeners import Listeners

        while not self.database_ready:  # noqa: ASYNC110 - set by the connect loop, not an event
            await asyncio.sleep(0.5)
        await Listeners(self.settings).run()

    def stop(self, sig: signal.Signals) -> None:
        log.info("%s: stopping (running jobs go back to the queue)", sig.name)
        self.stopping.set()
        if self.worker is not None:
            self.worker.handle_sig(sig)  # cancels its jobs and its poll loop, as plain arq does
        for task in self.left_running:
            task.cancel()

    # -- connecting ----------------------------------------------------------------------------

    async def _connect_with_backoff(self) -> ArqRedis:
        if self.burst:
            return await self._connect()
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(OUTAGES),
            wait=wait_exponential_jitter(
                initial=self.settings.worker_reconnect_min_seconds,
                max=self.settings.worker_reconnect_max_seconds,
                jitter=self.settings.worker_reconnect_min_seconds,
            ),
            before_sleep=self._waiting,
            sleep=self._sleep,
            reraise=True,
        )
        return await retrying(self._connect)

    async def _connect(self) -> ArqRedis:
        if self.stopping.is_set():
            raise _Stopping
        await self._check_database()
        pool = ArqRedis.from_url(
            self.settings.redis_url,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_keepalive=True,
        )
        pool.default_queue_name = self.settings.arq_queue_name
        try:
            await pool.ping()
        except BaseException as exc:
            await pool.aclose()
            self.health.down("redis", f"{type(exc).__name__}: {exc}")
            raise
        return pool

    async def _check_database(self) -> None:
        from tortoise import connections

        from server.db import init_db

        try:
            if not self.database_ready:
                await init_db(self.settings)
                self.database_ready = True
            await connections.get("default").execute_query("SELECT 1")
        except OUTAGES as exc:
            self.health.down("database", f"{type(exc).__name__}: {exc}")
            raise
        self.health.ok("database")

    def _waiting(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0
        log.warning("cannot connect (%s: %s); trying again in %.1f s", type(exc).__name__, exc, seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    # -- one session -----------------------------------------------------------------------------

    async def _session(self, pool: ArqRedis) -> bool:
        """Run an arq worker on ``pool`` until it stops (True) or loses Redis (False)."""
        worker = build_worker(self.settings, pool, health=self.health, leases=self.leases, burst=self.burst)
        backend = ArqBackend(pool, self.settings.arq_queue_name)
        registry.set_backend(backend)
        self.leases.redis = pool
        relay = asyncio.create_task(relay_loop(self.settings, backend, self.health), name="crm-relay")
        main = asyncio.create_task(worker.main(), name="crm-worker")
        worker.main_task = main
        self.worker = worker
        lost: BaseException | None = None
        try:
            await main
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
        except OUTAGES as exc:
            if self.burst:
                raise
            lost = exc
            log.warning("lost Redis (%s: %s); reconnecting", type(exc).__name__, exc)
            self.health.down("redis", f"{type(exc).__name__}: {exc}")
        finally:
            self.worker = None
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
        running = [task for task in worker.tasks.values() if not task.done()]
        if lost is None:  # stopped: jobs were cancelled and hand themselves back to the queue
            await asyncio.gather(*running, return_exceptions=True)
            await pool.aclose()
            return True
        # Redis is away: running jobs carry on (leases.py stops them if it stays away too long)
        # and keep this connection until they end; the next session gets a new one.
        retire = asyncio.create_task(self._retire(pool, running))
        self.left_running.add(retire)
        retire.add_done_callback(self.left_running.discard)
        return False

    @staticmethod
    async def _retire(pool: ArqRedis, running: list[asyncio.Task]) -> None:
        await asyncio.gather(*running, return_exceptions=True)
        with contextlib.suppress(*OUTAGES):
            await pool.aclose()


def run(settings: Settings, *, health_file: Path | None, health_port: int, health_host: str, burst: bool) -> None:
    """``crm worker``: run until SIGTERM/SIGINT (or, with ``burst``, until the queue is empty)."""

    async def main() -> None:
        stale_after = max(15.0, 10 * settings.relay_interval_seconds)
        health = Health(stale_after=stale_after, path=health_file)
        server = await serve_http(health, health_host, health_port) if health_port else None
        if server is not None:
            log.info("health on http://%s:%d/health", health_host, health_port)
        try:
            await Supervisor(settings, health, burst=burst).run()
        finally:
            await egress.close_pools()
            if server is not None:
                server.close()
                await server.wait_closed()

    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(main())
    finally:
        # uvloop leaves its handlers in place when the loop closes (Python's loop restores the
        # defaults): a SIGTERM or Ctrl-C during the interpreter's exit must still end it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def event_loop_factory():
    """uvloop's event loop where it is installed, as uvicorn picks it for ``crm serve`` (with
    Python's loop a worker draining a burst spent a tenth of its time in the loop's own code);
    Python's own otherwise (Windows)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
