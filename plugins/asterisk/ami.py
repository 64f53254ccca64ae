"""A small asyncio client for the Asterisk Manager Interface (AMI), on asyncio streams.

The protocol (Asterisk's ``manager.c``; docs.asterisk.org "AMI v2 Specification"): a TCP
connection (port 5038, or TLS on 5039); the server first sends one banner line
``Asterisk Call Manager/<version>``. Then both sides send *messages*: ``Key: Value`` lines
ending in CRLF, a message ending with an empty line. The client sends ``Action: <name>``
messages with an ``ActionID`` of its choice; the server answers each with a ``Response:
Success|Error|Goodbye`` message carrying the same ``ActionID`` (and ``Message``), and sends
``Event: <name>`` messages whenever something happens, interleaved with the responses.
``Login`` (``Username``, ``Secret``) must come first: any other action is answered
``Permission denied``, and a failed login is answered ``Authentication failed`` and closed.

Why not a library: panoramisk (the usual asyncio AMI client) had its last release in 2021,
runs its own reconnect loop and callbacks on ``asyncio.Protocol``, and the CRM already
supervises reconnection (server/telephony/listeners.py). What is needed is about a hundred
lines: read a banner, write and read key-value blocks, match responses by ``ActionID``.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections import deque

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_MESSAGE_LINES = 500  # a sane bound: AMI messages are a few dozen lines


class AmiError(Exception):
    """The server refused an action or spoke something that is not AMI."""

    def __init__(self, message: str, response: dict | None = None):
        super().__init__(message)
        self.response = response or {}


def encode(fields: dict[str, str]) -> bytes:
    lines = []
    for key, value in fields.items():
        text = str(value)
        if "\r" in text or "\n" in text or "\r" in key or "\n" in key:
            # A newline would end the message early and let a value inject another action.
            raise ValueError(f"AMI field {key!r} contains a line break")
        lines.append(f"{key}: {text}\r\n")
    return ("".join(lines) + "\r\n").encode()


class AmiConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, banner: str):
        self.reader = reader
        self.writer = writer
        self.banner = banner
        self.pending_events: deque[dict[str, str]] = deque()
        self._ids = itertools.count(1)

    @classmethod
    async def open(
        cls, host: str, port: int, *, tls: bool = False, server_name: str | None = None, limit: float = 10.0
    ) -> AmiConnection:
        """Connect and read the banner within ``limit`` seconds. With TLS the certificate is
        checked against ``server_name`` (the PBX's name when ``host`` is its resolved address)."""
        context = ssl.create_default_context() if tls else None
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=(server_name or host) if tls else None
            )
            try:
                banner = (await reader.readline()).decode("utf-8", errors="replace").strip()
            except BaseException:
                writer.close()
                raise
        if not banner.startswith(BANNER_PREFIX):
            writer.close()
            raise AmiError(f"{host}:{port} is not an Asterisk manager interface (it said {banner[:60]!r})")
        return cls(reader, writer, banner)

    async def read_message(self) -> dict[str, str]:
        """The next message; raises ``ConnectionError`` when the server closed the connection."""
        message: dict[str, str] = {}
        for _ in range(MAX_MESSAGE_LINES):
            raw = await self.reader.readline()
            if not raw:
                raise ConnectionError("the Asterisk manager closed the connection")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if message:
                    return message
                continue  # stray empty lines between messages
            key, sep, value = line.partition(":")
            if sep:
                message[key.strip()] = value.strip()
        raise AmiError("an AMI message without an end")

    async def send(self, action: str, **fields: str) -> str:
        action_id = fields.pop("ActionID", None) or f"crm-{next(self._ids)}"
        self.writer.write(encode({"Action": action, "ActionID": action_id, **fields}))
        await self.writer.drain()
        return action_id

    async def action(self, action: str, **fields: str) -> dict[str, str]:
        """Send an action and wait for its response; events arriving meanwhile are kept for
        ``next_event``. ``Response: Error`` raises ``AmiError`` with the server's message."""
        action_id = await self.send(action, **fields)
        while True:
            message = await self.read_message()
            if "Response" in message and message.get("ActionID") == action_id:
                if message["Response"].lower() == "error":
                    raise AmiError(message.get("Message") or "the action failed", message)
                return message
            if "Event" in message:
                self.pending_events.append(message)

    async def login(self, username: str, secret: str) -> None:
        await self.action("Login", Username=username, Secret=secret, Events="call")

    async def next_event(self) -> dict[str, str]:
        if self.pending_events:
            return self.pending_events.popleft()
        while True:
            message = await self.read_message()
            if "Event" in message:
                return message

    async def close(self, goodbye_wait: float = 2.0) -> None:
        """Log off and close. Asterisk answers ``Logoff`` with ``Response: Goodbye`` and closes
        its side; closing ours first can reset the connection while the PBX is still writing
        events, and a reset throws away the unread ``Logoff``, leaving the session open there."""
        try:
            if not self.writer.is_closing():
                self.writer.write(encode({"Action": "Logoff", "ActionID": "crm-logoff"}))
                await self.writer.drain()
                async with asyncio.timeout(goodbye_wait):
                    while (await self.read_message()).get("ActionID") != "crm-logoff":
                        pass
        except (ConnectionError, OSError, TimeoutError, AmiError):
            pass
        finally:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError, ssl.SSLError):
                pass
