"""The AMI simulator over real TCP, spoken to line by line as Asterisk is: the banner, Login,
the documented refusals, and a call's events in order."""

from __future__ import annotations

import asyncio

import pytest

from plugins.simulators.asterisk import BANNER, SECRET, USERNAME, AsteriskSimulator


@pytest.fixture(scope="module")
def server():
    with AsteriskSimulator() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.reset()
    return server


async def read_message(reader) -> dict:
    message = {}
    while True:
        line = (await asyncio.wait_for(reader.readline(), 5)).decode().rstrip("\r\n")
        if not line:
            if message:
                return message
            continue
        key, _, value = line.partition(": ")
        message[key] = value


async def send(writer, **fields) -> None:
    writer.write(("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode())
    await writer.drain()


async def test_banner_refusals_before_login_and_a_failed_login_hangs_up(sim):
    reader, writer = await asyncio.open_connection(sim.host, sim.port)
    assert (await reader.readline()) == f"{BANNER}\r\n".encode()
    await send(writer, Action="Ping", ActionID="1")
    assert await read_message(reader) == {"Response": "Error", "ActionID": "1", "Message": "Permission denied"}
    await send(writer, Action="Login", ActionID="2", Username=USERNAME, Secret="wrong")
    assert await read_message(reader) == {"Response": "Error", "ActionID": "2", "Message": "Authentication failed"}
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the PBX
    writer.close()


async def test_login_originate_errors_and_a_call_in_asterisk_order(sim):
    reader, writer = await asyncio.open_connection(sim.host, sim.port)
    await reader.readline()
    await send(writer, Action="Login", ActionID="1", Username=USERNAME, Secret=SECRET)
    assert (await read_message(reader))["Message"] == "Authentication accepted"
    assert (await read_message(reader))["Event"] == "FullyBooted"
    await send(writer, Action="Originate", ActionID="2", Context="from-internal", Exten="0671234567")
    assert (await read_message(reader))["Message"] == "Channel not specified"
    await send(writer, Action="Originate", ActionID="3", Channel="PJSIP/999", Exten="0671234567")
    assert (await read_message(reader))["Message"] == "Invalid channel"
    await send(writer, Action="Bogus", ActionID="4")
    assert (await read_message(reader))["Message"].startswith("Invalid/unknown command: Bogus.")

    linkedid = await asyncio.to_thread(sim.incoming_call, "0671234567", ring=("901", "902"), answered_by="902")
    names = []
    while not names or names[-1] != ("Hangup", linkedid):
        event = await read_message(reader)
        assert event["Linkedid"] == linkedid
        names.append((event["Event"], event["Uniqueid"] if event["Event"] == "Hangup" else ""))
        if event["Event"] == "DialEnd":
            assert event["DialStatus"] == ("ANSWER" if event["DestCallerIDNum"] == "902" else "CANCEL")
    kinds = [n for n, _ in names]
    assert kinds[0] == "Newchannel" and kinds.count("Newstate") == 3 and kinds.count("BridgeEnter") == 2
    assert kinds.index("DialEnd") < kinds.index("BridgeEnter") < kinds.index("Hangup")
    await send(writer, Action="Logoff", ActionID="5")
    assert (await read_message(reader))["Response"] == "Goodbye"
    writer.close()
