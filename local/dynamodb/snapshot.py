"""Read a whole table (the P&L engine's start), and load the periodic dumps of earlier versions (`dynamodb.json`).

The stack's durability is the journal (`local.dynamodb.journal`); `dump` remains for tools that want a
one-off copy of a table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.atomic_file import write_atomically

if TYPE_CHECKING:
    from pathlib import Path

BATCH = 25


def items(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the table, DynamoDB-typed (start-up and persistence of the local stack only)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)  # never on a request path
        found.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dump(client: Any, table: str, path: Path) -> int:
    """Write every item (DynamoDB JSON) to `path` atomically; returns the item count."""
    everything = items(client, table)
    # not fsynced: the stack dumps every few seconds, and a power loss may cost the last dump
    write_atomically(path, json.dumps(everything), durable=False)
    return len(everything)


def load(client: Any, table: str, path: Path) -> int:
    """Put back the items of a dump; returns the item count (0 when there is none)."""
    if not path.exists():
        return 0
    restored = json.loads(path.read_text())
    for start in range(0, len(restored), BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in restored[start : start + BATCH]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(restored)
