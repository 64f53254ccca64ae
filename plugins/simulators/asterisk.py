"""Asterisk Manager Interface (AMI) simulator: a small asyncio TCP server speaking AMI.

Protocol (docs.asterisk.org "AMI v2 Specification", Asterisk's ``manager.c``): on connect the
banner line ``Asterisk Call Manager/5.0.1``; then ``Key: Value`` lines ending in CRLF, each
message ending with an empty line. Reproduced:

* ``Login`` (``Username``, ``Secret``): ``Response: Success`` / ``Message: Authentication
  accepted`` then ``Event: FullyBooted``; a wrong user or secret gets ``Response: Error`` /
  ``Message: Authentication failed`` and the connection is closed, as Asterisk does;
* any other action before ``Login``: ``Response: Error`` / ``Message: Permission denied``;
* ``Ping`` (``Ping: Pong``), ``Logoff`` (``Response: Goodbye``, then closed), an unknown
  action (``Invalid/unknown command: <name>. Use Action: ListCommands to show available
  commands.``);
* ``Originate``: ``Channel not specified``, ``Invalid channel`` (an unknown technology or
  extension), ``Invalid priority``; with ``Async: true`` ``Message: Originate successfully
  queued``, then ``Event: OriginateResponse`` and the new call's events;
* call events to every logged-in client, in Asterisk 13+ names and order: ``Newchannel``,
  ``Newstate`` (``ChannelState: 5 Ringing`` on the employee's channel), ``DialBegin``,
  ``DialEnd`` (``DialStatus``), ``BridgeEnter``, ``Hangup`` (``Cause``), with ``Uniqueid``
  and the call's ``Linkedid``, and ``Timestamp`` (``timestampevents = yes``).

It runs in a background thread with its own event loop on 127.0.0.1, so a test connects over
real TCP. Test hooks: ``incoming_call(...)`` / ``outgoing_call(...)`` play a call's events,
``drop_clients()`` cuts every connection (to test reconnecting), ``.actions`` records every
action received (secrets blanked), ``.clients`` the logged-in connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Self

BANNER = "Asterisk Call Manager/5.0.1"
USERNAME = "crm"
SECRET = "amp111-crm"  # noqa: S105 - a published test credential
EXTENSIONS = ("901", "902", "903")
TRUNK = "PJSIP/kyivstar"
DID = "0443334023"
DIAL_STATUSES = ("ANSWER", "NOANSWER", "BUSY", "CANCEL", "CHANUNAVAIL", "CONGESTION")


def _message(**fields: Any) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    authenticated: bool = False
    username: str = ""


class AsteriskSimulator:
    name = "asterisk"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.seed()

    # -- state -----------------------------------------------------------------------------

    def seed(self) -> None:
        with self.lock:
            self.users = {USERNAME: SECRET}
            self.actions: list[dict[str, str]] = []
            self.clients: list[_Client] = []
            self.logins = 0
            self._ids = itertools.count(1)
            self.epoch = int(time.time())

    def reset(self) -> None:
        self.drop_clients()
        self.seed()

    def credentials(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "username": USERNAME,
            "secret": SECRET,
            "extensions": list(EXTENSIONS),
        }

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url if self.running else None, "credentials": self.credentials()}

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Self:
        self._thread = threading.Thread(target=self._run, name=f"sim-asterisk-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._server is None:
            raise RuntimeError("asterisk simulator failed to start")
        return self

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            async with self._server:
                await self._server.serve_forever()

        try:
            self.loop.run_until_complete(serve())
        except asyncio.CancelledError:
            pass
        finally:
            self._ready.set()
            self.loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self.loop is not None and self._server is not None:
            self.drop_clients()
            server, loop = self._server, self.loop

            def shut() -> None:  # one callback: the loop may close as soon as serving ends
                server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()

            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(shut)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread, self._server = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, fn, *args) -> Any:
        """Run ``fn`` on the server's loop from the test's thread and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(fn(*args), self.loop).result(10)

    # -- the protocol ----------------------------------------------------------------------

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        message: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if not raw:
                return None
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if message:
                    return message
                continue
            key, _, value = line.partition(":")
            message[key.strip()] = value.strip()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        writer.write(f"{BANNER}\r\n".encode())
        try:
            await writer.drain()
            while True:
                message = await self._read(reader)
                if message is None:
                    break
                if not await self._action(client, message):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            with self.lock:
                if client in self.clients:
                    self.clients.remove(client)
            writer.close()

    async def _action(self, client: _Client, message: dict[str, str]) -> bool:
        """Answer one action; False closes the connection."""
        name = message.get("Action", "")
        action_id = message.get("ActionID")
        ident = {"ActionID": action_id} if action_id else {}
        with self.lock:
            self.actions.append({**message, **({"Secret": "***"} if "Secret" in message else {})})
        write = client.writer.write
        lower = name.lower()
        if lower == "login":
            with self.lock:
                ok = self.users.get(message.get("Username", "")) == message.get("Secret")
            if not ok:
                write(_message(Response="Error", **ident, Message="Authentication failed"))
                await client.writer.drain()
                return False
            client.authenticated, client.username = True, message["Username"]
            with self.lock:
                self.clients.append(client)
                self.logins += 1
            write(_message(Response="Success", **ident, Message="Authentication accepted"))
            write(
                _message(
                    Event="FullyBooted", Privilege="system,all", Uptime="1234", LastReload="1234", Status="Fully Booted"
                )
            )
        elif lower == "logoff":
            write(_message(Response="Goodbye", **ident, Message="Thanks for all the fish."))
            await client.writer.drain()
            return False
        elif not client.authenticated:
            write(_message(Response="Error", **ident, Message="Permission denied"))
        elif lower == "ping":
            write(_message(Response="Success", **ident, Ping="Pong", Timestamp=f"{time.time():.6f}"))
        elif lower == "originate":
            await self._originate(client, message, ident)
        else:
            write(
                _message(
                    Response="Error",
                    **ident,
                    Message=f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands.",
                )
            )
        await client.writer.drain()
        return True

    async def _originate(self, client: _Client, message: dict[str, str], ident: dict) -> None:
        channel = message.get("Channel", "")
        write = client.writer.write
        if not channel:
            write(_message(Response="Error", **ident, Message="Channel not specified"))
            return
        tech, _, ext = channel.partition("/")
        if tech.upper() not in ("PJSIP", "SIP", "LOCAL") or ext.split("@")[0] not in EXTENSIONS:
            write(_message(Response="Error", **ident, Message="Invalid channel"))
            return
        priority = message.get("Priority", "1")
        if not priority.isdigit():
            write(_message(Response="Error", **ident, Message="Invalid priority"))
            return
        if message.get("Async", "").lower() not in ("true", "yes", "1"):
            # Synchronous originate waits for the answer; the CRM always sends Async.
            write(_message(Response="Success", **ident, Message="Originate successfully queued"))
        else:
            write(_message(Response="Success", **ident, Message="Originate successfully queued"))
        await client.writer.drain()
        number = message.get("Exten", "")
        ext = ext.split("@")[0]
        uniqueid = await self._play_outgoing(ext, number, "ANSWER", 20)
        await self._broadcast(
            _message(
                Event="OriginateResponse",
                Privilege="call,all",
                **ident,
                Response="Success",
                Channel=f"{tech}/{ext}",
                Context=message.get("Context", ""),
                Exten=number,
                Reason="4",
                Uniqueid=uniqueid,
                CallerIDNum=number,
            )
        )

    async def _broadcast(self, data: bytes) -> None:
        with self.lock:
            clients = list(self.clients)
        for client in clients:
            try:
                client.writer.write(data)
                await client.writer.drain()
            except (ConnectionError, OSError):
                pass

    # -- calls ---------------------------------------------------------------------------

    def _uid(self) -> str:
        return f"{self.epoch}.{next(self._ids)}"

    def _channel(self, tech: str) -> str:
        return f"{tech}-{next(self._ids):08x}"

    async def _event(self, name: str, at: float, **fields: Any) -> None:
        await self._broadcast(_message(Event=name, Privilege="call,all", Timestamp=f"{at:.6f}", **fields))

    async def _play_incoming(
        self, caller: str, ring: list[str], outcome: str, answered_by: str | None, wait: int, talk: int
    ) -> str:
        t = float(time.time())
        linked = self._uid()
        trunk = self._channel(TRUNK)
        base = {
            "Linkedid": linked,
            "Context": "from-trunk",
            "Exten": DID,
            "Priority": "1",
            "Language": "uk",
            "AccountCode": "",
        }
        await self._event(
            "Newchannel",
            t,
            Channel=trunk,
            ChannelState="4",
            ChannelStateDesc="Ring",
            CallerIDNum=caller,
            CallerIDName="",
            ConnectedLineNum="",
            ConnectedLineName="",
            Uniqueid=linked,
            **base,
        )
        legs = {}
        for ext in ring:
            leg, uid = self._channel(f"PJSIP/{ext}"), self._uid()
            legs[ext] = (leg, uid)
            leg_fields = {
                "Channel": leg,
                "CallerIDNum": ext,
                "CallerIDName": f"Desk {ext}",
                "ConnectedLineNum": caller,
                "ConnectedLineName": "",
                "Uniqueid": uid,
                "Linkedid": linked,
                "Context": "from-internal",
                "Exten": ext,
                "Priority": "1",
                "Language": "uk",
                "AccountCode": "",
            }
            await self._event("Newchannel", t, ChannelState="0", ChannelStateDesc="Down", **leg_fields)
            await self._event(
                "DialBegin",
                t,
                Channel=trunk,
                Uniqueid=linked,
                Linkedid=linked,
                CallerIDNum=caller,
                DestChannel=leg,
                DestUniqueid=uid,
                DestCallerIDNum=ext,
                DialString=ext,
            )
            await self._event("Newstate", t + 0.1, ChannelState="5", ChannelStateDesc="Ringing", **leg_fields)
        t += wait
        for ext, (leg, uid) in legs.items():
            status = "ANSWER" if ext == answered_by else ("CANCEL" if answered_by else outcome)
            await self._event(
                "DialEnd",
                t,
                Channel=trunk,
                Uniqueid=linked,
                Linkedid=linked,
                CallerIDNum=caller,
                DestChannel=leg,
                DestUniqueid=uid,
                DestCallerIDNum=ext,
                DialStatus=status,
            )
        if answered_by:
            leg, uid = legs[answered_by]
            await self._event(
                "Newstate",
                t,
                Channel=leg,
                ChannelState="6",
                ChannelStateDesc="Up",
                CallerIDNum=answered_by,
                Uniqueid=uid,
                Linkedid=linked,
            )
            bridge = f"bridge-{linked}"
            await self._event(
                "BridgeEnter",
                t,
                BridgeUniqueid=bridge,
                Channel=trunk,
                Uniqueid=linked,
                Linkedid=linked,
                CallerIDNum=caller,
            )
            await self._event(
                "BridgeEnter",
                t,
                BridgeUniqueid=bridge,
                Channel=leg,
                Uniqueid=uid,
                Linkedid=linked,
                CallerIDNum=answered_by,
            )
            t += talk
        for ext, (leg, uid) in legs.items():
            await self._event(
                "Hangup",
                t,
                Channel=leg,
                Uniqueid=uid,
                Linkedid=linked,
                CallerIDNum=ext,
                Cause="16",
                **{"Cause-txt": "Normal Clearing"},
            )
        await self._event(
            "Hangup",
            t,
            Channel=trunk,
            Uniqueid=linked,
            Linkedid=linked,
            CallerIDNum=caller,
            ConnectedLineNum=answered_by or "",
            Cause="16" if answered_by else "19",
            **{"Cause-txt": "Normal Clearing" if answered_by else "No answer"},
        )
        return linked

    async def _play_outgoing(self, ext: str, number: str, outcome: str, talk: int) -> str:
        t = float(time.time())
        linked = self._uid()
        leg = self._channel(f"PJSIP/{ext}")
        await self._event(
            "Newchannel",
            t,
            Channel=leg,
            ChannelState="4",
            ChannelStateDesc="Ring",
            CallerIDNum=ext,
            CallerIDName=f"Desk {ext}",
            Uniqueid=linked,
            Linkedid=linked,
            Context="from-internal",
            Exten=number,
            Priority="1",
        )
        trunk, uid = self._channel(TRUNK), self._uid()
        await self._event(
            "Newchannel",
            t,
            Channel=trunk,
            ChannelState="0",
            ChannelStateDesc="Down",
            CallerIDNum=number,
            Uniqueid=uid,
            Linkedid=linked,
            Context="from-trunk",
            Exten=number,
        )
        await self._event(
            "DialEnd",
            t + 3,
            Channel=leg,
            Uniqueid=linked,
            Linkedid=linked,
            DestChannel=trunk,
            DestUniqueid=uid,
            DestCallerIDNum=number,
            DialStatus=outcome,
        )
        end = t + 3 + (talk if outcome == "ANSWER" else 0)
        await self._event("Hangup", end, Channel=trunk, Uniqueid=uid, Linkedid=linked, Cause="16")
        await self._event("Hangup", end, Channel=leg, Uniqueid=linked, Linkedid=linked, CallerIDNum=ext, Cause="16")
        return linked

    def incoming_call(
        self,
        caller: str = "0671234567",
        *,
        ring: tuple[str, ...] = ("901",),
        answered_by: str | None = "901",
        outcome: str = "NOANSWER",
        wait: int = 8,
        talk: int = 65,
    ) -> str:
        """Play an incoming call from ``caller`` ringing ``ring``; answered by ``answered_by``
        (None: nobody, each dial ends with ``outcome``). Returns the call's Linkedid."""
        if outcome not in DIAL_STATUSES:
            raise ValueError(f"unknown DialStatus {outcome!r}")
        return self._call(self._play_incoming, caller, list(ring), outcome, answered_by, wait, talk)

    def outgoing_call(
        self, ext: str = "901", number: str = "0671234567", *, outcome: str = "ANSWER", talk: int = 30
    ) -> str:
        return self._call(self._play_outgoing, ext, number, outcome, talk)

    def drop_clients(self) -> None:
        """Cut every client connection, as a PBX restart does."""
        if self.loop is None or not self.running:
            return

        async def drop() -> None:
            with self.lock:
                clients, self.clients = list(self.clients), []
            for client in clients:
                client.writer.close()

        self._call(drop)

    def wait_for_clients(self, count: int = 1, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.clients) >= count:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {count} logged-in AMI client(s) within {timeout} s")
            time.sleep(0.02)
