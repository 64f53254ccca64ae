"""From an operation's selection set to a plan: which columns of which tables, which relations,
and how each response key is written.

Fields are collected the way graphql-core collects them (same response-key order, merged
fields, fragments applied by type condition, @skip/@include evaluated), so the planned
response has the same keys in the same order as the stock one. Anything not described in
describe.py raises ``Unsupported`` and the operation is left to strawberry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.execution.values import get_directive_values

from server.auth.masking import PII_FIELDS
from server.graphql.fastpath.describe import TYPES, Column, Computed, Embedded, Many, Nested, One


class Unsupported(Exception):
    """The planner does not handle this operation exactly; strawberry answers it."""


class Fallback(Exception):
    """At run time, something the planned path does not reproduce (an error, a null in a
    non-null field, a value the stock path would coerce): strawberry answers instead."""


# -- plans -------------------------------------------------------------------------


@dataclass
class ObjectPlan:
    """How to write one object from one row: (response key, writer) pairs, in order."""

    type_name: str
    writers: list[tuple[str, Any]] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    relations: list[RelationPlan] = field(default_factory=list)
    nested: list[NestedPlan] = field(default_factory=list)
    hidden_checks: set[tuple[str, str]] = field(default_factory=set)
    not_in_sql: bool = False  # PostgreSQL could not write it (sqljson.py): Python's writer does


@dataclass
class RelationPlan:
    slot: str  # where the fetched row(s) are put on the parent row
    spec: One | Many
    child: ObjectPlan


@dataclass
class NestedPlan:
    """A connection under each row: its arguments are read per request from ``node``."""

    slot: str
    spec: Nested
    field_def: Any
    node: FieldNode
    child: ConnectionPlan


@dataclass
class ConnectionPlan:
    """A Relay connection at the root: its node plan and which parts of the page were asked for."""

    type_name: str
    node: ObjectPlan
    writers: list[tuple[str, Any]]  # ("edges", edge writers) | ("pageInfo", writers) | ("count",) | typename
    needs_count: bool
    not_in_sql: bool = False  # as ObjectPlan.not_in_sql


# Writers: small tuples interpreted by run.py (and compiled to SQL by sqljson.py). Kinds:
#   ("typename", name) | ("scalar", column, convert, nonnull, pii, (GraphQL named type, is list))
#   | ("computed", fn, convert, nonnull, pii, sql) where sql is describe.Computed.sql
#   where pii is the (type, field) of a masked PII field (server/auth/masking.py), else None
#   ("object", ObjectPlan, nonnull) for embedded | ("one", slot, ObjectPlan, nonnull)
#   ("many", slot, ObjectPlan) | ("nested", slot, nonnull): a connection already written


def _named(type_) -> tuple[Any, bool, bool]:
    """(named type, non-null, is list) of a field's output type, for the shapes we plan."""
    nonnull = isinstance(type_, GraphQLNonNull)
    if nonnull:
        type_ = type_.of_type
    is_list = isinstance(type_, GraphQLList)
    if is_list:
        inner = type_.of_type
        if not isinstance(inner, GraphQLNonNull):
            raise Unsupported("lists of nullable items")
        type_ = inner.of_type
    return type_, nonnull, is_list


def _scalar_converter(named, is_list: bool):
    """The JSON value of a column as graphql-core would serialize the stock resolver's value;
    ``Fallback`` for values the stock path would coerce or refuse."""
    if isinstance(named, GraphQLEnumType):
        by_value = {v.value: name for name, v in named.values.items()}

        def enum(value):
            try:
                return by_value[value]
            except (KeyError, TypeError) as exc:
                raise Fallback(f"{value!r} is not a {named.name}") from exc

        convert = enum
    elif isinstance(named, GraphQLScalarType):
        convert = _SCALARS.get(named.name)
        if convert is None:
            raise Unsupported(f"scalar {named.name}")
    else:
        raise Unsupported(f"{named} as a column")
    if not is_list:
        return convert

    def each(values):
        if not isinstance(values, list):
            raise Fallback("not a list")
        return [convert(v) for v in values]

    return each


def _exact(kind: type):
    def check(value):
        if type(value) is not kind:
            raise Fallback(f"{value!r} is not a {kind.__name__}")
        return value

    return check


def _int(value):
    if type(value) is not int or not -(2**31) <= value < 2**31:
        raise Fallback(f"{value!r} is not a GraphQL Int")
    return value


def _decimal(value):
    from decimal import Decimal

    if not isinstance(value, Decimal):
        raise Fallback(f"{value!r} is not a Decimal")
    return str(value)


def _datetime(value):
    from datetime import datetime

    if not isinstance(value, datetime):
        raise Fallback(f"{value!r} is not a datetime")
    return value.isoformat()


_SCALARS = {
    "String": _exact(str),
    "ID": _exact(str),
    "Boolean": _exact(bool),
    "Int": _int,
    "Decimal": _decimal,
    "DateTime": _datetime,
}


# -- collecting fields as graphql-core does ---------------------------------------------


class Collector:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables  # graphql-core VariableValues (for @skip/@include)

    def _included(self, node) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("skip", "include"):
                raise Unsupported(f"@{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip["if"] is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include["if"] is False)

    def _applies(self, condition, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        cond_type = self.schema.get_type(condition.name.value)
        if cond_type is runtime:
            return True
        return (
            cond_type is not None
            and not isinstance(cond_type, GraphQLObjectType)
            and self.schema.is_sub_type(cond_type, runtime)
        )

    def collect(self, runtime: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(runtime, selection_set, fields, visited)
        return fields

    def _collect(self, runtime, selection_set, fields, visited) -> None:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                if not self._included(sel):
                    continue
                key = sel.alias.value if sel.alias else sel.name.value
                fields.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                if not self._included(sel) or not self._applies(sel.type_condition, runtime):
                    continue
                self._collect(runtime, sel.selection_set, fields, visited)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name in visited or not self._included(sel):
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None or not self._applies(fragment.type_condition, runtime):
                    continue
                self._collect(runtime, fragment.selection_set, fields, visited)
            else:
                raise Unsupported(type(sel).__name__)


# -- planning objects ---------------------------------------------------------------------


def _sub_selections(nodes: list[FieldNode]) -> list[SelectionSetNode]:
    return [n.selection_set for n in nodes if n.selection_set is not None]


def _no_arguments(nodes: list[FieldNode]) -> None:
    if any(n.arguments for n in nodes):
        raise Unsupported("arguments on a nested field")


def plan_object(
    collector: Collector,
    gtype: GraphQLObjectType,
    nodes: list[FieldNode],
    rename: dict[str, str] | None = None,
    *,
    root: bool = False,
) -> ObjectPlan:
    """The plan of an object of ``gtype`` whose fields are selected by ``nodes``; ``rename`` maps an
    embedded type's fields to the parent row's columns. Connections under an object (``Nested``)
    are planned only on a root object (one row), so that statements never grow with a page."""
    spec = TYPES.get(gtype.name)
    if spec is None:
        raise Unsupported(f"type {gtype.name}")
    plan = ObjectPlan(gtype.name)
    if spec.model is not None:
        plan.columns.add("id")
    for key, field_nodes in collector.collect(gtype, _sub_selections(nodes)).items():
        name = field_nodes[0].name.value
        if name == "__typename":
            plan.writers.append((key, ("typename", gtype.name)))
            continue
        how = spec.fields.get(name)
        gfield = gtype.fields.get(name)
        if how is None or gfield is None:
            raise Unsupported(f"{gtype.name}.{name}")
        named, nonnull, is_list = _named(gfield.type)
        if isinstance(how, Nested):
            if not root or rename or is_list or not isinstance(named, GraphQLObjectType):
                raise Unsupported(f"{gtype.name}.{name} here")
            slot = f"\0n{len(plan.nested)}"
            child = plan_connection(collector, named, field_nodes)
            plan.nested.append(NestedPlan(slot, how, gfield, field_nodes[0], child))
            plan.writers.append((key, ("nested", slot, nonnull)))
            continue
        _no_arguments(field_nodes)
        pii = (gtype.name, name) if (gtype.name, name) in PII_FIELDS else None
        if isinstance(how, Column):
            column = rename.get(name, how.column) if rename else how.column
            plan.columns.add(column)
            if how.hidden_as:
                plan.hidden_checks.add(how.hidden_as)
            plan.writers.append(
                (key, ("scalar", column, _scalar_converter(named, is_list), nonnull, pii, (named, is_list)))
            )
        elif isinstance(how, Computed):
            if rename:
                raise Unsupported("computed field of an embedded type")
            plan.columns.update(how.columns)
            plan.writers.append((key, ("computed", how.make, _scalar_converter(named, is_list), nonnull, pii, how.sql)))
        elif isinstance(how, Embedded):
            if is_list or not isinstance(named, GraphQLObjectType):
                raise Unsupported("embedded list")
            columns = {k: (rename.get(v, v) if rename else v) for k, v in how.columns.items()}
            child = plan_object(collector, named, field_nodes, columns)
            plan.columns.update(child.columns - {"id"})
            plan.hidden_checks |= child.hidden_checks
            plan.writers.append((key, ("object", child, nonnull)))
        elif isinstance(how, One | Many):
            if rename:
                raise Unsupported("relation of an embedded type")
            if not isinstance(named, GraphQLObjectType) or is_list != isinstance(how, Many):
                raise Unsupported(f"{gtype.name}.{name} shape")
            child = plan_object(collector, named, field_nodes)
            slot = f"\0{len(plan.relations)}"
            if isinstance(how, One):
                plan.columns.add(how.fk)
                plan.writers.append((key, ("one", slot, child, nonnull)))
            else:
                child.columns.add(how.fk)
                plan.columns.update(how.carry.values())
                plan.writers.append((key, ("many", slot, child)))
            plan.relations.append(RelationPlan(slot, how, child))
        else:  # pragma: no cover - describe.py has only the kinds above
            raise Unsupported(repr(how))
    return plan


def plan_connection(collector: Collector, gtype: GraphQLObjectType, nodes: list[FieldNode]) -> ConnectionPlan:
    """A connection (edges { cursor node }, pageInfo, totalCount) whose node type is planned."""
    writers: list[tuple[str, Any]] = []
    node_nodes: list[FieldNode] = []
    needs_count = False
    edge_type = gtype.fields["edges"].type.of_type.of_type.of_type  # [XEdge!]!
    node_type = edge_type.fields["node"].type.of_type
    page_info_type = gtype.fields["pageInfo"].type.of_type
    for key, field_nodes in collector.collect(gtype, _sub_selections(nodes)).items():
        name = field_nodes[0].name.value
        _no_arguments(field_nodes)
        if name == "__typename":
            writers.append((key, ("typename", gtype.name)))
        elif name == "totalCount":
            needs_count = True
            writers.append((key, ("count",)))
        elif name == "pageInfo":
            page_info_writers: list[tuple[str, Any]] = []
            for pkey, pnodes in collector.collect(page_info_type, _sub_selections(field_nodes)).items():
                pname = pnodes[0].name.value
                _no_arguments(pnodes)
                if pname == "__typename":
                    page_info_writers.append((pkey, ("typename", page_info_type.name)))
                elif pname in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"):
                    page_info_writers.append((pkey, (pname,)))
                else:
                    raise Unsupported(f"PageInfo.{pname}")
            writers.append((key, ("pageInfo", page_info_writers)))
        elif name == "edges":
            ewriters: list[tuple[str, Any]] = []
            for ekey, enodes in collector.collect(edge_type, _sub_selections(field_nodes)).items():
                ename = enodes[0].name.value
                _no_arguments(enodes)
                if ename == "__typename":
                    ewriters.append((ekey, ("typename", edge_type.name)))
                elif ename == "cursor":
                    ewriters.append((ekey, ("cursor",)))
                elif ename == "node":
                    ewriters.append((ekey, ("node",)))
                    node_nodes.extend(enodes)
                else:
                    raise Unsupported(f"Edge.{ename}")
            writers.append((key, ("edges", ewriters)))
        else:
            raise Unsupported(f"{gtype.name}.{name}")
    node_keys = [ew for _k, w in writers if w[0] == "edges" for _ek, ew in w[1] if ew[0] == "node"]
    if sum(1 for _k, w in writers if w[0] == "edges") > 1 or len(node_keys) > 1:
        # Aliased `edges`/`node` with different selections would need one node plan each.
        raise Unsupported("several edges or node keys")
    node_plan = plan_object(collector, node_type, node_nodes) if node_nodes else ObjectPlan(node_type.name)
    node_plan.columns.add("id")
    return ConnectionPlan(gtype.name, node_plan, writers, needs_count)
