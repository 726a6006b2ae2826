"""Give moto's DynamoDB the per-item atomicity real DynamoDB has.

moto's threaded server runs requests concurrently without a lock, so two conditional writes
(or transactions) can both pass their condition and a cancelled transaction can roll back a
neighbour's write. DynamoDB never does either, so requests are serialized here.
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


def fast_partition_queries() -> None:
    """Let a Query read only the items of its partition (moto sorts every item of the table for each
    Query, which makes the local stack slow down as its table grows). Idempotent.

    Safe because requests are serialized (`serialize_dynamodb_requests`): the narrowed `all_items`
    is visible to this one request only.
    """
    from moto.dynamodb.models.table import Table

    query = Table.query
    if getattr(query, "_partitioned", False):
        return

    def candidates(self: Table, hash_key: Any, index_name: str | None) -> list[Any] | None:
        """The items a Query can match, or None to let moto look at all of them."""
        if hash_key is None:
            return None
        if index_name is None:
            bucket = self.items.get(hash_key)
            return list(bucket.values()) if isinstance(bucket, dict) else None
        index = next((i for i in self.indexes + self.global_indexes if i.name == index_name), None)
        partition = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None) if index else None
        if partition is None:
            return None
        found = []
        for bucket in self.items.values():
            for item in bucket.values() if isinstance(bucket, dict) else [bucket]:
                value = item.attrs.get(partition)
                if value is not None and value == hash_key:
                    found.append(item)
        return found

    @functools.wraps(query)
    def partitioned(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        found = candidates(self, hash_key, index_name)
        if found is None:
            return query(self, hash_key, *args, **kwargs)
        self.all_items = lambda: found  # type: ignore[method-assign]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    partitioned._partitioned = True  # type: ignore[attr-defined]
    Table.query = partitioned  # type: ignore[method-assign]


# Reads whose results are plain DynamoDB JSON already; moto's generic serializer walks the service
# model for every attribute, which dominates the local stack's read latency.
_PLAIN_READS = frozenset({"Query", "GetItem", "BatchGetItem", "Scan"})


def fast_read_responses() -> None:
    """Serialize read results with `json.dumps` instead of moto's model-driven serializer. Idempotent."""
    import json

    from moto.dynamodb.responses import DynamoResult

    serialized = DynamoHandler.serialized
    if getattr(serialized, "_fast", False):
        return

    @functools.wraps(serialized)
    def fast(self: DynamoHandler, action_result: Any) -> Any:
        result = getattr(action_result, "result", None)
        if isinstance(action_result, DynamoResult) and isinstance(result, dict) and self._get_action() in _PLAIN_READS:
            try:
                body = json.dumps(result)
            except TypeError:
                return serialized(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, body
        return serialized(self, action_result)

    fast._fast = True  # type: ignore[attr-defined]
    DynamoHandler.serialized = fast  # type: ignore[method-assign, assignment]
