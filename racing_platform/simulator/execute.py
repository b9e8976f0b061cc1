"""A fast executor for the simulator's GraphQL answers, equal to graphql-core's for what it accepts.

graphql-core walks ~14k fields of a whole-meeting answer through its general machinery (info objects,
awaitable checks, per-field type dispatch), and ariadne parses and validates every document again: that
was more than half of a warm answer. Here a document is parsed and validated once and compiled into
closures that read the renderer's dicts directly (the schema has no non-null output fields, no
abstract types and no arguments below the root, so the default resolver is all a field needs).

Anything out of the ordinary (an invalid document, a directive, introspection, a variable that does not
coerce, a resolver that raises, a value a scalar will not serialize as is) makes `execute` return None,
and the caller runs graphql-core, which then answers exactly as before, errors included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
COMPILED_DOCUMENTS = 256


class NotFast(Exception):
    """The fast path cannot vouch for graphql-core's answer: let graphql-core answer."""


Complete = Callable[[Any], Any]


class FastExecutor:
    """Executes query documents against `schema` with the root resolvers ariadne bound to it."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._compile = lru_cache(maxsize=COMPILED_DOCUMENTS)(self._compile_document)

    def execute(self, data: Any, context_value: Any) -> dict | None:
        """`{"data": ...}` as ariadne would answer `data` (the request body), or None to use graphql-core."""
        if not isinstance(data, dict):
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not query or not isinstance(variables, dict | None):
            return None
        if name is not None and not isinstance(name, str):
            return None
        plan = self._compile(query, name)
        if plan is None:
            return None
        root_fields, variable_definitions = plan
        coerced = get_variable_values(self.schema, variable_definitions, variables or {})
        if isinstance(coerced, list):  # coercion errors: graphql-core reports them
            return None
        info = SimpleNamespace(context=context_value, variable_values=coerced)
        try:
            return {"data": {key: run(info) for key, run in root_fields}}
        except NotFast:
            return None
        except Exception:  # a resolver's error becomes graphql-core's error answer
            return None

    def _compile_document(self, query: str, operation_name: str | None):
        try:
            document = parse(query)
        except Exception:
            return None
        if validate(self.schema, document):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            operation = operations[0] if len(operations) == 1 else None
        else:
            operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        root = self.schema.query_type
        try:
            fields = _collect(root, [operation.selection_set], fragments)
            root_fields = tuple(
                (key, self._root_field(root, nodes, fragments)) for key, nodes in fields.items()
            )
        except NotFast:
            return None
        return root_fields, operation.variable_definitions or ()

    def _root_field(self, root: GraphQLObjectType, nodes: list[FieldNode], fragments: dict):
        name = nodes[0].name.value
        if name.startswith("__"):
            raise NotFast(name)
        field = root.fields[name]
        if field.resolve is None:
            raise NotFast(name)
        complete = _completer(field.type, nodes, fragments)
        resolve = field.resolve

        def run(info) -> Any:
            args = get_argument_values(field, nodes[0], info.variable_values)
            return complete(resolve(None, info, **args))

        return run


def _collect(
    parent: GraphQLObjectType, selection_sets: list[SelectionSetNode], fragments: dict
) -> dict[str, list[FieldNode]]:
    """graphql-core's collect_fields for a concrete type and no directives: response key -> field nodes."""
    fields: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotFast("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                _check_condition(parent, selection.type_condition)
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = fragments[name]
                if fragment.directives:
                    raise NotFast("directives")
                _check_condition(parent, fragment.type_condition)
                walk(fragment.selection_set)

    for selection_set in selection_sets:
        walk(selection_set)
    return fields


def _check_condition(parent: GraphQLObjectType, condition) -> None:
    if condition is not None and condition.name.value != parent.name:
        raise NotFast("fragment on another type")


def _completer(field_type, nodes: list[FieldNode], fragments: dict) -> Complete:
    """graphql-core's complete_value for one field's type, as a closure (None stays None)."""
    if isinstance(field_type, GraphQLNonNull):
        raise NotFast("non-null output")
    if isinstance(field_type, GraphQLList):
        item = _completer(field_type.of_type, nodes, fragments)

        def complete_list(value):
            if value is None:
                return None
            if not isinstance(value, list | tuple):
                raise NotFast("list value")
            return [item(v) for v in value]

        return complete_list
    if isinstance(field_type, GraphQLScalarType):
        return _leaf(field_type)
    if isinstance(field_type, GraphQLObjectType):
        return _object(field_type, nodes, fragments)
    raise NotFast(f"type {field_type}")


def _leaf(scalar: GraphQLScalarType) -> Complete:
    """The scalar's serialize, short-circuited for the values it returns unchanged."""
    serialize = scalar.serialize
    if scalar is GraphQLString or scalar is GraphQLID:
        exact = str
    elif scalar is GraphQLBoolean:
        exact = bool
    elif scalar is GraphQLInt:

        def complete_int(value):
            if value is None:
                return None
            if type(value) is int and MIN_INT <= value <= MAX_INT:
                return value
            return _serialized(serialize, value)

        return complete_int
    elif scalar is GraphQLFloat:

        def complete_float(value):
            if value is None:
                return None
            if type(value) is float and math.isfinite(value):
                return value
            return _serialized(serialize, value)

        return complete_float
    else:
        return lambda value: None if value is None else _serialized(serialize, value)

    def complete_exact(value):
        if value is None or type(value) is exact:
            return value
        return _serialized(serialize, value)

    return complete_exact


def _serialized(serialize, value):
    try:
        out = serialize(value)
    except Exception as err:
        raise NotFast("serialize") from err
    if out is None:
        raise NotFast("serialized to null")
    return out


def _object(object_type: GraphQLObjectType, nodes: list[FieldNode], fragments: dict) -> Complete:
    if object_type.is_type_of is not None:
        raise NotFast("is_type_of")
    selection_sets = [n.selection_set for n in nodes if n.selection_set]
    fields = _collect(object_type, selection_sets, fragments)
    plan: list[tuple[str, str, Complete | None]] = []
    for key, field_nodes in fields.items():
        name = field_nodes[0].name.value
        if name == "__typename":
            plan.append((key, name, None))
            continue
        if name.startswith("__"):
            raise NotFast(name)
        field = object_type.fields[name]
        if field.resolve is not None or field.args:
            raise NotFast(f"{object_type.name}.{name} has a resolver or arguments")
        plan.append((key, name, _completer(field.type, field_nodes, fragments)))
    type_name = object_type.name

    def complete_object(value):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise NotFast("object value")
        out = {}
        for key, name, complete in plan:
            if complete is None:
                out[key] = type_name
                continue
            field_value = value.get(name)
            if callable(field_value):
                field_value = field_value(None)
            out[key] = complete(field_value)
        return out

    return complete_object
