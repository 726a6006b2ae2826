"""What the emulator checks before it executes a request, as AppSync refuses requests it will not run:
the body's size and shape, the variables (bounded depth, valid Unicode), and the query limits of
`schema.limits` (depth, resolvers) counted on the parsed document before any resolver runs."""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from schema.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT

# Our own bound: the largest legitimate request, a 50-leg createBasket in variables, is about 15 KB.
MAX_REQUEST_BYTES = 256 * 1024
# CreateBasketInput { strategies: [{ legs: [{ … }] }] } is 5 levels of JSON; 10 leaves room.
MAX_VARIABLES_DEPTH = 10
# The standard introspection query is 183 tokens, a publish mutation under 80; 1,000 aliases are 11,000 and
# graphql-core parses about 40,000 a second on a busy machine: this bound stops it within ~50 ms.
MAX_QUERY_TOKENS = 2000
# Fragments expanded where they are spread: the standard introspection query visits about 100 selections.
MAX_SELECTIONS_VISITED = 10_000


class RequestRefused(Exception):
    """A request the emulator will not execute: `error_type` and `message` for the client."""

    def __init__(self, message: str, error_type: str = "ValidationError", status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.status = status


def malformed(message: str) -> RequestRefused:
    return RequestRefused(message, "MalformedHttpRequestException", 400)


def too_large() -> RequestRefused:
    return RequestRefused(
        f"the request is larger than {MAX_REQUEST_BYTES} bytes", "RequestEntityTooLargeException", 413
    )


def request_body(raw: bytes) -> dict[str, Any]:
    """The JSON body of a GraphQL request: `query` a string, `variables` an object or null,
    `operationName` a string or null. Raises RequestRefused."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise too_large()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: JSON nested past the decoder's recursion limit
        raise malformed("body must be JSON with a query") from None
    if not isinstance(body, dict):
        raise malformed("body must be JSON with a query")
    check_request(body)
    return body


def check_request(body: dict[str, Any]) -> None:
    """A decoded GraphQL request (an HTTP body, a real-time start or subscribe payload) has the shape of one,
    valid Unicode text and variables of bounded depth. Raises RequestRefused."""
    if not isinstance(body.get("query"), str):
        raise malformed("body must be JSON with a query")
    if not isinstance(body.get("variables"), dict | None):
        raise malformed("variables must be a JSON object")
    if not isinstance(body.get("operationName"), str | None):
        raise malformed("operationName must be a string")
    check_text(body["query"], "the query")
    if body.get("operationName") is not None:
        check_text(body["operationName"], "operationName")
    check_variables(body.get("variables") or {})


def check_text(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestRefused(f"{where} is not valid Unicode text (it holds a lone surrogate)") from None


def check_variables(variables: dict[str, Any]) -> None:
    """Variables nested at most MAX_VARIABLES_DEPTH deep, every key and string valid Unicode."""
    check_json(variables, "variables", MAX_VARIABLES_DEPTH)


def check_json(value: Any, what: str, max_depth: int) -> None:
    """Decoded JSON nested at most `max_depth` deep, every key and string valid Unicode (walked without
    recursion, so depth cannot exhaust the stack). Raises RequestRefused naming `what`."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise RequestRefused(f"{what} are nested deeper than {max_depth} levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    check_text(key, f"a name at {path} in {what}")
                stack.append((child, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]", depth + 1))
        elif isinstance(item, str):
            check_text(item, f"{path} in {what}")


def parsed(query: str) -> DocumentNode:
    """The document, parsed with a bound on its tokens; a syntax error is a GraphQLError."""
    return parse(query, max_tokens=MAX_QUERY_TOKENS)


def check_limits(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    """AppSync's query depth and resolver count limits on the operation to run (fragments expanded,
    each fragment spread counted where it is used). Raises RequestRefused."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    resolvers = 0
    deepest = 0
    visited = 0  # fragments spread many times inside each other multiply the walk: bound it
    # (selection set, depth of its fields, fragments entered on the way): no recursion, no fragment cycles
    stack: list[tuple[SelectionSetNode, int, frozenset[str]]] = [(operation.selection_set, 1, frozenset())]
    while stack:
        selection_set, depth, entered = stack.pop()
        visited += len(selection_set.selections)
        if visited > MAX_SELECTIONS_VISITED:
            raise RequestRefused("the query expands to too many selections", "QueryTooComplex")
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                deepest = max(deepest, depth)
                if deepest > QUERY_DEPTH_LIMIT:
                    raise RequestRefused(
                        f"the query is deeper than {QUERY_DEPTH_LIMIT} levels", "QueryDepthLimitReached"
                    )
                if depth == 1 and not node.name.value.startswith("__"):
                    resolvers += 1
                    if resolvers > RESOLVER_COUNT_LIMIT:
                        raise RequestRefused(
                            f"the query selects more than {RESOLVER_COUNT_LIMIT} resolved fields (aliases count)",
                            "ResolverCountLimitReached",
                        )
                if node.selection_set is not None:
                    stack.append((node.selection_set, depth + 1, entered))
            elif isinstance(node, InlineFragmentNode):
                stack.append((node.selection_set, depth, entered))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in entered:
                    stack.append((fragments[name].selection_set, depth, entered | {name}))


def error_entry(message: str, error_type: str, error: GraphQLError | None = None) -> dict[str, Any]:
    """One error in AppSync's shape."""
    locations = [] if error is None else error.locations or []
    return {
        "path": None,
        "data": None,
        "errorType": error_type,
        "errorInfo": None,
        "locations": [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in locations],
        "message": message,
    }
