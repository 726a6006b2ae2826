"""Subscription preparation and selection shaping: a validated subscription operation, and each payload
reduced to its selection set, as AppSync forwards only the selected fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_nullable_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    validate,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values

from local.emulator.requests import RequestRefused, check_limits, parsed

if TYPE_CHECKING:
    import strawberry
    from graphql import GraphQLOutputType, NamedTypeNode


class OperationError(Exception):
    """A subscription request refused before it starts; `error_type` as AppSync reports it."""

    def __init__(self, message: str, error_type: str = "ValidationError") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


@dataclass
class PreparedSubscription:
    """A validated subscription operation: its root field, arguments, and how to shape a payload."""

    field_name: str
    response_key: str
    arguments: dict[str, Any]
    field_type: GraphQLOutputType
    selection_set: SelectionSetNode | None
    fragments: dict[str, FragmentDefinitionNode]
    variables: Any
    schema: GraphQLSchema
    # Equal for operations that shape a payload the same way (same document, variables, name).
    key: str = ""

    def result(self, payload: Mapping[str, Any] | None) -> dict[str, Any]:
        """The `data` of one delivery: the payload reduced to the selected fields (missing ones null)."""
        return {self.response_key: self._shape(payload, self.field_type, self.selection_set)}

    def render(self, payload: Mapping[str, Any]) -> str:
        """`result(payload)` as JSON text, computed once per payload for all subscribers asking alike.

        A published payload (`local.realtime.pubsub.Published`) carries the texts already rendered for it;
        subscribers with the same operation share one shaping and one serialization.
        """
        rendered: dict[str, str] | None = getattr(payload, "rendered", None)
        if rendered is not None and self.key:
            text = rendered.get(self.key)
            if text is None:
                text = rendered[self.key] = json.dumps(self.result(payload), separators=(",", ":"))
            return text
        return json.dumps(self.result(payload), separators=(",", ":"))

    def _shape(self, value: Any, type_: GraphQLOutputType, selection_set: SelectionSetNode | None) -> Any:
        if value is None:
            return None
        nullable = get_nullable_type(type_)
        if is_list_type(nullable):
            if not isinstance(value, list):
                return None
            return [self._shape(item, nullable.of_type, selection_set) for item in value]
        if selection_set is None or is_leaf_type(nullable):
            return value
        if not isinstance(value, Mapping):
            return None
        runtime = self._runtime_type(nullable, value)
        out: dict[str, Any] = {}
        self._collect(value, runtime, nullable, selection_set, out)
        return out

    def _collect(
        self,
        value: Mapping[str, Any],
        runtime: GraphQLObjectType | None,
        declared: Any,
        selection_set: SelectionSetNode,
        out: dict[str, Any],
    ) -> None:
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                name = node.name.value
                key = node.alias.value if node.alias else name
                if name == "__typename":
                    out[key] = runtime.name if runtime is not None else value.get("__typename")
                    continue
                field = getattr(runtime or declared, "fields", {}).get(name)
                if field is None:
                    out.setdefault(key, None)
                    continue
                shaped = self._shape(value.get(name), field.type, node.selection_set)
                out[key] = _merge(out[key], shaped) if key in out else shaped
            elif isinstance(node, InlineFragmentNode):
                if self._applies(node.type_condition, runtime):
                    self._collect(value, runtime, declared, node.selection_set, out)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None and self._applies(fragment.type_condition, runtime):
                    self._collect(value, runtime, declared, fragment.selection_set, out)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def _runtime_type(self, declared: Any, value: Mapping[str, Any]) -> GraphQLObjectType | None:
        if isinstance(declared, GraphQLObjectType):
            return declared
        if is_abstract_type(declared):
            named = self.schema.get_type(str(value.get("__typename")))
            if isinstance(named, GraphQLObjectType):
                return named
        return None

    def _applies(self, condition: NamedTypeNode | None, runtime: GraphQLObjectType | None) -> bool:
        if condition is None or runtime is None:
            return True
        if condition.name.value == runtime.name:
            return True
        target = self.schema.get_type(condition.name.value)
        return is_abstract_type(target) and self.schema.is_sub_type(target, runtime)


def _merge(first: Any, second: Any) -> Any:
    """Two selections of one response key combine (`a { x } a { y }` gives `a { x y }`)."""
    if isinstance(first, dict) and isinstance(second, dict):
        merged = dict(first)
        for key, value in second.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        return [_merge(a, b) for a, b in zip(first, second, strict=True)]
    return second


def graphql_schema_of(schema: strawberry.Schema | GraphQLSchema) -> GraphQLSchema:
    return schema if isinstance(schema, GraphQLSchema) else schema._schema


def prepare_subscription(
    schema: strawberry.Schema | GraphQLSchema,
    query: Any,
    variables: Any = None,
    operation_name: Any = None,
) -> PreparedSubscription:
    """Parse and validate one subscription operation and coerce its root field's arguments.

    Raises: `OperationError` (errorType ValidationError) for anything but a valid single subscription.
    """
    graphql_schema = graphql_schema_of(schema)
    if not isinstance(query, str) or not query.strip():
        raise OperationError("the request must carry a GraphQL query string")
    if variables is not None and not isinstance(variables, dict):
        raise OperationError("variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise OperationError("operationName must be a string")
    try:
        document = parsed(query)  # bounded as the HTTP endpoint bounds it
    except GraphQLError as exc:
        raise OperationError(exc.message) from None
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise OperationError("send exactly one operation (or name one with operationName)")
    try:
        check_limits(document, operation)  # AppSync's query limits, before the document is validated
    except RequestRefused as exc:
        raise OperationError(exc.message, exc.error_type) from None
    errors = validate(graphql_schema, document)
    if errors:
        raise OperationError("; ".join(error.message for error in errors))
    if operation.operation != OperationType.SUBSCRIPTION:
        raise OperationError(f"only subscriptions are served here, not a {operation.operation.value}")
    coerced = get_variable_values(graphql_schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise OperationError("; ".join(error.message for error in coerced))
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    field_node = _root_field(operation.selection_set, fragments)
    root = graphql_schema.subscription_type
    if field_node is None or root is None or field_node.name.value not in root.fields:
        raise OperationError("a subscription selects exactly one subscription field")
    field_def = root.fields[field_node.name.value]
    arguments = get_argument_values(field_def, field_node, coerced)
    if not isinstance(schema, GraphQLSchema):
        from local.emulator.context import plain

        arguments = plain(arguments, schema)
    return PreparedSubscription(
        field_name=field_node.name.value,
        response_key=field_node.alias.value if field_node.alias else field_node.name.value,
        arguments=dict(arguments),
        field_type=field_def.type,
        selection_set=field_node.selection_set,
        fragments=fragments,
        variables=coerced,
        schema=graphql_schema,
        key=json.dumps([query, variables or {}, operation_name], sort_keys=True, default=str),
    )


def _root_field(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> FieldNode | None:
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            return node
        inner = (
            node.selection_set
            if isinstance(node, InlineFragmentNode)
            else fragments[node.name.value].selection_set
            if isinstance(node, FragmentSpreadNode) and node.name.value in fragments
            else None
        )
        if inner is not None:
            found = _root_field(inner, fragments)
            if found is not None:
                return found
    return None
