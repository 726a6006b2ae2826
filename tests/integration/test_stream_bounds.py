"""The embedded DynamoDB's state about its stream is bounded: delivery markers expire and are deleted, records the
poller settled leave memory and the journal's image, records past the maximum record age are dead-lettered,
and within those windows a redelivered record still publishes nothing twice."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.dynamodb.journal import IMAGE, Journal
from local.dynamodb.server import backend_holding
from local.dynamodb.ttl import TtlSweeper
from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import RECORD_TOO_OLD, StreamPoller
from local.streams.records import lambda_record, stream_arn
from store import create_table
from store.deliveries import DynamoDeliveries

if TYPE_CHECKING:
    from pathlib import Path

TTL = 120
MAX_AGE = 60
RETENTION = 30


def _stream(client: Any, endpoint: str, table: str) -> list[dict[str, Any]]:
    """Every record the table's stream holds, as Lambda hands them over."""
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="ap-south-1")
    arn = stream_arn(client, table)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    got = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return [lambda_record(record, arn, "ap-south-1") for record in got]


def _pks(client: Any, table: str, prefix: str) -> list[str]:
    items = client.scan(TableName=table)["Items"]
    return sorted(item["PK"]["S"] for item in items if item["PK"]["S"].startswith(prefix))


def _drain(poller: StreamPoller) -> int:
    total = 0
    while settled := poller.run_once():
        total += settled
    return total


def test_markers_expire_settled_records_are_trimmed_and_a_replay_in_the_window_publishes_nothing(
    dynamodb_client: Any, moto_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    c = dynamodb_client
    backend = backend_holding(table_name)
    journal = Journal(tmp_path / "dynamodb", segment_bytes=2048)
    journal.install(backend)
    clock = [time.time()]
    deliveries = DynamoDeliveries(c, table_name, now=lambda: clock[0], ttl=TTL)
    published: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        """The stream handler's contract: an event per order record, published once (its marker)."""
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["PK"]["S"].startswith("ORDER#"):
                event_id = f"order:{record['eventID']}"
                if deliveries.first(event_id):
                    published.append(event_id)

    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
    dead_letters = DeadLetterStore(tmp_path / "dead-letters.jsonl")
    poller = StreamPoller(
        streams,
        stream_arn(c, table_name),
        handler,
        dead_letters=dead_letters,
        checkpoint_path=tmp_path / "checkpoints.json",
        max_record_age=MAX_AGE,
    )
    sweeper = TtlSweeper(
        backend,
        table_name,
        now=lambda: clock[0],
        settled=lambda shard: int(poller.checkpoints[shard]) if shard in poller.checkpoints else None,
        retention=RETENTION,
        journal=journal,
    )
    try:
        # Given five orders delivered by the poller: five events published, five markers
        for i in range(5):
            c.put_item(TableName=table_name, Item={"PK": {"S": f"ORDER#{i}"}, "SK": {"S": "A"}})
        assert _drain(poller) == 10  # the orders, then the markers' own INSERTs
        assert len(published) == 5
        assert len(_pks(c, table_name, "EVENT#")) == 5

        # When the same records are handed over again within the window (a retried batch, a restart)
        orders = [r for r in _stream(c, moto_endpoint, table_name) if r["dynamodb"]["Keys"]["PK"]["S"] < "P"]
        handler({"Records": orders}, None)
        # Then nothing is published twice, and a sweep before the TTL deletes nothing
        assert len(published) == 5
        assert sweeper.sweep() == 0

        # When the markers' TTL and the retention of settled records have passed
        clock[0] += TTL + 1
        horizon_before = int(_stream(c, moto_endpoint, table_name)[0]["dynamodb"]["SequenceNumber"])
        assert sweeper.sweep() == 5

        # Then the markers are gone, and the stream holds only what the poller has not settled: their TTL deletions
        assert _pks(c, table_name, "EVENT#") == []
        left = _stream(c, moto_endpoint, table_name)
        assert [r["eventName"] for r in left] == ["REMOVE"] * 5
        assert all(r["userIdentity"]["type"] == "Service" for r in left)
        assert sweeper.trimmed == 10
        horizon = int(left[0]["dynamodb"]["SequenceNumber"])
        assert horizon == horizon_before + 10

        # When the journal rolls and compacts after more writes, and the stack restarts
        for i in range(30):
            c.put_item(TableName=table_name, Item={"PK": {"S": f"MARK#{i}"}, "SK": {"S": "A"}, "pad": {"S": "x" * 80}})
        journal.wait_compacted()
        image = json.loads((tmp_path / "dynamodb" / IMAGE).read_text())
        journal.close()
        c.delete_table(TableName=table_name)
        create_table(c, table_name)
        journal = Journal(tmp_path / "dynamodb", segment_bytes=2048)
        journal.install(backend_holding(table_name))

        # Then the image holds none of the trimmed records, and neither does the restored stream
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in image["tables"][table_name]["records"]]
        assert sequences and min(sequences) >= horizon
        restored = _stream(c, moto_endpoint, table_name)
        assert int(restored[0]["dynamodb"]["SequenceNumber"]) == horizon
        assert len(restored) == 35

        # When records older than the maximum record age are next polled
        poller.now = lambda: time.time() + MAX_AGE + 5  # its wall clock, moved on
        assert _drain(poller) == 35
        # Then they are dead-lettered, never handed to the handler, and the poller's checkpoint is past them
        assert len(published) == 5
        dead = dead_letters.list()
        assert len(dead) == 35 and {entry["error"] for entry in dead} == {RECORD_TOO_OLD}
        assert int(next(iter(poller.checkpoints.values()))) == int(restored[-1]["dynamodb"]["SequenceNumber"])
    finally:
        journal.close()


def test_a_read_behind_the_trim_horizon_is_refused_and_the_poller_resumes_at_what_is_left(
    dynamodb_client: Any, moto_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    c = dynamodb_client
    for i in range(4):
        c.put_item(TableName=table_name, Item={"PK": {"S": f"ORDER#{i}"}, "SK": {"S": "A"}})
    first, *_, last = _stream(c, moto_endpoint, table_name)
    # Given a stream trimmed through its third record, as if settled and old
    from local.dynamodb.stream_retention import trim_stream

    table = backend_holding(table_name).tables[table_name]
    settled = int(first["dynamodb"]["SequenceNumber"]) + 2
    assert trim_stream(table, time.time() + RETENTION + 1, settled=settled, retention=RETENTION) == 3
    # Then a read after the first record is refused as DynamoDB Streams refuses it
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
    arn = stream_arn(c, table_name)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(ClientError) as refused:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=first["dynamodb"]["SequenceNumber"],
        )
    assert refused.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    # And a poller whose checkpoint was trimmed away resumes at TRIM_HORIZON: the record left is delivered
    checkpoints = tmp_path / "checkpoints.json"
    checkpoints.write_text(json.dumps({"streamArn": arn, "shards": {shard: first["dynamodb"]["SequenceNumber"]}}))
    seen: list[str] = []
    poller = StreamPoller(
        streams,
        arn,
        lambda event, context: seen.extend(r["eventID"] for r in event["Records"]),
        dead_letters=DeadLetterStore(tmp_path / "dead-letters.jsonl"),
        checkpoint_path=checkpoints,
    )
    assert poller.run_once() == 1
    assert seen == [last["eventID"]]


def test_shard_iterators_past_the_bound_expire_oldest_first(
    dynamodb_client: Any, moto_endpoint: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local.dynamodb import stream_retention

    monkeypatch.setattr(stream_retention, "MAX_ITERATORS", 5)
    dynamodb_client.put_item(TableName=table_name, Item={"PK": {"S": "ORDER#1"}, "SK": {"S": "A"}})
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
    arn = stream_arn(dynamodb_client, table_name)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    handed = [
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(8)
    ]
    # Then the newest still read, and the oldest is refused as an expired iterator is
    assert len(streams.get_records(ShardIterator=handed[-1])["Records"]) == 1
    with pytest.raises(ClientError) as refused:
        streams.get_records(ShardIterator=handed[0])
    assert refused.value.response["Error"]["Code"] == "ExpiredIteratorException"
