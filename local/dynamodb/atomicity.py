"""Give moto's DynamoDB the per-item atomicity real DynamoDB has.

moto's threaded server runs requests concurrently without a lock, so two conditional writes
(or transactions) can both pass their condition and a cancelled transaction can roll back a
neighbour's write. DynamoDB never does either, so requests are serialized here. This is a
correctness patch, applied whatever moto version is installed.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Run this process's moto DynamoDB requests one at a time (idempotent)."""
    call_action = DynamoHandler.call_action
    if getattr(call_action, "_serialized", False):
        return

    @functools.wraps(call_action)
    def serialized(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return call_action(self, *args, **kwargs)

    serialized._serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = serialized  # type: ignore[method-assign]
