"""How long the embedded DynamoDB keeps its stream: records the poller settled are trimmed, shard iterators expire.

moto keeps every stream record and every shard iterator it ever handed out, in memory, for ever. DynamoDB
keeps a record 24 hours and an iterator 15 minutes. Locally the stream has one reader, the stack's poller,
which never reads behind its checkpoint: a record it settled is needed again only if the checkpoint file is
lost to a power cut before the kernel wrote it back (it is renamed into place, not fsynced; the kernel writes
dirty pages back within 30 s by default). So the embedded stream keeps a settled record
`STREAM_RETENTION_SECONDS` (a minute: that window with room to spare; 5 minutes held ~10,000 records, 7 MB
of image and a VmHWM rising past 500 MB in the soak with 8 LIVE baskets) and an unsettled one until it is
settled (the poller settles every record within the maximum record age,
`store.spec.STREAM_MAX_RECORD_AGE_SECONDS`, dead-lettering it if need be) or 24 hours old, whichever is
first. The journal's image drops what was trimmed here (`Journal.trimmed`), so disk follows memory.

Reading a trimmed position is `TrimmedDataAccessException`, as DynamoDB Streams answers (the poller then
resumes at TRIM_HORIZON); an iterator older than 15 minutes, or among the oldest past `MAX_ITERATORS`, is
`ExpiredIteratorException`.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError

from local.dynamodb.speedups import _for_written_moto

STREAM_RETENTION_SECONDS = 60
"""How long a record the poller settled stays in the embedded stream."""
DYNAMODB_RETENTION_SECONDS = 24 * 3600
"""DynamoDB Streams' retention: no record outlives it, settled or not."""
ITERATOR_LIFETIME_SECONDS = 15 * 60
# Every GetRecords hands out a new iterator (~2 KB here), and the poller calls it several times a second: 15
# minutes of them is tens of MB. Past this many the oldest expire early, which a reader must handle anyway
# (ExpiredIteratorException; the poller re-reads from its checkpoint), and the poller only ever uses its newest.
MAX_ITERATORS = 1000


def trim_stream(table: Any, now: float, *, settled: int | None, retention: float = STREAM_RETENTION_SECONDS) -> int:
    """Drop the records at the head of `table`'s stream that are settled (sequence number ≤ `settled`) and
    older than `retention` seconds, or older than 24 hours; returns how many. Under the request lock.

    The newest record is always kept, so the shard's next sequence number follows on from it.
    """
    shard = table.stream_shard
    if shard is None or len(shard.items) < 2:
        return 0
    settled_before = _naive_utc(now - retention)
    oldest = _naive_utc(now - DYNAMODB_RETENTION_SECONDS)
    old = 0
    for record in shard.items[:-1]:
        change = record.to_json()["dynamodb"]
        created = change["ApproximateCreationDateTime"]
        passed = settled is not None and int(change["SequenceNumber"]) <= settled
        if not (created < oldest or (passed and created < settled_before)):
            break
        old += 1
    if old:
        del shard.items[:old]
        shard.starting_sequence_number += old
    return old


def _naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)  # moto's records carry naive UTC


def _trimmed(sequence_number: int, shard: Any) -> JsonRESTError:
    return JsonRESTError(
        "TrimmedDataAccessException",
        f"sequence number {sequence_number} is before the shard's trim horizon {shard.starting_sequence_number}",
    )


@_for_written_moto
def bounded_streams() -> None:
    """Shard iterators expire after 15 minutes and reading before the trim horizon is refused, as on DynamoDB
    Streams (moto keeps every iterator and asserts on a trimmed read). Idempotent."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    if getattr(DynamoDBStreamsBackend.get_records, "_bounded", False):
        return
    make_iterator = ShardIterator.__init__
    get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    read = ShardIterator.get

    @functools.wraps(make_iterator)
    def timed(self: Any, *args: Any, **kwargs: Any) -> None:
        make_iterator(self, *args, **kwargs)
        self.born = time.monotonic()

    @functools.wraps(get_shard_iterator)
    def checked(self: Any, arn: str, shard_id: str, kind: str, sequence_number: str | None = None) -> Any:
        _expire(self)
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number is not None:
            table = self._get_table_from_arn(arn)
            shard = table.stream_shard
            wanted = int(sequence_number) + (kind == "AFTER_SEQUENCE_NUMBER")
            if shard is not None and wanted < shard.starting_sequence_number:
                raise _trimmed(int(sequence_number), shard)
            sequence_number = int(sequence_number)  # type: ignore[assignment]  # moto adds 1 to it
        return get_shard_iterator(self, arn, shard_id, kind, sequence_number)

    def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        _expire(self)
        iterator = self.shard_iterators.get(iterator_arn)
        if iterator is None:
            raise JsonRESTError("ExpiredIteratorException", "the shard iterator has expired or never existed")
        shard = iterator.stream_shard
        if int(iterator.sequence_number) < shard.starting_sequence_number:
            raise _trimmed(int(iterator.sequence_number), shard)
        return read(iterator, limit)

    get_records._bounded = True  # type: ignore[attr-defined]
    ShardIterator.__init__ = timed  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = checked  # type: ignore[method-assign,assignment]
    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


def _expire(backend: Any) -> None:
    """Forget iterators older than 15 minutes, and the oldest past `MAX_ITERATORS` (the dict holds them oldest
    first)."""
    iterators = backend.shard_iterators
    limit = time.monotonic() - ITERATOR_LIFETIME_SECONDS
    while iterators:
        arn, iterator = next(iter(iterators.items()))
        if getattr(iterator, "born", limit) > limit and len(iterators) <= MAX_ITERATORS:
            break
        del iterators[arn]
