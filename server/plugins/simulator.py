"""Shared machinery for the provider simulators.

A simulator is a real HTTP server (Starlette under uvicorn) bound to 127.0.0.1 on a free port,
run in a background thread so a synchronous or asynchronous test can talk to it over loopback
exactly as a plugin talks to the real provider. Every simulator gets, from this module:

* ``start()`` / ``stop()`` and the context-manager protocol; ``.url`` once started;
* an in-memory record of every request it received (``.requests``), control calls excluded;
* fault injection for the next N matching requests: HTTP 429 with ``Retry-After`` (in the
  provider's own error envelope), 5xx, or a delay longer than the client's timeout;
* a webhook sender (``deliver`` / ``adeliver``) that records every attempt (``.deliveries``);
* a control API over HTTP under ``/__sim__/`` so a simulator started from the command line
  (``python -m plugins.simulators turbosms``) can be driven by another process.

State is kept in memory and guarded by ``self.lock``: handlers run on the server thread while
a test mutates state from its own thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

CONTROL_PREFIX = "/__sim__"


# --------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    """One request the simulator received, as it arrived on the wire."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int | None = None
    fault: str | None = None
    peer: str = ""  # the client's "host:port": requests over one kept-alive connection share it

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.text, keep_blank_values=True))

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query_string,
            "headers": self.headers,
            "body": self.text,
            "at": self.at,
            "status": self.status,
            "fault": self.fault,
            "peer": self.peer,
        }


# --------------------------------------------------------------------------- faults


@dataclass
class Fault:
    """A fault applied to the next ``remaining`` requests matching ``path``/``method``.

    kind: ``rate_limit`` (429 + Retry-After), ``error`` (a 5xx or any status), or ``delay``
    (sleep ``seconds`` before answering normally: the request is still processed, as a real
    provider keeps processing a request whose client gave up).
    """

    kind: str
    remaining: int = 1
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0
    path: str | None = None
    method: str | None = None
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not path.startswith(self.path))


class FaultPlan:
    """A thread-safe queue of faults, consumed in insertion order."""

    KINDS = ("rate_limit", "error", "delay")

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {self.KINDS}")
        if fault.remaining < 1:
            raise ValueError("a fault must apply to at least one request")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


# --------------------------------------------------------------------------- webhooks


@dataclass
class OutgoingWebhook:
    """A request the simulator sends to a receiver (a status callback, a call event...)."""

    url: str
    body: bytes
    headers: dict[str, str]
    event: str = ""
    method: str = "POST"
    params: list[tuple[str, str]] | None = None  # the decoded form fields, when form-encoded
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.params or [])

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "event": self.event,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "meta": self.meta,
        }


@dataclass
class DeliveryAttempt:
    """One attempt to deliver an ``OutgoingWebhook`` and what the receiver answered."""

    webhook: OutgoingWebhook
    status_code: int | None
    response_body: str
    error: str | None
    elapsed: float
    at: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def response_json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "webhook": self.webhook.as_dict(),
            "status_code": self.status_code,
            "response_body": self.response_body,
            "error": self.error,
            "elapsed": self.elapsed,
            "at": self.at,
        }


# --------------------------------------------------------------------------- helpers


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON with non-ASCII text kept as is (the providers answer in UTF-8, not \\u escapes)."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status_code, headers=headers, media_type="application/json; charset=utf-8")


async def read_json(request: Request) -> tuple[Any, bool]:
    """The parsed JSON body and whether it parsed (an empty body parses as None)."""
    raw = await request.body()
    if not raw.strip():
        return None, True
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False


async def read_form(request: Request) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body as ordered pairs (repeated keys kept)."""
    raw = await request.body()
    return parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)


# --------------------------------------------------------------------------- the server


class SimulatorServer:
    """Base class: subclasses set ``name``, implement ``routes()`` and may add ``control_routes()``."""

    name = "simulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self._requests: list[RecordedRequest] = []
        self._deliveries: list[DeliveryAttempt] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._stopping = threading.Event()
        self._app = self._build_app()
        self._control = self._build_control_app()
        self.seed()

    # -- to override -------------------------------------------------------------------

    def seed(self) -> None:
        """(Re)create the in-memory state with the documented test credentials and data."""

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def control_routes(self) -> list[Route]:
        """Provider-specific control endpoints, mounted under ``/__sim__``."""
        return []

    def credentials(self) -> dict[str, Any]:
        """Test credentials a plugin or the demo can use; printed by the command line."""
        return {}

    def fault_response(self, fault: Fault) -> Response:
        """The answer to an injected fault, in the provider's own error envelope."""
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.body is not None:
            if isinstance(fault.body, (dict, list)):
                return json_response(fault.body, fault.status, headers)
            return PlainTextResponse(str(fault.body), fault.status, headers=headers)
        return json_response(self.error_body(fault.status, _reason(fault.status)), fault.status, headers)

    def error_body(self, status: int, message: str) -> Any:
        """The provider's error envelope for an HTTP-level error (404 route, 429, 5xx)."""
        return {"error": message, "status": status}

    def not_found_body(self, request: Request) -> Any:
        """The body of the 404 for a path the provider does not serve."""
        return self.error_body(404, "Not Found")

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.running:
            raise RuntimeError(f"{self.name} simulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and bool(self._server and self._server.started)

    def start(self, timeout: float = 10.0) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} simulator already started")
        self._stopping.clear()
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP, and without it every response waits ~40 ms on Nagle + delayed ACK.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self._asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            server_header=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"sim-{self.name}-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} simulator failed to start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()  # cuts injected delays short
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._thread = None
        self._server = None
        self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (the command line uses this)."""
        if not self.running:
            self.start()
        try:
            while self.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def reset(self) -> None:
        """Forget requests, deliveries and faults and re-seed the state."""
        self.faults.clear()
        with self.lock:
            self._requests.clear()
            self._deliveries.clear()
            self.seed()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url if self.running else None, "credentials": self.credentials()}

    # -- recorded traffic ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest | None:
        with self.lock:
            return self._requests[-1] if self._requests else None

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method.upper())]

    def clear_requests(self) -> None:
        with self.lock:
            self._requests.clear()

    # -- fault injection -----------------------------------------------------------------

    def rate_limit(
        self, count: int = 1, *, retry_after: int = 1, path: str | None = None, method: str | None = None
    ) -> Fault:
        """The next ``count`` matching requests answer HTTP 429 with ``Retry-After``."""
        return self.faults.add(
            Fault("rate_limit", count, status=429, retry_after=retry_after, path=path, method=method)
        )

    def fail(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path: str | None = None,
        method: str | None = None,
        body: Any = None,
        retry_after: int | None = None,
    ) -> Fault:
        """The next ``count`` matching requests answer ``status`` (5xx by default)."""
        return self.faults.add(
            Fault("error", count, status=status, path=path, method=method, body=body, retry_after=retry_after)
        )

    def delay(self, seconds: float, count: int = 1, *, path: str | None = None, method: str | None = None) -> Fault:
        """The next ``count`` matching requests are answered (normally) after ``seconds``."""
        return self.faults.add(Fault("delay", count, seconds=seconds, path=path, method=method))

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- webhook sending -----------------------------------------------------------------

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        with self.lock:
            return list(self._deliveries)

    def deliver(
        self, webhook: OutgoingWebhook, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None
    ) -> DeliveryAttempt:
        """Send ``webhook`` now from the calling thread and record the attempt."""
        started = time.monotonic()
        try:
            with httpx.Client(timeout=timeout, transport=transport, verify=_ssl_context()) as client:
                response = client.request(webhook.method, webhook.url, content=webhook.body, headers=webhook.headers)
            attempt = DeliveryAttempt(
                webhook, response.status_code, response.text, None, time.monotonic() - started, time.time()
            )
        except httpx.HTTPError as exc:
            attempt = DeliveryAttempt(webhook, None, "", repr(exc), time.monotonic() - started, time.time())
        with self.lock:
            self._deliveries.append(attempt)
        return attempt

    async def adeliver(
        self,
        webhook: OutgoingWebhook,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout, passed to httpx
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> DeliveryAttempt:
        """``deliver`` for async callers (a receiver served in the caller's own event loop)."""
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=timeout, transport=transport, verify=_ssl_context()) as client:
                response = await client.request(
                    webhook.method, webhook.url, content=webhook.body, headers=webhook.headers
                )
            attempt = DeliveryAttempt(
                webhook, response.status_code, response.text, None, time.monotonic() - started, time.time()
            )
        except httpx.HTTPError as exc:
            attempt = DeliveryAttempt(webhook, None, "", repr(exc), time.monotonic() - started, time.time())
        with self.lock:
            self._deliveries.append(attempt)
        return attempt

    # -- the ASGI side ---------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        async def not_found(request: Request, exc: Exception) -> Response:
            return json_response(self.not_found_body(request), 404)

        async def not_allowed(request: Request, exc: Exception) -> Response:
            return json_response(self.error_body(405, "Method Not Allowed"), 405)

        return Starlette(routes=self.routes(), exception_handlers={404: not_found, 405: not_allowed})

    def _build_control_app(self) -> Starlette:
        async def health(request: Request) -> Response:
            return JSONResponse(self.describe())

        async def requests_(request: Request) -> Response:
            if request.method == "DELETE":
                self.clear_requests()
                return JSONResponse({"ok": True})
            return JSONResponse([r.as_dict() for r in self.requests])

        async def faults(request: Request) -> Response:
            if request.method == "DELETE":
                self.clear_faults()
                return JSONResponse({"ok": True})
            if request.method == "GET":
                return JSONResponse([f.__dict__ for f in self.faults.pending])
            data, ok = await read_json(request)
            if not ok or not isinstance(data, dict):
                return JSONResponse({"error": "JSON object expected"}, 400)
            try:
                fault = Fault(
                    kind=str(data.get("kind", "")),
                    remaining=int(data.get("count", 1)),
                    status=int(data.get("status", 429 if data.get("kind") == "rate_limit" else 500)),
                    retry_after=(
                        int(data["retry_after"])
                        if data.get("retry_after") is not None
                        else (1 if data.get("kind") == "rate_limit" else None)
                    ),
                    seconds=float(data.get("seconds", 0)),
                    path=data.get("path"),
                    method=data.get("method"),
                    body=data.get("body"),
                )
                self.faults.add(fault)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return JSONResponse({"ok": True, "fault": fault.__dict__})

        async def reset(request: Request) -> Response:
            self.reset()
            return JSONResponse({"ok": True})

        async def deliveries(request: Request) -> Response:
            return JSONResponse([d.as_dict() for d in self.deliveries])

        routes = [
            Route(f"{CONTROL_PREFIX}/health", health, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/requests", requests_, methods=["GET", "DELETE"]),
            Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route(f"{CONTROL_PREFIX}/reset", reset, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/deliveries", deliveries, methods=["GET"]),
            *self.control_routes(),
        ]
        return Starlette(routes=routes)

    async def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(0.05, left))

    async def _asgi(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
            await self._control(scope, receive, send)
            return

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        record = RecordedRequest(
            method=scope["method"],
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
            body=body,
            at=time.time(),
            peer=":".join(str(part) for part in scope.get("client") or ()),
        )
        with self.lock:
            self._requests.append(record)

        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        fault = self.faults.take(record.method, path)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "delay":
                await self._sleep(fault.seconds)
                if self._stopping.is_set():  # shutting down: answer at once rather than hang
                    await self.fault_response(Fault("error", status=503))(scope, replay, capture)
                    return
            else:
                await self.fault_response(fault)(scope, replay, capture)
                return
        await self._app(scope, replay, capture)


class WebhookReceiver(SimulatorServer):
    """A stand-in receiver for webhook tests: records what arrives and answers as told.

    By default every request gets ``200 {"status": "success"}`` (what Binotel wants; Twilio
    ignores the body). ``respond(...)`` changes the default; ``queue(...)`` sets the answers
    to the next requests, e.g. ``queue(500, 500)`` then success, to exercise retries.
    """

    name = "receiver"

    def seed(self) -> None:
        with self.lock:
            self._default: tuple[int, Any] = (200, {"status": "success"})
            self._queued: list[tuple[int, Any]] = []

    def respond(self, status: int = 200, body: Any = None) -> None:
        with self.lock:
            self._default = (status, {"status": "success"} if body is None else body)

    def queue(self, *answers: int | tuple[int, Any]) -> None:
        with self.lock:
            for answer in answers:
                status, body = answer if isinstance(answer, tuple) else (answer, {"status": "error"})
                self._queued.append((status, body))

    def routes(self) -> list[Route]:
        async def receive(request: Request) -> Response:
            with self.lock:
                status, body = self._queued.pop(0) if self._queued else self._default
            if isinstance(body, (dict, list)):
                return json_response(body, status)
            return PlainTextResponse(str(body), status)

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [Route("/", receive, methods=methods), Route("/{path:path}", receive, methods=methods)]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every webhook delivery (building one per client is slow)."""
    return ssl.create_default_context()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def start_all(simulators: Iterable[SimulatorServer]) -> list[SimulatorServer]:
    """Start several simulators; on a failure stop the ones already started."""
    started: list[SimulatorServer] = []
    try:
        for sim in simulators:
            started.append(sim.start())
    except Exception:
        for sim in started:
            sim.stop()
        raise
    return started
