"""Subscriptions over WebSocket for the local AppSync: AppSync's real-time protocol (`graphql-ws`, what
gql's `AppSyncWebsocketsTransport` and Amplify speak) and graphql-transport-ws (GraphiQL), both fed by
the same `PubSub` and shaped to each subscription's selection set, as AppSync forwards only those fields.

The subprotocol the client offers picks the protocol, so one URL serves both.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import anyio
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
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from local.pubsub import SubscriberDropped
from trading.errors import Unauthorized

if TYPE_CHECKING:
    import strawberry
    from graphql import GraphQLOutputType, NamedTypeNode
    from starlette.routing import BaseRoute

    from local.pubsub import PubSub, Subscription

log = logging.getLogger(__name__)

APPSYNC_PROTOCOL = "graphql-ws"
TRANSPORT_WS_PROTOCOL = "graphql-transport-ws"
CONNECTION_TIMEOUT_MS = 300_000
INIT_TIMEOUT_SECONDS = 10.0
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100
PATHS = ("/graphql", "/graphql/realtime", "/graphql/ws")


@dataclass(frozen=True)
class Refusal:
    """Why a subscription may not start, with the errorType the client sees."""

    message: str
    error_type: str = "Unauthorized"


AuthorizeResult = str | Refusal | None
Authorize = Callable[[str, dict[str, Any], dict[str, Any]], AuthorizeResult | Awaitable[AuthorizeResult]]
"""`authorize(field_name, arguments, identity_event)`: None to allow, else a message or `Refusal`."""


class CallerIdentity(Protocol):
    def to_event(self) -> dict[str, Any]: ...


class Verifier(Protocol):
    def verify(self, authorization: str | None) -> CallerIdentity: ...


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

        A published payload (`local.pubsub.Published`) carries the texts already rendered for it;
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
        document = parse(query)
    except GraphQLError as exc:
        raise OperationError(exc.message) from None
    errors = validate(graphql_schema, document)
    if errors:
        raise OperationError("; ".join(error.message for error in errors))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise OperationError("send exactly one operation (or name one with operationName)")
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
        from local.emulator import plain

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


def publish_mutation_result(pubsub: PubSub, data: Mapping[str, Any] | None, query: str | None = None) -> int:
    """Fan a mutation's result out to subscribers, as AppSync does after a successful mutation.

    `data` is the response's `data`; every non-null root field routed by `@aws_subscribe` is published,
    deduplicated by its `eventId` when it has one. Give `query` when the mutation used aliases.
    Returns how many root fields were delivered.
    """
    names: dict[str, str] = {}
    if query is not None:
        operation = get_operation_ast(parse(query))
        if operation is not None:
            for node in operation.selection_set.selections:
                if isinstance(node, FieldNode):
                    names[node.alias.value if node.alias else node.name.value] = node.name.value
    delivered = 0
    for key, value in (data or {}).items():
        field = names.get(key, key)
        if not isinstance(value, Mapping) or field not in pubsub.routes:
            continue
        event_id = value.get("eventId")
        if pubsub.publish(field, value, str(event_id) if event_id is not None else None):
            delivered += 1
    return delivered


def lambda_authorizer(invoke: Callable[[dict[str, Any]], Any]) -> Authorize:
    """An `authorize` that runs the resolver Lambda's Subscription resolver, as AppSync does before a
    subscription starts. `invoke(event)` calls the handler; a `{"error": {"type", "message"}}` result refuses.
    """

    def authorize(field_name: str, arguments: dict[str, Any], identity: dict[str, Any]) -> Refusal | None:
        event: dict[str, Any] = {
            "arguments": arguments,
            "identity": identity,
            "source": None,
            "request": {"headers": {}, "domainName": None},
            "prev": None,
            "info": {
                "fieldName": field_name,
                "parentTypeName": "Subscription",
                "variables": {},
                "selectionSetList": [],
                "selectionSetGraphQL": "",
            },
            "stash": {},
        }
        result = invoke(event)
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            error = result["error"]
            return Refusal(
                str(error.get("message") or "subscription refused"), str(error.get("type") or "Unauthorized")
            )
        return None

    return authorize


class RealtimeEndpoint:
    """The WebSocket endpoint: picks the protocol from the offered subprotocols."""

    def __init__(
        self,
        schema: strawberry.Schema | GraphQLSchema,
        pubsub: PubSub,
        verifier: Verifier,
        authorize: Authorize,
        keepalive_seconds: float = 60.0,
        init_timeout_seconds: float = INIT_TIMEOUT_SECONDS,
    ) -> None:
        self.schema = schema
        self.pubsub = pubsub
        self.verifier = verifier
        self.authorize = authorize
        self.keepalive_seconds = keepalive_seconds
        self.init_timeout_seconds = init_timeout_seconds

    async def handle(self, websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        connection: _Connection
        if TRANSPORT_WS_PROTOCOL in offered:
            connection = _TransportWsConnection(self, websocket)
        elif APPSYNC_PROTOCOL in offered:
            connection = _AppSyncConnection(self, websocket)
        else:
            # Refused at the handshake (HTTP 403): no subprotocol this endpoint speaks.
            await websocket.close(code=1002)
            return
        await connection.run()

    async def identity(self, authorization: Any) -> dict[str, Any]:
        """The caller's AppSync identity, or `OperationError` (UnauthorizedException) for a bad token."""
        try:
            verified = await anyio.to_thread.run_sync(
                self.verifier.verify, authorization if isinstance(authorization, str) else None
            )
        except Unauthorized as exc:
            raise OperationError(exc.message, "UnauthorizedException") from None
        except Exception:
            log.exception("token verification failed")
            raise OperationError("the token could not be verified; see the emulator's log", "InternalFailure") from None
        return verified.to_event()

    async def start(
        self, request: Mapping[str, Any], identity: dict[str, Any]
    ) -> tuple[PreparedSubscription, Subscription]:
        """Validate, authorize and subscribe; `OperationError` when refused."""
        prepared = prepare_subscription(
            self.schema, request.get("query"), request.get("variables"), request.get("operationName")
        )
        try:
            outcome = await anyio.to_thread.run_sync(
                partial(self.authorize, prepared.field_name, dict(prepared.arguments), identity)
            )
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception:
            log.exception("subscription authorizer failed")
            raise OperationError(
                "the subscription could not be authorized; see the emulator's log", "InternalFailure"
            ) from None
        if isinstance(outcome, Refusal):
            raise OperationError(outcome.message, outcome.error_type)
        if outcome is not None:
            raise OperationError(str(outcome), "Unauthorized")
        return prepared, self.pubsub.subscribe(prepared.field_name, prepared.arguments)


class _Connection:
    def __init__(self, endpoint: RealtimeEndpoint, websocket: WebSocket) -> None:
        self.endpoint = endpoint
        self.websocket = websocket
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        raise NotImplementedError

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message, separators=(",", ":")))

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def close(self, code: int, reason: str = "") -> None:
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code=code, reason=reason.encode()[:123].decode(errors="ignore"))

    async def receive(self) -> dict[str, Any] | None:
        """The next JSON object from the client; None for anything else."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        text = message.get("text")
        if text is None:
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def begin(self, operation_id: str, prepared: PreparedSubscription, subscription: Subscription) -> None:
        self.operations[operation_id] = asyncio.create_task(self._forward(operation_id, prepared, subscription))

    async def _forward(self, operation_id: str, prepared: PreparedSubscription, subscription: Subscription) -> None:
        try:
            async for payload in subscription:
                await self.send_text(self.data_frame(operation_id, prepared.render(payload)))
        except SubscriberDropped as exc:
            self.operations.pop(operation_id, None)
            with contextlib.suppress(Exception):
                await self.send_error(operation_id, str(exc), "SubscriberDropped")
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away; `run` cleans up
        finally:
            subscription.close()

    async def end(self, operation_id: str) -> bool:
        task = self.operations.pop(operation_id, None)
        if task is None:
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def end_all(self) -> None:
        for operation_id in list(self.operations):
            await self.end(operation_id)

    def data_frame(self, operation_id: str, data: str) -> str:
        """The protocol's message carrying one result; `data` is its JSON text."""
        raise NotImplementedError

    async def send_error(self, operation_id: str, message: str, error_type: str) -> None:
        raise NotImplementedError


class _AppSyncConnection(_Connection):
    """AppSync's real-time protocol: auth in the `header` query parameter and on every `start`."""

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=APPSYNC_PROTOCOL)
        keepalive: asyncio.Task[None] | None = None
        try:
            try:
                identity = await self.endpoint.identity(_header_authorization(self.websocket))
            except OperationError as exc:
                await self._refuse(exc)
                return
            while True:
                message = await self.receive()
                kind = message.get("type") if message else None
                if kind == "connection_init":
                    await self.send(
                        {"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}}
                    )
                    if keepalive is None:
                        keepalive = asyncio.create_task(self._keepalive())
                elif kind == "start" and message is not None:
                    await self._start(message, identity)
                elif kind == "stop" and message is not None:
                    operation_id = str(message.get("id"))
                    await self.end(operation_id)
                    await self.send({"type": "complete", "id": operation_id})
                elif kind == "connection_terminate":
                    return
                else:
                    await self.send(
                        {
                            "type": "error",
                            "payload": {
                                "errors": [
                                    {"errorType": "UnsupportedOperation", "message": f"unknown message {kind!r}"}
                                ]
                            },
                        }
                    )
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("AppSync real-time connection failed")
        finally:
            if keepalive is not None:
                keepalive.cancel()
            await self.end_all()
            await self.close(1000)

    async def _refuse(self, error: OperationError) -> None:
        """AppSync answers a connection with bad credentials with `connection_error`, then closes it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.receive(), self.endpoint.init_timeout_seconds)
        await self.send(
            {
                "type": "connection_error",
                "payload": {"errors": [{"errorType": error.error_type, "message": error.message, "errorCode": 401}]},
            }
        )

    async def _keepalive(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await self.send({"type": "ka"})
                await asyncio.sleep(self.endpoint.keepalive_seconds)

    async def _start(self, message: dict[str, Any], identity: dict[str, Any]) -> None:
        operation_id = str(message.get("id") or "")
        payload = message.get("payload")
        try:
            if not operation_id:
                raise OperationError("a start message needs an id")
            if operation_id in self.operations:
                raise OperationError(f"subscription {operation_id} is already started")
            if len(self.operations) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
                raise OperationError(
                    f"at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection",
                    "MaxSubscriptionsReachedError",
                )
            if not isinstance(payload, dict) or not isinstance(payload.get("data"), str):
                raise OperationError("a start payload carries `data`: the request as a JSON string")
            try:
                request = json.loads(payload["data"])
            except ValueError:
                raise OperationError("start payload `data` is not JSON") from None
            if not isinstance(request, dict):
                raise OperationError("start payload `data` must be a JSON object")
            authorization = (payload.get("extensions") or {}).get("authorization")
            if isinstance(authorization, dict) and "Authorization" in authorization:
                identity = await self.endpoint.identity(authorization["Authorization"])
            prepared, subscription = await self.endpoint.start(request, identity)
        except OperationError as exc:
            await self.send_error(operation_id, exc.message, exc.error_type)
            return
        self.begin(operation_id, prepared, subscription)
        await self.send({"type": "start_ack", "id": operation_id})

    def data_frame(self, operation_id: str, data: str) -> str:
        return f'{{"type":"data","id":{json.dumps(operation_id)},"payload":{{"data":{data}}}}}'

    async def send_error(self, operation_id: str, message: str, error_type: str) -> None:
        await self.send(
            {
                "type": "error",
                "id": operation_id,
                "payload": {"errors": [{"errorType": error_type, "message": message}]},
            }
        )


class _TransportWsConnection(_Connection):
    """graphql-transport-ws (the `graphql-ws` library's protocol): auth in `connection_init.payload`."""

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=TRANSPORT_WS_PROTOCOL)
        try:
            try:
                first = await asyncio.wait_for(self.receive(), self.endpoint.init_timeout_seconds)
            except TimeoutError:
                await self.close(4408, "Connection initialisation timeout")
                return
            if not first or first.get("type") != "connection_init":
                await self.close(4401, "Unauthorized")
                return
            try:
                identity = await self.endpoint.identity(_payload_authorization(first.get("payload")))
            except OperationError as exc:
                await self.close(4403, f"Forbidden: {exc.message}")
                return
            await self.send({"type": "connection_ack"})
            while True:
                message = await self.receive()
                kind = message.get("type") if message else None
                if kind == "ping":
                    await self.send({"type": "pong"})
                elif kind == "pong":
                    continue
                elif kind == "subscribe" and message is not None:
                    if not await self._subscribe(message, identity):
                        return
                elif kind == "complete" and message is not None:
                    await self.end(str(message.get("id")))
                elif kind == "connection_init":
                    await self.close(4429, "Too many initialisation requests")
                    return
                else:
                    await self.close(4400, f"Invalid message {kind!r}")
                    return
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("graphql-transport-ws connection failed")
        finally:
            await self.end_all()
            await self.close(1000)

    async def _subscribe(self, message: dict[str, Any], identity: dict[str, Any]) -> bool:
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self.close(4400, "Invalid subscribe message")
            return False
        if operation_id in self.operations:
            await self.close(4409, f"Subscriber for {operation_id} already exists")
            return False
        try:
            if len(self.operations) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
                raise OperationError(
                    f"at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection",
                    "MaxSubscriptionsReachedError",
                )
            prepared, subscription = await self.endpoint.start(payload, identity)
        except OperationError as exc:
            await self.send_error(operation_id, exc.message, exc.error_type)
            return True
        self.begin(operation_id, prepared, subscription)
        return True

    def data_frame(self, operation_id: str, data: str) -> str:
        return f'{{"type":"next","id":{json.dumps(operation_id)},"payload":{{"data":{data}}}}}'

    async def send_error(self, operation_id: str, message: str, error_type: str) -> None:
        error = {"message": message, "errorType": error_type, "extensions": {"errorType": error_type}}
        await self.send({"type": "error", "id": operation_id, "payload": [error]})


def _header_authorization(websocket: WebSocket) -> str | None:
    """`Authorization` from AppSync's `header` query parameter: base64 (or base64url) JSON."""
    encoded = websocket.query_params.get("header")
    if not encoded:
        return None
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        header = json.loads(base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict):
        return None
    value = header.get("Authorization") or header.get("authorization")
    return value if isinstance(value, str) else None


def _payload_authorization(payload: Any) -> str | None:
    """`Authorization` from a connection_init payload (GraphiQL sends its headers there)."""
    if not isinstance(payload, dict):
        return None
    for source in (payload, payload.get("headers")):
        if isinstance(source, dict):
            value = source.get("Authorization") or source.get("authorization")
            if isinstance(value, str):
                return value
    return None


def realtime_routes(
    schema: strawberry.Schema | GraphQLSchema,
    pubsub: PubSub,
    verifier: Verifier,
    authorize: Authorize,
    keepalive_seconds: float = 60.0,
    paths: tuple[str, ...] = PATHS,
) -> list[BaseRoute]:
    """WebSocket routes speaking AppSync real-time and graphql-transport-ws (chosen by subprotocol).

    `/graphql` is where gql's `AppSyncWebsocketsTransport` connects when given `ws://host:port/graphql`
    (on AWS it rewrites appsync-api to appsync-realtime-api and keeps the path).
    """
    endpoint = RealtimeEndpoint(schema, pubsub, verifier, authorize, keepalive_seconds)
    return [WebSocketRoute(path, endpoint.handle) for path in paths]
