"""Inbound provider webhooks: /hooks/<plugin>/<installation token>/<path>."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


async def handle(request: Request) -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)
