"""Request bodies read with a size cap, and JSON decoded without crashing on deep nesting.

Every endpoint that reads a body (``/graphql``, ``/hooks/...``, ``/oauth/token``) uses these,
so a client learns the same thing everywhere: 413 past the cap, 400 for JSON it cannot use."""

from __future__ import annotations

import json

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is longer than the endpoint accepts (answer 413)."""

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class BadJSON(ValueError):
    """The body is not JSON this server can decode (answer 400); ``too_deep`` when it may be
    well-formed but nests deeper than the decoder goes."""

    def __init__(self, message: str, *, too_deep: bool = False):
        super().__init__(message)
        self.too_deep = too_deep


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes: a declared Content-Length
    over the cap is refused before reading, and a chunked body stops being read at the cap, so
    a large body never sits in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's own cache of the body: later readers (request.body()) get these bytes.
    request._body = body
    return body


def loads(data: str | bytes) -> object:
    """``json.loads`` that turns every way of failing into ``BadJSON``: malformed text, bytes
    that are not UTF-8, and nesting deeper than the interpreter's recursion limit (``[[[[...``
    a thousand levels deep raises RecursionError, which is not a ValueError)."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise BadJSON("The JSON is nested too deeply.", too_deep=True) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadJSON("The body is not valid JSON.") from exc
