"""A local AppSync: the exported schema executed by strawberry, root fields resolved by invoking the
resolver Lambda's `handler` in-process with AppSync-shaped direct-resolver events."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import anyio
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    print_ast,
)
from graphql.execution import values as graphql_values
from graphql.execution.values import get_argument_values
from starlette.responses import JSONResponse
from strawberry.types.base import has_object_definition
from strawberry.types.unset import UnsetType

from trading.errors import Unauthorized

if TYPE_CHECKING:
    import strawberry
    from starlette.requests import Request

    from local.auth import JwtVerifier

log = logging.getLogger(__name__)

ResolveInfo = Any  # graphql-core's GraphQLResolveInfo (generic from 3.3 on)

Handler = Callable[[dict[str, Any], Any], Any]
MAX_CACHED_SELECTIONS = 4096


class ResolverError(Exception):
    """A Lambda result of the form {"error": {"type", "message"}}, raised as AppSync's util.error does."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass
class LambdaContext:
    """The attributes a Lambda context offers (powertools' Logger reads them)."""

    function_name: str = "basketgraph-resolvers"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:ap-south-1:000000000000:function:{self.function_name}"


def plain(value: Any, schema: strawberry.Schema) -> Any:
    """Coerced argument values back to the JSON AppSync hands a Lambda (GraphQL names, enum names)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v, schema) for v in value]
    if has_object_definition(value):
        out = {}
        for f in type(value).__strawberry_definition__.fields:  # type: ignore[attr-defined]
            item = getattr(value, f.python_name)
            if not isinstance(item, UnsetType):
                out[schema.config.name_converter.get_graphql_name(f)] = plain(item, schema)
        return out
    if isinstance(value, dict):
        return {k: plain(v, schema) for k, v in value.items()}
    return value


def selection_set_list(info: ResolveInfo) -> list[str]:
    """AppSync's `selectionSetList`: every selected field path below this one, fragments expanded."""
    paths: list[str] = []

    def walk(selection_set: SelectionSetNode | None, prefix: str) -> None:
        if selection_set is None:
            return
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value.startswith("__"):
                    continue
                path = f"{prefix}{node.name.value}"
                paths.append(path)
                walk(node.selection_set, path + "/")
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set, prefix)
            elif isinstance(node, FragmentSpreadNode):
                walk(info.fragments[node.name.value].selection_set, prefix)

    for field_node in info.field_nodes:
        walk(field_node.selection_set, "")
    return list(dict.fromkeys(paths))


def _variables(info: ResolveInfo) -> Any:
    """The variables in the form this graphql-core's `get_argument_values` takes (3.3 wraps them)."""
    values: Any = info.variable_values
    wrapper: Any = getattr(graphql_values, "VariableValues", None)  # graphql-core >= 3.3
    if wrapper is None or isinstance(values, wrapper):
        return values
    return wrapper(sources={}, coerced=dict(values))


class LambdaInvoker:
    """Calls the resolver handler for one root field, as an AppSync direct Lambda resolver does."""

    def __init__(self, handler: Handler, schema: strawberry.Schema) -> None:
        self.handler = handler
        self.schema = schema
        # One Lambda execution environment handles one event at a time (powertools keeps the
        # current event in class state), so concurrent requests queue here as they would for
        # an instance; AppSync would fan them out to more instances.
        self._instance = threading.Lock()
        self._selections: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(field node) -> (node, selection)

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation of the Lambda with a ready-made event (queued behind any running one)."""
        with self._instance:
            return self.handler(event, LambdaContext())

    def event(self, info: ResolveInfo, identity: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        field_def = info.parent_type.fields[info.field_name]
        arguments = get_argument_values(field_def, info.field_nodes[0], _variables(info))
        return {
            "arguments": plain(arguments, self.schema),
            "identity": identity,
            "source": None,
            "request": {"headers": headers, "domainName": None},
            "prev": None,
            "info": {
                "fieldName": info.field_name,
                "parentTypeName": info.parent_type.name,
                "variables": plain(dict(info.variable_values), self.schema),
                **self._selection(info),
            },
            "stash": {},
        }

    def _selection(self, info: ResolveInfo) -> dict[str, Any]:
        """`selectionSetList` and `selectionSetGraphQL`, worked out once per parsed field.

        The emulator's parse cache hands back the same document for the same query text, so the
        publish mutations (which select every field) are printed once, not per event.
        """
        node = info.field_nodes[0]
        cached = self._selections.get(id(node))
        if cached is None or cached[0] is not node:
            if len(self._selections) >= MAX_CACHED_SELECTIONS:
                self._selections.clear()
            printed = print_ast(node.selection_set) if node.selection_set else ""
            cached = (node, {"selectionSetList": selection_set_list(info), "selectionSetGraphQL": printed})
            self._selections[id(node)] = cached
        return {
            "selectionSetList": list(cached[1]["selectionSetList"]),
            "selectionSetGraphQL": cached[1]["selectionSetGraphQL"],
        }

    def __call__(self, info: strawberry.Info, identity: dict[str, Any], headers: dict[str, str]) -> Any:
        result = self.invoke(self.event(info._raw_info, identity, headers))
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            error = result["error"]
            raise ResolverError(str(error.get("message")), str(error.get("type")))
        return result


def format_error(error: GraphQLError) -> dict[str, Any]:
    """An error as AppSync prints it: message, errorType, path, locations, data, errorInfo."""
    original = error.original_error
    error_type = original.error_type if isinstance(original, ResolverError) else None
    if isinstance(original, GraphQLError):  # a variable's value the schema refuses: the client's mistake
        original = None
    if original is not None and not isinstance(original, ResolverError):
        log.exception("resolver failed", exc_info=original)
        error_type, message = "InternalError", "something went wrong in the emulator; see its log"
    else:
        message = error.message
    formatted: dict[str, Any] = {
        "path": error.path,
        "data": None,
        "errorType": error_type or ("ValidationError" if error.path is None else "InternalError"),
        "errorInfo": None,
        "locations": [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or []],
        "message": message,
    }
    return formatted


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"errorType": "UnauthorizedException", "message": message}]},
        status_code=401,
    )


# The identity AppSync passes a resolver for an IAM-signed request (the stream handler's role).
LOCAL_IAM_IDENTITY: dict[str, Any] = {
    "accountId": "000000000000",
    "cognitoIdentityAuthProvider": None,
    "cognitoIdentityAuthType": None,
    "cognitoIdentityId": None,
    "cognitoIdentityPoolId": None,
    "sourceIp": ["127.0.0.1"],
    "userArn": "arn:aws:sts::000000000000:assumed-role/basketgraph-streams/local",
    "username": "AROALOCAL:basketgraph-streams",
}

Publish = Callable[[str, dict[str, Any], "str | None"], bool]


class GraphQLEndpoint:
    """POST /graphql: verify the JWT as AppSync does, then execute with the Lambda invoker.

    A successful mutation that subscriptions listen to (`@aws_subscribe`) is handed to `publish`,
    which fans it out to subscribers, as AppSync does.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        invoker: LambdaInvoker,
        verifier: JwtVerifier,
        publish: Publish | None = None,
    ) -> None:
        self.schema = schema
        self.invoker = invoker
        self.verifier = verifier
        self.publish = publish

    def execute(self, body: dict[str, Any], identity: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """Run one GraphQL request for `identity`; returns the response body AppSync would send."""
        context = {"invoke": lambda info: self.invoker(info, identity, headers)}
        result = self.schema.execute_sync(
            body["query"],
            variable_values=body.get("variables") or None,
            context_value=context,
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [format_error(e) for e in result.errors]
        if self.publish is not None and result.data:
            for field_name, value in result.data.items():
                if isinstance(value, dict):
                    self.publish(field_name, value, value.get("eventId"))
        return payload

    def execute_as_iam(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """An IAM-signed request from inside the stack (the local stream handler's publisher)."""
        return self.execute({"query": query, "variables": variables}, LOCAL_IAM_IDENTITY, {})

    async def handle(self, request: Request) -> JSONResponse:
        try:
            identity = self.verifier.verify(request.headers.get("authorization", "")).to_event()
        except Unauthorized as exc:
            return unauthorized(exc.message)
        try:
            body = json.loads(await request.body())
            if not isinstance(body.get("query"), str):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse(
                {
                    "errors": [
                        {"errorType": "MalformedHttpRequestException", "message": "body must be JSON with a query"}
                    ]
                },
                status_code=400,
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        payload = await anyio.to_thread.run_sync(lambda: self.execute(body, identity, headers))
        return JSONResponse(payload)
