"""Where plugins may send requests: public https addresses only.

An organization's admin configures a plugin's ``api_url``. Without a guard, that admin could
point a plugin at the server's own network (``http://127.0.0.1:6379``, the cloud metadata
address ``169.254.169.254``, a database on ``10.0.0.5``) and learn about it from the error
messages: a server-side request forgery. Two checks close it:

- when a URL setting is saved, it must be ``https`` and must not name a local address
  (``check_url``: a clear error for the admin right away);
- when a plugin connects, ``EgressTransport`` resolves the host name itself, refuses the
  connection unless every address is public, and connects to the address it checked, so a
  name that resolves to a private address, or changes its answer between the check and the
  connection (DNS rebinding), is refused too. Nothing is sent and no port is tried.

Connections are kept alive between calls, in one pool per plugin installation (or webhook
endpoint) and event loop (``pooled``): a burst of messages to one provider reuses a few
connections instead of opening one per message, and one tenant's slow provider holds only its
own pool, never another's. Kept connections are dropped after ``KEEPALIVE_SECONDS`` idle, well
before servers usually close them (uvicorn after 5 s, nginx after 75 s), so a send is not
written into a connection the provider is closing. The address checks apply when a connection
is made; a kept one was checked then.

``ALLOW_LOCAL_PROVIDERS`` (a setting) lifts both checks for the provider simulators of the tests
and of ``crm serve --demo``, which listen on 127.0.0.1 without TLS. ``server.plugins.service.call``
applies the setting around every hook call; ``ProviderClient`` uses ``EgressTransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import socket
import ssl
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from urllib.parse import urlsplit

import httpcore
import httpx

from server.i18n import N_

LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain", ".home.arpa")

# True/False inside a hook call (set from the settings by ``allowing_local``); None outside one.
_allow_local: ContextVar[bool | None] = ContextVar("crm_plugins_allow_local", default=None)
# Outside a hook call (a plugin's own tests calling it directly): the process default. Strict
# unless a test kit lifts it (the pytest plugin server/plugins/pytest_plugin.py does).
_default_allow_local = False
# Whose kept connections a hook call uses (its installation's id); None outside a hook call.
_pool_key: ContextVar[Hashable | None] = ContextVar("crm_plugins_pool_key", default=None)

KEEPALIVE_SECONDS = 2.0
MAX_CONNECTIONS = 100  # per pool; each installation's calls are capped lower (PROVIDER_CONCURRENCY)
POOLS_PER_LOOP = 256


class EgressRefused(httpx.ConnectError):
    """The plugin asked to reach an address plugins may not reach. Not retryable."""


def set_default(allow_local: bool) -> None:
    """The policy outside a hook call; for test suites whose simulators listen on 127.0.0.1."""
    global _default_allow_local
    _default_allow_local = allow_local


def local_allowed() -> bool:
    current = _allow_local.get()
    return _default_allow_local if current is None else current


@contextlib.contextmanager
def allowing_local(allow: bool) -> Iterator[None]:
    """Apply the ``ALLOW_LOCAL_PROVIDERS`` setting to the requests made inside the block."""
    token = _allow_local.set(allow)
    try:
        yield
    finally:
        _allow_local.reset(token)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address: not loopback, private, link-local (cloud metadata),
    shared (100.64/10), reserved or multicast. IPv4 written as IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_local: bool) -> str | None:
    """Why plugins may not call ``url`` (a sentence for the admin), or None when they may."""
    parts = urlsplit(url)
    if allow_local:
        return None
    if parts.scheme != "https":
        return N_("must be an https:// address")  # translated where shown; webhooks key their own texts by it
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == LOCAL_NAMES[0] or host.endswith(LOCAL_NAMES[1:]) or "." not in host:
            return N_("must be a public address, not a local name")
        return None
    if not is_public(address):
        return N_("must be a public address, not a loopback, private or link-local one")
    return None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host, refuses non-public addresses, connects to the address it checked.
    TLS still verifies the certificate against the host name (httpcore passes it as SNI)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    # The signatures are httpcore's interface, timeout parameter included.
    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout("the host name did not resolve in time") from None
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve the host name ({exc.strerror})") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses or not all(is_public(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
            # All or nothing: a name with one private answer is not a provider's.
            raise EgressRefused("the address is not a public one; plugins may only call public addresses")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last  # type: ignore[misc]

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # noqa: ASYNC109
        raise EgressRefused("plugins may not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; a client is made per hook call. One verifying
    # context serves every connection.
    return httpx.create_ssl_context()


class EgressTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the checks above, unless local providers are allowed."""

    def __init__(self, *, allow_local: bool | None = None) -> None:
        limits = httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_SECONDS,
        )
        super().__init__(verify=_ssl_context(), limits=limits)
        self.allow_local = local_allowed() if allow_local is None else allow_local
        if not self.allow_local:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=_ssl_context(),
                network_backend=_GuardedBackend(),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
            )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.allow_local and request.url.scheme != "https":
            raise EgressRefused("plugins may only call https:// addresses", request=request)
        return await super().handle_async_request(request)


class _Lent(httpx.AsyncBaseTransport):
    """A kept pool lent to one client: closing the client leaves the pool to the next call."""

    def __init__(self, kept: EgressTransport) -> None:
        self.kept = kept

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.kept.handle_async_request(request)

    async def aclose(self) -> None:
        pass


# Per event loop (connections belong to one), least recently used last out.
_kept: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict] = weakref.WeakKeyDictionary()
_closing: set[asyncio.Task] = set()  # evicted pools being closed (a task needs a reference)


def pooled(key: Hashable, *, allow_local: bool) -> httpx.AsyncBaseTransport:
    """The kept connections of ``key`` (an installation, a webhook endpoint) in this event loop,
    for a client to use and close. Beyond ``POOLS_PER_LOOP`` keys the least recently used idle
    pool is closed."""
    loop = asyncio.get_running_loop()
    pools = _kept.setdefault(loop, OrderedDict())
    kept = pools.get((key, allow_local))
    if kept is None:
        kept = pools[(key, allow_local)] = EgressTransport(allow_local=allow_local)
        for old_key in list(pools)[: max(0, len(pools) - POOLS_PER_LOOP)]:
            old = pools[old_key]
            if not old._pool.connections or all(c.is_idle() for c in old._pool.connections):
                del pools[old_key]
                closing = loop.create_task(old.aclose())
                _closing.add(closing)
                closing.add_done_callback(_closing.discard)
    pools.move_to_end((key, allow_local))
    return _Lent(kept)


@contextlib.contextmanager
def pooling(key: Hashable) -> Iterator[None]:
    """Provider clients made inside the block (``call_transport``) use ``key``'s kept connections."""
    token = _pool_key.set(key)
    try:
        yield
    finally:
        _pool_key.reset(token)


def call_transport() -> httpx.AsyncBaseTransport:
    """A provider client's transport: inside a hook call, its installation's kept connections;
    elsewhere (a plugin's own tests) a transport of its own."""
    key = _pool_key.get()
    if key is None:
        return EgressTransport()
    return pooled(key, allow_local=local_allowed())
