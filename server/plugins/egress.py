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
  connection (DNS rebinding), is refused too; an IP address written in the URL is judged as
  it is. Nothing is sent and no port is tried.

The requests go out over aiohttp's connections under httpx's interface (``httpx-aiohttp``):
plugins and ``ProviderClient`` see ``httpx`` requests, answers and errors, while a request
costs about a quarter of the CPU of httpx's own connection pool.

Connections are kept alive between calls, in one pool per plugin installation (or webhook
endpoint) and event loop (``pooled``): a burst of messages to one provider reuses a few
connections instead of opening one per message, and one tenant's slow provider holds only its
own pool, never another's. Kept connections are dropped after ``KEEPALIVE_SECONDS`` idle, before
servers usually close them (uvicorn after 5 s, nginx after 75 s), so a send is not written into
a connection the provider is closing; a provider that drops idle connections sooner could see a
send end as ``OUTCOME_UNKNOWN`` (a POST is never retried). The address checks apply when a
connection is made (a pool keeps checked answers up to 10 s); a kept one was checked then.

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
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable, Iterator
from contextvars import ContextVar
from urllib.parse import urlsplit

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

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
def _within(var: ContextVar, value: object) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def allowing_local(allow: bool) -> contextlib.AbstractContextManager[None]:
    """Apply the ``ALLOW_LOCAL_PROVIDERS`` setting to the requests made inside the block."""
    return _within(_allow_local, allow)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits, which a NAT64 gateway or the
# kernel may turn into a connection to that IPv4 address (RFC 6052's well-known prefix), and
# prefixes refused whatever they carry: those whose IPv4 side is anybody's guess (RFC 8215's
# local-use NAT64, the deprecated IPv4-compatible ::/96, SIIT's IPv4-translated ::ffff:0:0:0/96)
# and two that Python 3.11 still calls global (the deprecated site-local fec0::/10, RFC 9637's
# documentation prefix 3fff::/20).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_PUBLIC_V6 = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96", "fec0::/10", "3fff::/20")
)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address: not loopback, private, link-local (cloud metadata),
    shared (100.64/10), reserved or multicast. IPv4 written as IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in NOT_PUBLIC_V6):
            return False
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
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
        if host == LOCAL_NAMES[0] or host.endswith(LOCAL_NAMES[1:]) or "." not in host or _odd_number(host):
            return N_("must be a public address, not a local name")
        return None
    if not is_public(address):
        return N_("must be a public address, not a loopback, private or link-local one")
    return None


DNS_SECONDS = 5.0


def _odd_number(host: str) -> bool:
    """Digits and dots that are not a dotted quad (``127.1``, ``2130706433``): the socket layer
    reads them as an IPv4 address (inet_aton), and aiohttp connects to them without resolving."""
    return bool(host) and set(host) <= set("0123456789.")


class _GuardedResolver(AbstractResolver):
    """Resolves a host name for aiohttp's connector and refuses it unless every address is
    public; the connector then connects to the addresses returned here, the ones checked.
    TLS still verifies the certificate against the host name."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        try:
            async with asyncio.timeout(DNS_SECONDS):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise OSError("the host name did not resolve in time") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses or not all(is_public(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
            # All or nothing: a name with one private answer is not a provider's.
            raise EgressRefused("the address is not a public one; plugins may only call public addresses")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; a client is made per hook call. One verifying
    # context serves every connection.
    return httpx.create_ssl_context()


def _sent_or_not(exc: httpx.TransportError) -> httpx.TransportError:
    """The httpx error that says whether the request may have reached the provider, from
    aiohttp's: only a connection never made (or a pool slot never given) proves it did not.
    (httpx-aiohttp's own mapping calls a dropped connection a connect timeout, which would have
    a send retried, and the customer could get the message twice.)"""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc))
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc))
    if isinstance(cause, aiohttp.ClientError):
        return httpx.RemoteProtocolError(str(exc))
    return exc


class EgressTransport(AiohttpTransport):
    """httpx's interface over aiohttp's connections (a quarter of httpcore's CPU per request,
    bench/README.md), with the checks above unless local providers are allowed."""

    def __init__(self, *, allow_local: bool | None = None) -> None:
        self.allow_local = local_allowed() if allow_local is None else allow_local
        self.lent = 0  # clients using it (``pooled``)
        self.let_go = False  # out of the cache: closed when its last client closes
        self._shut = False
        super().__init__(verify=_ssl_context(), client=self._session)

    def closed(self) -> bool:
        return (isinstance(self.client, aiohttp.ClientSession) and self.client.closed) or self._shut

    async def aclose(self) -> None:
        self._shut = True
        await super().aclose()

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=_ssl_context(),
            limit=MAX_CONNECTIONS,
            keepalive_timeout=KEEPALIVE_SECONDS,
            resolver=None if self.allow_local else _GuardedResolver(),
        )
        # No cookie jar: a pool serves many calls, and none may carry another's cookies.
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.allow_local:
            if request.url.scheme != "https":
                raise EgressRefused("plugins may only call https:// addresses", request=request)
            host = request.url.host.rstrip(".")
            try:  # aiohttp connects to an IP address as written, without asking the resolver
                literal = ipaddress.ip_address(host)
            except ValueError:
                literal = None
                if _odd_number(host):
                    raise EgressRefused("plugins may only call public addresses, written plainly") from None
            if literal is not None and not is_public(literal):
                raise EgressRefused("the address is not a public one; plugins may only call public addresses")
        if request.url.userinfo:
            # httpx has turned them into the Authorization header; aiohttp refuses both at once.
            request.url = request.url.copy_with(userinfo=b"")
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _sent_or_not(exc) from exc.__cause__
        except (aiohttp.ClientError, ValueError, RuntimeError) as exc:
            # A malformed answer (status line, headers) or a refused request: it may have left.
            raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
        response.stream = _Body(response.stream)
        return response


class _Body(httpx.AsyncByteStream):
    """An answer's body, whose read errors all say the request went out (httpx-aiohttp's own
    mapping would call a connection dropped mid-body a connect timeout)."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except httpx.TimeoutException as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except (httpx.TransportError, aiohttp.ClientError, ValueError, RuntimeError) as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Lent(httpx.AsyncBaseTransport):
    """A kept pool lent to one client: closing the client leaves the pool to the next call, or
    closes it if it was let go meanwhile and this was its last client."""

    def __init__(self, kept: EgressTransport) -> None:
        self.kept = kept
        self.open = True
        kept.lent += 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.kept.handle_async_request(request)

    async def aclose(self) -> None:
        if self.open:
            self.open = False
            self.kept.lent -= 1
            if self.kept.let_go and not self.kept.lent:
                await self.kept.aclose()


# Per event loop (connections belong to one), least recently used last out.
_kept: dict[asyncio.AbstractEventLoop, OrderedDict] = {}
_closing: set[asyncio.Task] = set()  # evicted pools being closed (a task needs a reference)


def pooled(key: Hashable, *, allow_local: bool) -> httpx.AsyncBaseTransport:
    """The kept connections of ``key`` (an installation, a webhook endpoint) in this event loop,
    for a client to use and close. Beyond ``POOLS_PER_LOOP`` keys the least recently used pool
    is let go."""
    loop = asyncio.get_running_loop()
    for ended in [other for other in _kept if other.is_closed()]:
        del _kept[ended]  # its sessions hold it; nothing can use or close them any more
    pools = _kept.setdefault(loop, OrderedDict())
    kept = pools.get((key, allow_local))
    if kept is None:
        kept = pools[(key, allow_local)] = EgressTransport(allow_local=allow_local)
        while len(pools) > POOLS_PER_LOOP:
            _, old = pools.popitem(last=False)
            if old.lent:
                old.let_go = True  # its last client closes it
            else:
                closing = loop.create_task(old.aclose())
                _closing.add(closing)
                closing.add_done_callback(_closing.discard)
    pools.move_to_end((key, allow_local))
    return _Lent(kept)


def pooling(key: Hashable) -> contextlib.AbstractContextManager[None]:
    """Provider clients made inside the block (``call_transport``) use ``key``'s kept connections."""
    return _within(_pool_key, key)


def call_transport() -> httpx.AsyncBaseTransport:
    """A provider client's transport: inside a hook call, its installation's kept connections;
    elsewhere (a plugin's own tests) a transport of its own."""
    key = _pool_key.get()
    if key is None:
        return EgressTransport()
    return pooled(key, allow_local=local_allowed())


async def close_pools() -> None:
    """Close this event loop's kept connections (a worker or the app shutting down)."""
    pools = _kept.pop(asyncio.get_running_loop(), None) or {}
    for transport in pools.values():
        await transport.aclose()
