"""Deliver a DynamoDB stream to a Lambda handler the way an event-source mapping does, without Docker.

moto's own event-source mappings need Docker and drop records silently, so the local stack polls the
stream here and calls the production stream handler in-process. Semantics follow Lambda's DynamoDB
event-source mapping: shards in lineage order, records in order within a shard, batches of up to
`batch_size`, `ReportBatchItemFailures`, bisect-on-error, bounded retries, a maximum record age (records older
are not handed over but go to the on-failure store, as Lambda sends them to its on-failure destination) and an
on-failure store. Checkpoints are persisted, so a restarted stack resumes after the last settled record.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from local.lambda_context import LambdaContext
from local.streams.checkpoints import CheckpointFile
from local.streams.invocation import DEFAULT_FUNCTION_NAME, error_text, failed_ids
from local.streams.records import lambda_record
from local.streams.shards import describe_shards

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from local.streams.dead_letters import DeadLetterStore
    from local.streams.invocation import StreamHandler
    from local.streams.shards import Shard

log = logging.getLogger("basketgraph.local.streams")

# Shards change only when the stream rotates them; re-listing them for every poll costs a request.
SHARD_REFRESH_SECONDS = 1.0

MAX_GET_RECORDS = 1000  # DynamoDB Streams' GetRecords limit
MAX_RETRY_DELAY = 5.0
TRIMMED = "TrimmedDataAccessException"
RECORD_TOO_OLD = "record older than the maximum record age"


class _Summary:
    """Routine batches are DEBUG; INFO gets one line a minute saying how much was settled, and only if any was."""

    interval = 60.0

    def __init__(self) -> None:
        self.records = 0
        self.batches = 0
        self.since = time.monotonic()

    def add(self, settled: int, function_name: str) -> None:
        if settled:
            self.records += settled
            self.batches += 1
        now = time.monotonic()
        if now - self.since < self.interval:
            return
        if self.records:
            log.info(
                "%s settled %d stream records in %d batches in the last %.0f s",
                function_name,
                self.records,
                self.batches,
                now - self.since,
            )
        self.records = self.batches = 0
        self.since = now


class _Stopped(Exception):
    """The poller was asked to stop while waiting to retry."""


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
    max_record_age
        Seconds after its creation a record is still handed to the handler (the mapping's
        MaximumRecordAgeInSeconds, `store.spec.STREAM_MAX_RECORD_AGE_SECONDS` on AWS); None: no limit.
    now
        The wall clock the records' `ApproximateCreationDateTime` is compared with.
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
        max_record_age: float | None = None,
        now: Callable[[], float] = time.time,
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
        self.max_record_age = max_record_age
        self.now = now
        self.checkpoint_path = checkpoint_path or dead_letters.path.parent / f"{function_name}.checkpoints.json"
        self.region = stream_arn.split(":")[3] if stream_arn.count(":") >= 5 else "ap-south-1"
        self._checkpoint_file = CheckpointFile(self.checkpoint_path, stream_arn)
        self._checkpoints, self._finished = self._checkpoint_file.load()
        self._iterators: dict[str, str] = {}
        self._shard_list: tuple[float, list[Shard]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None
        self._summary = _Summary()

    # -- checkpoints ------------------------------------------------------------------------------

    def _save_checkpoints(self) -> None:
        self._checkpoint_file.save(self._checkpoints, self._finished)

    def _checkpoint(self, shard_id: str, sequence_number: str) -> None:
        self._checkpoints[shard_id] = sequence_number
        self._save_checkpoints()

    @property
    def checkpoints(self) -> dict[str, str]:
        """Shard id → sequence number of the last settled record (delivered or dead-lettered)."""
        return dict(self._checkpoints)

    # -- reading ----------------------------------------------------------------------------------

    def _shards(self) -> list[Shard]:
        """The stream's shards, each parent before its children (described at most once a second)."""
        now = time.monotonic()
        if self._shard_list is None or now - self._shard_list[0] >= SHARD_REFRESH_SECONDS:
            self._shard_list = (now, describe_shards(self.streams, self.stream_arn))
        return self._shard_list[1]

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
            if exc.response.get("Error", {}).get("Code") != TRIMMED or not checkpoint:
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
                if exc.response.get("Error", {}).get("Code") not in ("ExpiredIteratorException", TRIMMED):
                    raise
                # resume from the checkpoint on the next read (from TRIM_HORIZON if that was trimmed too)
                self._iterators.pop(shard_id, None)
                if records:
                    return records, False
                continue
            next_iterator = reply.get("NextShardIterator")
            if next_iterator:
                self._iterators[shard_id] = next_iterator
            else:
                self._iterators.pop(shard_id, None)
            fresh = [lambda_record(record, self.stream_arn, self.region) for record in reply.get("Records", [])]
            records.extend(fresh)
            if next_iterator is None:
                return records, True
            if not fresh:
                break
        return records, False

    # -- delivering -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Deliver everything the stream holds now; returns how many records were settled.

        A record is settled once: either a handler invocation accepted it, or it was dead-lettered.
        """
        with self._lock:
            return sum(self._drain(shard, deliver=True) for shard in self._readable_shards())

    @property
    def has_checkpoints(self) -> bool:
        """Whether a checkpoint of this stream was loaded (or taken since)."""
        return bool(self._checkpoints or self._finished)

    def skip_to_end(self) -> int:
        """Checkpoint past everything the stream holds now without invoking the handler; returns how many.

        For a stream whose records are not news: a fresh embedded table refilled from a snapshot.
        """
        with self._lock:
            skipped = sum(self._drain(shard, deliver=False) for shard in self._readable_shards())
        log.info("skipped %d existing records of %s", skipped, self.stream_arn)
        return skipped

    def _readable_shards(self) -> Iterator[Shard]:
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

    def _drain(self, shard: Shard, *, deliver: bool) -> int:
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
        return self.handler({"Records": records}, LambdaContext(self.function_name))

    def _wait_before_retry(self, failures: int) -> None:
        delay = min(MAX_RETRY_DELAY, self.retry_delay * 2 ** (failures - 1))
        if delay > 0 and self._stop.wait(delay):
            raise _Stopped

    def _dead_letter(self, shard_id: str, records: list[dict[str, Any]], error: str, attempts: int) -> None:
        self.dead_letters.add_all(records, error, attempts)
        for record in records:
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
            ids = failed_ids(self._invoke(pending))
        except Exception as exc:  # any handler failure is a function error, as Lambda sees it
            log.warning("%s raised on %d records of shard %s: %s", self.function_name, len(pending), shard_id, exc)
            return error_text(exc)
        if ids is None:
            return "malformed batchItemFailures reply"
        if not ids:
            return None
        positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(pending)}
        if not all(identifier in positions for identifier in ids):
            return "batchItemFailures names a record outside the batch"
        return min(positions[identifier] for identifier in ids)

    def _expire(self, shard_id: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Dead-letter the records past the maximum record age (the oldest come first); returns the rest."""
        if self.max_record_age is None:
            return pending
        oldest = self.now() - self.max_record_age
        expired = 0
        for record in pending:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if created is None or created >= oldest:
                break
            expired += 1
        if expired:
            last = pending[expired - 1]["dynamodb"]["SequenceNumber"]
            self.dead_letters.add_all(pending[:expired], RECORD_TOO_OLD, 0)
            self._checkpoint(shard_id, last)
            log.error(
                "%d records of shard %s (through %s) are older than %.0f s: dead-lettered, not delivered",
                expired,
                shard_id,
                last,
                self.max_record_age,
            )
            return pending[expired:]
        return pending  # the same list: the caller counts retries of it (a copy would restart the count)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Invoke until every record is accepted or dead-lettered, checkpointing as the batch advances."""
        pending = records
        failures = 0  # failed invocations whose first record is pending[0]
        while pending:
            fresh = self._expire(shard_id, pending)
            if fresh is not pending:
                pending, failures = fresh, 0
                if not pending:
                    return
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
                    log.debug("%s settled %d stream records", self.function_name, settled)
                self._summary.add(settled, self.function_name)
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
