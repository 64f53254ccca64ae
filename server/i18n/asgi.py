"""Chooses the language of each HTTP request from its ``Accept-Language`` header.

That is the whole choice for a request nobody signed in to. Once authentication knows the
caller, ``server.auth.request`` narrows it (the person's setting, the organization's locale:
``server.i18n.choose``); the value set here is restored when the request ends."""

from __future__ import annotations

from server.i18n import DEFAULT_LOCALE, negotiate, use_locale


class LocaleMiddleware:
    """Pure ASGI, so the language is set in the task that runs the request and reset after it."""

    def __init__(self, app, default: str = DEFAULT_LOCALE):
        self.app = app
        self.default = default

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), None)
        with use_locale(negotiate(header, self.default)):
            await self.app(scope, receive, send)
