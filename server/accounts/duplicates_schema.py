"""GraphQL for the duplicates report: groups of accounts or contacts sharing a phone or e-mail."""

from __future__ import annotations

import base64
import binascii
from enum import Enum

import strawberry
from strawberry.types import Info

from server.accounts import duplicates
from server.accounts.schema import AccountType, ContactType, DuplicateKind, shown_value
from server.core.errors import BadRequest
from server.graphql import ids
from server.graphql.pagination import PageInfo, check_first
from server.i18n import _


@strawberry.enum(description="Which records the duplicates report groups.")
class DuplicateObjectType(Enum):
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"


@strawberry.type(description="Accounts (or contacts) that share one phone or e-mail: candidates for a merge.")
class DuplicateGroup:
    kind: DuplicateKind = strawberry.field(description="Phone or e-mail.")
    value: str = strawberry.field(description="The shared value; masked for callers without `pii:read`.")
    accounts: list[AccountType] = strawberry.field(description="The accounts sharing it, oldest first.")
    contacts: list[ContactType] = strawberry.field(description="The contacts sharing it, oldest first.")


@strawberry.type(description="A page of duplicate groups. Pass `pageInfo.endCursor` as `after` for the next one.")
class DuplicateGroupConnection:
    nodes: list[DuplicateGroup]
    page_info: PageInfo


def _cursor(position: int) -> str:
    # A position, not the shared value: the value is a customer's phone or e-mail.
    return ids.urlsafe_b64(f"dup:{position}".encode())


def _position(after: str | None) -> int:
    if not after:
        return 0
    try:
        text = base64.urlsafe_b64decode((after + "=" * (-len(after) % 4)).encode()).decode()
        prefix, _colon, number = text.partition(":")
        if prefix != "dup" or not number.isdigit():
            raise ValueError(after)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(_("'%(after)s' is not a valid cursor for this list.", after=after)) from exc


@strawberry.type
class DuplicateQueries:
    @strawberry.field(
        description="Groups of the caller's accounts (or contacts) sharing a phone or an e-mail, by phone "
        "then e-mail, then value. Only records the caller may see are grouped."
    )
    async def duplicates(
        self,
        info: Info,
        type: DuplicateObjectType = DuplicateObjectType.ACCOUNTS,
        first: int | None = None,
        after: str | None = None,
    ) -> DuplicateGroupConnection:
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        start = _position(after)
        found, has_next = await duplicates.groups(ctx.scope, type.value, start, first)
        nodes = [
            DuplicateGroup(
                kind=DuplicateKind(g.kind),
                value=shown_value(ctx.scope, g.kind, g.value),
                accounts=g.accounts,
                contacts=g.contacts,
            )
            for g in found
        ]
        return DuplicateGroupConnection(
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=start > 0,
                start_cursor=_cursor(start + 1) if nodes else None,
                end_cursor=_cursor(start + len(nodes)) if nodes else None,
            ),
        )
