"""Per-request context: the caller's Scope and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from server.auth.principal import Principal
from server.auth.scope import Scope
from server.auth.throttle import ActionThrottle, LoginThrottle
from server.config import Settings
from server.graphql.rate_limits import RequestBudgets


@dataclass
class Context:
    request: Request
    response: Response | None
    settings: Settings
    principal: Principal
    throttle: LoginThrottle  # one per app: counters shared by its requests (and via Redis, by all processes)
    call_throttle: ActionThrottle  # click-to-call calls per member, likewise
    token: str | None = None
    auth_error: Exception | None = None  # raised before execution (see graphql.schema.AuthFailure)
    rate_limits: RequestBudgets | None = None  # what this request may spend (graphql.rate_limits)
    query_cost: int | None = None  # set by graphql.limits.QueryCost once the query is validated
    connection_params: dict | None = None  # a websocket's connection_init payload (server/realtime)
    connection_key: str | None = None  # its credential, hashed, while it counts against the cap
    signed_in_at: float = 0.0  # time.monotonic() of its last credential check
    _loaders: dict[Hashable, DataLoader] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scope = Scope(self.principal)

    def sign_in(self, principal: Principal, token: str | None) -> None:
        """A websocket's caller, known once its ``connection_init`` arrives (or checked again)."""
        self.principal, self.token = principal, token
        self.scope = Scope(principal)
        self._loaders.clear()

    def forget_loaded(self) -> None:
        """A subscription's context lives for hours: each event is read afresh."""
        self._loaders.clear()

    def loader(self, key: Hashable, factory: Callable[[Context], Callable]) -> DataLoader:
        """One DataLoader per (key) per request, built on first use."""
        found = self._loaders.get(key)
        if found is None:
            found = self._loaders[key] = DataLoader(load_fn=factory(self))
        return found
