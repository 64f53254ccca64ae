"""The live event bus between the outbox relay and the API processes' subscribers.

The relay publishes each domain event once it is committed and relayed; every API process
holding a subscription of that event's organization hands it to its subscribers. With
``REDIS_URL`` the events travel over Redis pub/sub (one channel per organization, one
connection per process), so a subscriber on any API process hears events relayed by any
worker; without it, in the process itself (the in-process worker relays there).

Live delivery is at most once: a subscriber that is offline misses events (a client catches up
with a query after reconnecting; partners reconcile through webhooks and ``changesSince``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from server.config import Settings

log = logging.getLogger("crm.realtime")

QUEUE_SIZE = 1000  # events a slow subscriber may lag behind before the oldest are dropped


@dataclass(frozen=True)
class LiveEvent:
    id: str
    organization_id: str
    topic: str
    payload: dict[str, Any]

    def encode(self) -> bytes:
        return orjson.dumps(
            {"id": self.id, "organization_id": self.organization_id, "topic": self.topic, "payload": self.payload}
        )

    @classmethod
    def decode(cls, data: bytes | str) -> LiveEvent:
        raw = orjson.loads(data)
        return cls(str(raw["id"]), str(raw["organization_id"]), str(raw["topic"]), dict(raw.get("payload") or {}))


class Subscription:
    """One subscriber's queue: bounded, dropping the oldest event when the reader falls behind."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)

    def put(self, event: LiveEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            log.warning("a live subscriber fell %s events behind: the oldest was dropped", QUEUE_SIZE)
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[LiveEvent]:
        while True:
            yield await self.queue.get()


class LocalBus:
    """Subscribers of this process, by organization; the in-process transport on its own."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, events: list[LiveEvent]) -> None:
        self.deliver(events)

    def count(self) -> int:
        return sum(len(subscriptions) for subscriptions in self.subscribers.values())

    def deliver(self, events: list[LiveEvent]) -> None:
        for event in events:
            for subscription in tuple(self.subscribers.get(event.organization_id, ())):
                subscription.put(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, organization_id: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        if organization_id not in self.subscribers:
            await self._listen(organization_id)
        # Counted once it hears events: a caller waiting for a subscriber may then publish.
        self.subscribers[organization_id].add(subscription)
        try:
            yield subscription
        finally:
            self.subscribers[organization_id].discard(subscription)
            if not self.subscribers[organization_id]:
                del self.subscribers[organization_id]
                await self._forget(organization_id)

    async def _listen(self, organization_id: str) -> None:
        """Start hearing ``organization_id``'s events from other processes (none here)."""

    async def _forget(self, organization_id: str) -> None:
        """Stop hearing them."""

    async def aclose(self) -> None:
        self.subscribers.clear()


class RedisBus(LocalBus):
    """Publishes to ``<namespace>:events:<organization id>``. Once this process has a subscriber,
    one pub/sub connection listens to every organization's channel (a pattern) and hands events
    to the organizations that have subscribers here; subscribing and unsubscribing are local,
    so there is one reader and nothing else on that connection."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.prefix = f"{settings.rate_limit_namespace}:events:"
        self.redis = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
        self.reader: asyncio.Task | None = None
        self.listening = asyncio.Event()

    async def publish(self, events: list[LiveEvent]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.prefix + event.organization_id, event.encode())
            await pipe.execute()

    async def _listen(self, organization_id: str) -> None:
        if self.reader is None or self.reader.done():
            self.listening.clear()
            self.reader = asyncio.create_task(self._read(), name="crm-realtime-reader")
        await self.listening.wait()

    async def _read(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self.listening.set()
                backoff = 0.5
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self._deliver_raw(message)
            except (RedisError, OSError) as exc:
                # Redis went away: events published meanwhile are missed (live delivery is at
                # most once); listen again when it is back.
                log.warning("live events: Redis unreachable (%s), retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    def _deliver_raw(self, message: dict) -> None:
        try:
            self.deliver([LiveEvent.decode(message["data"])])
        except (ValueError, KeyError, TypeError):
            log.warning("live events: an unreadable message on %s was ignored", message.get("channel"))

    async def aclose(self) -> None:
        await super().aclose()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self.reader
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()


_buses: dict[tuple, LocalBus] = {}


def _key(settings: Settings) -> tuple:
    # Per event loop too: a Redis connection belongs to the loop that opened it (tests run
    # several servers, each on a loop of its own, in one process).
    return settings.redis_url, settings.rate_limit_namespace, asyncio.get_running_loop()


def bus_for(settings: Settings) -> LocalBus:
    """The process's bus for these settings: subscribers and the in-process relay share it."""
    key = _key(settings)
    bus = _buses.get(key)
    if bus is None:
        bus = _buses[key] = RedisBus(settings) if settings.redis_url else LocalBus()
    return bus


async def close_bus(settings: Settings) -> None:
    bus = _buses.pop(_key(settings), None)
    if bus is not None:
        await bus.aclose()


async def publish(settings: Settings, events: list[LiveEvent]) -> None:
    """Best effort: a live event that cannot be published is logged, never retried."""
    if not events:
        return
    try:
        await bus_for(settings).publish(events)
    except Exception as exc:  # the relay's work is done: live delivery is best effort
        log.warning("%s live events not published: %s", len(events), exc)
