"""The Asterisk plugin against the AMI simulator over real TCP: the worker's listener logs in,
turns a call's AMI events into screen-pop events and one timeline entry per call, reconnects
after the PBX drops it, and click-to-call sends Originate."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from plugins.asterisk import plugin as asterisk_plugin
from plugins.simulators.asterisk import SECRET, USERNAME, AsteriskSimulator
from server.activities.models import Activity
from server.auth.models import Membership
from server.graphql import ids
from server.plugins import egress
from server.plugins.models import PluginInstallation
from server.plugins.types import PluginError
from server.telephony.listeners import Listeners
from tests.provider_plugins import check_connection, events, install, row
from tests.test_plugin_binotel import CLICK, click, give_extension

CUSTOMER = "+380671234567"


@pytest.fixture(scope="module")
def asterisk_server():
    with AsteriskSimulator() as sim:
        yield sim


@pytest.fixture
def sim(asterisk_server):
    asterisk_server.reset()
    return asterisk_server


@pytest.fixture(autouse=True)
async def one_pbx_user_at_a_time(database):
    """Each test's listeners connect only its own installations: earlier tests' are switched
    off (the database outlives a test), so counting the simulator's clients means something."""
    yield
    await PluginInstallation.filter(plugin="asterisk").update(enabled=False)


@pytest.fixture
async def tenant(api, tenants):
    return await tenants.create(("owner", "sales"))


def config(sim, **extra) -> dict:
    return {"host": sim.host, "port": sim.port, "username": USERNAME, **extra}


@pytest.fixture
async def installed(tenant, api, sim):
    return await install(tenant.owner, api, "asterisk", config(sim), {"secret": SECRET})


async def until(check, seconds: float = 10.0):
    for _ in range(int(seconds / 0.05)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


@pytest.fixture
async def worker(database, installed):
    """What `crm worker` runs: the listeners, with short pauses between reconnects."""
    listeners = Listeners(database, refresh_seconds=0.2, min_backoff=0.05, max_backoff=0.2)
    task = asyncio.create_task(listeners.run())
    yield listeners
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def logged_in(sim, count: int = 1):
    async def check():
        return len(sim.clients) >= count

    await until(check)


async def calls(org, kind="call"):
    return await Activity.filter(organization_id=org, kind=kind).order_by("created_at")


async def test_an_answered_call_pops_up_and_lands_on_the_timeline(sim, installed, worker):
    org = (await row(installed)).organization_id  # type: ignore[attr-defined]
    await logged_in(sim)
    login = next(a for a in sim.actions if a["Action"] == "Login")
    assert login["Username"] == USERNAME and login["Secret"] == "***"  # the simulator checked the real one

    linkedid = sim.incoming_call("0671234567", ring=("901",), answered_by="901", wait=8, talk=65)
    (activity,) = await until(lambda: calls(org))
    (ringing,) = await events(org, "call.ringing")
    assert (ringing["caller"], ringing["callee"], ringing["employee"]) == (CUSTOMER, "+380443334023", "901")
    assert ringing["call_id"] == linkedid and ringing["direction"] == "inbound"
    (answered,) = await events(org, "call.answered")
    assert answered["employee"] == "901"
    assert activity.subject == f"Incoming call from {CUSTOMER} (answered, 1:05)"
    assert activity.data["wait_seconds"] == 8 and activity.data["duration_seconds"] == 65
    assert not await calls(org, "task")


async def test_a_missed_call_to_a_ring_group_pops_up_on_each_desk_and_opens_one_task(
    tenant, api, database, sim, installed, worker
):
    org = (await row(installed)).organization_id  # type: ignore[attr-defined]
    await give_extension(tenant.owner, api, tenant.sales, "902")
    # A second worker on the same PBX: every event arrives twice.
    second = Listeners(database, refresh_seconds=60, min_backoff=0.05)
    await second.sync()
    try:
        await logged_in(sim, 2)
        sim.incoming_call("0671234567", ring=("902", "903"), answered_by=None, outcome="NOANSWER")
        (task,) = await until(lambda: calls(org, "task"))
        await asyncio.sleep(0.3)  # the second worker's copy of the events
    finally:
        await second.stop()
    assert sorted(e["employee"] for e in await events(org, "call.ringing")) == ["902", "903"]
    (activity,) = await calls(org)
    assert activity.subject == f"Incoming call from {CUSTOMER} (no_answer, 0:00)"
    assert activity.data["wait_seconds"] == 8
    assert [t.id for t in await calls(org, "task")] == [task.id]
    sales = await Membership.get(organization_id=org, phone_extension="902")
    assert task.actor_id == sales.user_id  # type: ignore[attr-defined]  # the first desk it rang
    assert task.subject == f"Зателефонуйте {CUSTOMER}: пропущений дзвінок"


async def test_an_outgoing_call_is_logged_on_the_called_customer(sim, installed, worker):
    org = (await row(installed)).organization_id  # type: ignore[attr-defined]
    await logged_in(sim)
    sim.outgoing_call("901", "0501112233", outcome="BUSY")
    (activity,) = await until(lambda: calls(org))
    assert activity.subject == "Outgoing call to +380501112233 (busy, 0:00)"
    assert activity.data["direction"] == "outbound" and activity.data["employee"] == "901"
    assert not await calls(org, "task")  # we called them: nothing to call back


async def test_the_listener_reconnects_after_the_pbx_drops_it(sim, installed, worker):
    org = (await row(installed)).organization_id  # type: ignore[attr-defined]
    await logged_in(sim)
    sim.drop_clients()  # an Asterisk restart

    async def again():
        return sim.logins >= 2 and len(sim.clients) >= 1

    await until(again)
    sim.incoming_call("0671234567")
    await until(lambda: calls(org))


async def test_a_wrong_secret_is_refused_and_said(tenant, api, sim):
    bad = await install(tenant.owner, api, "asterisk", config(sim), {"secret": "guess"}, label="bad")
    result = await check_connection(tenant.owner, api, bad)
    assert result["ok"] is False and "Authentication failed" in result["message"] and "guess" not in result["message"]
    assert sim.clients == []  # Asterisk hangs up after a failed login
    good = await install(tenant.owner, api, "asterisk", config(sim), {"secret": SECRET}, label="good")
    result = await check_connection(tenant.owner, api, good)
    assert result == {"ok": True, "message": "З’єднано з Asterisk Call Manager/5.0.1.", "errors": []}


async def test_click_to_call_originates_from_the_members_desk(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.sales, "901")
    payload = (await tenant.sales.data(api, CLICK, click(installed, "067 123 45 67")))["clickToCall"]
    assert payload["errors"] == []
    originate = next(a for a in sim.actions if a["Action"] == "Originate")
    assert originate["ActionID"] == payload["callId"]
    assert (originate["Channel"], originate["Exten"], originate["Context"], originate["Async"]) == (
        "PJSIP/901",
        "0671234567",
        "from-internal",
        "true",
    )

    async def said_goodbye():  # the simulator reads the Logoff on its own thread
        return [a["Action"] for a in sim.actions] == ["Login", "Originate", "Logoff"]

    await until(said_goodbye)


async def test_click_to_call_refused_by_asterisk_is_a_provider_error(tenant, api, sim, installed):
    await give_extension(tenant.owner, api, tenant.owner, "999")  # no such desk at the PBX
    payload = (await tenant.owner.data(api, CLICK, click(installed)))["clickToCall"]
    (error,) = payload["errors"]
    assert error["code"] == "PROVIDER_ERROR" and "Invalid channel" in error["message"]


async def test_an_installation_disabled_is_let_go(tenant, api, sim, installed, worker):
    await logged_in(sim)
    disable = """mutation($i: PluginInstallationVersionInput!) { disablePlugin(input: $i) { errors { code } } }"""
    installation = await row(installed)
    variables = {"i": {"id": installed["installation"]["id"], "version": installation.version}}
    assert (await tenant.owner.data(api, disable, variables))["disablePlugin"]["errors"] == []

    async def gone():
        return not sim.clients

    await until(gone)
    assert ids.decode(installed["installation"]["id"])[1] not in worker.tasks


async def test_a_pbx_on_a_private_address_is_refused_unless_local_providers_are_allowed(sim):
    with egress.allowing_local(False):  # a production server
        with pytest.raises(PluginError) as refused:
            await asterisk_plugin.connect(config(sim), {"secret": SECRET})
    assert refused.value.code == "ADDRESS_NOT_ALLOWED"
    assert sim.actions == []  # nothing was sent: not even a connection


async def test_a_worker_stopping_while_a_listener_winds_down_stops(database):
    """`crm worker` and `crm serve` stop the listeners by cancelling ``run()``. When that comes
    while ``run()`` waits for a dropped installation's listener to close its connection, the
    cancellation must not be taken for the listener's own: ``run()`` would go on for ever and
    the process would never stop."""
    listeners = Listeners(database, refresh_seconds=0.05)
    winding_down, said_goodbye = asyncio.Event(), asyncio.Event()

    async def listener_closing_slowly():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            winding_down.set()
            await asyncio.sleep(0.5)  # saying goodbye to the PBX
            said_goodbye.set()
            raise

    listener = asyncio.create_task(listener_closing_slowly())
    listeners.tasks[uuid.uuid4()] = (1, listener)  # an installation no longer enabled: sync() drops it
    running = asyncio.create_task(listeners.run())
    await asyncio.wait_for(winding_down.wait(), 5)
    running.cancel()  # the worker stops meanwhile

    done, _ = await asyncio.wait({running}, timeout=5)
    if not done:  # leave nothing running for the next tests
        running.cancel()
        await asyncio.wait({running}, timeout=5)
    assert running in done and running.cancelled()
    assert listener.done() and listeners.tasks == {}
    assert said_goodbye.is_set()  # stopping waited for it, and did not cut it short
