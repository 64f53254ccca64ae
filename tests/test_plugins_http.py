"""server/plugins/http.py against a real loopback HTTP server: Retry-After (seconds and
HTTP-date) honoured, 5xx retried then a retryable PluginError, other 4xx returned at once,
non-idempotent calls sent once, timeouts."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import time

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.http import ProviderClient, retry_after_seconds
from server.plugins.simulator import SimulatorServer
from server.plugins.types import PluginError

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english


class ScriptedServer(SimulatorServer):
    """Answers each request with the next scripted (status, headers, body), then 200 "ok"."""

    name = "scripted"

    def seed(self) -> None:
        with self.lock:
            self.script: list[tuple[int, dict, str]] = []

    def answer(self, *answers: tuple[int, dict, str]) -> None:
        with self.lock:
            self.script.extend(answers)

    def routes(self) -> list[Route]:
        async def any_path(request: Request) -> Response:
            with self.lock:
                status, headers, body = self.script.pop(0) if self.script else (200, {}, "ok")
            return Response(body, status_code=status, headers=headers)

        return [Route("/{path:path}", any_path, methods=["GET", "POST"])]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def srv(server):
    server.reset()
    return server


def client(srv, **kw) -> ProviderClient:
    kw.setdefault("initial_wait", 0.01)  # backoff alone would retry almost at once
    return ProviderClient("Acme", base_url=srv.url, **kw)


async def test_retry_after_seconds_is_honoured(srv):
    srv.answer((429, {"Retry-After": "2"}, "slow down"))
    async with client(srv) as c:
        response = await c.request("GET", "/things")
    assert (response.status_code, response.text) == (200, "ok")
    first, second = srv.requests
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.9


async def test_retry_after_http_date_is_honoured(srv):
    when = email.utils.formatdate(time.time() + 3, usegmt=True)  # whole seconds: waits 2 to 3 s
    srv.answer((503, {"Retry-After": when}, "maintenance"))
    async with client(srv) as c:
        response = await c.request("POST", "/things", json={"a": 1}, retry=True)  # a POST that only reads
    assert response.status_code == 200
    first, second = srv.requests
    assert second.at - first.at >= 1.5
    assert second.json() == {"a": 1}  # the same request again


def test_retry_after_parsing():
    def parsed(value: str | None) -> float | None:
        headers = {"Retry-After": value} if value is not None else {}
        return retry_after_seconds(httpx.Response(429, headers=headers))

    assert parsed("7") == 7.0
    assert parsed(None) is None and parsed("soon") is None
    assert parsed("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert 55 <= parsed(email.utils.formatdate(time.time() + 60, usegmt=True)) <= 60


async def test_5xx_exhausted_is_a_retryable_plugin_error(srv):
    srv.answer(*[(502, {}, "<html>bad gateway</html>")] * 3)
    async with client(srv, attempts=3) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("GET", "/things")
    assert exc.value.retryable and exc.value.code == "PROVIDER_UNAVAILABLE"
    assert exc.value.message == "Acme answered 502 3 times; try again later."
    assert [r.status for r in srv.requests] == [502, 502, 502]


async def test_429_exhausted_says_rate_limited(srv):
    srv.answer(*[(429, {"Retry-After": "0"}, "")] * 2)
    async with client(srv, attempts=2) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("GET", "/things")
    assert exc.value.code == "RATE_LIMITED" and "rate limiting us (429) twice" in exc.value.message


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_other_4xx_are_returned_not_retried(srv, status):
    srv.answer((status, {"Content-Type": "application/json"}, '{"error": "nope"}'))
    async with client(srv) as c:
        response = await c.request("GET", "/things")
    assert response.status_code == status and response.json() == {"error": "nope"}
    assert len(srv.requests) == 1


async def test_a_post_is_sent_once_by_default(srv):
    # A POST may create something (a message): a retry could do it twice.
    srv.answer((503, {}, "down"), (503, {}, "down"))
    async with client(srv) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/create")
    assert exc.value.message == "Acme answered 503 once; try again later."
    assert len(srv.requests) == 1


async def test_retry_false_sends_a_get_once(srv):
    srv.answer((503, {}, "down"))
    async with client(srv) as c:
        with pytest.raises(PluginError):
            await c.request("GET", "/things", retry=False)
    assert len(srv.requests) == 1


async def test_timeout_then_success(srv):
    srv.delay(2, count=1)
    async with client(srv, timeout=0.3) as c:
        response = await c.request("GET", "/things")
    assert response.status_code == 200
    assert len(srv.requests) == 2  # the slow one (still answered by the server later) and the retry


async def test_timeouts_exhausted(srv):
    srv.delay(2, count=2)
    async with client(srv, timeout=0.3, attempts=2) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("GET", "/things")
    assert exc.value.code == "PROVIDER_TIMEOUT" and exc.value.retryable


async def test_unreachable(srv):
    async with ProviderClient("Acme", base_url="http://127.0.0.1:9", attempts=2, initial_wait=0.01) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("GET", "/things")
    assert exc.value.code == "PROVIDER_UNREACHABLE" and "cannot be reached" in exc.value.message


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_send_answered_with_a_server_error_is_outcome_unknown_and_never_retried(srv, status):
    # The provider may have sent the SMS before failing: trying again could send it twice.
    srv.answer((status, {}, "<html>oops</html>"))
    async with client(srv) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/messages")
    assert (exc.value.code, exc.value.retryable) == ("OUTCOME_UNKNOWN", False)
    assert f"Acme answered {status} after the request went out" in exc.value.message
    assert len(srv.requests) == 1


async def test_a_send_that_times_out_is_outcome_unknown(srv):
    srv.delay(2, count=1)
    async with client(srv, timeout=0.3) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/messages")
    assert (exc.value.code, exc.value.retryable) == ("OUTCOME_UNKNOWN", False)
    assert len(srv.requests) == 1  # the provider got it (and acted on it, later)


@pytest.mark.parametrize(("status", "code"), [(429, "RATE_LIMITED"), (503, "PROVIDER_UNAVAILABLE")])
async def test_a_send_the_provider_refused_may_be_tried_again_later(srv, status, code):
    srv.answer((status, {}, "busy"))
    async with client(srv) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/messages")
    assert (exc.value.code, exc.value.retryable) == (code, True)
    assert len(srv.requests) == 1


async def test_a_send_that_never_connected_may_be_tried_again_later():
    async with ProviderClient("Acme", base_url="http://127.0.0.1:9") as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/messages")
    assert (exc.value.code, exc.value.retryable) == ("PROVIDER_UNREACHABLE", True)


class RawServer:
    """A TCP server on 127.0.0.1 that reads one request and answers with ``reply`` bytes (then
    closes): a provider that breaks the protocol after the request went out."""

    def __init__(self, reply: bytes) -> None:
        self.reply, self.requests = reply, 0

    async def __aenter__(self) -> str:
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            writer.write(self.reply)
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc_info) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize(
    "reply",
    [
        b"",  # the connection closed with no answer
        b"HTTP/1.1 abc\r\n\r\n",  # a status line that is not one
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"id\":",  # the body cut short
    ],
    ids=["no answer", "malformed status line", "body cut short"],
)
async def test_a_send_whose_answer_breaks_off_is_outcome_unknown_and_never_retried(reply):
    # The request went out: the provider may have the message, so it is not sent again.
    async with RawServer(reply) as (url), ProviderClient("Acme", base_url=url) as c:
        with pytest.raises(PluginError) as exc:
            await c.request("POST", "/messages", json={"to": "+380671234567"})
    assert (exc.value.code, exc.value.retryable) == ("OUTCOME_UNKNOWN", False)


async def test_credentials_in_the_address_arrive_as_basic_auth(srv):
    url = srv.url.replace("http://", "http://shop:s3cret@")
    async with ProviderClient("Acme", base_url=url) as c:
        response = await c.request("GET", "/ok")
    assert response.status_code == 200
    assert srv.requests[-1].headers["authorization"] == "Basic " + base64.b64encode(b"shop:s3cret").decode()
