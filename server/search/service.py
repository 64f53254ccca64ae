"""The `search` root field: the best matches over every kind of record the caller may read.

One statement finds the terms (each kind limited to the caller's rows by ``Scope.queryset`` as a
subquery, so tenancy and row scope hold inside the database), ranks them (server/search/query.py
scores, then the shorter value, then kind and id for a stable order) and keeps the best few; one
statement per kind found then loads the records, again through ``Scope.queryset``. The count of
statements does not grow with the number of hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from tortoise.expressions import Case, Q, RawSQL, Subquery, When
from tortoise.functions import Length

from server.auth.scope import Scope
from server.core.errors import BadRequest
from server.i18n import _
from server.search.models import SearchTerm
from server.search.query import Matcher, is_sqlite

KINDS = ("account", "contact", "order", "deal", "ticket")
RESOURCE = {"account": "accounts", "contact": "accounts", "order": "orders", "deal": "deals", "ticket": "tickets"}
DEFAULT_FIRST, MAX_FIRST = 20, 50
# A record with several matching values (a name and a phone) takes several term rows: fetch a
# few times more terms than hits so duplicates rarely leave the answer short.
OVERFETCH = 4


@dataclass(frozen=True)
class Hit:
    kind: str
    field: str
    score: int
    obj: object


def _models() -> dict:
    from server.search.index import _models as models

    return models()


def _kinds(scope: Scope, asked: list[str] | None) -> list[str]:
    if asked:  # asked for by name: a type the role may not read is an error, not silence
        for kind in dict.fromkeys(asked):
            scope.require(f"{RESOURCE[kind]}:read")
        return list(dict.fromkeys(asked))
    return [k for k in KINDS if scope.can(f"{RESOURCE[k]}:read")]


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_FIRST
    if first < 1 or first > MAX_FIRST:
        raise BadRequest(_("`first` must be between 1 and {maximum}.").format(maximum=MAX_FIRST))
    return first


async def search(scope: Scope, query: str, first: int | None = None, kinds: list[str] | None = None) -> list[Hit]:
    scope.organization  # noqa: B018 - anonymous callers: UNAUTHENTICATED before anything else
    limit = check_first(first)
    chosen = _kinds(scope, kinds)
    matcher = Matcher(scope, query, sqlite=is_sqlite(SearchTerm))
    if not matcher.meaningful:
        raise BadRequest(_("Type at least two letters or digits to search."))
    models = _models()
    parts: list[Q] = []
    whens: list[tuple[int, When]] = []
    for kind in chosen:
        rules = matcher.rules(kind)
        if not rules:
            continue
        visible = Subquery(scope.queryset(models[kind]).values("id"))
        parts.append(Q(Q(kind=kind), Q(object_id__in=visible), Q(*[r.q for r in rules], join_type="OR")))
        # Scores are our own integers, written into the SQL: as bound parameters PostgreSQL would
        # take them for text.
        whens += [(r.score, When(Q(kind=kind), r.q, then=RawSQL(str(int(r.score))))) for r in rules]
    if not parts:
        return []
    whens.sort(key=lambda pair: -pair[0])  # CASE takes the first WHEN that holds: the best score
    rows = (
        await SearchTerm.filter(Q(*parts, join_type="OR"), organization_id=scope.organization_id)
        .annotate(score=Case(*[w for _, w in whens], default=RawSQL("0")), length=Length("value"))
        .order_by("-score", "length", "kind", "object_id")
        .limit(limit * OVERFETCH)
        .values("kind", "object_id", "field", "score")
    )
    best: dict[tuple[str, UUID], dict] = {}
    for row in rows:
        best.setdefault((row["kind"], row["object_id"]), row)
        if len(best) == limit:
            break
    wanted: dict[str, list[UUID]] = {}
    for kind, pk in best:
        wanted.setdefault(kind, []).append(pk)
    loaded: dict[tuple[str, UUID], object] = {}
    for kind, pks in wanted.items():
        for obj in await scope.queryset(models[kind]).filter(id__in=pks):
            loaded[(kind, obj.id)] = obj
    return [Hit(row["kind"], row["field"], row["score"], loaded[key]) for key, row in best.items() if key in loaded]
