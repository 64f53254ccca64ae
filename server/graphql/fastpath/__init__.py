"""The planned read path: known read operations answered from a cached plan instead of
strawberry's field-by-field execution, with the same response.

``FastPath.execute`` returns an ``ExecutionResult`` for an operation it handles exactly, or
``None``: the view then runs strawberry as always. It handles queries whose every field is
described in describe.py (``orders``, ``order``, ``account`` and what they select), with
variables, aliases, fragments and @skip/@include; anything else, and every error (sign-in,
permissions, bad arguments, limits), is left to strawberry so that its answer is the one given.
See docs/fastpath.md.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLNonNull,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    get_nullable_type,
    parse,
    specified_rules,
    visit,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult
from strawberry.types.arguments import convert_arguments

from server.config import Settings
from server.core.errors import PublicError, UserInputError
from server.graphql import ids
from server.graphql.fastpath import sqljson
from server.graphql.fastpath.describe import ROOTS, RootById, RootConnection
from server.graphql.fastpath.plan import (
    Collector,
    ConnectionPlan,
    Fallback,
    ObjectPlan,
    Unsupported,
    plan_connection,
    plan_object,
)
from server.graphql.fastpath.prepared import page_key
from server.graphql.fastpath.run import Call, run_by_id, run_connection
from server.graphql.inputs import input_problems
from server.graphql.limits import estimate, first_variables

log = logging.getLogger("crm.fastpath")

CACHE_SIZE = 256


@dataclass(frozen=True)
class Document:
    """A parsed document that passed the schema's validation (with its limits)."""

    node: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    fragments: dict[str, FragmentDefinitionNode]
    directive_variables: tuple[str, ...]  # variables used by @skip/@include: they change the plan


_serials = itertools.count()


@dataclass(frozen=True)
class RootPlan:
    key: str
    kind: str  # "typename" | "connection" | "by_id"
    spec: Any = None
    field_def: Any = None
    node: FieldNode | None = None
    plan: ObjectPlan | ConnectionPlan | None = None
    needs: sqljson.Needs | None = None  # what the caller must see for PostgreSQL to write it
    serial: int = field(default_factory=lambda: next(_serials))  # names its composed statements


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_directive(self, node, *_args):
        for arg in node.arguments or ():
            if isinstance(arg.value, VariableNode) and arg.value.name.value not in self.names:
                self.names.append(arg.value.name.value)


class FastPath:
    def __init__(self, schema, settings: Settings):
        self.schema = schema
        self.graphql_schema = schema._schema
        self.settings = settings
        self.stats: Counter[str] = Counter()  # "planned" / "fallback": what tests and operators look at
        # The same limits strawberry applies: extra validation rules and the token cap.
        self.validation_rules = tuple(specified_rules) + tuple(
            rule for ext in schema.extensions if isinstance(ext, AddValidationRules) for rule in ext.validation_rules
        )
        self.max_tokens = next(
            (ext.max_token_count for ext in schema.extensions if isinstance(ext, MaxTokensLimiter)), None
        )
        self._document = lru_cache(maxsize=CACHE_SIZE)(self._parse)
        self._plan = lru_cache(maxsize=CACHE_SIZE)(self._make_plan)
        self._first_variables = lru_cache(maxsize=CACHE_SIZE)(self._find_first_variables)
        self._costs = lru_cache(maxsize=CACHE_SIZE * 4)(self._estimate)
        # Documents the plan has answered (least recently used out): the lean lane takes only these.
        self._known: OrderedDict[str, None] = OrderedDict()

    def is_known(self, query: str) -> bool:
        """Whether the plan has answered ``query`` before (and it is still in the cache)."""
        if query in self._known:
            self._known.move_to_end(query)
            return True
        return False

    def _remember(self, query: str) -> None:
        self._known[query] = None
        self._known.move_to_end(query)
        if len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)

    # -- entry ------------------------------------------------------------------------

    async def execute(
        self, query: str | None, variables: dict | None, operation_name: str | None, context
    ) -> ExecutionResult | None:
        if not self.settings.fast_path or not query or getattr(context, "auth_error", None) is not None:
            return None
        try:
            result = await self._execute(query, variables or {}, operation_name, context)
        except (Unsupported, Fallback, PublicError, UserInputError, GraphQLError) as exc:
            # Expected: strawberry gives the caller its error (sign in, forbidden, bad ID...).
            log.debug("fast path falls back: %s", exc)
            result = None
        except Exception:
            # A bug of the planned path: the caller still gets strawberry's answer; say so.
            log.warning("fast path failed, answered by strawberry", exc_info=True)
            result = None
        self.stats["planned" if result is not None else "fallback"] += 1
        if result is not None:
            self._remember(query)
        return result

    async def _execute(
        self, query: str, variables: dict, operation_name: str | None, context
    ) -> ExecutionResult | None:
        document = self._document(query)
        if document is None:
            return None
        op = document.operations.get(operation_name)
        if op is None or op.operation is not OperationType.QUERY:
            return None
        coerced = get_variable_values(self.graphql_schema, op.variable_definitions or (), variables)
        if isinstance(coerced, list):  # variable errors: strawberry reports them
            return None
        directive_values = tuple((name, coerced.coerced.get(name)) for name in document.directive_variables)
        roots = self._plan(query, operation_name, directive_values)
        if roots is None:
            return None
        cost = self._cost(query, operation_name, variables)
        if cost > self.settings.max_query_cost:
            return None
        budgets = getattr(context, "rate_limits", None)
        if budgets is not None and not await budgets.charge(cost):
            return None  # over the rate limit: nothing was spent, and strawberry answers RATE_LIMITED
        call = Call(context.scope, self.settings, lambda field_def, node: self._arguments(field_def, node, coerced))
        # The lean lane's remembered caller (caller_guard.py): checked in the first statement
        # PostgreSQL writes, or alone before any table is read or anything answered. (The cost
        # was spent from its budgets above: a caller found stale is charged again by the stock
        # path, once per change.)
        guard = getattr(context, "guard", None)
        data: dict[str, Any] = {}
        for root in roots:
            if root.kind == "typename":
                data[root.key] = self.graphql_schema.query_type.name
                continue
            arguments = call.arguments(root.field_def, root.node)
            if input_problems(arguments):
                return None  # values no field can store: strawberry's RefuseHostileInput answers
            in_sql = self._in_sql(root, call.scope)
            if not in_sql:
                await _vouch(guard)
            if root.kind == "by_id":
                pk = ids.decode(arguments["id"], root.spec.type_name)[1]
                if in_sql:
                    data[root.key] = await self._sql_by_id(call, root, pk, guard)
                else:
                    data[root.key] = await run_by_id(call, root.spec.model, root.plan, pk)
                if data[root.key] is None and isinstance(root.field_def.type, GraphQLNonNull):
                    return None  # null in a non-null root: strawberry's error
            else:
                qs, sort, first, after = root.spec.query(call.scope, self.settings, **arguments)
                key = page_key(call.scope, root.spec.query, qs.model, arguments, sort, first, after)
                if in_sql:
                    data[root.key] = await self._sql_connection(call, root, qs, sort, first, after, key, guard)
                else:
                    data[root.key] = await run_connection(call, root.plan, qs, sort, first, after, key)
        await _vouch(guard)  # a query that read nothing (only __typename)
        return ExecutionResult(
            data=data, errors=None, extensions={"cost": {"requested": cost, "maximum": self.settings.max_query_cost}}
        )

    # -- query cost (limits.py), once per document and page sizes ------------------------

    def _cost(self, query: str, operation_name: str | None, variables: dict) -> int:
        names = self._first_variables(query, operation_name)
        # Keyed by what ``estimate`` reads of each value: an int, or nothing (the default page).
        # The raw value would make 100.0 and 100 one key (equal in Python) though the estimate
        # counts only the int: a cost cached from one would be charged for the other.
        values = tuple(int(v) if isinstance(v, int) else None for v in map(variables.get, names))
        return self._costs(query, operation_name, values)

    def _find_first_variables(self, query: str, operation_name: str | None) -> tuple[str, ...]:
        document = self._document(query)
        op = document.operations[operation_name]
        default_page = self.settings.default_page_size
        return tuple(sorted(first_variables(op.selection_set, document.fragments, default_page)))

    def _estimate(self, query: str, operation_name: str | None, values: tuple) -> int:
        document = self._document(query)
        op = document.operations[operation_name]
        given = zip(self._first_variables(query, operation_name), values, strict=True)
        variables = {name: value for name, value in given if value is not None}
        return estimate(op.selection_set, document.fragments, variables, self.settings.default_page_size)

    # -- PostgreSQL writes the answer (sqljson.py) ----------------------------------------

    def _in_sql(self, root: RootPlan, scope) -> bool:
        return (
            self.settings.is_postgres
            and self.settings.sql_json
            and root.needs is not None
            and not root.plan.not_in_sql
            and sqljson.ready(scope, root.needs)
        )

    def _compose(self, root: RootPlan, key: tuple | None, make):
        """A composed statement, kept under ``key`` (None: composed for this request only).
        A plan PostgreSQL cannot write (a field without SQL) is written by Python from then on."""
        try:
            return make() if key is None else sqljson.kept(key, make)
        except Unsupported as exc:
            log.debug("not written by PostgreSQL: %s", exc)
            root.plan.not_in_sql = True
            return None

    async def _sql_by_id(self, call: Call, root: RootPlan, pk, guard=None):
        nested = tuple(tuple(sorted(call.arguments(n.field_def, n.node).items())) for n in root.plan.nested)
        key = ("by_id", root.serial, nested, sqljson.caller_key(call.scope, root.needs))
        builder = sqljson.Builder(call.scope, self.settings, call.arguments)
        composed = self._compose(root, key, lambda: sqljson.compose_by_id(builder, root.plan, root.spec.model))
        if composed is None:
            await _vouch(guard)
            return await run_by_id(call, root.spec.model, root.plan, pk)
        sql, params, slot = composed
        params = list(params)
        params[slot] = pk
        return self._written(await sqljson.fetch(root.spec.model, sql, params, guard))

    async def _sql_connection(self, call: Call, root: RootPlan, qs, sort, first, after, page, guard=None):
        key = None if page is None else ("page", root.serial, page, sqljson.caller_key(call.scope, root.needs))
        builder = sqljson.Builder(call.scope, self.settings, call.arguments)
        composed = self._compose(
            root, key, lambda: sqljson.compose_connection(builder, root.plan, qs, sort, first, after)
        )
        if composed is None:
            await _vouch(guard)
            return await run_connection(call, root.plan, qs, sort, first, after, page)
        sql, params = composed
        return self._written(await sqljson.fetch(qs.model, sql, params, guard))

    def _written(self, answer):
        # Counted once the database's answer is taken (not when it fell back): what tests check.
        self.stats["written by postgresql"] += 1
        return answer

    def _arguments(self, field_def, node: FieldNode, coerced) -> dict:
        """A field's arguments as its strawberry resolver receives them (input types, enums)."""
        raw = get_argument_values(field_def, node, coerced)
        strawberry_field = field_def.extensions["strawberry-definition"]
        return convert_arguments(
            raw,
            strawberry_field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )

    # -- cached per document ----------------------------------------------------------

    def _parse(self, query: str) -> Document | None:
        try:
            node = parse(query, max_tokens=self.max_tokens) if self.max_tokens else parse(query)
        except GraphQLError:
            return None
        if validate_document(self.graphql_schema, node, self.validation_rules):
            return None
        operations: dict[str | None, OperationDefinitionNode] = {}
        fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in node.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value if definition.name else None] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            else:
                return None
        ops = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(ops) == 1:
            operations[None] = ops[0]  # no operationName needed when there is one operation
        elif None in operations:
            return None  # an anonymous operation among others: graphql-core refuses it
        finder = _DirectiveVariables()
        visit(node, finder)
        return Document(node, operations, fragments, tuple(finder.names))

    def _make_plan(
        self, query: str, operation_name: str | None, directive_values: tuple
    ) -> tuple[RootPlan, ...] | None:
        document = self._document(query)
        op = document.operations[operation_name]
        # Only the variables of @skip/@include decide the plan; coerce just those.
        definitions = [d for d in op.variable_definitions or () if d.variable.name.value in dict(directive_values)]
        variables = get_variable_values(
            self.graphql_schema, definitions, {k: v for k, v in directive_values if v is not None}
        )
        if isinstance(variables, list):
            return None
        collector = Collector(self.graphql_schema, document.fragments, variables)
        query_type = self.graphql_schema.query_type
        roots: list[RootPlan] = []
        try:
            for key, nodes in collector.collect(query_type, [op.selection_set]).items():
                name = nodes[0].name.value
                if name == "__typename":
                    roots.append(RootPlan(key, "typename"))
                    continue
                spec = ROOTS.get(name)
                if spec is None:
                    raise Unsupported(f"Query.{name}")
                field_def = query_type.fields[name]
                named = get_nullable_type(field_def.type)
                if isinstance(spec, RootConnection):
                    plan = plan_connection(collector, named, nodes)
                    roots.append(
                        RootPlan(key, "connection", spec, field_def, nodes[0], plan, sqljson.needs(plan, spec.model))
                    )
                elif isinstance(spec, RootById):
                    plan = plan_object(collector, named, nodes, root=True)
                    roots.append(
                        RootPlan(key, "by_id", spec, field_def, nodes[0], plan, sqljson.needs(plan, spec.model))
                    )
        except Unsupported as exc:
            log.debug("not planned: %s", exc)
            return None
        return tuple(roots)


async def _vouch(guard) -> None:
    if guard is not None and guard.pending:
        await guard.verify()
