"""DynamoDB's Time to Live for the embedded table: items past their expiry are deleted, as a service deletes them.

moto keeps TTL's setting but never deletes anything, so delivery markers and idempotency records piled
up for ever. Here a background sweeper deletes every item whose TTL attribute (a Number, epoch seconds)
lies in the past, a chunk of partitions per hold of the request lock so requests go on in between; each
deletion is journaled like any write and its stream record is a REMOVE marked the way DynamoDB marks TTL
deletions: `userIdentity = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}` (Lambda's event
spells it `{"type": "Service", "principalId": ...}`). As on AWS,
an item past its expiry may still be read until the sweeper reaches it (DynamoDB: typically within days;
here within `interval` seconds), and items expired more than five years ago are left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from local.dynamodb.atomicity import _lock, serialized_write
from local.dynamodb.stream_retention import STREAM_RETENTION_SECONDS, trim_stream

if TYPE_CHECKING:
    from collections.abc import Callable

    from local.dynamodb.journal import Journal

log = logging.getLogger("basketgraph.local.dynamodb")

# As GetRecords carries it (Lambda hands it to the function as {"type", "principalId"}).
TTL_DELETION = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
FIVE_YEARS = 5 * 365 * 24 * 3600


def _expired(value: Any, now: float) -> bool:
    if value is None or value.type != "N":
        return False  # DynamoDB ignores a TTL attribute that is not a Number
    try:
        expires = Decimal(value.value)
    except InvalidOperation:
        return False
    return now - FIVE_YEARS < expires < Decimal(str(now))


class TtlSweeper:
    """Deletes the expired items of `backend`'s table `table_name` every `interval` seconds (`start`/`stop`),
    and trims its stream (`stream_retention.trim_stream`): records at or before `settled(shard_id)` (the
    poller's checkpoint) once `retention` seconds old, telling `journal` so its image drops them too."""

    def __init__(
        self,
        backend: Any,
        table_name: str,
        *,
        interval: float = 5.0,
        chunk: int = 500,
        now: Callable[[], float] = time.time,
        settled: Callable[[str], int | None] = lambda shard_id: None,
        retention: float = STREAM_RETENTION_SECONDS,
        journal: Journal | None = None,
    ) -> None:
        self.backend = backend
        self.table_name = table_name
        self.interval = interval
        self.chunk = chunk
        self.now = now
        self.settled = settled
        self.retention = retention
        self.journal = journal
        self.deleted = 0
        self.trimmed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """One pass over the table; returns the items deleted."""
        table = self.backend.tables.get(self.table_name)
        if table is None or table.ttl.get("TimeToLiveStatus") != "ENABLED":
            return 0
        attribute = table.ttl.get("AttributeName")
        with _lock:
            partitions = list(table.items)
        deleted = 0
        for start in range(0, len(partitions), self.chunk):
            now = self.now()
            with serialized_write(self.backend):
                for hash_key in partitions[start : start + self.chunk]:
                    bucket = table.items.get(hash_key)
                    if bucket is None:
                        continue
                    for item in list(bucket.values()) if isinstance(bucket, dict) else [bucket]:
                        if _expired(item.attrs.get(attribute), now):
                            table.delete_item(hash_key, item.range_key)
                            if table.stream_shard is not None and table.stream_shard.items:
                                table.stream_shard.items[-1].to_json()["userIdentity"] = dict(TTL_DELETION)
                            deleted += 1
        self.deleted += deleted
        self.trim(table)
        return deleted

    def trim(self, table: Any) -> int:
        """Trim the table's stream behind the poller's checkpoint; returns the records dropped."""
        shard = table.stream_shard
        if shard is None:
            return 0
        with _lock:
            trimmed = trim_stream(table, self.now(), settled=self.settled(shard.id), retention=self.retention)
            horizon = shard.starting_sequence_number
        if trimmed and self.journal is not None:
            self.journal.trimmed(self.table_name, horizon)
        self.trimmed += trimmed
        return trimmed

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.sweep()
                except Exception:  # the next pass retries
                    log.exception("TTL sweep failed")

        self._thread = threading.Thread(target=loop, name="dynamodb-ttl", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
