"""GraphQL for support tickets and their comments."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, model_type
from server.tickets.models import Ticket


@model_type(Ticket, description="A support request.")
class TicketType(Node):
    number: int
    subject: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


TicketConnection = connection_of(TicketType, "TicketConnection")


async def tickets_connection(info: Info, *, first, after, account_id=None) -> TicketConnection:
    ctx = info.context
    qs = ctx.scope.queryset(Ticket)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(
        TicketConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
    )


@strawberry.type
class TicketQueries:
    @strawberry.field(description="Tickets the caller may see, newest first.")
    async def tickets(self, info: Info, first: int | None = None, after: str | None = None) -> TicketConnection:
        return await tickets_connection(info, first=first, after=after)


@strawberry.type
class TicketMutations:
    pass
