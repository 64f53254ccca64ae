"""CORS: which browser apps on other origins may call the API (Starlette's CORSMiddleware).

The API authenticates with a bearer token in the Authorization header, never with cookies, so
credentials are not allowed (no ``Access-Control-Allow-Credentials``): a page on an allowed
origin sends the token it holds, and a page on any other origin cannot make the browser attach
anything on its behalf. Origins come from ``cors_allowed_origins`` (exact) and
``cors_allowed_origin_regex``; by default none is allowed."""

from __future__ import annotations

import re

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from server.config import Settings

ALLOWED_METHODS = ["GET", "POST"]
# Apollo-Require-Preflight / X-Apollo-Operation-Name: what a multipart upload must carry (docs/api.md).
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Organization",
    "Accept-Language",
    "Accept",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
]
# Headers a page's script may read from a response (the rest are hidden by the browser).
EXPOSED_HEADERS = ["Content-Language", "RateLimit", "RateLimit-Policy", "Retry-After"]
# How long a browser may reuse a preflight answer (seconds).
PREFLIGHT_MAX_AGE = 600

# `crm serve --demo`: an SPA dev server on this machine (Vite, webpack...) works out of the box.
DEMO_ORIGIN_REGEX = r"http://(localhost|127\.0\.0\.1)(:\d+)?"


def cors_middleware(settings: Settings) -> Middleware | None:
    """The middleware for the configured origins; None when no origin is allowed."""
    origins = [origin.rstrip("/") for origin in settings.cors_allowed_origins]
    regex = settings.cors_allowed_origin_regex or None
    if not origins and not regex:
        return None
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_origin_regex=regex,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )


def origin_allowed(settings: Settings, origin: str) -> bool:
    """Whether a page on ``origin`` may call the API: the same rule for websockets (a browser
    sends no preflight for those, so the server checks the handshake's Origin itself)."""
    origin = origin.rstrip("/")
    if origin in {allowed.rstrip("/") for allowed in settings.cors_allowed_origins}:
        return True
    regex = settings.cors_allowed_origin_regex
    return bool(regex) and re.fullmatch(regex, origin) is not None
