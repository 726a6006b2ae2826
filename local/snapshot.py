"""Keep the embedded DynamoDB's data across restarts: dump the table to the state directory, load it back."""

from __future__ import annotations

import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

BATCH = 25


def dump(client: Any, table: str, path: Path) -> int:
    """Write every item (DynamoDB JSON) to `path` atomically; returns the item count."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)  # persistence of a local store, never a request path
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(items, out)
    os.replace(tmp, path)
    return len(items)


def load(client: Any, table: str, path: Path) -> int:
    """Put back the items of a dump; returns the item count (0 when there is none)."""
    if not path.exists():
        return 0
    items = json.loads(path.read_text())
    for start in range(0, len(items), BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)
