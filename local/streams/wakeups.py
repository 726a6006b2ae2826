"""Write wake-ups: the stream poller polls at once after a write instead of after its idle wait."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from local.streams.poller import StreamPoller

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def wake_on_writes(poller: StreamPoller, clients: Iterable[Any]) -> Callable[[], None]:
    """Wake `poller` after every write any of the DynamoDB `clients` makes; returns the undo.

    The write's stream record exists by the time the call returns, so the poller reads it at once
    instead of after its idle wait.
    """
    hooks: list[tuple[Any, str, str]] = []
    for client in clients:
        for operation in WRITE_OPERATIONS:
            event = f"after-call.dynamodb.{operation}"
            unique_id = f"stream-wake-{id(poller)}-{operation}"
            client.meta.events.register(event, _waker(poller), unique_id=unique_id)
            hooks.append((client, event, unique_id))

    def undo() -> None:
        for client, event, unique_id in hooks:
            client.meta.events.unregister(event, unique_id=unique_id)

    return undo


def _waker(poller: StreamPoller) -> Callable[..., None]:
    def wake(**_: Any) -> None:
        poller.wake()

    return wake
