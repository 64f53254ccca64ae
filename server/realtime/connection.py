"""A websocket connection under ``graphql-transport-ws``: who is on it, how many, and heartbeats.

- The caller signs in with the ``connection_init`` payload (browsers cannot set headers on a
  websocket): ``{"Authorization": "Bearer <token>", "X-Organization": "<slug>"}``, the same
  credentials as over HTTP (a session token, an API key, a partner's OAuth token). Without a
  valid one the server closes with 4403.
- At most ``ws_max_connections_per_credential`` connections per credential per API process
  (then 4429) and ``ws_max_subscriptions_per_connection`` operations per connection.
- The server pings every ``ws_heartbeat_seconds`` so proxies keep an idle socket open and a
  dead peer is noticed; clients answer with pong (graphql-ws does by itself).
- The credential is checked again at most every ``ws_recheck_seconds`` while events flow, so a
  revoked token or a removed member stops hearing events within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from server.auth import request as request_auth
from server.config import Settings
from server.core.errors import Unauthenticated
from server.graphql.context import Context
from server.i18n import _

log = logging.getLogger("crm.realtime")


class TooManyConnections(Exception):
    pass


def credentials(params: dict, headers) -> tuple[str | None, str | None]:
    """(token, organization slug) from the ``connection_init`` payload, else the handshake's headers."""
    fields = {str(key).lower(): value for key, value in params.items() if isinstance(value, str)}
    authorization = fields.get("authorization") or headers.get("authorization") or ""
    scheme, _sep, value = authorization.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else None
    token = token or fields.get("x-api-key") or headers.get("x-api-key") or None
    organization = fields.get("x-organization") or headers.get("x-organization") or None
    return token, organization


class Connections:
    """Open, signed-in connections of this process, counted per credential (hashed)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.open: Counter[str] = Counter()

    async def sign_in(self, context: Context) -> None:
        """``on_ws_connect``: sign the connection's context in, or refuse the connection."""
        token, organization = credentials(context.connection_params or {}, context.request.headers)
        principal, error = await request_auth.principal_for_token(token, organization)
        if error is not None or not principal.is_authenticated or principal.organization is None:
            message = str(error) if error else _("Sign in first: send the token in the connection_init payload.")
            raise ConnectionRejectionError({"message": message})
        key = hashlib.sha256(token.encode()).hexdigest()
        if self.open[key] >= self.settings.ws_max_connections_per_credential:
            raise TooManyConnections
        self.open[key] += 1
        # The connection's operations start after this: they inherit the caller's language.
        request_auth.use_callers_language(principal, context.request.headers.get("accept-language"))
        context.sign_in(principal, token)
        context.connection_key = key
        context.signed_in_at = time.monotonic()

    def release(self, context: Context) -> None:
        key = context.connection_key
        if key is not None:
            context.connection_key = None
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]


async def recheck(context: Context) -> None:
    """Before an event goes out: is the credential still good? (At most every few seconds.)"""
    if time.monotonic() - context.signed_in_at < context.settings.ws_recheck_seconds:
        return
    token, organization = credentials(context.connection_params or {}, context.request.headers)
    principal, error = await request_auth.principal_for_token(token, organization)
    if error is not None or not principal.is_authenticated or principal.organization is None:
        raise Unauthenticated(_("Your sign-in has ended: connect again with a valid token."))
    context.sign_in(principal, token)
    context.signed_in_at = time.monotonic()


def _is_subscription(message) -> bool:
    """Whether the operation a ``subscribe`` message asks to run is a subscription (a document
    that does not parse is left to strawberry, which answers it with its own error)."""
    payload = message.get("payload") or {}
    try:
        document = parse(payload.get("query") or "")
    except GraphQLError:
        return True
    name = payload.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name and o.name.value == name]
    return bool(operations) and all(o.operation is OperationType.SUBSCRIPTION for o in operations)


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames: the view writes JSON as bytes (orjson),
    which strawberry would send as binary frames that clients (graphql-ws) cannot read."""

    async def send_json(self, message) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LiveConnectionHandler(BaseGraphQLTransportWSHandler):
    """Strawberry's protocol handler, plus the connection cap and the server's heartbeat."""

    heartbeat: asyncio.Task | None = None

    async def handle_connection_init(self, message) -> None:
        try:
            await super().handle_connection_init(message)
        except TooManyConnections:
            await self.websocket.close(code=4429, reason="Too many connections for this credential")
            return
        if self.connection_acknowledged and self.heartbeat is None:
            self.heartbeat = asyncio.create_task(self._ping(self.view.settings.ws_heartbeat_seconds))

    async def handle_subscribe(self, message) -> None:
        # Only subscriptions on the socket: a query or mutation sent here would run with the
        # credential as it was at connection_init (never checked again) and outside the
        # HTTP rate limits. Queries and mutations go over HTTP.
        if self.connection_acknowledged and not _is_subscription(message):
            error = {"message": _("Only subscriptions run over the websocket: send queries and mutations over HTTP.")}
            await self.send_message({"id": message.get("id"), "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def _ping(self, every: float) -> None:
        with contextlib.suppress(Exception):  # the socket is gone: the handler is shutting down
            while True:
                await asyncio.sleep(every)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        self.view.connections.release(self.context)
        await super().shutdown()
