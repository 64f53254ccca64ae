"""A local Example SMS: the provider's documented API on 127.0.0.1, built with the CRM's
simulator kit (server.plugins.simulator), so the tests talk HTTP to it as the plugin talks to
the real gateway, and can make it fail (500, 429, a slow answer) the way the real one does.

Write yours from the provider's documentation, not from your plugin: the same paths, auth,
field names and types, status codes and error envelope. What the kit gives every simulator:
``start()``/``stop()`` (or ``with``), ``.url``, ``.requests`` (every request as received),
``fail()``, ``rate_limit()``, ``delay()``, ``reset()``, and ``deliver()`` for webhooks."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

from starlette.requests import Request
from starlette.routing import Route

from server.plugins.simulator import OutgoingWebhook, SimulatorServer, json_response, read_json

API_TOKEN = "test-api-token"
WEBHOOK_SECRET = "test-webhook-secret"
INVALID_NUMBER = "+380000000000"  # the gateway refuses it with invalid_number


class ExampleSmsSimulator(SimulatorServer):
    name = "example-sms"

    def seed(self) -> None:
        with self.lock:
            self.messages: dict[str, dict] = {}
            self.ids = itertools.count(1)

    def credentials(self) -> dict:
        return {"api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET}

    def error_body(self, status: int, message: str) -> dict:
        return {"error": {"code": f"http_{status}", "message": message}}

    def routes(self) -> list[Route]:
        return [
            Route("/v1/account", self._account, methods=["GET"]),
            Route("/v1/messages", self._send, methods=["POST"]),
            Route("/v1/messages/status", self._statuses, methods=["POST"]),
        ]

    def _refused(self, request: Request):
        if request.headers.get("authorization") != f"Bearer {API_TOKEN}":
            return json_response({"error": {"code": "unauthorized", "message": "Bad API token"}}, 401)
        return None

    async def _account(self, request: Request):
        return self._refused(request) or json_response({"balance": "12.50", "currency": "UAH"})

    async def _send(self, request: Request):
        refused = self._refused(request)
        if refused:
            return refused
        body, ok = await read_json(request)
        if not ok or not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("to", "text")):
            return json_response({"error": {"code": "bad_request", "message": "to and text are required"}}, 400)
        if body["to"] == INVALID_NUMBER:
            return json_response({"error": {"code": "invalid_number", "message": "Invalid number"}}, 422)
        with self.lock:
            message_id = f"msg_{next(self.ids)}"
            self.messages[message_id] = {**body, "id": message_id, "status": "queued"}
        return json_response({"id": message_id, "status": "queued"}, 201)

    async def _statuses(self, request: Request):
        refused = self._refused(request)
        if refused:
            return refused
        body, _ = await read_json(request)
        wanted = body.get("ids", []) if isinstance(body, dict) else []
        with self.lock:
            known = [{"id": i, "status": self.messages[i]["status"]} for i in wanted if i in self.messages]
        return json_response({"messages": known})

    # -- for tests --------------------------------------------------------------------------

    def sent_to(self, phone: str) -> list[str]:
        with self.lock:
            return [m["text"] for m in self.messages.values() if m["to"] == phone]

    def report(self, url: str, message_id: str, status: str, secret: str = WEBHOOK_SECRET) -> OutgoingWebhook:
        """The delivery report the gateway would POST to ``url``, signed (with ``secret``)."""
        with self.lock:
            if message_id in self.messages:
                self.messages[message_id]["status"] = status
        body = json.dumps({"id": message_id, "status": status}).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "x-example-signature": signature}
        return OutgoingWebhook(url=url, body=body, headers=headers, event=status)
