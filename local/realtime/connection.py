"""What both real-time protocols share on one WebSocket: framing JSON, forwarding a subscription's
payloads, and ending operations; each protocol subclasses `Connection` with its own messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from local.realtime.messages import decode
from local.realtime.pubsub import SubscriberDropped

if TYPE_CHECKING:
    from local.realtime.endpoint import RealtimeEndpoint
    from local.realtime.pubsub import Subscription
    from local.realtime.shaping import PreparedSubscription

MAX_SUBSCRIPTIONS_PER_CONNECTION = 100


class Connection:
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

    async def receive(self) -> dict[str, Any]:
        """The next client message, a JSON object within `local.realtime.messages`' bounds; raises
        MessageRefused for anything else, WebSocketDisconnect when the client has gone."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return decode(message.get("text"), message.get("bytes"))

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
