"""Relay connections with keyset cursors.

A cursor is the sort value and the id of the last row seen, so the next page is an indexed
range scan (``WHERE (sort, id) < (value, id)``), stable under inserts, and never an OFFSET."""

from __future__ import annotations

import base64
import json
import types
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Generic, TypeVar
from uuid import UUID

import orjson
import strawberry
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from server.core.errors import BadRequest
from server.graphql import ids
from server.http.body import loads
from server.i18n import _

T = TypeVar("T")


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where a page stands in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list. Pass `pageInfo.endCursor` as `after` for the next one.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _queryset: strawberry.Private[QuerySet | None] = None

    @strawberry.field(description="How many records match the filter (one extra query; select only when shown).")
    async def total_count(self) -> int:
        return await self._queryset.count() if self._queryset is not None else len(self.edges)


C = TypeVar("C", bound=Connection)

INCLUDE_DELETED = (
    "Also list soft-deleted records (their `deletedAt` is set), for keeping a copy in sync: "
    "`where: {updatedAt: {gt: <last seen>}}, orderBy: {field: UPDATED_AT, direction: ASC}, includeDeleted: true`."
)
DELETED_AT = "When it was deleted; null while it exists. Only `includeDeleted: true` lists deleted records."


def connection_of(node_type: type, name: str) -> type[Connection]:
    """A concrete, named connection type (lazy references cannot name a generic)."""
    return strawberry.type(types.new_class(name, (Connection[node_type],)), name=name)  # type: ignore[valid-type]


@dataclass(frozen=True)
class Sort:
    field: str  # ORM field to sort by; ties broken by id
    kind: type  # datetime | int | str | Decimal, to decode cursors
    direction: Direction


def _encode_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _decode_value(raw, kind: type):
    if kind is datetime:
        return datetime.fromisoformat(raw)
    if kind is Decimal:
        return Decimal(raw)
    return kind(raw)


def encode_cursor(obj, sort: Sort) -> str:
    return cursor_of(getattr(obj, sort.field), obj.id)


def cursor_of(value, pk) -> str:
    """The cursor of a row from its sort value and id (also for rows read as plain values)."""
    if isinstance(value, datetime | Decimal | UUID) or (type(value) is int and -(2**63) <= value < 2**63):
        # Plain ASCII, which orjson writes exactly as json.dumps does, in a fraction of its
        # time (a page makes one cursor per row).
        raw = orjson.dumps([_encode_value(value), str(pk)])
    else:  # text (json.dumps escapes non-ASCII as \uXXXX), and anything else, as before
        raw = json.dumps([_encode_value(value), str(pk)], separators=(",", ":")).encode()
    return ids.urlsafe_b64(raw)


def decode_cursor(cursor: str, sort: Sort) -> tuple[object, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode_value(value, sort.kind), UUID(pk)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # BadJSON is a ValueError
        raise BadRequest(_("'%(cursor)s' is not a valid cursor for this list.", cursor=cursor)) from exc


def check_first(first: int | None, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise BadRequest(_("`first` must be between 0 and %(n)s.", n=maximum))
    return first


def page_queryset(qs: QuerySet, *, first: int, after: str | None, sort: Sort) -> QuerySet:
    """The rows after ``after`` in ``sort`` order, one more than ``first`` (to tell if there is a next page).
    Shared by ``paginate`` and the planned path (server/graphql/fastpath), so both page alike."""
    desc = sort.direction is Direction.DESC
    page_qs = qs
    if after:
        value, pk = decode_cursor(after, sort)
        op = "lt" if desc else "gt"
        page_qs = page_qs.filter(Q(**{f"{sort.field}__{op}": value}) | Q(**{sort.field: value, f"id__{op}": pk}))
    prefix = "-" if desc else ""
    return page_qs.order_by(f"{prefix}{sort.field}", f"{prefix}id").limit(first + 1)


async def paginate(connection: type[C], qs: QuerySet, *, first: int, after: str | None, sort: Sort) -> C:
    rows = await page_queryset(qs, first=first, after=after, sort=sort)
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [Edge(cursor=encode_cursor(row, sort), node=row) for row in rows]
    return connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _queryset=qs,
    )
