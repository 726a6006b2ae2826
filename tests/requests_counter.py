"""Count the DynamoDB requests a client makes, through botocore's event hooks."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


class RequestCounter:
    """Records the operation name of every API call a client makes while registered."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.operations: list[str] = []
        self._id = f"request-counter-{id(self)}"

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.operations.append(model.name)

    def start(self) -> None:
        self._client.meta.events.register("before-call.dynamodb", self._record, unique_id=self._id)

    def stop(self) -> None:
        self._client.meta.events.unregister("before-call.dynamodb", unique_id=self._id)

    @contextmanager
    def measure(self) -> Iterator[list[str]]:
        """The operations made inside the block (filled in when the block ends)."""
        start = len(self.operations)
        calls: list[str] = []
        try:
            yield calls
        finally:
            calls.extend(self.operations[start:])
