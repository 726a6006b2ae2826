"""graphql-transport-ws (the `graphql-ws` library's protocol, what GraphiQL speaks): auth in
`connection_init.payload`.

As its spec says, a message of a type or format it does not define closes the socket with 4400 and the reason
(a message out of `local.realtime.messages`' bounds too; one over the size bound with RFC 6455's 1009); a
subscribe whose operation is refused (invalid, over the query limits, unauthorized) gets an `error` for its id
and the connection carries on."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.websockets import WebSocketDisconnect

from local.realtime.connection import MAX_SUBSCRIPTIONS_PER_CONNECTION, Connection
from local.realtime.messages import CLOSE_INVALID, MessageRefused
from local.realtime.shaping import OperationError

log = logging.getLogger(__name__)

TRANSPORT_WS_PROTOCOL = "graphql-transport-ws"


class TransportWsConnection(Connection):
    """graphql-transport-ws (the `graphql-ws` library's protocol): auth in `connection_init.payload`."""

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=TRANSPORT_WS_PROTOCOL)
        try:
            try:
                first = await asyncio.wait_for(self.receive(), self.endpoint.init_timeout_seconds)
            except TimeoutError:
                await self.close(4408, "Connection initialisation timeout")
                return
            except MessageRefused as exc:
                await self.close(exc.close_code, exc.message)
                return
            if first.get("type") != "connection_init":
                await self.close(4401, "Unauthorized")
                return
            try:
                identity = await self.endpoint.identity(payload_authorization(first.get("payload")))
            except OperationError as exc:
                await self.close(4403, f"Forbidden: {exc.message}")
                return
            await self.send({"type": "connection_ack"})
            while True:
                try:
                    message = await self.receive()
                except MessageRefused as exc:
                    await self.close(exc.close_code, exc.message)
                    return
                kind = message.get("type")
                if kind == "ping":
                    await self.send({"type": "pong"})
                elif kind == "pong":
                    continue
                elif kind == "subscribe":
                    if not await self._subscribe(message, identity):
                        return
                elif kind == "complete":
                    await self.end(str(message.get("id")))
                elif kind == "connection_init":
                    await self.close(4429, "Too many initialisation requests")
                    return
                else:
                    shown = repr(kind) if isinstance(kind, str) and len(kind) <= 64 else "type"
                    await self.close(CLOSE_INVALID, f"Invalid message {shown}")
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


def payload_authorization(payload: Any) -> str | None:
    """`Authorization` from a connection_init payload (GraphiQL sends its headers there)."""
    if not isinstance(payload, dict):
        return None
    for source in (payload, payload.get("headers")):
        if isinstance(source, dict):
            value = source.get("Authorization") or source.get("authorization")
            if isinstance(value, str):
                return value
    return None
