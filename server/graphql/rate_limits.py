"""Rate limits of the GraphQL endpoint, weighted by each request's query cost (``limits.py``).

Every caller spends query cost from budgets in fixed windows (the ``limits`` library, counters
in Redis when ``REDIS_URL`` is set so every server process shares them, in memory otherwise):

- ``token``: per credential (a session token, an OAuth access token or an API key);
- ``organization``: everything spent in one organization, all credentials together;
- ``address``: anonymous callers, per client address (behind trusted proxies, the real one).

A request that would overspend any budget is not executed: HTTP 429, ``Retry-After`` and an
error with ``extensions.code = RATE_LIMITED``. Every response tells the caller where it stands
with the ``RateLimit-Policy`` and ``RateLimit`` fields of draft-ietf-httpapi-ratelimit-headers-11
(structured-field lists, one item per budget)::

    RateLimit-Policy: "token";q=100000;w=60, "organization";q=300000;w=60
    RateLimit: "token";r=99950;t=42, "organization";r=299950;t=42
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from graphql import GraphQLError
from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import SchemaExtension

from server.auth.principal import Principal
from server.config import Settings
from server.i18n import _

log = logging.getLogger("crm")
# The counters' store failing (Redis down) must not take the API down with it: the request is
# served unlimited and without headers, and the failure is logged.
STORE_ERRORS = (RedisError, OSError, StorageError)


@dataclass
class Budget:
    name: str  # the policy's name in the headers
    item: RateLimitItem
    key: tuple[str, ...]
    remaining: int | None = None
    reset_at: float | None = None

    @property
    def window(self) -> int:
        return self.item.get_expiry()

    def seconds_to_reset(self) -> int:
        return max(0, math.ceil((self.reset_at or time.time()) - time.time()))


@dataclass
class RequestBudgets:
    """The budgets one request spends from, and what is left after it."""

    limiter: FixedWindowRateLimiter
    budgets: list[Budget]
    charged: bool = False
    paid: bool = False  # this request's cost was spent (once, whichever execution path ran)
    refused: list[Budget] = field(default_factory=list)

    async def charge(self, cost: int) -> bool:
        """Spend ``cost`` from every budget, or from none when one of them cannot afford it."""
        try:
            return await self._charge(max(cost, 1))
        except STORE_ERRORS as exc:
            log.warning("rate limits not applied: their counters are unreachable (%s)", exc)
            self.budgets, self.refused = [], []
            return True

    async def _charge(self, cost: int) -> bool:
        self.refused = [b for b in self.budgets if not await self.limiter.test(b.item, *b.key, cost=cost)]
        if not self.refused:
            for budget in self.budgets:
                await self.limiter.hit(budget.item, *budget.key, cost=cost)
        await self._read()
        self.charged = True
        self.paid = not self.refused
        return self.paid

    def retry_after(self) -> int:
        return max(1, *(b.seconds_to_reset() for b in self.refused)) if self.refused else 0

    async def _read(self) -> None:
        for budget in self.budgets:
            stats = await self.limiter.get_window_stats(budget.item, *budget.key)
            budget.remaining, budget.reset_at = max(0, stats.remaining), stats.reset_time

    async def write_headers(self, response: Response) -> None:
        if not self.charged:  # a request refused before execution spent nothing; still say where it stands
            try:
                await self._read()
            except STORE_ERRORS as exc:
                log.warning("rate limits not shown: their counters are unreachable (%s)", exc)
                return
        if not self.budgets:
            return
        response.headers["RateLimit-Policy"] = ", ".join(
            f'"{b.name}";q={b.item.amount};w={b.window}' for b in self.budgets
        )
        response.headers["RateLimit"] = ", ".join(
            f'"{b.name}";r={b.remaining};t={b.seconds_to_reset()}' for b in self.budgets
        )


class CostRateLimiter:
    """Builds each request's budgets from the settings (and an organization's own quota)."""

    def __init__(self, settings: Settings, limiter: FixedWindowRateLimiter):
        self.limiter = limiter
        self.namespace = settings.rate_limit_namespace
        self.per_token = parse(settings.rate_limit_per_token)
        self.per_organization = parse(settings.rate_limit_per_organization)
        self.per_address = parse(settings.rate_limit_per_address)

    def for_request(self, principal: Principal, token: str | None, address: str | None) -> RequestBudgets:
        budgets = []
        if token and principal.is_authenticated:
            # The hash, not the credential, goes to Redis.
            who = hashlib.sha256(token.encode()).hexdigest()[:32]
            budgets.append(Budget("token", self.per_token, (self.namespace, "cost-token", who)))
        else:
            budgets.append(Budget("address", self.per_address, (self.namespace, "cost-address", address or "?")))
        organization = principal.organization
        if organization is not None:
            own = getattr(organization, "rate_limit_per_minute", None)
            item = RateLimitItemPerMinute(own) if own else self.per_organization
            budgets.append(Budget("organization", item, (self.namespace, "cost-organization", str(organization.id))))
        return RequestBudgets(self.limiter, budgets)


class RateLimit(SchemaExtension):
    """Charges the request's query cost once it is known (after ``QueryCost``), before execution."""

    async def on_execute(self):
        context = self.execution_context.context
        budgets: RequestBudgets | None = getattr(context, "rate_limits", None)
        cost = getattr(context, "query_cost", None)
        if budgets is not None and cost is not None and not budgets.paid and not await budgets.charge(cost):
            retry_after = budgets.retry_after()
            if context.response is not None:
                context.response.status_code = 429
                context.response.headers["Retry-After"] = str(retry_after)
            raise GraphQLError(
                _(
                    "Rate limit reached: this request would cost %(cost)s. Try again in %(seconds)s seconds.",
                    cost=cost,
                    seconds=retry_after,
                ),
                extensions={"code": "RATE_LIMITED", "retryAfter": retry_after, "cost": cost},
            )
        yield


# A CSV download or the report page: about what a GraphQL page of 50 rich rows costs.
EXPORT_COST = 1000


async def refuse_over_budget(
    request: Request, principal: Principal, token: str | None, cost: int = EXPORT_COST
) -> Response | None:
    """For endpoints outside GraphQL (CSV downloads, the report page): spend ``cost`` from the
    caller's budgets, as a query would; a 429 with Retry-After and the RateLimit headers when
    one of them cannot afford it, else None."""
    limiter: CostRateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return None
    budgets = limiter.for_request(principal, token, request.client.host if request.client else None)
    if await budgets.charge(cost):
        return None
    seconds = budgets.retry_after()
    message = _(
        "Rate limit reached: this request would cost %(cost)s. Try again in %(seconds)s seconds.",
        cost=cost,
        seconds=seconds,
    )
    response = JSONResponse(
        {"error": {"code": "RATE_LIMITED", "message": message}}, status_code=429, headers={"Retry-After": str(seconds)}
    )
    await budgets.write_headers(response)
    return response
