"""Deliver a DynamoDB stream to a Lambda handler the way an event-source mapping does, without Docker.

moto's own event-source mappings need Docker and drop records silently, so the local stack polls the
stream here and calls the production stream handler in-process. Semantics follow Lambda's DynamoDB
event-source mapping: shards in lineage order, records in order within a shard, batches of up to
`batch_size`, `ReportBatchItemFailures`, bisect-on-error, bounded retries and an on-failure store.
Checkpoints are persisted, so a restarted stack resumes after the last settled record.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("basketgraph.local.streams")

StreamHandler = Callable[[dict[str, Any], Any], Any]
# Shards change only when the stream rotates them; re-listing them for every poll costs a request.
SHARD_REFRESH_SECONDS = 1.0

DEFAULT_FUNCTION_NAME = "basketgraph-streams"
MAX_GET_RECORDS = 1000  # DynamoDB Streams' GetRecords limit
MAX_RETRY_DELAY = 5.0


@dataclass
class StreamContext:
    """The Lambda context attributes a stream handler (and powertools' Logger) reads."""

    function_name: str = DEFAULT_FUNCTION_NAME
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:ap-south-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def stream_arn(dynamodb_client: Any, table_name: str) -> str:
    """The table's latest stream ARN (DescribeTable → LatestStreamArn).

    Raises
    ------
    LookupError
        The table has no stream enabled.
    """
    table = dynamodb_client.describe_table(TableName=table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn or not table.get("StreamSpecification", {}).get("StreamEnabled", True):
        raise LookupError(f"table {table_name} has no stream enabled")
    return str(arn)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse to open directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace `path` with `text` so a crash leaves either the old or the new file, never half of one.

    `durable=False` skips the fsyncs: after a power loss the file may be the previous version (fine
    for checkpoints: records after an older checkpoint are delivered again, and publishing is
    idempotent), at a fraction of the cost per batch.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


def _failed_ids(reply: Any) -> list[str] | None:
    """The `itemIdentifier`s of a ReportBatchItemFailures reply; [] for success, None if the reply is malformed."""
    if reply is None or not isinstance(reply, Mapping):
        return []
    failures = reply.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    ids = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            return None
        ids.append(identifier)
    return ids


DeadLetters = list[dict[str, Any]]


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class DeadLetterStore:
    """Records a stream handler gave up on, as JSON lines of `{record, error, failedAt, attempts}`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def add(self, record: Mapping[str, Any], error: str, attempts: int) -> None:
        """Append one dead record (one line, flushed and fsynced before returning)."""
        line = json.dumps({"record": record, "error": error, "failedAt": _now_iso(), "attempts": attempts})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as out:
                if out.seek(0, os.SEEK_END) > 0:
                    out.seek(-1, os.SEEK_END)
                    if out.read(1) != b"\n":
                        line = "\n" + line  # a crash tore the last line; keep this one whole
                out.write((line + "\n").encode())
                out.flush()
                os.fsync(out.fileno())

    def list(self) -> DeadLetters:
        """Every dead record, oldest first."""
        with self._lock:
            return self._read()

    def __len__(self) -> int:
        return len(self.list())

    def _read(self) -> DeadLetters:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                # only a crash mid-append leaves a torn line, and it can only be the last one
                log.warning("skipping unreadable dead-letter line %d of %s", number, self.path)
        return entries

    def replay(self, handler: StreamHandler, *, function_name: str = DEFAULT_FUNCTION_NAME) -> tuple[int, int]:
        """Re-invoke `handler` with each dead record (one per batch); drop the ones that now succeed.

        A record still failing stays, with its error, time and attempt count updated. Records dead-lettered
        while the replay runs are kept.

        Returns
        -------
        (replayed, still_failing)
        """
        with self._lock:
            entries = self._read()
        outcomes: list[dict[str, Any] | None] = []
        for entry in entries:
            record = entry["record"]
            event = {"Records": [record]}
            error: str | None = None
            try:
                ids = _failed_ids(handler(event, StreamContext(function_name)))
                if ids is None:
                    error = "malformed batchItemFailures reply"
                elif ids:
                    error = "reported in batchItemFailures"
            except Exception as exc:  # the handler's failure is the outcome being recorded
                error = _error_text(exc)
            if error is None:
                outcomes.append(None)
                log.info("replayed dead record %s", record.get("dynamodb", {}).get("SequenceNumber"))
            else:
                outcomes.append(
                    {**entry, "error": error, "failedAt": _now_iso(), "attempts": int(entry.get("attempts", 0)) + 1}
                )
        with self._lock:
            appended = self._read()[len(entries) :]
            kept = [outcome for outcome in outcomes if outcome is not None] + appended
            _write_atomically(self.path, "".join(json.dumps(entry) + "\n" for entry in kept))
        still_failing = sum(1 for outcome in outcomes if outcome is not None)
        return len(entries) - still_failing, still_failing


class _Stopped(Exception):
    """The poller was asked to stop while waiting to retry."""


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    closed: bool


class StreamPoller:
    """Polls one DynamoDB stream and invokes `handler` with Lambda's DynamoDB stream events.

    Parameters
    ----------
    streams_client
        A `dynamodbstreams` client.
    stream_arn
        The stream to read (see `stream_arn()`).
    handler
        `handler(event, context)`; returns `{"batchItemFailures": [{"itemIdentifier": seq}]}` or None, or raises.
    batch_size
        Most records per invocation.
    max_retries
        Retries of a failing record (or unsplittable batch) before it is dead-lettered.
    bisect_on_error
        Split a batch whose invocation raised and retry the halves (splits don't count as retries).
    dead_letters
        Where records the handler gave up on go.
    poll_interval
        Seconds between polls of an idle stream (background thread).
    function_name
        The Lambda name the context reports.
    checkpoint_path
        JSON file of per-shard checkpoints; defaults to `<function_name>.checkpoints.json` beside the
        dead-letter file.
    retry_delay
        First wait before a retry, doubling per attempt (capped at 5 s).
    """

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        handler: StreamHandler,
        *,
        batch_size: int = 100,
        max_retries: int = 3,
        bisect_on_error: bool = True,
        dead_letters: DeadLetterStore,
        poll_interval: float = 0.2,
        function_name: str = DEFAULT_FUNCTION_NAME,
        checkpoint_path: Path | None = None,
        retry_delay: float = 0.1,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.streams = streams_client
        self.stream_arn = stream_arn
        self.handler = handler
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.bisect_on_error = bisect_on_error
        self.dead_letters = dead_letters
        self.poll_interval = poll_interval
        self.function_name = function_name
        self.retry_delay = retry_delay
        self.checkpoint_path = checkpoint_path or dead_letters.path.parent / f"{function_name}.checkpoints.json"
        self.region = stream_arn.split(":")[3] if stream_arn.count(":") >= 5 else "ap-south-1"
        self._checkpoints, self._finished = self._load_checkpoints()
        self._iterators: dict[str, str] = {}
        self._shard_list: tuple[float, list[_Shard]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None

    # -- checkpoints ------------------------------------------------------------------------------

    def _load_checkpoints(self) -> tuple[dict[str, str], set[str]]:
        try:
            state = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}, set()
        if state.get("streamArn") != self.stream_arn:
            # a recreated table has a new stream; the old positions mean nothing there
            log.info("checkpoints in %s are for another stream; starting at TRIM_HORIZON", self.checkpoint_path)
            return {}, set()
        return dict(state.get("shards", {})), set(state.get("finishedShards", []))

    def _save_checkpoints(self) -> None:
        state = {"streamArn": self.stream_arn, "shards": self._checkpoints, "finishedShards": sorted(self._finished)}
        _write_atomically(self.checkpoint_path, json.dumps(state, indent=1), durable=False)

    def _checkpoint(self, shard_id: str, sequence_number: str) -> None:
        self._checkpoints[shard_id] = sequence_number
        self._save_checkpoints()

    @property
    def checkpoints(self) -> dict[str, str]:
        """Shard id → sequence number of the last settled record (delivered or dead-lettered)."""
        return dict(self._checkpoints)

    # -- reading ----------------------------------------------------------------------------------

    def _shards(self) -> list[_Shard]:
        """The stream's shards, each parent before its children (described at most once a second)."""
        now = time.monotonic()
        if self._shard_list is None or now - self._shard_list[0] >= SHARD_REFRESH_SECONDS:
            self._shard_list = (now, self._describe_shards())
        return self._shard_list[1]

    def _describe_shards(self) -> list[_Shard]:
        shards: list[_Shard] = []
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                shards.append(
                    _Shard(
                        shard_id=shard["ShardId"],
                        parent_id=shard.get("ParentShardId"),
                        closed="EndingSequenceNumber" in shard.get("SequenceNumberRange", {}),
                    )
                )
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        known = {shard.shard_id: shard for shard in shards}
        ordered: list[_Shard] = []
        placed: set[str] = set()

        def place(shard: _Shard) -> None:
            if shard.shard_id in placed:
                return
            placed.add(shard.shard_id)
            if shard.parent_id in known:
                place(known[shard.parent_id])
            ordered.append(shard)

        for shard in shards:
            place(shard)
        return ordered

    def _iterator(self, shard_id: str) -> str | None:
        if shard_id in self._iterators:
            return self._iterators[shard_id]
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        checkpoint = self._checkpoints.get(shard_id)
        if checkpoint:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=checkpoint)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        try:
            iterator: str | None = self.streams.get_shard_iterator(**kwargs).get("ShardIterator")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TrimmedDataAccessException" or not checkpoint:
                raise
            # Lambda does the same: the checkpoint fell off the 24h window, so start from what is left
            log.warning("checkpoint %s of shard %s was trimmed; resuming at TRIM_HORIZON", checkpoint, shard_id)
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            ).get("ShardIterator")
        if iterator:
            self._iterators[shard_id] = iterator
        return iterator

    def _read_batch(self, shard_id: str) -> tuple[list[dict[str, Any]], bool]:
        """Up to `batch_size` records of the shard; the flag says the shard is closed and fully read."""
        records: list[dict[str, Any]] = []
        while len(records) < self.batch_size:
            iterator = self._iterator(shard_id)
            if iterator is None:
                return records, True
            try:
                reply = self.streams.get_records(
                    ShardIterator=iterator, Limit=min(MAX_GET_RECORDS, self.batch_size - len(records))
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                    raise
                self._iterators.pop(shard_id, None)  # resume from the checkpoint on the next read
                if records:
                    return records, False
                continue
            next_iterator = reply.get("NextShardIterator")
            if next_iterator:
                self._iterators[shard_id] = next_iterator
            else:
                self._iterators.pop(shard_id, None)
            fresh = [self._lambda_record(record) for record in reply.get("Records", [])]
            records.extend(fresh)
            if next_iterator is None:
                return records, True
            if not fresh:
                break
        return records, False

    def _lambda_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A GetRecords record as Lambda hands it over: epoch-second timestamps, base64 binaries, the ARN."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        for image in ("Keys", "NewImage", "OldImage"):
            if image in change:
                change[image] = {name: _json_attribute(value) for name, value in change[image].items()}
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,  # moto reports us-east-1 whatever the region
            "dynamodb": change,
            "eventSourceARN": self.stream_arn,
        }

    # -- delivering -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Deliver everything the stream holds now; returns how many records were settled.

        A record is settled once: either a handler invocation accepted it, or it was dead-lettered.
        """
        with self._lock:
            return sum(self._drain(shard, deliver=True) for shard in self._readable_shards())

    def skip_to_end(self) -> int:
        """Checkpoint past everything the stream holds now without invoking the handler; returns how many.

        For a stream whose records are not news: a fresh embedded table refilled from a snapshot.
        """
        with self._lock:
            skipped = sum(self._drain(shard, deliver=False) for shard in self._readable_shards())
        log.info("skipped %d existing records of %s", skipped, self.stream_arn)
        return skipped

    def _readable_shards(self) -> Iterator[_Shard]:
        """Unfinished shards in lineage order, each yielded once its parent is drained."""
        shards = self._shards()
        listed = {shard.shard_id for shard in shards}
        for shard in shards:
            if shard.shard_id in self._finished:
                continue
            # evaluated lazily, so a child follows a parent drained in the same pass; a parent trimmed
            # away holds nothing back
            if shard.parent_id in listed and shard.parent_id not in self._finished:
                continue
            yield shard

    def _drain(self, shard: _Shard, *, deliver: bool) -> int:
        settled = 0
        while not self._stop.is_set():
            records, exhausted = self._read_batch(shard.shard_id)
            if records and not deliver:
                self._checkpoint(shard.shard_id, records[-1]["dynamodb"]["SequenceNumber"])
            elif records:
                try:
                    self._deliver(shard.shard_id, records)
                except _Stopped:
                    self._iterators.pop(shard.shard_id, None)  # re-read from the checkpoint next time
                    raise
            settled += len(records)
            if exhausted:
                self._finished.add(shard.shard_id)
                self._shard_list = None  # its children may be listed by now
                self._save_checkpoints()
                log.info("shard %s is closed and drained", shard.shard_id)
                break
            if not records:
                break
        return settled

    def _invoke(self, records: list[dict[str, Any]]) -> Any:
        return self.handler({"Records": records}, StreamContext(self.function_name))

    def _wait_before_retry(self, failures: int) -> None:
        delay = min(MAX_RETRY_DELAY, self.retry_delay * 2 ** (failures - 1))
        if delay > 0 and self._stop.wait(delay):
            raise _Stopped

    def _dead_letter(self, shard_id: str, records: list[dict[str, Any]], error: str, attempts: int) -> None:
        for record in records:
            self.dead_letters.add(record, error, attempts)
            log.error(
                "dead-lettered record %s of shard %s after %d attempts: %s",
                record["dynamodb"]["SequenceNumber"],
                shard_id,
                attempts,
                error,
            )
        self._checkpoint(shard_id, records[-1]["dynamodb"]["SequenceNumber"])

    def _attempt(self, shard_id: str, pending: list[dict[str, Any]]) -> int | str | None:
        """Invoke once: None if every record was accepted, the index of the first reported failure,
        or the function error's text (a raise, or a reply Lambda would reject)."""
        try:
            ids = _failed_ids(self._invoke(pending))
        except Exception as exc:  # any handler failure is a function error, as Lambda sees it
            log.warning("%s raised on %d records of shard %s: %s", self.function_name, len(pending), shard_id, exc)
            return _error_text(exc)
        if ids is None:
            return "malformed batchItemFailures reply"
        if not ids:
            return None
        positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(pending)}
        if not all(identifier in positions for identifier in ids):
            return "batchItemFailures names a record outside the batch"
        return min(positions[identifier] for identifier in ids)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Invoke until every record is accepted or dead-lettered, checkpointing as the batch advances."""
        pending = records
        failures = 0  # failed invocations whose first record is pending[0]
        while pending:
            outcome = self._attempt(shard_id, pending)
            if outcome is None:
                self._checkpoint(shard_id, pending[-1]["dynamodb"]["SequenceNumber"])
                log.debug("delivered %d records of shard %s", len(pending), shard_id)
                return

            if isinstance(outcome, int):  # ReportBatchItemFailures: keep what came before, retry from there
                if outcome > 0:
                    self._checkpoint(shard_id, pending[outcome - 1]["dynamodb"]["SequenceNumber"])
                    pending = pending[outcome:]
                    failures = 0
                failures += 1
                head = pending[0]["dynamodb"]["SequenceNumber"]
                log.warning("record %s of shard %s reported failed (attempt %d)", head, shard_id, failures)
                if failures > self.max_retries:
                    self._dead_letter(shard_id, pending[:1], "reported in batchItemFailures", failures)
                    pending = pending[1:]
                    failures = 0
                else:
                    self._wait_before_retry(failures)
                continue

            if self.bisect_on_error and len(pending) > 1:
                middle = len(pending) // 2
                log.info("bisecting %d records of shard %s", len(pending), shard_id)
                self._deliver(shard_id, pending[:middle])
                self._deliver(shard_id, pending[middle:])
                return
            failures += 1
            if failures > self.max_retries:
                self._dead_letter(shard_id, pending, outcome, failures)
                return
            self._wait_before_retry(failures)

    # -- background thread ------------------------------------------------------------------------

    def start(self) -> None:
        """Poll from a daemon thread until `stop()`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"{self.function_name}-poller", daemon=True)
        self._thread.start()
        log.info("polling %s for %s", self.stream_arn, self.function_name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            settled = 0
            try:
                settled = self.run_once()
                if settled:
                    log.info("%s settled %d stream records", self.function_name, settled)
            except _Stopped:
                break
            except Exception:  # a failed poll (moto restarting, a network blip) must not end the thread
                log.exception("polling %s failed; retrying", self.stream_arn)
                self._iterators.clear()
                self._shard_list = None
            if not settled:
                self._wakeup.wait(self.poll_interval)
                self._wakeup.clear()

    def wake(self) -> None:
        """Poll now rather than after `poll_interval` (call after a write to the table; any thread).

        AWS's event source mapping polls continuously; the local poller sleeps between empty polls
        to spare the embedded DynamoDB, so the stack wakes it when it writes.
        """
        self._wakeup.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the invocation in flight; unsettled records are re-read on the next start."""
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                log.warning("%s poller still busy after %.0f s; leaving it to exit", self.function_name, timeout)
                return
            self._thread = None
        self._stop.clear()  # run_once() works again after a stop


def _json_attribute(value: Any) -> Any:
    """An AttributeValue as JSON carries it (botocore decodes B and BS to bytes; Lambda sends base64)."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if kind == "B" and isinstance(inner, bytes | bytearray):
            out[kind] = base64.b64encode(inner).decode("ascii")
        elif kind == "BS":
            out[kind] = [
                base64.b64encode(item).decode("ascii") if isinstance(item, bytes | bytearray) else item
                for item in inner
            ]
        elif kind == "M":
            out[kind] = {name: _json_attribute(item) for name, item in inner.items()}
        elif kind == "L":
            out[kind] = [_json_attribute(item) for item in inner]
        else:
            out[kind] = inner
    return out


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
