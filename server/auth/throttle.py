"""Brute-force protection for ``login``: failed attempts are counted per e-mail and per client
address in fixed windows (the ``limits`` library); over either limit, ``login`` answers
``RATE_LIMITED`` without checking the password, so guessing gets nowhere and costs us no
argon2 hashing.

Counters live in Redis when ``REDIS_URL`` is set, so every server process shares them; without
Redis each process counts on its own (the embedded single-process default). A successful login
clears its e-mail's counter, not the address's (many users may share an office NAT)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from server.config import Settings
from server.core.errors import ErrorCode, UserInputError
from server.i18n import _, ngettext


def limiter_for(settings: Settings) -> FixedWindowRateLimiter:
    """Counters in Redis when ``REDIS_URL`` is set (shared by every process), else in memory."""
    if settings.redis_url:
        uri = settings.redis_url.replace("redis://", "async+redis://", 1).replace("rediss://", "async+rediss://", 1)
        return FixedWindowRateLimiter(storage_from_string(uri, implementation="redispy"))
    return FixedWindowRateLimiter(storage_from_string("async+memory://"))


def _minutes_left(reset_time: float) -> str:
    minutes = max(1, math.ceil((reset_time - time.time()) / 60))
    return ngettext("%(n)s minute", "%(n)s minutes", minutes)


def _window(limit: RateLimitItem) -> str:
    """``1 minute``, ``10 minutes``... in the current language (the unit as the limit names it)."""
    n, unit = limit.multiples, limit.GRANULARITY.name
    if unit == "second":
        return ngettext("%(n)s second", "%(n)s seconds", n)
    if unit == "minute":
        return ngettext("%(n)s minute", "%(n)s minutes", n)
    if unit == "hour":
        return ngettext("%(n)s hour", "%(n)s hours", n)
    if unit == "day":
        return ngettext("%(n)s day", "%(n)s days", n)
    return f"{n} {unit}"


@dataclass
class ActionThrottle:
    """At most ``limit`` of one action per person and window (e.g. click-to-call calls, which
    cost the organization money and ring real phones)."""

    limiter: FixedWindowRateLimiter
    limit: RateLimitItem
    namespace: str
    action: str

    async def take(self, who: str, what: str) -> None:
        """Count one; over the limit, ``RATE_LIMITED`` naming ``what`` and the wait."""
        key = (self.namespace, self.action, who)
        if not await self.limiter.hit(self.limit, *key):
            stats = await self.limiter.get_window_stats(self.limit, *key)
            raise UserInputError(
                ErrorCode.RATE_LIMITED,
                _(
                    "Too many %(what)s (%(amount)s per %(window)s). Try again in %(wait)s.",
                    what=what,
                    amount=self.limit.amount,
                    window=_window(self.limit),
                    wait=_minutes_left(stats.reset_time),
                ),
            )


@dataclass
class LoginThrottle:
    limiter: FixedWindowRateLimiter
    per_email: RateLimitItem
    per_address: RateLimitItem
    namespace: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            limiter=limiter_for(settings),
            per_email=parse(settings.login_failures_per_email),
            per_address=parse(settings.login_failures_per_address),
            namespace=settings.rate_limit_namespace,
        )

    def _keys(self, email: str, address: str | None) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        keys = [(self.per_email, (self.namespace, "login-email", email.strip().lower()))]
        if address:
            keys.append((self.per_address, (self.namespace, "login-address", address)))
        return keys

    async def check(self, email: str, address: str | None) -> None:
        """Refuse before the password is looked at when either counter is exhausted."""
        for item, key in self._keys(email, address):
            if not await self.limiter.test(item, *key):
                stats = await self.limiter.get_window_stats(item, *key)
                raise UserInputError(
                    ErrorCode.RATE_LIMITED,
                    _("Too many failed sign-in attempts. Try again in %(wait)s.", wait=_minutes_left(stats.reset_time)),
                )

    async def failed(self, email: str, address: str | None) -> None:
        for item, key in self._keys(email, address):
            await self.limiter.hit(item, *key)

    async def succeeded(self, email: str) -> None:
        item, key = self._keys(email, None)[0]
        await self.limiter.clear(item, *key)
