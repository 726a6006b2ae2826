"""AppSync's real-time protocol (`graphql-ws`, what Amplify, aws-appsync-subscription-link and gql's
`AppSyncWebsocketsTransport` speak): connection auth in the `header-<base64url JSON>` subprotocol offered beside
`graphql-ws` (or, the older form, the `header` query parameter), and on every `start`.

Frames as AppSync sends them: `connection_ack` with `connectionTimeoutMs`, `ka` at once and then every
`keepalive_seconds`, `start_ack`/`data`/`complete` per operation; a bad token is a `connection_error` (errorCode 401)
after `connection_init`, then the socket closes; a refused or invalid `start` is an `error` for that id only (the
connection and its other subscriptions carry on); an unknown message type is an id-less `error`
(`UnsupportedOperation`, "<type> not supported"), and so is a message out of `local.realtime.messages`' bounds
(`RequestEntityTooLargeException`, `BadRequestException`): the connection stays open."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from local.realtime.connection import MAX_SUBSCRIPTIONS_PER_CONNECTION, Connection
from local.realtime.messages import MessageRefused
from local.realtime.shaping import OperationError

log = logging.getLogger(__name__)

APPSYNC_PROTOCOL = "graphql-ws"
CONNECTION_TIMEOUT_MS = 300_000


class AppSyncConnection(Connection):
    """AppSync's real-time protocol: auth in the `header-` subprotocol (or `header` query parameter) and on every
    `start`."""

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=APPSYNC_PROTOCOL)
        keepalive: asyncio.Task[None] | None = None
        try:
            try:
                identity = await self.endpoint.identity(header_authorization(self.websocket))
            except OperationError as exc:
                await self._refuse(exc)
                return
            while True:
                try:
                    message = await self.receive()
                except MessageRefused as exc:
                    await self.send_error(None, exc.message, exc.error_type)
                    continue
                kind = message.get("type")
                if kind == "connection_init":
                    await self.send(
                        {"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}}
                    )
                    if keepalive is None:
                        keepalive = asyncio.create_task(self._keepalive())
                elif kind == "start":
                    await self._start(message, identity)
                elif kind == "stop":
                    operation_id = str(message.get("id"))
                    await self.end(operation_id)
                    await self.send({"type": "complete", "id": operation_id})
                elif kind == "connection_terminate":
                    return
                else:
                    shown = kind if isinstance(kind, str) and len(kind) <= 64 else "this message type"
                    await self.send_error(None, f"{shown} not supported", "UnsupportedOperation")
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
        with contextlib.suppress(TimeoutError, MessageRefused):
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
            request = start_request(payload["data"])
            extensions = payload.get("extensions")
            authorization = extensions.get("authorization") if isinstance(extensions, dict) else None
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

    async def send_error(self, operation_id: str | None, message: str, error_type: str) -> None:
        """An `error` for one operation, or id-less for a message that names none (or could not be read)."""
        error: dict[str, Any] = {"type": "error"}
        if operation_id is not None:
            error["id"] = operation_id
        error["payload"] = {"errors": [{"errorType": error_type, "message": message}]}
        await self.send(error)


def start_request(data: str) -> dict[str, Any]:
    """The GraphQL request a `start` carries as JSON text in `payload.data`. Raises OperationError."""
    try:
        request = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested past the decoder's recursion limit
        raise OperationError("start payload `data` is not JSON") from None
    if not isinstance(request, dict):
        raise OperationError("start payload `data` must be a JSON object")
    return request


HEADER_SUBPROTOCOL_PREFIX = "header-"


def header_authorization(websocket: WebSocket) -> str | None:
    """`Authorization` from the connection's auth header: the `header-<base64url JSON>` subprotocol that Amplify v6
    and aws-appsync-subscription-link offer beside `graphql-ws`, else the `header` query parameter (base64 JSON)."""
    offered = websocket.scope.get("subprotocols") or []
    encoded = next(
        (
            protocol[len(HEADER_SUBPROTOCOL_PREFIX) :]
            for protocol in offered
            if protocol.startswith(HEADER_SUBPROTOCOL_PREFIX)
        ),
        None,
    ) or websocket.query_params.get("header")
    if not encoded:
        return None
    header = decode_header(encoded)
    value = (header.get("Authorization") or header.get("authorization")) if header else None
    return value if isinstance(value, str) else None


def decode_header(encoded: str) -> dict[str, Any] | None:
    """A JSON object from base64 or base64url text, padded or not; None when it is neither."""
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        header = json.loads(base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True))
    except (ValueError, binascii.Error):
        return None
    return header if isinstance(header, dict) else None
