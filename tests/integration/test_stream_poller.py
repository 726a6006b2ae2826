"""The stream poller against moto's DynamoDB Streams: ordering, partial failures, bisection, DLQ, checkpoints."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import StreamPoller
from local.streams.records import stream_arn
from local.streams.wakeups import wake_on_writes

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "ap-south-1"
LAMBDA_RECORD_FIELDS = {
    "eventID",
    "eventName",
    "eventVersion",
    "eventSource",
    "awsRegion",
    "dynamodb",
    "eventSourceARN",
}


@dataclass
class RecordingHandler:
    """A stream handler that remembers what it accepted; `poison` keys fail, `flaky` keys fail N times.

    With `style="report"` it works in order and reports the first failing record and everything after it
    (nothing after a failure is applied, so order holds); with `style="raise"` any failing record makes
    the whole invocation raise.
    """

    style: str = "report"
    poison: set[str] = field(default_factory=set)
    flaky: dict[str, int] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    invocations: list[list[str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def _fails(self, key: str) -> bool:
        if key in self.poison:
            return True
        if self.flaky.get(key, 0) > 0:
            self.flaky[key] -= 1
            return True
        return False

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        keys = [key_of(record) for record in event["Records"]]
        self.invocations.append(keys)
        if self.style == "raise":
            failing = [key for key in keys if self._fails(key)]
            if failing:
                raise ValueError(f"poison {failing[0]}")
            self.accepted.extend(keys)
            return {"batchItemFailures": []}
        for index, key in enumerate(keys):
            if self._fails(key):
                rest = event["Records"][index:]
                return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in rest]}
            self.accepted.append(key)
        return {"batchItemFailures": []}


def key_of(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["PK"]["S"])


def put_items(client: DynamoDBClient, table: str, keys: list[str]) -> None:
    for key in keys:
        client.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "v"}, "n": {"N": "1"}})


def keys(start: int, stop: int) -> list[str]:
    return [f"item-{i:03d}" for i in range(start, stop)]


@pytest.fixture
def streams_client(moto_endpoint: str) -> Any:
    return boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def arn(dynamodb_client: DynamoDBClient, table_name: str) -> str:
    return stream_arn(dynamodb_client, table_name)


@pytest.fixture
def dead_letters(tmp_path: Path) -> DeadLetterStore:
    return DeadLetterStore(tmp_path / "streams.dlq.jsonl")


def a_poller(
    streams_client: Any, arn: str, handler: RecordingHandler, dead_letters: DeadLetterStore, **kw: Any
) -> StreamPoller:
    options: dict[str, Any] = {"batch_size": 10, "max_retries": 2, "retry_delay": 0.0, **kw}
    return StreamPoller(streams_client, arn, handler, dead_letters=dead_letters, **options)


def test_every_record_is_delivered_once_in_order_as_lambda_sends_it(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given 25 inserts, an update (adding a binary attribute) and a delete
    put_items(dynamodb_client, table_name, keys(0, 25))
    dynamodb_client.update_item(
        TableName=table_name,
        Key={"PK": {"S": "item-000"}, "SK": {"S": "v"}},
        UpdateExpression="SET n = :n, payload = :b",
        ExpressionAttributeValues={":n": {"N": "2"}, ":b": {"B": b"\x00\x01"}},
    )
    dynamodb_client.delete_item(TableName=table_name, Key={"PK": {"S": "item-001"}, "SK": {"S": "v"}})
    handler = RecordingHandler()
    poller = a_poller(streams_client, arn, handler, dead_letters)

    # When the poller runs twice
    delivered = poller.run_once()
    again = poller.run_once()

    # Then every change arrives once, in order, in batches of at most 10
    assert delivered == 27
    assert again == 0
    assert handler.accepted == [*keys(0, 25), "item-000", "item-001"]
    assert [len(batch) for batch in handler.invocations] == [10, 10, 7]
    records = [record for event in handler.events for record in event["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT"] * 25 + ["MODIFY", "REMOVE"]
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence_numbers == sorted(sequence_numbers)
    assert len(set(sequence_numbers)) == 27
    first, modify, remove = records[0], records[25], records[26]
    assert first["eventSource"] == "aws:dynamodb"
    assert first["eventSourceARN"] == arn
    assert first["awsRegion"] == REGION
    assert set(first) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    created = first["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(created, int)
    assert abs(created - time.time()) < 300
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert first["dynamodb"]["NewImage"]["n"] == {"N": "1"}
    assert modify["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert modify["dynamodb"]["NewImage"]["payload"] == {"B": "AAE="}  # base64, as Lambda's JSON carries it
    assert "NewImage" not in remove["dynamodb"]
    assert remove["dynamodb"]["OldImage"]["PK"] == {"S": "item-001"}
    assert dead_letters.list() == []


def test_a_reported_failure_keeps_the_records_before_it_and_retries_from_it(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a handler that fails item-004 once
    put_items(dynamodb_client, table_name, keys(0, 10))
    handler = RecordingHandler(flaky={"item-004": 1})
    poller = a_poller(streams_client, arn, handler, dead_letters)

    # When the poller runs
    delivered = poller.run_once()

    # Then the retry starts at item-004: nothing before it comes again, nothing is lost
    assert delivered == 10
    assert handler.invocations == [keys(0, 10), keys(4, 10)]
    assert handler.accepted == keys(0, 10)
    assert dead_letters.list() == []
    assert poller.run_once() == 0


def test_a_record_that_always_fails_is_dead_lettered_and_later_records_flow(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a handler that always reports item-002 failed, and two retries
    put_items(dynamodb_client, table_name, keys(0, 6))
    handler = RecordingHandler(poison={"item-002"})
    poller = a_poller(streams_client, arn, handler, dead_letters, max_retries=2)

    # When the poller runs, and more items arrive later
    first = poller.run_once()
    put_items(dynamodb_client, table_name, keys(6, 9))
    second = poller.run_once()

    # Then item-002 failed three times (the first try and two retries), then was dead-lettered;
    # every other record was accepted once
    assert (first, second) == (6, 3)
    assert handler.invocations == [keys(0, 6), keys(2, 6), keys(2, 6), keys(3, 6), keys(6, 9)]
    assert handler.accepted == [k for k in keys(0, 9) if k != "item-002"]
    [dead] = dead_letters.list()
    assert key_of(dead["record"]) == "item-002"
    assert dead["attempts"] == 3
    assert dead["error"] == "reported in batchItemFailures"
    assert dead["failedAt"].endswith("Z")
    assert dead["record"]["eventSourceARN"] == arn


def test_with_a_maximum_record_age_a_failing_record_still_counts_its_retries(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given the stack's mapping (a maximum record age none of the records is near), and a poison record
    put_items(dynamodb_client, table_name, keys(0, 4))
    handler = RecordingHandler(poison={"item-001"})
    poller = a_poller(streams_client, arn, handler, dead_letters, max_retries=2, max_record_age=3600.0)

    # When the poller runs
    delivered = poller.run_once()

    # Then the poison record is dead-lettered after its retries (not retried until it is too old)
    assert delivered == 4
    assert handler.invocations == [keys(0, 4), keys(1, 4), keys(1, 4), keys(2, 4)]
    [dead] = dead_letters.list()
    assert (key_of(dead["record"]), dead["attempts"]) == ("item-001", 3)


def test_bisection_isolates_a_poison_record_in_a_batch_that_raises(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a handler that raises on any batch holding item-005
    put_items(dynamodb_client, table_name, keys(0, 8))
    handler = RecordingHandler(style="raise", poison={"item-005"})
    poller = a_poller(streams_client, arn, handler, dead_letters, max_retries=1)

    # When the poller runs
    delivered = poller.run_once()

    # Then halving narrows the failure to item-005 alone; everything else is accepted once, in order
    assert delivered == 8
    assert handler.accepted == [k for k in keys(0, 8) if k != "item-005"]
    assert handler.invocations == [
        keys(0, 8),
        keys(0, 4),
        keys(4, 8),
        keys(4, 6),
        keys(4, 5),
        keys(5, 6),
        keys(5, 6),
        keys(6, 8),
    ]
    [dead] = dead_letters.list()
    assert key_of(dead["record"]) == "item-005"
    assert dead["error"] == "ValueError: poison item-005"
    assert dead["attempts"] == 2


def test_without_bisection_the_whole_failing_batch_is_dead_lettered(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a raising handler and bisection off
    put_items(dynamodb_client, table_name, keys(0, 4))
    handler = RecordingHandler(style="raise", poison={"item-001"})
    poller = a_poller(streams_client, arn, handler, dead_letters, max_retries=1, bisect_on_error=False, batch_size=2)

    # When the poller runs
    delivered = poller.run_once()

    # Then the batch holding the poison record goes to the DLQ as a whole; the next batch is fine
    assert delivered == 4
    assert handler.invocations == [keys(0, 2), keys(0, 2), keys(2, 4)]
    assert handler.accepted == keys(2, 4)
    assert [key_of(d["record"]) for d in dead_letters.list()] == keys(0, 2)


def test_a_new_poller_resumes_from_the_checkpoint(
    dynamodb_client: DynamoDBClient,
    table_name: str,
    streams_client: Any,
    arn: str,
    dead_letters: DeadLetterStore,
    tmp_path: Path,
) -> None:
    # Given a poller that delivered five records, then went away
    put_items(dynamodb_client, table_name, keys(0, 5))
    before = RecordingHandler()
    assert a_poller(streams_client, arn, before, dead_letters).run_once() == 5
    assert (tmp_path / "basketgraph-streams.checkpoints.json").exists()

    # When three more arrive and a fresh poller (same state dir) starts
    put_items(dynamodb_client, table_name, keys(5, 8))
    after = RecordingHandler()
    delivered = a_poller(streams_client, arn, after, dead_letters).run_once()

    # Then it sees only the new ones
    assert delivered == 3
    assert after.accepted == keys(5, 8)
    assert before.accepted == keys(0, 5)


def test_a_checkpoint_for_another_stream_is_ignored(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, tmp_path: Path
) -> None:
    # Given a checkpoint file written for a stream that no longer exists
    checkpoints = tmp_path / "cp.json"
    checkpoints.write_text('{"streamArn": "arn:aws:dynamodb:ap-south-1:1:table/Old/stream/x", "shards": {}}')
    put_items(dynamodb_client, table_name, keys(0, 3))
    handler = RecordingHandler()
    dlq = DeadLetterStore(tmp_path / "dlq.jsonl")

    # When a poller starts with it
    delivered = a_poller(streams_client, arn, handler, dlq, checkpoint_path=checkpoints).run_once()

    # Then it reads this stream from the start
    assert delivered == 3
    assert handler.accepted == keys(0, 3)


def test_replay_after_the_handler_is_fixed_empties_the_dead_letters(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given item-001 dead-lettered by a broken handler
    put_items(dynamodb_client, table_name, keys(0, 3))
    handler = RecordingHandler(poison={"item-001"})
    assert a_poller(streams_client, arn, handler, dead_letters, max_retries=0).run_once() == 3
    assert len(dead_letters.list()) == 1

    # When a replay runs while it is still broken, and again after the fix
    still_broken = dead_letters.replay(handler)
    [kept] = dead_letters.list()
    handler.poison.clear()
    fixed = dead_letters.replay(handler)

    # Then the first replay keeps the entry (one more attempt), the second removes it
    assert still_broken == (0, 1)
    assert kept["attempts"] == 2
    assert fixed == (1, 0)
    assert dead_letters.list() == []
    assert handler.accepted == ["item-000", "item-002", "item-001"]
    assert handler.invocations[-1] == ["item-001"]


def test_the_background_thread_delivers_new_records(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a running poller
    handler = RecordingHandler(flaky={"item-003": 1})
    poller = a_poller(streams_client, arn, handler, dead_letters, poll_interval=0.05, retry_delay=0.01)
    poller.start()
    try:
        # When items are written
        put_items(dynamodb_client, table_name, keys(0, 6))
        deadline = time.monotonic() + 10
        while len(handler.accepted) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()

    # Then each is accepted exactly once, and the stopped poller can still be run by hand
    assert handler.accepted == keys(0, 6)
    assert dead_letters.list() == []
    put_items(dynamodb_client, table_name, keys(6, 7))
    assert poller.run_once() == 1
    assert handler.accepted == keys(0, 7)


def test_a_write_wakes_an_idle_poller_at_once(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a poller that sleeps a minute between empty polls, woken by writes of this client
    handler = RecordingHandler()
    poller = a_poller(streams_client, arn, handler, dead_letters, poll_interval=60)
    poller.start()
    undo = wake_on_writes(poller, [dynamodb_client])
    try:
        time.sleep(0.3)  # its first, empty poll is over: it is asleep
        # When items are written
        put_items(dynamodb_client, table_name, keys(0, 3))
        deadline = time.monotonic() + 20
        while len(handler.accepted) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        undo()
        poller.stop()

    # Then they are delivered long before the poller would have looked again
    assert handler.accepted == keys(0, 3)


def test_skip_to_end_passes_over_existing_records_without_invoking(
    dynamodb_client: DynamoDBClient, table_name: str, streams_client: Any, arn: str, dead_letters: DeadLetterStore
) -> None:
    # Given a table refilled before the poller started (a restored snapshot)
    put_items(dynamodb_client, table_name, keys(0, 12))
    handler = RecordingHandler()
    poller = a_poller(streams_client, arn, handler, dead_letters)

    # When the poller skips to the end, then new items arrive
    skipped = poller.skip_to_end()
    put_items(dynamodb_client, table_name, keys(12, 14))
    delivered = poller.run_once()

    # Then only the new items reach the handler
    assert skipped == 12
    assert delivered == 2
    assert handler.accepted == keys(12, 14)
