"""Matching a query against ``search_term``: which fields a caller may match, how, and with what
score. Used by the lists' ``where: {search: ...}`` filters and by the `search` root field.

Scores (higher first): an exact phone, e-mail, order or ticket number, waybill or marketplace
order id 100; a whole name 90; the start of a name or of one of its words 60; the start of a
number 50; any other part 20.

Fields a role may not see are not matched (a role without ``Account.emails`` does not find by
e-mail), and a masked field (no ``pii:read``) is matched only by its whole value, which the caller
already knows: matching its parts would let anyone read a masked phone digit by digit. Custom
fields are matched like names, only those not archived and not hidden from the role.
"""

from __future__ import annotations

from dataclasses import dataclass

from pypika_tortoise.terms import Term, ValueWrapper
from tortoise.expressions import Q, Subquery

from server.search import normalize as norm
from server.search.models import SearchTerm

EXACT_ID, EXACT_NAME, NAME_PREFIX, NUMBER_PREFIX, PARTIAL = 100, 90, 60, 50, 20
MIN_PARTIAL = 3  # shorter parts match only the start of a word (and trigram indexes need 3)
MIN_PHONE_DIGITS = 4
MAX_QUERY = 200

# What each kind's terms are (server/search/index.py) and, for PII, the GraphQL field whose
# visibility and masking decide how it may be matched.
TEXT_FIELDS = {"account": ("name",), "contact": ("name",), "order": ("recipient",), "deal": ("title",),
               "ticket": ("subject",)}  # fmt: skip
# Free text that holds customers' details and is masked without pii:read (mask_text): such
# callers do not match it at all, or a phone or e-mail in it could be read part by part.
MASKED_TEXT = {"ticket": ("Ticket", "subject")}
# Text, link and choice custom fields (server/search/index.py), matched like names.
CUSTOM_FIELD = "custom"
NUMBER_FIELDS = {"order": ("number",), "ticket": ("number",)}
CODE_FIELDS = {"order": ("external_id", "waybill")}
PHONE_FIELDS = {
    "account": (("phone", "Account", "phones"),),
    "contact": (("phone", "Contact", "phones"),),
    "order": (("recipient_phone", "Delivery", "recipientPhone"),),
}
EMAIL_FIELDS = {"account": (("email", "Account", "emails"),), "contact": (("email", "Contact", "emails"),)}


class FtsRowids(Term):
    """SQLite: ``SELECT rowid FROM search_term_fts WHERE value LIKE ?``, answered by the FTS5
    trigram index (the plain LIKE Tortoise writes carries an ESCAPE clause, which FTS5 does not
    use). The pattern is a bound parameter."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = ValueWrapper(pattern)

    def get_sql(self, ctx) -> str:
        pattern = self.pattern.get_sql(ctx)  # a bound parameter
        return f'(SELECT rowid FROM "search_term_fts" WHERE "value" LIKE {pattern})'  # noqa: S608 - fixed names


def _like_escape(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")


@dataclass(frozen=True)
class Rule:
    q: Q
    score: int


class Matcher:
    """The rules one query makes for one caller, per kind of record."""

    def __init__(self, scope, query: str, *, sqlite: bool) -> None:
        self.scope = scope
        self.query = query.strip()[:MAX_QUERY]
        self.sqlite = sqlite
        self.names = [v for v in norm.name_queries(self.query) if v]
        self.digits = norm.query_phone_digits(self.query)
        self.full_phone = norm.query_full_phone(self.query)
        self.email = norm.email_text(self.query) if "@" in self.query else None
        self.email_part = norm.email_text(self.query)
        self.code = norm.code_text(self.query)

    @property
    def meaningful(self) -> bool:
        """At least two letters or digits (or a number, say an order's): anything shorter would
        match most of the table."""
        letters = max((len(v.replace(" ", "")) for v in self.names), default=0)
        return max(letters, len(self.code)) >= 2 or self.query.isdigit()

    def _contains(self, value: str) -> Q:
        q = Q(value__contains=value)
        if self.sqlite and len(value) >= MIN_PARTIAL and _like_escape(value) == value:
            # Let FTS5 find the candidates; the LIKE above keeps the exact meaning.
            q &= Q(id__in=FtsRowids(f"%{value}%"))
        return q

    def _prefix(self, value: str) -> Q:
        return Q(value__startswith=value)

    def _text_rules(self, field: Q) -> list[Rule]:
        """A name-like value (``field`` picks the terms): whole, the start of a word, any part."""
        rules: list[Rule] = []
        for v in self.names:
            rules.append(Rule(Q(field, Q(value=v)), EXACT_NAME))
            words = Q(self._prefix(v), self._contains(" " + v), join_type="OR")
            rules.append(Rule(Q(field, words), NAME_PREFIX))
            if len(v) >= MIN_PARTIAL:
                rules.append(Rule(Q(field, self._contains(v)), PARTIAL))
        return rules

    def rules(self, kind: str) -> list[Rule]:
        from server.customfields.service import searchable_definitions

        rules: list[Rule] = []
        scope = self.scope
        masked_text = kind in MASKED_TEXT and not scope.sees_pii(*MASKED_TEXT[kind])
        for field in () if masked_text else TEXT_FIELDS.get(kind, ()):
            rules += self._text_rules(Q(field=field))
        # Custom fields: only those the role may see and not archived (a subquery, no statement).
        definitions = searchable_definitions(scope, kind)
        if definitions is not None:
            rules += self._text_rules(Q(field=CUSTOM_FIELD, definition_id__in=Subquery(definitions)))
        if self.digits and len(self.digits) <= 10:
            number = str(int(self.digits))
            for field in NUMBER_FIELDS.get(kind, ()):
                rules.append(Rule(Q(field=field, value=number), EXACT_ID))
                rules.append(Rule(Q(Q(field=field), self._prefix(number)), NUMBER_PREFIX))
        if len(self.code) >= MIN_PHONE_DIGITS:
            for field in CODE_FIELDS.get(kind, ()):
                rules.append(Rule(Q(field=field, value=self.code), EXACT_ID))
                rules.append(Rule(Q(Q(field=field), self._contains(self.code)), PARTIAL))
        for field, type_name, gql_field in PHONE_FIELDS.get(kind, ()):
            if not scope.can_see_field(type_name, gql_field):
                continue
            if self.full_phone:
                rules.append(Rule(Q(field=field, value=self.full_phone), EXACT_ID))
            if self.digits and len(self.digits) >= MIN_PHONE_DIGITS and scope.sees_pii(type_name, gql_field):
                rules.append(Rule(Q(Q(field=field), self._contains(self.digits)), PARTIAL))
        for field, type_name, gql_field in EMAIL_FIELDS.get(kind, ()):
            if not scope.can_see_field(type_name, gql_field):
                continue
            if self.email:
                rules.append(Rule(Q(field=field, value=self.email), EXACT_ID))
            if len(self.email_part) >= MIN_PARTIAL and scope.sees_pii(type_name, gql_field):
                rules.append(Rule(Q(Q(field=field), self._contains(self.email_part)), PARTIAL))
        return rules

    def terms(self, kind: str):
        """The matching terms of one kind in the caller's organization (no row scope yet)."""
        rules = self.rules(kind)
        if not rules:
            return None
        return SearchTerm.filter(
            Q(*[r.q for r in rules], join_type="OR"), organization_id=self.scope.organization_id, kind=kind
        )


def is_sqlite(model) -> bool:
    from tortoise import connections

    return connections.get("default").capabilities.dialect == "sqlite"


def where_q(scope, kind: str, text: str) -> Q:
    """The `search` filter of a list: records with any matching term. An empty text filters
    nothing; text too short to mean anything matches nothing."""
    text = (text or "").strip()
    if not text:
        return Q()
    matcher = Matcher(scope, text, sqlite=is_sqlite(SearchTerm))
    terms = matcher.terms(kind) if matcher.meaningful else None
    if terms is None:
        return Q(id__in=[])
    return Q(id__in=Subquery(terms.values("object_id")))


SEARCH_FILTER_DESCRIPTION = (
    "Search (`contains`): name parts in Ukrainian or Latin letters, any case and accents; a phone by "
    "4 or more digits; an e-mail or its part; for orders also the number, waybill and marketplace order id; "
    "the text, link and choice custom fields you may see. "
    "See docs/search.md."
)


def search_lookup(scope, kind: str):
    """The `search` entry of a list's ``where`` lookups (server/graphql/filters.py)."""
    from server.graphql.filters import Lookup

    return Lookup("id", build=lambda f: where_q(scope, kind, f.contains or f.eq or ""))
