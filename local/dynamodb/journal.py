"""Make the embedded DynamoDB durable: a journal of applied writes, fsynced with group commit, over an image.

What is journaled is what moto *applied*, not what was asked: after each request that succeeded, the
stream records it added (the table's stream is NEW_AND_OLD_IMAGES, so each carries the item's keys and
its new image, or none for a removal). A condition failure or a cancelled transaction adds no record and
so writes nothing; a transaction writes all its records in one journal line. Replaying a line puts back
the new images and the stream records themselves, with their sequence numbers, event ids and times, so
the stream after a restart is the stream before it and the poller's checkpoints line up (records after
the last checkpoint are delivered again, as Lambda would; publishing is idempotent per record).

Durability: a request's response leaves moto only once its line is fsynced (`wait_durable`, outside the
request lock, so one fsync covers every request that finished meanwhile: group commit). Reads wait for
everything applied before them, so nothing acts on a write that could still be lost.

Compaction never holds the request lock: the journal rolls to a new segment when it grows past
`segment_bytes` or gets older than `segment_seconds`, and a background thread folds the last image and the
closed segments into a new image file, then deletes those segments. Stream records the embedded stream has
trimmed (`stream_retention`: settled by the poller and a few minutes old, or past DynamoDB's 24 hours) are
dropped from the image too.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from local.atomic_file import write_atomically
from local.dynamodb.stream_retention import DYNAMODB_RETENTION_SECONDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

log = logging.getLogger("basketgraph.local.dynamodb")

SEGMENT_BYTES = 8 * 1024 * 1024
# A segment is also rolled (and folded into the image) once this old, so the state directory is the image and
# at most about a minute of journal, and the stream records trimmed meanwhile leave the disk as they leave memory.
SEGMENT_SECONDS = 60.0
TRIM_EVERY = 1000  # entries read between trims of the stream records, so a compaction holds few at a time
IMAGE = "image.json"


def _segment_name(number: int) -> str:
    return f"journal-{number:08d}.log"


def _segments(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob("journal-*.log"):
        with contextlib.suppress(ValueError):
            found.append((int(path.stem.split("-")[1]), path))
    return sorted(found)


def _epoch(value: Any) -> float | str:
    """JSON for what stream records hold besides JSON: times as epoch seconds, binary (B/BS) as DynamoDB's wire
    form, base64 text, which moto's model takes back as it takes a request's."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class TableState:
    """A table as the journal knows it: items by key, the stream's records, the stream's label."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.label: str | None = None

    def apply(self, entry: dict[str, Any]) -> None:
        self.label = entry.get("label") or self.label
        for record in entry["records"]:
            change = record["dynamodb"]
            key = json.dumps(change["Keys"], sort_keys=True)
            if record["eventName"] == "REMOVE":
                self.items.pop(key, None)
            else:
                self.items[key] = change["NewImage"]
            self.records.append(record)

    def trim(self, now: float, horizon: int | None = None) -> None:
        """Drop the records before sequence number `horizon` (what the embedded stream trimmed) or past 24 h."""
        oldest = now - DYNAMODB_RETENTION_SECONDS
        keep = next(
            (
                i
                for i, r in enumerate(self.records)
                if r["dynamodb"]["ApproximateCreationDateTime"] >= oldest
                and (horizon is None or int(r["dynamodb"]["SequenceNumber"]) >= horizon)
            ),
            len(self.records),
        )
        if keep:
            # keep the last record so the stream's next sequence number follows on from it
            del self.records[: min(keep, len(self.records) - 1)]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "items": list(self.items.values()), "records": self.records}

    @classmethod
    def from_json(cls, data: dict[str, Any], key_names: Iterable[str] | None = None) -> TableState:
        state = cls()
        state.label = data.get("label")
        state.records = list(data.get("records", []))
        for item in data.get("items", []):
            names = list(key_names or [])
            state.items[json.dumps({n: item[n] for n in names if n in item}, sort_keys=True)] = item
        return state


def read_state(directory: Path) -> tuple[dict[str, TableState], int]:
    """The tables as the image and the whole journal after it leave them, and the last segment folded in."""
    return _read_upto(directory, None)


def _entries(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as lines:
        for line in lines:
            if not line.endswith(b"\n"):
                return  # the torn tail of a crash mid-write: never acknowledged
            yield from json.loads(line)


def write_image(
    directory: Path, tables: dict[str, TableState], folded: int, horizons: dict[str, int] | None = None
) -> None:
    """The image of `tables` through segment `folded`, without the stream records before `horizons[table]`."""
    now = time.time()
    body: dict[str, Any] = {"folded": folded, "tables": {}}
    for name, table in tables.items():
        table.trim(now, (horizons or {}).get(name))
        data = table.to_json()
        if table.items:
            data["keyNames"] = sorted(json.loads(next(iter(table.items))))
        body["tables"][name] = data
    write_atomically(directory / IMAGE, json.dumps(body, separators=(",", ":")))


class Journal:
    """The append-only journal of one embedded DynamoDB (`directory` holds its image and segments).

    `install(backend)` puts the saved state into moto's tables and starts observing requests
    (`atomicity.observe_requests`); `close()` fsyncs and stops.
    """

    def __init__(
        self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES, segment_seconds: float = SEGMENT_SECONDS
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self._opened = time.monotonic()
        directory.mkdir(parents=True, exist_ok=True)
        self._cond = threading.Condition()
        self._written = 0  # tickets: lines written to the OS
        self._synced = 0  # lines known fsynced
        self._syncing = False
        self._fd: int | None = None
        self._size = 0
        self._segment = 0
        self._compacting: threading.Thread | None = None
        self.restored_items = 0
        self.fsyncs = 0
        self._horizons: dict[str, int] = {}  # table -> first sequence number its embedded stream still holds

    # -- start -------------------------------------------------------------------------------------

    def install(self, backend: Any) -> int:
        """Load the saved state into `backend`'s (already created) tables; returns the items restored."""
        from local.dynamodb.atomicity import _lock, observe_requests

        tables, folded = read_state(self.directory)
        with _lock:
            for name, state in tables.items():
                table = backend.tables.get(name)
                if table is None:
                    log.warning("journal holds table %s, which does not exist; its items are ignored", name)
                    continue
                _restore_table(table, state)
                self.restored_items += len(state.items)
        last = _segments(self.directory)
        self._segment = max([folded, *(number for number, _ in last)]) + 1
        self._open_segment()
        observe_requests(self)
        if last:
            self._compact_async()
        return self.restored_items

    def _open_segment(self) -> None:
        path = self.directory / _segment_name(self._segment)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = 0
        self._opened = time.monotonic()
        _fsync_dir(self.directory)

    # -- the request observer ----------------------------------------------------------------------

    def before(self, backend: Any) -> dict[str, int]:
        return {
            name: len(table.stream_shard.items)
            for name, table in backend.tables.items()
            if table.stream_shard is not None
        }

    def after(self, backend: Any, before: dict[str, int] | None, succeeded: bool) -> int:
        """Journal what the request added to the streams (under the request lock); returns its ticket."""
        # `succeeded` is not consulted: a refused condition or a cancelled transaction adds no stream record
        # (moto's rollback, `speedups.fast_transactions`, truncates them), and anything a failing request
        # did leave applied in memory must be on disk too, or memory and journal would part ways.
        if backend is None or before is None:
            with self._cond:
                return self._written
        entries = []
        for name, table in backend.tables.items():
            shard = table.stream_shard
            start = before.get(name, 0)
            if shard is not None and len(shard.items) > start:
                records = [record.to_json() for record in shard.items[start:]]
                entries.append({"table": name, "label": table.latest_stream_label, "records": records})
        if not entries:
            with self._cond:
                return self._written
        return self.append(entries)

    def append(self, entries: list[dict[str, Any]]) -> int:
        line = (json.dumps(entries, default=_epoch, separators=(",", ":")) + "\n").encode()
        with self._cond:
            while self._syncing and self._full(len(line)):
                self._cond.wait()  # roll over only between fsyncs
            if self._size and self._full(len(line)):
                self._roll()
            if self._fd is None:
                raise RuntimeError("the journal is closed")
            os.write(self._fd, line)
            self._size += len(line)
            self._written += 1
            return self._written

    def _full(self, adding: int) -> bool:
        """Whether the segment is to be rolled before `adding` more bytes (too big, or too old)."""
        return self._size + adding > self.segment_bytes or time.monotonic() - self._opened > self.segment_seconds

    def wait_durable(self, ticket: int) -> None:
        """Return once line `ticket` (and all before it) is fsynced; one fsync serves every waiter."""
        with self._cond:
            while self._synced < ticket:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                target, fd = self._written, self._fd
                self._cond.release()
                try:
                    if fd is not None:
                        os.fdatasync(fd)
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self.fsyncs += 1
                    self._synced = max(self._synced, target)
                    self._cond.notify_all()

    def trimmed(self, table_name: str, horizon: int) -> None:
        """The embedded stream of `table_name` now starts at sequence number `horizon`: the next image drops
        the records before it."""
        with self._cond:
            self._horizons[table_name] = max(horizon, self._horizons.get(table_name, 0))

    # -- segments and compaction -------------------------------------------------------------------

    def _roll(self) -> None:
        """Close the full segment (fsynced) and open the next; a compaction folds the closed ones."""
        if self._fd is None:
            raise RuntimeError("the journal is closed")
        os.fdatasync(self._fd)
        os.close(self._fd)
        self._synced = self._written
        self._segment += 1
        self._open_segment()
        self._compact_async()

    def _compact_async(self) -> None:
        if self._compacting is not None and self._compacting.is_alive():
            return
        upto = self._segment - 1
        self._compacting = threading.Thread(target=self.compact, args=(upto,), name="journal-compact", daemon=True)
        self._compacting.start()

    def compact(self, upto: int) -> None:
        """Fold the image and segments ≤ `upto` into a new image, then delete them (reads files only)."""
        try:
            with self._cond:
                horizons = dict(self._horizons)
            tables, folded = _read_upto(self.directory, upto, horizons)
            if upto <= folded:
                return
            write_image(self.directory, tables, upto, horizons)
            for number, path in _segments(self.directory):
                if number <= upto:
                    path.unlink(missing_ok=True)
            log.info("journal compacted through segment %d", upto)
        except Exception:  # the journal still holds everything; the next roll retries
            log.exception("journal compaction failed")

    def wait_compacted(self, timeout: float = 30.0) -> None:
        if self._compacting is not None:
            self._compacting.join(timeout)

    def close(self) -> None:
        from local.dynamodb.atomicity import current_observer, observe_requests

        if current_observer() is self:
            observe_requests(None)
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self._fd is not None:
                os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = None
            self._synced = self._written
        self.wait_compacted()


def _read_upto(
    directory: Path, upto: int | None, horizons: dict[str, int] | None = None
) -> tuple[dict[str, TableState], int]:
    """The image and the segments after it through `upto` (None: all); with `horizons`, the stream records
    before each table's horizon are dropped as the segments are read, so few are held at once."""
    tables: dict[str, TableState] = {}
    folded = 0
    image = directory / IMAGE
    if image.exists():
        data = json.loads(image.read_text(encoding="utf-8"))
        folded = int(data["folded"])
        tables = {n: TableState.from_json(t, t.get("keyNames")) for n, t in data["tables"].items()}
    now = time.time()
    read = 0
    for number, path in _segments(directory):
        if number > folded and (upto is None or number <= upto):
            for entry in _entries(path):
                tables.setdefault(entry["table"], TableState()).apply(entry)
                read += 1
                if horizons is not None and read % TRIM_EVERY == 0:
                    for name, table in tables.items():
                        table.trim(now, horizons.get(name))
    return tables, folded


class _RestoredRecord:
    """A stream record put back from the journal (moto's shard only calls `to_json`)."""

    __slots__ = ("record",)

    def __init__(self, record: dict[str, Any]) -> None:
        change = dict(record["dynamodb"])
        change["ApproximateCreationDateTime"] = datetime.fromtimestamp(
            change["ApproximateCreationDateTime"], UTC
        ).replace(tzinfo=None)  # moto's own records carry naive UTC
        self.record = {**record, "dynamodb": change}

    def to_json(self) -> dict[str, Any]:
        return self.record


def _restore_table(table: Any, state: TableState) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    for image in state.items.values():
        hash_value = DynamoType(image[table.hash_key_attr])
        if table.range_key_attr:
            range_value = DynamoType(image[table.range_key_attr])
            table.items[hash_value][range_value] = Item(hash_value, range_value, image)
        else:
            table.items[hash_value] = Item(hash_value, None, image)
    shard = table.stream_shard
    if shard is not None and state.records:
        shard.starting_sequence_number = int(state.records[0]["dynamodb"]["SequenceNumber"])
        shard.items = [_RestoredRecord(record) for record in state.records]
    if state.label and table.latest_stream_label:
        table.latest_stream_label = state.label  # the same stream ARN, so the poller's checkpoints still apply


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
