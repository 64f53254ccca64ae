"""The language a background job speaks: its organization's.

A job works for no request, so nobody's ``Accept-Language`` applies. What it writes for people
to read later (a notification's failure reason, a refused marketplace push, a provider's
refusal quoted in a timeline entry) is read by everyone in the organization, so it is written
in the organization's locale, like timeline texts (docs/i18n.md).

Jobs send thousands of messages a minute through ``plugins.call``; the locale is cached per
process for ``TTL_SECONDS`` so that costs no SQL statement per message. A change of the
organization's locale reaches running workers within that time (a job that read the
organization just before the change may keep the old one that long, even in the process that
made it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from uuid import UUID

from server.i18n import DEFAULT_LOCALE, chosen, current_locale, use_locale
from server.organizations.models import Organization

TTL_SECONDS = 60.0
MAX_ENTRIES = 10_000

_cache: dict[UUID, tuple[str, float]] = {}
_reading: dict[UUID, asyncio.Future[str | None]] = {}


async def organization_locale(organization_id: UUID) -> str:
    now = time.monotonic()
    hit = _cache.get(organization_id)
    if hit is not None and hit[1] > now:
        return hit[0]
    # Plugin calls of one batch run at once: the first one reads, the others wait for it.
    loop = asyncio.get_running_loop()
    pending = _reading.get(organization_id)
    if pending is not None and pending.get_loop() is loop:
        locale = await asyncio.shield(pending)
        if locale is not None:
            return locale
    reading: asyncio.Future[str | None] = loop.create_future()
    _reading[organization_id] = reading
    locale = None
    try:
        found = await Organization.filter(id=organization_id).first().values_list("locale", flat=True)
        locale = found or DEFAULT_LOCALE
        _keep(organization_id, locale, now)
        return locale
    finally:  # on failure the waiters read for themselves (None)
        reading.set_result(locale)
        if _reading.get(organization_id) is reading:
            del _reading[organization_id]


def _keep(organization_id: UUID, locale: str, now: float) -> None:
    if len(_cache) >= MAX_ENTRIES:  # a worker serving many tenants forgets the stale ones first
        for key in [k for k, (_, until) in _cache.items() if until <= now] or list(_cache):
            del _cache[key]
    _cache[organization_id] = (locale, now + TTL_SECONDS)


def remember(organization: Organization) -> None:
    """A job that read the organization anyway saves ``speaking_for`` its statement."""
    _keep(organization.id, organization.locale or DEFAULT_LOCALE, time.monotonic())


def forget(organization_id: UUID) -> None:
    _cache.pop(organization_id, None)


@contextlib.asynccontextmanager
async def speaking_for(organization_id: UUID) -> AsyncIterator[str]:
    """The organization's language, unless this context already has one: a request keeps its
    caller's language (the person reads the answer at once)."""
    if chosen():
        yield current_locale()
        return
    with use_locale(await organization_locale(organization_id)) as locale:
        yield locale
