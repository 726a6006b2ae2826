"""Give moto's DynamoDB the per-item atomicity real DynamoDB has.

moto's threaded server runs requests concurrently without a lock, so two conditional writes
(or transactions) can both pass their condition and a cancelled transaction can roll back a
neighbour's write. DynamoDB never does either, so requests are serialized here.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from moto.dynamodb.responses import DynamoHandler

if TYPE_CHECKING:
    import pytest

_lock = threading.RLock()


def serialize_dynamodb_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run moto's DynamoDB requests one at a time (undone with `monkeypatch`)."""
    call_action = DynamoHandler.call_action

    @functools.wraps(call_action)
    def serialized(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return call_action(self, *args, **kwargs)

    monkeypatch.setattr(DynamoHandler, "call_action", serialized)
