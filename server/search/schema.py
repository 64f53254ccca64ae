"""GraphQL for search: the `search` root field (the lists' `where.search` filters live with each
list and use server/search/query.py)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.accounts.schema import AccountType, ContactType
from server.deals.schema import DealType
from server.orders.schema import OrderType
from server.search import service
from server.tickets.schema import TicketType


@strawberry.enum(description="The kinds of records `search` looks through.")
class SearchType(Enum):
    ACCOUNT = "account"
    CONTACT = "contact"
    ORDER = "order"
    DEAL = "deal"
    TICKET = "ticket"


@strawberry.enum(description="Which value of the record matched the query.")
class SearchField(Enum):
    NAME = strawberry.enum_value("name", description="An account's or contact's name.")
    PHONE = strawberry.enum_value("phone", description="One of an account's or contact's phones.")
    EMAIL = strawberry.enum_value("email", description="One of an account's or contact's e-mails.")
    NUMBER = strawberry.enum_value("number", description="An order's or ticket's number.")
    WAYBILL = strawberry.enum_value("waybill", description="An order's waybill number.")
    EXTERNAL_ID = strawberry.enum_value("external_id", description="An order's marketplace order id.")
    RECIPIENT = strawberry.enum_value("recipient", description="An order's delivery recipient's name.")
    RECIPIENT_PHONE = strawberry.enum_value("recipient_phone", description="An order's recipient's phone.")
    TITLE = strawberry.enum_value("title", description="A deal's title.")
    SUBJECT = strawberry.enum_value("subject", description="A ticket's subject.")
    CUSTOM_FIELD = strawberry.enum_value(
        "custom", description="A text, link or choice custom field's value (docs/custom-fields.md)."
    )


SearchResult = Annotated[
    AccountType | ContactType | OrderType | DealType | TicketType,
    strawberry.union("SearchResult", description="What a search hit is: an account, contact, order, deal or ticket."),
]


@strawberry.type(description="One search result: the record, the value that matched and how well.")
class SearchHit:
    node: SearchResult = strawberry.field(
        description="The record as its own type; masked fields stay masked as everywhere else."
    )
    type: SearchType = strawberry.field(description="The kind of record.")
    matched_field: SearchField = strawberry.field(description="The record's value that matched best.")
    score: int = strawberry.field(
        description="How well it matched: 100 an exact phone, e-mail, number, waybill or marketplace id; "
        "90 a whole name; 60 the start of a name or of a word in it; 50 the start of a number; 20 any other part. "
        "Hits come best first."
    )


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="One search box over accounts, contacts, orders, deals and tickets: name parts in "
        "Ukrainian or Latin letters (any case, accents ignored), a phone by 4 or more digits, an e-mail or "
        "its part, order and ticket numbers, waybill numbers, marketplace order ids, and the values of text, link "
        "and choice custom fields. Returns the best "
        "`first` hits (default 20, at most 50), best first; not paginated: refine the query or use a "
        "list's `where.search` to page. Only records and fields your role may see are searched "
        "(docs/search.md)."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="What was typed: at least two letters or digits.")],
        first: Annotated[int | None, strawberry.argument(description="How many hits (default 20, at most 50).")] = None,
        types: Annotated[
            list[SearchType] | None,
            strawberry.argument(description="Only these kinds (default: every kind your role may read)."),
        ] = None,
    ) -> list[SearchHit]:
        kinds = [t.value for t in types] if types else None
        hits = await service.search(info.context.scope, query, first, kinds)
        return [
            SearchHit(node=h.obj, type=SearchType(h.kind), matched_field=SearchField(h.field), score=h.score)  # type: ignore[arg-type]
            for h in hits
        ]
