"""Telegram Bot API simulator: a bot's methods and the updates its users send.

Protocol (see /work/shared/providers/messengers.md and core.telegram.org/bots/api):

* Methods are ``POST`` (or ``GET``) ``/bot<token>/<method>`` with parameters as JSON, a form
  or the query string. Every answer is the envelope ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": "..."}``; a 429 carries
  ``"parameters": {"retry_after": seconds}``. An unknown token is ``401 Unauthorized``, an
  unknown method ``404 Not Found``.
* ``getMe``; ``setWebhook`` (``url`` must be HTTPS, ``secret_token`` 1-256 of ``A-Z a-z 0-9 _ -``,
  ``max_connections`` 1-100, ``allowed_updates``, ``drop_pending_updates``); ``deleteWebhook``;
  ``getWebhookInfo`` (with ``last_error_message`` of the last failed delivery).
* ``sendMessage`` with ``chat_id``, ``text`` (1-4096 characters), optional ``parse_mode`` and
  ``reply_markup`` (a reply keyboard, possibly with a ``request_contact`` button, or
  ``remove_keyboard``). Documented refusals: ``400 Bad Request: chat not found`` (the user never
  wrote to the bot), ``400 Bad Request: message text is empty``, ``400 Bad Request: message is
  too long``, ``403 Forbidden: bot was blocked by the user`` (``block(user_id)``), and
  ``429 Too Many Requests: retry after N`` (``flood(retry_after)``).
* Updates: the test makes a user write (``user_says``), share their own or someone else's
  contact (``user_shares_contact``) or open a deep link (``user_starts`` -> ``/start <payload>``);
  each returns the ``Update`` as an ``OutgoingWebhook`` to the bot's webhook URL with the
  ``X-Telegram-Bot-Api-Secret-Token`` header (``signature_mode``: "valid", "invalid", "none").
  ``deliver_update`` / ``adeliver_update`` send it as Telegram does: a non-2xx answer is recorded
  as the webhook's ``last_error_message`` (Telegram then retries: ``redeliver`` sends the same
  update again), and a JSON answer carrying ``"method": "sendMessage"`` is executed as a call of
  the bot (Telegram's "reply in the webhook response").

Private chats only: a private chat's id is the user's id; ids may exceed 32 bits.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.plugins.simulator import DeliveryAttempt, Fault, OutgoingWebhook, SimulatorServer, json_response, read_json

BOT_TOKEN = "7012345678:AAHsimTelegramBotToken_0123456789abc"  # noqa: S105 - test credential
BOT_ID = 7012345678
BOT_USERNAME = "crm_sim_shop_bot"
OTHER_BOT_TOKEN = "7098765432:AAHotherSimBotToken_9876543210xyz"  # noqa: S105 - test credential
TEXT_MAX = 4096
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
)


def _fail(code: int, description: str, **parameters: Any) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_response(body, code)


def _ok(result: Any, description: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return json_response(body)


class TelegramSimulator(SimulatorServer):
    name = "telegram"

    def seed(self) -> None:
        with self.lock:
            self.bots: dict[str, dict[str, Any]] = {
                BOT_TOKEN: {"id": BOT_ID, "username": BOT_USERNAME, "first_name": "Sim Shop"},
                OTHER_BOT_TOKEN: {"id": 7098765432, "username": "crm_other_bot", "first_name": "Other"},
            }
            self.webhooks: dict[str, dict[str, Any]] = {}  # token -> setWebhook parameters + errors
            self.users: dict[int, dict[str, Any]] = {}  # user id -> first_name, last_name, phone
            self.started: dict[str, set[int]] = {}  # token -> users who wrote to the bot (a chat exists)
            self.blocked: dict[str, set[int]] = {}  # token -> users who blocked the bot
            self.sent: list[dict[str, Any]] = []  # every message the bots sent: token, chat_id, text, reply_markup
            self.update_id = 100_000
            self.message_id = 1000
            self.flood_retry_after: int | None = None
            self.flood_count = 0
            #: "valid", "invalid" (another secret) or "none" (no X-Telegram-Bot-Api-Secret-Token).
            self.signature_mode = "valid"

    def credentials(self) -> dict[str, Any]:
        return {"bot_token": BOT_TOKEN, "bot_username": BOT_USERNAME, "other_bot_token": OTHER_BOT_TOKEN}

    def error_body(self, status: int, message: str) -> Any:
        return {"ok": False, "error_code": status, "description": message}

    def fault_response(self, fault: Fault) -> Response:
        if fault.status == 429 and fault.body is None:
            retry_after = fault.retry_after or 1
            return _fail(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        return super().fault_response(fault)

    # -- test hooks: users ------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str, last_name: str = "", phone: str = "") -> None:
        with self.lock:
            self.users[user_id] = {"first_name": first_name, "last_name": last_name, "phone": phone}

    def block(self, user_id: int, token: str = BOT_TOKEN) -> None:
        """The user blocks the bot: sendMessage to them answers 403."""
        with self.lock:
            self.blocked.setdefault(token, set()).add(user_id)

    def flood(self, retry_after: int = 5, count: int = 1) -> None:
        """The next ``count`` sendMessage calls answer 429 with ``parameters.retry_after``."""
        with self.lock:
            self.flood_retry_after, self.flood_count = retry_after, count

    def messages_to(self, chat_id: int, token: str = BOT_TOKEN) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["chat_id"] == chat_id and m["token"] == token]

    def _from(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id) or {"first_name": f"User{user_id}", "last_name": "", "phone": ""}
        who: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": user["first_name"]}
        if user["last_name"]:
            who["last_name"] = user["last_name"]
        who["language_code"] = "uk"
        return who

    def _update(self, token: str, user_id: int, fields: dict[str, Any]) -> OutgoingWebhook:
        with self.lock:
            hook = self.webhooks.get(token)
            if not hook or not hook.get("url"):
                raise RuntimeError("the bot has no webhook (call setWebhook first)")
            self.update_id += 1
            self.message_id += 1
            self.started.setdefault(token, set()).add(user_id)
            sender = self._from(user_id)
            chat = {"id": user_id, "type": "private", "first_name": sender["first_name"]}
            if "last_name" in sender:
                chat["last_name"] = sender["last_name"]
            update = {
                "update_id": self.update_id,
                "message": {
                    "message_id": self.message_id,
                    "from": sender,
                    "chat": chat,
                    "date": int(time.time()),
                    **fields,
                },
            }
            url, secret = hook["url"], hook.get("secret_token") or ""
        headers = {"Content-Type": "application/json"}
        if self.signature_mode == "valid" and secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        elif self.signature_mode == "invalid":
            headers["X-Telegram-Bot-Api-Secret-Token"] = (secret or "x")[::-1] + "wrong"
        body = json.dumps(update, ensure_ascii=False).encode()
        return OutgoingWebhook(url=url, body=body, headers=headers, event="message", meta={"update": update})

    def user_says(self, user_id: int, text: str, token: str = BOT_TOKEN) -> OutgoingWebhook:
        return self._update(token, user_id, {"text": text})

    def user_starts(self, user_id: int, payload: str = "", token: str = BOT_TOKEN) -> OutgoingWebhook:
        text = "/start" + (f" {payload}" if payload else "")
        return self._update(
            token, user_id, {"text": text, "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]}
        )

    def user_shares_contact(
        self, user_id: int, phone: str | None = None, *, own: bool = True, token: str = BOT_TOKEN
    ) -> OutgoingWebhook:
        """The user taps the request_contact button (``own``), or forwards someone else's contact."""
        user = self.users.get(user_id) or {"first_name": f"User{user_id}", "phone": ""}
        contact: dict[str, Any] = {"phone_number": phone or user.get("phone") or "380671112233"}
        contact["first_name"] = user["first_name"]
        if own:
            contact["user_id"] = user_id
        else:
            contact["user_id"] = user_id + 1  # another Telegram user
        return self._update(token, user_id, {"contact": contact})

    def user_sends_photo(self, user_id: int, caption: str = "", token: str = BOT_TOKEN) -> OutgoingWebhook:
        photo = [
            {
                "file_id": "AgACAgIAAxkBAAIBsmall",
                "file_unique_id": "AQADsmall",
                "file_size": 1200,
                "width": 90,
                "height": 90,
            },
            {
                "file_id": "AgACAgIAAxkBAAIBlarge",
                "file_unique_id": "AQADlarge",
                "file_size": 52000,
                "width": 800,
                "height": 800,
            },
        ]
        fields: dict[str, Any] = {"photo": photo}
        if caption:
            fields["caption"] = caption
        return self._update(token, user_id, fields)

    # -- delivering updates ---------------------------------------------------------------

    def _after_delivery(self, hook: OutgoingWebhook, attempt: DeliveryAttempt) -> None:
        token = next((t for t, w in self.webhooks.items() if w.get("url") == hook.url), None)
        if token is None:
            return
        with self.lock:
            if attempt.ok:
                self.webhooks[token].pop("last_error_message", None)
            else:
                reason = attempt.error or f"Wrong response from the webhook: {attempt.status_code}"
                self.webhooks[token]["last_error_date"] = int(time.time())
                self.webhooks[token]["last_error_message"] = reason
        if attempt.ok:
            answer = attempt.response_json()
            if isinstance(answer, dict) and answer.get("method"):
                # Telegram executes a method given in the webhook's answer (its result is not reported).
                params = {k: v for k, v in answer.items() if k != "method"}
                self._call(token, str(answer["method"]), params)

    def deliver_update(self, hook: OutgoingWebhook, *, timeout: float = 5.0, transport=None) -> DeliveryAttempt:
        attempt = self.deliver(hook, timeout=timeout, transport=transport)
        self._after_delivery(hook, attempt)
        return attempt

    async def adeliver_update(
        self,
        hook: OutgoingWebhook,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the HTTP client's timeout, passed to httpx
        transport=None,
    ) -> DeliveryAttempt:
        attempt = await self.adeliver(hook, timeout=timeout, transport=transport)
        self._after_delivery(hook, attempt)
        return attempt

    # -- methods ------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("/bot{token}/{method}", self._method, methods=["GET", "POST"])]

    async def _method(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        params: dict[str, Any] = dict(parse_qsl(request.url.query, keep_blank_values=True))
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if "json" in content_type:
                data, ok = await read_json(request)
                if not ok or (data is not None and not isinstance(data, dict)):
                    return _fail(400, "Bad Request: can't parse JSON object")
                params.update(data or {})
            elif "form" in content_type:
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return self._call(token, method, params)

    def _call(self, token: str, method: str, params: dict[str, Any]) -> Response:
        with self.lock:
            if token not in self.bots:
                return _fail(401, "Unauthorized")
            handler = {
                "getme": self._get_me,
                "setwebhook": self._set_webhook,
                "deletewebhook": self._delete_webhook,
                "getwebhookinfo": self._get_webhook_info,
                "sendmessage": self._send_message,
            }.get(method.lower())  # Telegram method names are case-insensitive
            if handler is None:
                return _fail(404, "Not Found")
            return handler(token, params)

    def _get_me(self, token: str, params: dict) -> Response:
        bot = self.bots[token]
        return _ok(
            {
                "id": bot["id"],
                "is_bot": True,
                "first_name": bot["first_name"],
                "username": bot["username"],
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _set_webhook(self, token: str, params: dict) -> Response:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(token, params)
        if urlsplit(url).scheme != "https":
            return _fail(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            return _fail(400, "Bad Request: secret token contains unallowed characters")
        try:
            max_connections = int(params.get("max_connections") or 40)
        except (TypeError, ValueError):
            return _fail(400, "Bad Request: invalid max_connections specified")
        if not 1 <= max_connections <= 100:
            return _fail(400, "Bad Request: invalid max_connections specified")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            try:
                allowed = json.loads(allowed)
            except ValueError:
                return _fail(400, "Bad Request: can't parse allowed updates JSON object")
        self.webhooks[token] = {
            "url": url,
            "secret_token": str(secret) if secret is not None else "",
            "max_connections": max_connections,
            "allowed_updates": [u for u in (allowed or []) if u in UPDATE_TYPES],
        }
        return _ok(True, "Webhook was set")

    def _delete_webhook(self, token: str, params: dict) -> Response:
        existed = bool(self.webhooks.pop(token, None))
        return _ok(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _get_webhook_info(self, token: str, params: dict) -> Response:
        hook = self.webhooks.get(token) or {}
        info: dict[str, Any] = {"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        if hook:
            info["max_connections"] = hook["max_connections"]
            if hook["allowed_updates"]:
                info["allowed_updates"] = hook["allowed_updates"]
            for key in ("last_error_date", "last_error_message"):
                if key in hook:
                    info[key] = hook[key]
        return _ok(info)

    def _send_message(self, token: str, params: dict) -> Response:
        if self.flood_count > 0:
            self.flood_count -= 1
            retry_after = self.flood_retry_after or 1
            return _fail(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        raw_chat = params.get("chat_id")
        if raw_chat in (None, ""):
            return _fail(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw_chat)
        except (TypeError, ValueError):
            return _fail(400, "Bad Request: chat not found")
        text = params.get("text")
        if text is None or not str(text).strip():
            return _fail(400, "Bad Request: message text is empty")
        text = str(text)
        if len(text) > TEXT_MAX:
            return _fail(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                return _fail(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if markup is not None and not _valid_markup(markup):
            return _fail(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if chat_id not in self.started.get(token, set()):
            return _fail(400, "Bad Request: chat not found")
        if chat_id in self.blocked.get(token, set()):
            return _fail(403, "Forbidden: bot was blocked by the user")
        self.message_id += 1
        bot = self.bots[token]
        user = self.users.get(chat_id) or {"first_name": f"User{chat_id}"}
        result = {
            "message_id": self.message_id,
            "from": {"id": bot["id"], "is_bot": True, "first_name": bot["first_name"], "username": bot["username"]},
            "chat": {"id": chat_id, "first_name": user["first_name"], "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        self.sent.append(
            {
                "token": token,
                "chat_id": chat_id,
                "text": text,
                "reply_markup": markup,
                "message_id": self.message_id,
                "parse_mode": params.get("parse_mode"),
            }
        )
        return _ok(result)

    def control_routes(self) -> list[Route]:
        async def say(request: Request) -> Response:
            data, _ = await read_json(request)
            data = data if isinstance(data, dict) else {}
            try:
                hook = self.user_says(int(data["user_id"]), str(data.get("text", "")))
            except (KeyError, ValueError, RuntimeError) as exc:
                return json_response({"error": str(exc)}, 400)
            attempt = await self.adeliver_update(hook)
            return json_response(attempt.as_dict())

        async def sent(request: Request) -> Response:
            with self.lock:
                return json_response(list(self.sent))

        return [
            Route("/__sim__/say", say, methods=["POST"]),
            Route("/__sim__/sent", sent, methods=["GET"]),
        ]


def _valid_markup(markup: Any) -> bool:
    if not isinstance(markup, dict):
        return False
    if "remove_keyboard" in markup:
        return markup["remove_keyboard"] is True
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            return False
        for row in rows:
            for button in row:
                if isinstance(button, str):
                    continue
                if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                    return False
        return True
    if "inline_keyboard" in markup:
        return isinstance(markup["inline_keyboard"], list)
    return "force_reply" in markup
