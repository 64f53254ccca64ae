"""Outbound HTTP for plugins: one way to call a provider, with timeouts and polite retries.

Every built-in plugin uses it and third-party plugins may too::

    from server.plugins.http import ProviderClient

    async with ProviderClient("TurboSMS", base_url=config["api_url"]) as client:
        response = await client.request("POST", "/message/send.json", json=body, headers=auth)

- Timeouts: 10 s in all by default (5 s to connect), below the 30 s the CRM gives a hook.
- Retries (tenacity): on 5xx, 429, timeouts and connection errors, up to ``attempts`` tries
  with exponential backoff and jitter; a 429 or 503 with ``Retry-After`` waits what the
  provider asked (capped by ``max_wait``). Only requests safe to repeat are retried: by
  default GET, HEAD, OPTIONS, PUT and DELETE. A POST is tried once unless the plugin passes
  ``retry=True`` because that call only reads (a search, a status query, a sign-in), so a
  message or a waybill is never created twice by a retry.
- Addresses: only public ``https://`` addresses (server/plugins/egress.py), unless the
  ``ALLOW_LOCAL_PROVIDERS`` setting allows the local simulators. A refused address is a
  ``PluginError`` with code ``ADDRESS_NOT_ALLOWED`` and nothing is sent.
- Connections: inside a hook call, a client uses its installation's kept-alive connections
  (server/plugins/egress.py, ``pooled``); closing the client leaves them for the next call.
- What is left after the last try becomes a ``PluginError`` whose message names the provider
  and what happened ("TurboSMS answered 503 three times"), with ``retryable=True``, so the
  caller (a job) may try again later. 4xx answers other than 429 are returned as they are: the
  plugin knows what its provider's error bodies mean.
- A request that is not retried (a send: a POST without ``retry=True``, or any request with
  ``retry=False``) and fails after it may have reached the provider (a read timeout, a
  500/502/504, a dropped connection) is a ``PluginError(code="OUTCOME_UNKNOWN",
  retryable=False)``: the provider may have sent the SMS, so neither this helper nor the job
  tries again and the customer never gets it twice. Only what proves nothing was done stays
  retryable: no connection, a 429 or a 503.
- Nothing here logs a request body, a header or a URL query: they carry credentials.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from server.i18n import _, ngettext
from server.plugins.egress import EgressRefused, call_transport
from server.plugins.types import PluginError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# What proves a request was not acted on: refused before being read (429, 503), or never sent.
NOT_TAKEN_STATUSES = frozenset({429, 503})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


class RetryableResponse(Exception):
    """A 5xx or 429 answer, raised inside the retry loop so tenacity tries again."""

    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class _Wait:
    """Backoff with jitter, unless the provider said how long to wait."""

    def __init__(self, initial: float, max_wait: float):
        self.backoff = wait_exponential_jitter(initial=initial, max=max_wait, jitter=initial)
        self.max_wait = max_wait

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableResponse):
            asked = retry_after_seconds(exc.response)
            if asked is not None:
                return min(asked, self.max_wait)
        return self.backoff(state)


class ProviderClient:
    """An ``httpx.AsyncClient`` for one provider with the retry policy above."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str = "",
        timeout: httpx.Timeout | float | None = None,
        attempts: int = 3,
        initial_wait: float = 0.5,
        max_wait: float = 10.0,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.provider = provider
        self.attempts = attempts
        self.initial_wait = initial_wait
        self.max_wait = max_wait
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,  # read now: the test kit shortens it
            headers=headers,
            auth=auth,
            transport=transport or call_transport(),
        )

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, url: str, *, retry: bool | None = None, **kwargs: Any) -> httpx.Response:
        """Send the request; retry 5xx/429/timeouts when ``retry`` (default: for idempotent
        methods only); return the final answer (2xx, 3xx or a 4xx other than 429) or raise
        ``PluginError``."""
        if retry is None:
            retry = method.upper() in IDEMPOTENT_METHODS
        attempts = self.attempts if retry else 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=_Wait(self.initial_wait, self.max_wait),
            retry=retry_if_exception_type((RetryableResponse, httpx.TimeoutException, httpx.TransportError))
            & retry_if_not_exception_type(EgressRefused),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.request(method, url, **kwargs)
                    if response.status_code in RETRY_STATUSES:
                        raise RetryableResponse(response)
                    return response
        except RetryableResponse as exc:
            code = exc.response.status_code
            if not retry and code not in NOT_TAKEN_STATUSES:
                raise _outcome_unknown(
                    _(
                        "%(provider)s answered %(code)s after the request went out: it may or may not have acted "
                        "on it. Check with the provider before doing it again.",
                        provider=self.provider,
                        code=code,
                    )
                ) from None
            if code == 429:
                message = _(
                    "%(provider)s is rate limiting us (429) %(times)s; try again later.",
                    provider=self.provider,
                    times=_times(attempts),
                )
            else:
                message = _(
                    "%(provider)s answered %(code)s %(times)s; try again later.",
                    provider=self.provider,
                    code=code,
                    times=_times(attempts),
                )
            raise PluginError(
                message,
                code="RATE_LIMITED" if code == 429 else "PROVIDER_UNAVAILABLE",
                retryable=True,
                retry_after=retry_after_seconds(exc.response),
            ) from None
        except EgressRefused as exc:
            raise PluginError(
                _(
                    "%(provider)s cannot be called at this address: %(exc)s. Check its API URL.",
                    provider=self.provider,
                    exc=exc,
                ),
                code="ADDRESS_NOT_ALLOWED",
            ) from None
        except httpx.TimeoutException as exc:
            if not retry and not isinstance(exc, NOT_SENT_ERRORS):
                raise _outcome_unknown(
                    _(
                        "%(provider)s did not answer in time after the request went out: it may or may not have "
                        "acted on it. Check with the provider before doing it again.",
                        provider=self.provider,
                    )
                ) from None
            raise PluginError(
                _(
                    "%(provider)s did not answer in time %(times)s; try again later.",
                    provider=self.provider,
                    times=_times(attempts),
                ),
                code="PROVIDER_TIMEOUT",
                retryable=True,
            ) from None
        except httpx.TransportError as exc:
            if not retry and not isinstance(exc, NOT_SENT_ERRORS):
                raise _outcome_unknown(
                    _(
                        "%(provider)s broke the connection (%(error)s) after the request went out: it may or may "
                        "not have acted on it. Check with the provider before doing it again.",
                        provider=self.provider,
                        error=type(exc).__name__,
                    )
                ) from None
            raise PluginError(
                _(
                    "%(provider)s cannot be reached (%(error)s); check its address or try again later.",
                    provider=self.provider,
                    error=type(exc).__name__,
                ),
                code="PROVIDER_UNREACHABLE",
                retryable=True,
            ) from None
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover


def _outcome_unknown(message: str) -> PluginError:
    """``message``: a whole sentence per case, so each reads right in every language."""
    return PluginError(message, code=OUTCOME_UNKNOWN, retryable=False)


def _times(attempts: int) -> str:
    if attempts == 1:
        return _("once")
    if attempts == 2:
        return _("twice")
    return ngettext("%(n)s time", "%(n)s times", attempts)
