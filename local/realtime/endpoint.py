"""The local AppSync's real-time endpoint: one URL serving AppSync's real-time protocol and
graphql-transport-ws, picked by the subprotocol the client offers, both fed by the same `PubSub`."""

from __future__ import annotations

import inspect
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from starlette.routing import WebSocketRoute

from local.emulator.requests import RequestRefused, check_request
from local.realtime.appsync_protocol import APPSYNC_PROTOCOL, AppSyncConnection
from local.realtime.authorizer import Refusal
from local.realtime.shaping import OperationError, PreparedSubscription, prepare_subscription
from local.realtime.transport_ws import TRANSPORT_WS_PROTOCOL, TransportWsConnection
from trading.errors import Unauthorized

if TYPE_CHECKING:
    from collections.abc import Mapping

    import strawberry
    from graphql import GraphQLSchema
    from starlette.routing import BaseRoute
    from starlette.websockets import WebSocket

    from local.realtime.authorizer import Authorize, Verifier
    from local.realtime.connection import Connection
    from local.realtime.pubsub import PubSub, Subscription

log = logging.getLogger(__name__)

INIT_TIMEOUT_SECONDS = 10.0
PATHS = ("/graphql", "/graphql/realtime", "/graphql/ws")


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
        connection: Connection
        if TRANSPORT_WS_PROTOCOL in offered:
            connection = TransportWsConnection(self, websocket)
        elif APPSYNC_PROTOCOL in offered:
            connection = AppSyncConnection(self, websocket)
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
        try:
            check_request(dict(request))  # the HTTP endpoint's checks: shape, valid Unicode, variables' depth
        except RequestRefused as exc:
            raise OperationError(exc.message, "ValidationError" if exc.status == 400 else exc.error_type) from None
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
