"""Viber REST bot API simulator: a bot's calls and the callbacks its users cause.

Protocol (see /work/shared/providers/messengers.md; creators.viber.com bots-api docs):

* ``POST /pa/set_webhook``, ``/pa/send_message``, ``/pa/get_account_info`` with the header
  ``X-Viber-Auth-Token`` and a JSON body. Every answer is HTTP 200 with ``status`` /
  ``status_message``: 0 ok, 1 invalidUrl, 2 invalidAuthToken, 3 badData, 4 missingData,
  5 receiverNotRegistered, 6 receiverNotSubscribed, 7 publicAccountBlocked, 10 webhookNotSet,
  12 tooManyRequests, 13 apiVersionNotSupported.
* ``set_webhook`` first POSTs ``{"event": "webhook", "timestamp", "chat_hostname",
  "message_token"}`` to the URL (signed like every callback); only an HTTP 200 makes it answer
  ``{"status": 0, "status_message": "ok", "event_types": [...]}`` (else status 1). The URL must be
  HTTPS. ``"url": ""`` removes the webhook. ``message``, ``subscribed`` and ``unsubscribed`` are
  always sent.
* ``send_message``: ``receiver``, ``type`` (``text``), ``text``, ``sender.name`` (at most 28
  characters), ``min_api_version``, optional ``tracking_data`` and ``keyboard``
  (``{"Type": "keyboard", "Buttons": [...]}``; a ``share-phone`` button needs
  ``min_api_version`` >= 3 and a non-empty ``ActionBody``). The answer's ``message_token`` is an
  integer larger than 2^53.
* Callbacks (``X-Viber-Content-Signature`` = hex HMAC-SHA256 of the raw body keyed with the auth
  token; ``signature_mode`` "valid", "invalid" or "none"): ``user_opens`` (conversation_started,
  answered by the bot's welcome in the HTTP response, which the simulator then shows the user),
  ``user_says`` (message; the user becomes subscribed), ``user_shares_phone`` (a contact message
  carrying the ``tracking_data`` of the bot's last message), ``user_unsubscribes``, and
  ``report(message_token, "delivered" | "seen" | "failed")``.

How webhooks reach the CRM is pluggable (``transport``), so a test can point the simulator at
the app it runs in its own event loop (``bind_loop``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import DeliveryAttempt, OutgoingWebhook, SimulatorServer, json_response, read_json

AUTH_TOKEN = "4a5b6c7d8e9f0a1b-2c3d4e5f6a7b8c9d-0e1f2a3b4c5d6e7f"  # noqa: S105 - test credential
ACCOUNT_NAME = "Sim Shop"
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")
ALWAYS = ("message", "subscribed", "unsubscribed")
STATUS = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    10: "webhookNotSet",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
}
TOKEN_BASE = 5_741_311_803_571_721_087  # beyond 2^53, as Viber's tokens are


def signature(body: bytes, token: str) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def _status(code: int, **extra: Any) -> Response:
    return json_response({"status": code, "status_message": STATUS[code], **extra})


class ViberSimulator(SimulatorServer):
    name = "viber"

    def seed(self) -> None:
        with self.lock:
            self.tokens = {AUTH_TOKEN: {"id": "pa:5500000000000000001", "name": ACCOUNT_NAME, "uri": "simshop"}}
            self.webhook: dict[str, Any] = {}
            self.users: dict[str, dict[str, Any]] = {}  # id -> name, phone, subscribed, api_version
            self.sent: list[dict[str, Any]] = []  # what the bot sent (send_message and welcome answers)
            self.token = TOKEN_BASE
            self.too_many = 0
            self.signature_mode = "valid"
            self.transport: httpx.AsyncBaseTransport | None = None
            self.loop: asyncio.AbstractEventLoop | None = None

    def credentials(self) -> dict[str, Any]:
        return {"auth_token": AUTH_TOKEN}

    def error_body(self, status: int, message: str) -> Any:
        return {"status": 3 if status < 500 else 12, "status_message": message}

    # -- test hooks ---------------------------------------------------------------------

    def bind_loop(self, transport: httpx.AsyncBaseTransport, loop: asyncio.AbstractEventLoop) -> None:
        """Send webhooks through ``transport`` on ``loop`` (a test's app in its own event loop)."""
        self.transport, self.loop = transport, loop

    def add_user(self, user_id: str, name: str, phone: str = "", api_version: int = 10) -> None:
        with self.lock:
            self.users[user_id] = {"name": name, "phone": phone, "subscribed": False, "api_version": api_version}

    def throttle(self, count: int = 1) -> None:
        """The next ``count`` send_message calls answer status 12 tooManyRequests."""
        with self.lock:
            self.too_many = count

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m.get("receiver") == user_id]

    def _next_token(self) -> int:
        self.token += 7919
        return self.token

    def _hook(self, event: dict[str, Any]) -> OutgoingWebhook:
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self.signature_mode == "valid":
            headers["X-Viber-Content-Signature"] = signature(body, AUTH_TOKEN)
        elif self.signature_mode == "invalid":
            headers["X-Viber-Content-Signature"] = signature(body, AUTH_TOKEN[::-1])
        return OutgoingWebhook(url=self.webhook.get("url", ""), body=body, headers=headers, event=event["event"])

    def _sender(self, user_id: str) -> dict[str, Any]:
        user = self.users.setdefault(
            user_id, {"name": "Viber user", "phone": "", "subscribed": False, "api_version": 10}
        )
        return {
            "id": user_id,
            "name": user["name"],
            "avatar": "https://media-direct.cdn.viber.com/download_photo?dlid=sim",
            "country": "UA",
            "language": "uk",
            "api_version": user["api_version"],
        }

    def user_opens(self, user_id: str, context: str = "") -> OutgoingWebhook:
        with self.lock:
            event = {
                "event": "conversation_started",
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-CHAT-05_",
                "message_token": self._next_token(),
                "type": "open",
                "context": context,
                "user": self._sender(user_id),
                "subscribed": self.users[user_id]["subscribed"],
            }
            return self._hook(event)

    def _message(self, user_id: str, message: dict[str, Any]) -> OutgoingWebhook:
        with self.lock:
            self.users.setdefault(user_id, {"name": "Viber user", "phone": "", "subscribed": False, "api_version": 10})
            self.users[user_id]["subscribed"] = True  # a user's first message subscribes them
            last = next((m for m in reversed(self.sent) if m.get("receiver") == user_id), None)
            if last and last.get("tracking_data"):
                message = {**message, "tracking_data": last["tracking_data"]}
            event = {
                "event": "message",
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-CHAT-05_",
                "message_token": self._next_token(),
                "sender": self._sender(user_id),
                "message": message,
                "silent": False,
            }
            return self._hook(event)

    def user_says(self, user_id: str, text: str) -> OutgoingWebhook:
        return self._message(user_id, {"type": "text", "text": text})

    def user_shares_phone(self, user_id: str, phone: str | None = None) -> OutgoingWebhook:
        user = self.users.get(user_id) or {"name": "Viber user", "phone": ""}
        contact = {"name": user["name"], "phone_number": phone or user["phone"] or "380671112233"}
        return self._message(user_id, {"type": "contact", "contact": contact})

    def user_unsubscribes(self, user_id: str) -> OutgoingWebhook:
        with self.lock:
            self.users.setdefault(user_id, {"name": "", "phone": "", "subscribed": False, "api_version": 10})
            self.users[user_id]["subscribed"] = False
            event = {
                "event": "unsubscribed",
                "timestamp": int(time.time() * 1000),
                "user_id": user_id,
                "message_token": self._next_token(),
            }
            return self._hook(event)

    def report(self, message_token: int, event: str) -> OutgoingWebhook:
        with self.lock:
            sent = next(m for m in self.sent if m.get("message_token") == message_token)
            body: dict[str, Any] = {
                "event": event,
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-CHAT-05_",
                "message_token": message_token,
                "user_id": sent["receiver"],
            }
            if event == "failed":
                body["desc"] = "General error"
            return self._hook(body)

    async def adeliver_event(self, hook: OutgoingWebhook, **kwargs: Any) -> DeliveryAttempt:
        """Deliver a callback; the answer to conversation_started is the welcome the user sees."""
        attempt = await self.adeliver(hook, transport=kwargs.pop("transport", self.transport), **kwargs)
        if attempt.ok and hook.event == "conversation_started":
            answer = attempt.response_json()
            if isinstance(answer, dict) and answer.get("type"):
                user_id = json.loads(hook.body)["user"]["id"]
                with self.lock:
                    self.sent.append(
                        {**answer, "receiver": user_id, "message_token": self._next_token(), "welcome": True}
                    )
        return attempt

    # -- the API --------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/pa/set_webhook", self._set_webhook, methods=["POST"]),
            Route("/pa/send_message", self._send_message, methods=["POST"]),
            Route("/pa/get_account_info", self._account_info, methods=["POST"]),
        ]

    async def _auth(self, request: Request) -> tuple[dict | None, Response | None]:
        token = request.headers.get("x-viber-auth-token", "")
        if token not in self.tokens:
            return None, _status(2)
        data, ok = await read_json(request)
        if not ok or not isinstance(data, dict):
            return None, _status(3)
        return data, None

    async def _account_info(self, request: Request) -> Response:
        _data, refused = await self._auth(request)
        if refused:
            return refused
        account = self.tokens[request.headers["x-viber-auth-token"]]
        return _status(
            0,
            id=account["id"],
            name=account["name"],
            uri=account["uri"],
            webhook=self.webhook.get("url", ""),
            event_types=self.webhook.get("event_types", []),
            subscribers_count=sum(1 for u in self.users.values() if u["subscribed"]),
        )

    async def _set_webhook(self, request: Request) -> Response:
        data, refused = await self._auth(request)
        if refused:
            return refused
        url = str(data.get("url", ""))
        if url == "":
            with self.lock:
                self.webhook = {}
            return _status(0)
        if urlsplit(url).scheme != "https":
            return _status(1)
        types = [t for t in (data.get("event_types") or EVENT_TYPES) if t in EVENT_TYPES]
        with self.lock:
            previous, self.webhook = self.webhook, {"url": url}
            check = self._hook(
                {
                    "event": "webhook",
                    "timestamp": int(time.time() * 1000),
                    "chat_hostname": "SN-CHAT-05_",
                    "message_token": self._next_token(),
                }
            )
        attempt = await self._check(check)
        if not attempt.ok:
            with self.lock:
                self.webhook = previous
            return _status(1)
        with self.lock:
            self.webhook = {"url": url, "event_types": sorted(set(types) | set(ALWAYS))}
            return _status(0, event_types=self.webhook["event_types"])

    async def _check(self, hook: OutgoingWebhook) -> DeliveryAttempt:
        if self.loop is not None and self.transport is not None:
            future = asyncio.run_coroutine_threadsafe(self.adeliver(hook, transport=self.transport), self.loop)
            return await asyncio.wrap_future(future)
        return await self.adeliver(hook)

    async def _send_message(self, request: Request) -> Response:
        data, refused = await self._auth(request)
        if refused:
            return refused
        with self.lock:
            if self.too_many > 0:
                self.too_many -= 1
                return _status(12)
            if not self.webhook:
                return _status(10)
            receiver = data.get("receiver")
            sender = data.get("sender") or {}
            if not receiver or not isinstance(sender, dict) or not sender.get("name") or data.get("type") is None:
                return _status(4)
            if len(str(sender["name"])) > 28 or data.get("type") != "text" or not str(data.get("text") or ""):
                return _status(3)
            keyboard = data.get("keyboard")
            if keyboard is not None:
                buttons = keyboard.get("Buttons") if isinstance(keyboard, dict) else None
                if keyboard.get("Type") != "keyboard" or not isinstance(buttons, list) or not buttons:
                    return _status(3)
                for button in buttons:
                    if not isinstance(button, dict) or not str(button.get("ActionBody") or ""):
                        return _status(3)
                    if button.get("ActionType") == "share-phone" and int(data.get("min_api_version") or 1) < 3:
                        return _status(13)
            user = self.users.get(str(receiver))
            if user is None:
                return _status(5)
            if not user["subscribed"]:
                return _status(6)
            token = self._next_token()
            self.sent.append({**data, "message_token": token})
            return _status(0, message_token=token, chat_hostname="SN-CHAT-05_")

    def control_routes(self) -> list[Route]:
        async def sent(request: Request) -> Response:
            with self.lock:
                return json_response(list(self.sent))

        return [Route("/__sim__/sent", sent, methods=["GET"])]
