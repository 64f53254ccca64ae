"""Plugins reach only public https addresses (server-side request forgery closed): an admin
cannot point a plugin at the server's own network, whether by typing a local address, a name
that resolves to one, or plain http; nothing is sent there and nothing is learnt from the
error. The test profile allows local providers (the simulators); these tests run the
production policy (``allow_local_providers = false``)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import aiohappyeyeballs
import httpx
import pytest

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.app import create_app
from server.plugins import egress
from server.plugins.http import ProviderClient
from server.plugins.testing import INSTALL
from server.plugins.types import OutgoingMessage, PluginError
from tests.helpers import Client
from tests.provider_plugins import call, check_connection, install

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

CONFIGURE_ERRORS = """mutation($i: ConfigurePluginInput!) { configurePlugin(input: $i) { errors { field code } } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
def sim(turbo_server):
    turbo_server.reset()
    return turbo_server


@pytest.fixture
async def production(database):
    """The same database behind an app with the production policy."""
    app = create_app(database.model_copy(update={"allow_local_providers": False}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Client(http, language="en")


@pytest.fixture
async def owner(tenants):
    return (await tenants.create(("owner",))).owner


def turbosms(api_url: str) -> dict:
    return {"plugin": "turbosms", "config": {"sender": "MyShop", "api_url": api_url}, "secrets": {"token": TEST_TOKEN}}


@pytest.mark.parametrize(
    ("api_url", "words"),
    [
        ("http://api.turbosms.ua", "must be an https:// address"),
        ("https://127.0.0.1:6379", "not a loopback, private or link-local one"),
        ("https://169.254.169.254", "not a loopback, private or link-local one"),  # cloud metadata
        ("https://10.0.0.5", "not a loopback, private or link-local one"),
        ("https://192.168.1.1:8443", "not a loopback, private or link-local one"),
        ("https://100.64.0.1", "not a loopback, private or link-local one"),  # carrier-grade NAT
        ("https://[::1]", "not a loopback, private or link-local one"),
        ("https://[::ffff:127.0.0.1]", "not a loopback, private or link-local one"),
        ("https://[fd00::1]", "not a loopback, private or link-local one"),
        ("https://localhost:8000", "not a local name"),
        ("https://db.internal", "not a local name"),
        ("https://intranet", "not a local name"),
    ],
)
async def test_a_local_or_plain_http_api_url_is_refused_when_saved(production, owner, api_url, words):
    payload = (await owner.data(production, INSTALL, {"i": turbosms(api_url)}))["installPlugin"]
    assert payload["installation"] is None
    ((error),) = payload["errors"]
    assert (error["field"], error["code"]) == ("config.api_url", "INVALID")
    assert words in error["message"]


async def test_a_public_https_api_url_is_accepted(production, owner):
    payload = await owner.data(production, INSTALL, {"i": turbosms("https://api.turbosms.ua")})
    assert payload["installPlugin"]["errors"] == []


async def test_changing_the_api_url_to_a_local_address_is_refused(production, owner):
    payload = await owner.data(production, INSTALL, {"i": turbosms("https://api.turbosms.ua")})
    inst = payload["installPlugin"]["installation"]
    change = {"config": {"api_url": "https://169.254.169.254"}, "secrets": {"token": TEST_TOKEN}}
    variables = {"i": {"id": inst["id"], "version": inst["version"], **change}}
    result = (await owner.data(production, CONFIGURE_ERRORS, variables))["configurePlugin"]
    assert result["errors"] == [{"field": "config.api_url", "code": "INVALID"}]


async def test_a_stored_local_address_is_never_called(api, production, owner, sim):
    # Saved while local providers were allowed (a demo database moved to production, say):
    # the production server refuses to connect, and the simulator sees no request at all.
    installed = await install(owner, api, "turbosms", {"sender": "MyShop", "api_url": sim.url}, {"token": TEST_TOKEN})
    assert (await check_connection(owner, api, installed))["ok"] is True
    before = len(sim.requests)
    result = await check_connection(owner, production, installed)
    assert result["ok"] is False
    assert result["message"].startswith("TurboSMS cannot be called at this address")
    assert len(sim.requests) == before


async def test_a_name_resolving_to_a_local_address_is_refused_at_connection(sim):
    # check_url cannot know what a name resolves to; the transport resolves it and refuses.
    url = sim.url.replace("127.0.0.1", "localhost").replace("http://", "https://")
    with egress.allowing_local(False):
        async with ProviderClient("TurboSMS", base_url=url, attempts=3, initial_wait=0.01) as client:
            with pytest.raises(PluginError) as exc:
                await client.request("GET", "/user/balance.json")
    assert exc.value.code == "ADDRESS_NOT_ALLOWED" and not exc.value.retryable
    assert sim.requests == []


async def test_plain_http_is_refused_before_connecting(sim):
    with egress.allowing_local(False):
        async with ProviderClient("TurboSMS", base_url=sim.url) as client:
            with pytest.raises(PluginError) as exc:
                await client.request("GET", "/user/balance.json")
    assert exc.value.code == "ADDRESS_NOT_ALLOWED" and "https" in exc.value.message
    assert sim.requests == []


async def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    # DNS rebinding: a name answering a public address to the check and a private one to the
    # connection. The transport resolves once and connects to the IP it checked.
    loop = asyncio.get_running_loop()
    answers = iter(["93.184.216.34", "127.0.0.1"])

    async def getaddrinfo(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    connected: list[str] = []

    async def start_connection(addr_infos, **kwargs):
        connected.extend(info[4][0] for info in addr_infos)
        raise OSError("test: no network")

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", start_connection)
    with egress.allowing_local(False):
        async with ProviderClient("TurboSMS", base_url="https://rebinding.example") as client:
            with pytest.raises(PluginError) as exc:
                await client.request("GET", "/user/balance.json")
    assert exc.value.code == "PROVIDER_UNREACHABLE" and exc.value.retryable
    assert connected == ["93.184.216.34"] * 3  # three tries, each to the address checked


async def test_a_name_with_any_private_answer_is_refused(monkeypatch):
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with egress.allowing_local(False):
        async with ProviderClient("TurboSMS", base_url="https://mixed.example") as client:
            with pytest.raises(PluginError) as exc:
                await client.request("GET", "/user/balance.json")
    assert exc.value.code == "ADDRESS_NOT_ALLOWED" and not exc.value.retryable


async def test_a_private_address_written_in_the_url_is_refused(sim):
    # aiohttp connects to an IP address as written, without resolving it: judged by itself.
    for url in ("https://127.0.0.1:9", "https://[::1]:9", "https://169.254.169.254"):
        with egress.allowing_local(False):
            async with ProviderClient("TurboSMS", base_url=url) as client:
                with pytest.raises(PluginError) as exc:
                    await client.request("GET", "/user/balance.json")
        assert exc.value.code == "ADDRESS_NOT_ALLOWED", url


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("172.16.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to judge, not to bind
        ("224.0.0.1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("fe80::1", False),
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around the cloud metadata address
        ("64:ff9b::808:808", True),  # NAT64 around 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64: its IPv4 side is the network's own
        ("::7f00:1", False),  # deprecated IPv4-compatible 127.0.0.1
        ("::ffff:0:7f00:1", False),  # SIIT IPv4-translated 127.0.0.1
        ("fec0::1", False),  # deprecated site-local
        ("3fff::1", False),  # documentation
    ],
)
def test_what_counts_as_public(address, public):
    assert egress.is_public(ipaddress.ip_address(address)) is public


def test_allowing_local_lifts_the_url_check_for_simulators():
    assert egress.check_url("http://127.0.0.1:8123", allow_local=True) is None
    assert egress.check_url("http://127.0.0.1:8123", allow_local=False) == "must be an https:// address"
    assert egress.check_url("https://api.novaposhta.ua/v2.0/json/", allow_local=False) is None


async def test_an_installation_keeps_its_connections_and_shares_them_with_nobody(api, tenants, database, sim):
    # A burst of messages reuses the installation's kept-alive connection instead of opening one
    # per message; another shop's installation of the same provider gets connections of its own,
    # so its slow provider could never hold this one's.
    first, second = (await tenants.create(("owner",))).owner, (await tenants.create(("owner",))).owner
    config = {"sender": "MyShop", "api_url": sim.url}
    shops = [await install(owner, api, "turbosms", config, {"token": TEST_TOKEN}) for owner in (first, second)]
    message = OutgoingMessage(to="+380671234567", text="Ваше замовлення відправлено", channel="sms")
    for shop in (*shops, *shops, *shops):
        sent = await call(database, shop, "crm_messaging_send", message=message)
        assert sent.status == "queued"
    peers = [r.peer for r in sim.requests_to("/message/send.json")]
    assert len(peers) == 6 and all(peers)
    assert peers[0::2] == [peers[0]] * 3 and peers[1::2] == [peers[1]] * 3
    assert peers[0] != peers[1]


async def test_kept_connections_are_dropped_once_idle_longer_than_the_keepalive(api, owner, database, sim, monkeypatch):
    # Shorter than the servers' own idle limit: a send never goes into a connection the
    # provider is closing (uvicorn closes after 5 s).
    assert egress.KEEPALIVE_SECONDS < 5
    monkeypatch.setattr(egress, "KEEPALIVE_SECONDS", 0.2)
    shop = await install(owner, api, "turbosms", {"sender": "MyShop", "api_url": sim.url}, {"token": TEST_TOKEN})
    message = OutgoingMessage(to="+380671234567", text="Ваше замовлення відправлено", channel="sms")
    await call(database, shop, "crm_messaging_send", message=message)
    await asyncio.sleep(0.5)
    await call(database, shop, "crm_messaging_send", message=message)
    first, again = (r.peer for r in sim.requests_to("/message/send.json"))
    assert first != again


@pytest.mark.parametrize("host", ["127.1", "2130706433", "127.0.0.1."])
async def test_an_address_written_as_an_odd_number_is_refused(sim, host):
    # The socket layer reads "127.1" or "2130706433" as 127.0.0.1, and aiohttp would connect
    # to such a host without asking the resolver: refused when saved and when connecting.
    url = f"https://{host}:{sim.url.rsplit(':', 1)[1]}"
    assert egress.check_url(url, allow_local=False) is not None
    with egress.allowing_local(False):
        async with ProviderClient("TurboSMS", base_url=url) as client:
            with pytest.raises(PluginError) as exc:
                await client.request("GET", "/user/balance.json")
    assert exc.value.code == "ADDRESS_NOT_ALLOWED"
    assert sim.requests == []


async def test_a_pool_let_go_while_a_client_uses_it_closes_when_that_client_does(monkeypatch):
    # Beyond POOLS_PER_LOOP keys the least recently used pool leaves the cache; a webhook batch
    # still sending over it keeps it open until the batch's client closes.
    monkeypatch.setattr(egress, "POOLS_PER_LOOP", 1)
    busy = egress.pooled("busy", allow_local=True)
    idle_lent = egress.pooled("idle", allow_local=True)  # lets "busy" go: still lent, stays open
    await idle_lent.aclose()
    assert busy.kept.let_go and not busy.kept.closed()
    egress.pooled("third", allow_local=True)  # lets "idle" go: nobody holds it, closed now
    await asyncio.sleep(0)
    assert idle_lent.kept.closed()
    await busy.aclose()
    assert busy.kept.closed()
