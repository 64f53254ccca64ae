"""A graphql-transport-ws client over a real websocket, as an SPA's graphql-ws library talks."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"


class LiveClient:
    def __init__(self, socket):
        self.socket = socket
        self.pings = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, base_url: str, payload: dict | None):
        """Connected and acknowledged (``payload`` is the connection_init payload)."""
        url = base_url.replace("http://", "ws://", 1) + "/graphql"
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as socket:
            client = cls(socket)
            await client.send({"type": "connection_init", "payload": payload or {}})
            ack = await client.receive()
            assert ack["type"] == "connection_ack", ack
            yield client

    @staticmethod
    def credentials(member) -> dict:
        return {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}

    async def send(self, message: dict) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, wait: float = 15) -> dict:
        """The next message other than the server's pings (answered, as graphql-ws does)."""
        while True:
            frame = await asyncio.wait_for(self.socket.recv(), wait)
            assert isinstance(frame, str), f"the protocol sends text frames, not {frame!r}"
            message = json.loads(frame)
            if message["type"] == "ping":
                self.pings += 1
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, id_: str, query: str, variables: dict | None = None) -> None:
        await self.send({"id": id_, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def next(self, id_: str, wait: float = 15) -> dict:
        message = await self.receive(wait)
        assert message.get("id") == id_, message
        return message


async def closed_with(base_url: str, payload: dict | None) -> int:
    """The close code the server ends a connection with right after ``connection_init``."""
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        try:
            while True:
                await asyncio.wait_for(socket.recv(), 10)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
