"""Query cost: an estimate of how many objects a query may touch, checked before execution.

Every field costs 1; a field taking `first` (a connection or a capped list) multiplies the
cost of what it selects by `first` (or the default page size). The estimate and the maximum
are reported in `extensions.cost` of every response."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.language import IntValueNode
from strawberry.extensions import SchemaExtension

from server.i18n import _


def _first_arg(field: FieldNode, variables: dict, default: int) -> int | None:
    for arg in field.arguments or ():
        if arg.name.value == "first":
            if isinstance(arg.value, IntValueNode):
                return int(arg.value.value)
            if isinstance(arg.value, VariableNode):
                value = variables.get(arg.value.name.value)
                return int(value) if isinstance(value, int) else default
            return default
    return None


def estimate(
    selection_set: SelectionSetNode | None,
    fragments: dict,
    variables: dict,
    default_page: int,
    seen: frozenset = frozenset(),
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            first = _first_arg(sel, variables, default_page)
            inner = estimate(sel.selection_set, fragments, variables, default_page, seen)
            total += 1 + (inner * max(first, 1) if first is not None else inner)
        elif isinstance(sel, InlineFragmentNode):
            total += estimate(sel.selection_set, fragments, variables, default_page, seen)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            frag: FragmentDefinitionNode | None = fragments.get(name)
            if frag is not None and name not in seen:
                total += estimate(frag.selection_set, fragments, variables, default_page, seen | {name})
    return total


class _Reads(dict):
    """An empty set of variables that notes which of them ``estimate`` asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, key, default=None):
        self.names.add(key)
        return super().get(key, default)


def first_variables(selection_set: SelectionSetNode | None, fragments: dict, default_page: int) -> set[str]:
    """The variables ``estimate`` reads (those given to ``first``): the estimate of a document
    is the same for every request that gives them the same values."""
    reads = _Reads()
    estimate(selection_set, fragments, reads, default_page)
    return reads.names


class QueryCost(SchemaExtension):
    def __init__(self, *, maximum: int, default_page: int):
        self.maximum = maximum
        self.default_page = default_page
        self.cost: int | None = None

    def on_execute(self):
        ctx = self.execution_context
        doc = ctx.graphql_document
        if doc is not None:
            fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
            ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
            op = next((o for o in ops if o.name and o.name.value == ctx.operation_name), ops[0] if ops else None)
            if op is not None:
                self.cost = estimate(op.selection_set, fragments, ctx.variables or {}, self.default_page)
                if hasattr(ctx.context, "query_cost"):  # what rate_limits.RateLimit charges
                    ctx.context.query_cost = self.cost
                if self.cost > self.maximum:
                    raise GraphQLError(
                        _(
                            "Query cost %(cost)s exceeds the maximum of %(maximum)s. "
                            "Ask for fewer fields or smaller pages.",
                            cost=self.cost,
                            maximum=self.maximum,
                        ),
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": self.cost, "maximum": self.maximum},
                    )
        yield

    def get_results(self):
        return {"cost": {"requested": self.cost, "maximum": self.maximum}} if self.cost is not None else {}
