"""Long-lived PBX connections: one task per enabled installation whose plugin listens.

Some telephony plugins are not called by their provider: the CRM connects to them (Asterisk's
AMI over TCP) or asks them (Ringostat's call log, to catch the webhooks Ringostat never
repeats). They implement ``crm_telephony_listen`` (server/plugins/hookspecs.py). ``Listeners``
keeps one task per such installation:

* every ``refresh_seconds`` it reads the enabled installations again: a new one is started,
  a disabled, removed or reconfigured one (its ``version`` moved) is stopped (and restarted
  with its new settings);
* a listen that ends or fails is started again after a pause that doubles from
  ``min_backoff`` up to ``max_backoff`` (with jitter, so many installations do not reconnect
  in step), and starts again from ``min_backoff`` once a connection lived a minute;
* what the plugin emits is applied like a webhook delivery (``record_and_apply``): one
  transaction, deduplicated by the key, so two processes listening to the same PBX (two
  workers, a restart overlapping the old process) record each call moment once.

Where it runs: in ``crm worker`` next to the arq worker when Redis is configured, else in
``crm serve``'s in-process worker (the embedded setup has exactly one process).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from uuid import UUID

from server.config import Settings
from server.plugins import service
from server.plugins.manager import PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import PluginError
from server.plugins.webhooks import dedupe_key, record_and_apply

log = logging.getLogger("crm.telephony.listeners")

HOOK = "crm_telephony_listen"
HEALTHY_AFTER_SECONDS = 60.0


class Listeners:
    def __init__(
        self,
        settings: Settings,
        *,
        manager: PluginManager | None = None,
        refresh_seconds: float = 30.0,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
    ):
        self.settings = settings
        self.manager = manager
        self.refresh_seconds = refresh_seconds
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.tasks: dict[UUID, tuple[int, asyncio.Task]] = {}
        self.connects: dict[UUID, int] = {}  # how often each installation's listen was started

    def _manager(self) -> PluginManager:
        return self.manager or get_manager()

    async def run(self) -> None:
        """Keep the listeners in step with the installations until cancelled."""
        try:
            while True:
                try:
                    await self.sync()
                except Exception:  # the database away for a moment: try again at the next refresh
                    log.warning("could not read the telephony installations", exc_info=True)
                await asyncio.sleep(self.refresh_seconds)
        finally:
            await self.stop()

    async def sync(self) -> None:
        manager = self._manager()
        names = [p.name for p in manager.list_plugins() if manager.implements(p.name, HOOK)]
        wanted = (
            {row.id: row for row in await PluginInstallation.filter(plugin__in=names, enabled=True)} if names else {}
        )
        for installation_id, (version, task) in list(self.tasks.items()):
            row = wanted.get(installation_id)
            if row is None or row.version != version or task.done():
                await self._cancel(installation_id)
        for installation_id, row in wanted.items():
            if installation_id not in self.tasks:
                task = asyncio.create_task(self._keep(row), name=f"crm-listen-{row.plugin}-{row.id}")
                self.tasks[installation_id] = (row.version, task)

    async def _cancel(self, installation_id: UUID) -> None:
        _version, task = self.tasks[installation_id]
        if not task.cancelling():  # a second cancel would cut short its goodbye to the PBX
            task.cancel()
        # Not `await task` under suppress(CancelledError): that would also swallow the
        # cancellation of the task running this (run() being stopped while a listener closes
        # its connection), and run() would go on for ever. Forgotten only once it has ended:
        # a stop() that interrupted this waits for it in turn.
        await asyncio.wait({task})
        self.tasks.pop(installation_id, None)
        if not task.cancelled():
            task.exception()  # _keep logs its own failures; retrieved so asyncio does not again

    async def stop(self) -> None:
        for installation_id in list(self.tasks):
            await self._cancel(installation_id)

    async def _keep(self, installation: PluginInstallation) -> None:
        backoff = self.min_backoff
        while True:
            started = time.monotonic()
            self.connects[installation.id] = self.connects.get(installation.id, 0) + 1
            try:
                await self._listen(installation)
                log.info("%s installation %s: connection ended", installation.plugin, installation.id)
            except asyncio.CancelledError:
                raise
            except PluginError as exc:
                log.warning("%s installation %s: %s", installation.plugin, installation.id, exc.message)
                if exc.code == "AUTH":  # wrong credentials stay wrong until an admin fixes them
                    backoff = self.max_backoff
            except Exception:
                log.exception("%s installation %s: the listener failed", installation.plugin, installation.id)
            if time.monotonic() - started > HEALTHY_AFTER_SECONDS:
                backoff = self.min_backoff
            pause = backoff + random.uniform(0, backoff / 2)
            await asyncio.sleep(pause)
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self, installation: PluginInstallation) -> None:
        async def emit(events: list, key: str | None = None) -> str:
            """Apply what the PBX said, as a webhook delivery: "applied" or "duplicate"."""
            body = repr([getattr(e, "__dict__", e) for e in events]).encode()
            return await record_and_apply(installation, dedupe_key(key, body), "listen", events)

        secrets = service.read_secrets(self.settings, installation)
        plugin = self._manager().get(installation.plugin)
        with service.egress.allowing_local(self.settings.allow_local_providers):
            await self._manager().run_long(
                installation.plugin,
                HOOK,
                installation=service.installation_info(installation),
                config=service.effective_config(plugin, installation.config),
                secrets=secrets,
                emit=emit,
            )
