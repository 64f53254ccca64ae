"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): the response media type
a client asked for, and the HTTP status a response gets under it.

- ``application/graphql-response+json`` (asked for in ``Accept``): a request that fails before
  execution (the document does not parse or validate, variables do not coerce, the caller's
  credentials are refused) gets a 4xx status and no ``data`` entry; once execution started the
  status is 200, whatever the field errors.
- ``application/json`` (asked for, ``*/*``, or no ``Accept`` at all): every well-formed request
  gets 200 with ``errors`` in the body, as older clients expect.
"""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Codes of errors raised before execution that say more than "bad request".
_STATUS_BY_CODE = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL_SERVER_ERROR": 500}


def _accepted(header: str) -> list[tuple[str, float]]:
    """``Accept`` as (media range, q) pairs; a malformed q counts as 0."""
    ranges = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q the client gives ``media_type``: its most specific matching range decides."""
    kind = media_type.split("/")[0]
    best, specificity = 0.0, -1
    for media, q in ranges:
        if media == media_type:
            rank = 2
        elif media == f"{kind}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client names it (and prefers it at least
    as much as ``application/json``); ``application/json`` otherwise, including for ``*/*``, no
    ``Accept`` and media types we do not speak (the spec lets a server answer those in JSON
    rather than with 406)."""
    if not accept:
        return JSON
    ranges = _accepted(accept)
    if not any(media == GRAPHQL_RESPONSE for media, _ in ranges):
        return JSON  # */* and application/* keep the legacy type
    wanted = _quality(ranges, GRAPHQL_RESPONSE)
    if wanted > 0 and wanted >= _quality(ranges, JSON):
        return GRAPHQL_RESPONSE
    return JSON


def is_request_error(response: dict) -> bool:
    """A response without data whose errors carry no path: the request failed before execution
    (parse, validation, variable coercion, refused credentials, the cost limit)."""
    errors = response.get("errors") or []
    return response.get("data") is None and bool(errors) and all(not error.get("path") for error in errors)


def request_error_status(response: dict) -> int:
    """The 4xx (or 5xx) of a request error under ``application/graphql-response+json``."""
    codes = [(error.get("extensions") or {}).get("code") for error in response.get("errors") or []]
    return next((_STATUS_BY_CODE[code] for code in codes if code in _STATUS_BY_CODE), 400)
