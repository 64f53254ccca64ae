"""``changesSince``: the reconciliation side of at-least-once webhooks.

A receiver that was down (or suspects it missed something) asks for every object of some
types changed after its cursor and gets each object's current ``data`` (the same shape a
webhook carries). The order is the change time, then type, then id, so the cursor (the last
item's place in that order) is stable: a change made meanwhile moves its object behind the
cursor, where the next page finds it.

Soft-deleted objects (orders, accounts, deals) come with ``deleted: true``; objects deleted
for good (tickets) only announce it by their ``*.deleted`` webhook. Rows are read through
the caller's scope: the caller needs read permission for each type and sees only its rows."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.expressions import Q

from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError
from server.i18n import _
from server.webhooks.events import SUBJECTS, describe, mask_payload


@dataclass(frozen=True)
class Change:
    type: str
    data: dict


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    cursor: str
    has_more: bool


START = (datetime.fromtimestamp(0).astimezone(), "", "")


def encode_cursor(moment: datetime, type_name: str, pk: str) -> str:
    raw = json.dumps([moment.isoformat(), type_name, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str, str]:
    if not cursor:
        return START
    try:
        moment, type_name, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(moment), str(type_name), str(UUID(pk))
    except (ValueError, TypeError) as exc:
        raise UserInputError(ErrorCode.INVALID, _("The cursor is not one this API gave."), "cursor") from exc


def _after(type_name: str, position: tuple[datetime, str, str]) -> Q:
    moment, last_type, last_id = position
    if type_name > last_type:
        return Q(updated_at__gte=moment)
    if type_name < last_type:
        return Q(updated_at__gt=moment)
    return Q(updated_at__gt=moment) | Q(updated_at=moment, id__gt=last_id)


async def changes_since(scope: Scope, types: list[str], cursor: str | None, first: int) -> ChangesPage:
    unknown = sorted(set(types) - set(SUBJECTS))
    if unknown or not types:
        raise UserInputError(
            ErrorCode.INVALID,
            _("Types must be some of: %(types)s.", types=", ".join(sorted(SUBJECTS))),
            "types",
        )
    position = decode_cursor(cursor)
    found: list[tuple[tuple, str, object]] = []
    for type_name in sorted(set(types)):
        subject = SUBJECTS[type_name]
        rows = (
            await scope.queryset(subject.model, with_deleted=True)
            .filter(_after(type_name, position))
            .order_by("updated_at", "id")
            .limit(first + 1)
        )
        found += [((row.updated_at, type_name, str(row.id)), type_name, row) for row in rows]
    found.sort(key=lambda item: item[0])
    page = found[:first]
    changes = [Change(type_name, describe(SUBJECTS[type_name], row.id, row)) for _key, type_name, row in page]
    if not scope.can("pii:read"):  # the partner's own right decides, as in its queries
        changes = [Change(c.type, mask_payload({"data": c.data})["data"]) for c in changes]
    # Fields the caller's role may not see (e.g. logistics: an account's tags, source, e-mails).
    changes = [Change(c.type, {k: v for k, v in c.data.items() if scope.can_see_field(c.type, k)}) for c in changes]
    next_cursor = encode_cursor(*page[-1][0]) if page else (cursor or encode_cursor(*START))
    return ChangesPage(changes=changes, cursor=next_cursor, has_more=len(found) > first)
