"""Tortoise queries built once and run many times with other values.

Building a query (Tortoise's filters, pypika's SQL text) costs more Python than sending it and
reading its rows: for the reads every request makes (the caller's token and membership, the
planned path's related rows) it was most of their cost. ``prepare`` lets Tortoise build the query
once with **placeholder** values (fresh UUIDs or strings nobody would send), finds where those
placeholders went among the statement's parameters, and keeps the SQL text. ``Prepared.fetch``
then puts the real values in their place and sends the same statement through Tortoise's
connection for the model (transactions, logging and the tests' statement counter see it as
before), and turns the rows into what the query would have returned: model objects (with
their ``select_related`` objects) or ``.values()`` dicts.

Only what is a placeholder varies: every other value of the query is part of the statement, so
whoever prepares one keys it by all of them (see server/graphql/fastpath/prepared.py).
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.queryset import QuerySet, ValuesQuery
from tortoise.router import router


def placeholder_uuid() -> uuid.UUID:
    return uuid.uuid4()


def placeholder_text() -> str:
    return f"\x1fplaceholder-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Prepared:
    model: type
    sql: str
    params: tuple  # the parameters Tortoise built, placeholders at ``slots``
    slots: tuple[int, ...]  # per placeholder, its position among ``params``
    as_text: tuple[bool, ...]  # per placeholder: Tortoise sent it as text (UUIDs on SQLite)
    converters: tuple[tuple[str, Callable], ...] | None  # a values() query: column -> to Python
    select_related_idx: list | None  # a model query: how Tortoise splits a row into objects

    def _db(self):
        return router.db_for_read(self.model) or self.model._meta.db

    def _params(self, values: Sequence) -> list:
        params = list(self.params)
        for slot, text, value in zip(self.slots, self.as_text, values, strict=True):
            params[slot] = str(value) if text else value
        return params

    async def fetch(self, *values: Any) -> list:
        """The query's result with ``values`` in place of the placeholders (in their order)."""
        db = self._db()
        params = self._params(values)
        if self.converters is None:
            executor = db.executor_class(model=self.model, db=db, select_related_idx=self.select_related_idx)
            return await executor.execute_select(self.sql, params, custom_fields=[])
        rows = await db.execute_query_dict(self.sql, params)
        if self.converters:
            for row in rows:
                for column, convert in self.converters:
                    row[column] = convert(row[column])
        return rows


def prepare(query: QuerySet | ValuesQuery, placeholders: Sequence[Any]) -> Prepared:
    """``query`` (a model query or a ``.values()`` query, not yet awaited) built with
    ``placeholders`` (from ``placeholder_uuid``/``placeholder_text``) among its values."""
    if isinstance(query, QuerySet) and (query._prefetch_map or query._annotations or query._fields_for_select):
        raise ValueError("prepare() takes plain model queries (select_related at most) or values()")
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    wanted = {str(p): i for i, p in enumerate(placeholders)}
    slots: list[int | None] = [None] * len(placeholders)
    as_text = [False] * len(placeholders)
    for position, param in enumerate(params):
        found = wanted.get(str(param))
        if found is not None:
            if slots[found] is not None:
                raise ValueError(f"a placeholder appears twice in the SQL of {query.model.__name__}")
            slots[found], as_text[found] = position, isinstance(param, str)
    if None in slots:
        raise ValueError(f"a placeholder is missing from the SQL of {query.model.__name__}")
    converters = select_related_idx = None
    if isinstance(query, ValuesQuery):
        converters = tuple(
            (alias, func)
            for alias, func in (
                (alias, query.resolve_to_python_value(query.model, field))
                for alias, field in query._fields_for_select.items()
            )
            if not isinstance(func, types.LambdaType)
        )
    else:
        select_related_idx = list(query._select_related_idx)
    return Prepared(query.model, sql, tuple(params), tuple(slots), tuple(as_text), converters, select_related_idx)  # type: ignore[arg-type]


_statements: dict[tuple, Prepared] = {}


def once(name: str, model: type, build: Callable[[], tuple[QuerySet | ValuesQuery, Sequence[Any]]]) -> Prepared:
    """The statement ``name``, prepared on first use from ``build() -> (query, placeholders)``
    (one per SQL dialect: tests and tools may switch databases)."""
    key = (name, model._meta.db.capabilities.dialect)
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = prepare(*build())
    return found
