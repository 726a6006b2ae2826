"""The embedded DynamoDB's journal: every acknowledged write comes back after a restart, nothing else does.

A restart here is what the local stack does at start: a fresh table from the spec, then the journal
installed over it. Items, the stream's records (sequence numbers, event ids) and its ARN must all be
the ones acknowledged before.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.dynamodb.journal import Journal
from local.dynamodb.server import backend_holding
from store import create_table

if TYPE_CHECKING:
    from pathlib import Path


def _items(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table)["Items"], key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def _records(client: Any, endpoint: str, table: str) -> tuple[str, list[tuple[str, str, str]]]:
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="ap-south-1")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    got = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return arn, [(r["eventID"], r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in got]


def _restart(client: Any, table: str, directory: Path, journal: Journal) -> Journal:
    journal.close()
    client.delete_table(TableName=table)
    create_table(client, table)
    again = Journal(directory)
    again.install(backend_holding(table))
    return again


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}}


def test_acknowledged_writes_and_the_stream_survive_a_restart(
    dynamodb_client: Any, moto_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    # Given a journaled table
    journal = Journal(tmp_path)
    journal.install(backend_holding(table_name))
    c = dynamodb_client
    try:
        # When every kind of write is made, some refused
        c.put_item(TableName=table_name, Item={**_key("p1"), "n": {"N": "1"}})
        binary = {"b": {"B": b"\x00\x01\xff"}, "bs": {"BS": [b"\x02", b"\x03"]}, "ss": {"SS": ["a", "b"]}}
        c.put_item(TableName=table_name, Item={**_key("bin"), **binary})  # every attribute type is journaled
        c.update_item(
            TableName=table_name,
            Key=_key("p1"),
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        with pytest.raises(ClientError):
            c.put_item(
                TableName=table_name,
                Item={**_key("p1"), "n": {"N": "99"}},
                ConditionExpression="attribute_not_exists(PK)",
            )
        c.batch_write_item(
            RequestItems={table_name: [{"PutRequest": {"Item": {**_key(f"b{i}"), "v": {"S": "x"}}}} for i in range(5)]}
        )
        c.delete_item(TableName=table_name, Key=_key("b0"))
        with pytest.raises(ClientError):  # a cancelled transaction writes nothing
            c.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table_name, "Item": {**_key("t1"), "v": {"S": "never"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table_name,
                            "Key": _key("p1"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        c.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table_name, "Item": {**_key("t2"), "v": {"S": "yes"}}}},
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": _key("p1"),
                        "UpdateExpression": "SET m = :m",
                        "ExpressionAttributeValues": {":m": {"S": "ok"}},
                    }
                },
            ]
        )
        before_items = _items(c, table_name)
        before_stream = _records(c, moto_endpoint, table_name)

        # Then after a restart the table and its stream are exactly as acknowledged
        journal = _restart(c, table_name, tmp_path, journal)
        assert _items(c, table_name) == before_items
        assert _records(c, moto_endpoint, table_name) == before_stream
        assert {i["PK"]["S"] for i in before_items} == {"p1", "bin", "b1", "b2", "b3", "b4", "t2"}
        p1 = next(i for i in before_items if i["PK"]["S"] == "p1")
        assert p1["n"] == {"N": "2"} and p1["m"] == {"S": "ok"}
        assert c.get_item(TableName=table_name, Key=_key("bin"))["Item"]["b"] == {"B": b"\x00\x01\xff"}

        # And writes after the restart continue the same stream
        c.put_item(TableName=table_name, Item={**_key("after"), "v": {"S": "1"}})
        _, records = _records(c, moto_endpoint, table_name)
        assert len(records) == len(before_stream[1]) + 1
        assert int(records[-1][2]) == int(records[-2][2]) + 1
    finally:
        journal.close()


def test_compaction_folds_segments_into_an_image_while_writes_go_on(
    dynamodb_client: Any, table_name: str, tmp_path: Path
) -> None:
    # Given a journal with tiny segments, so that writes roll it over many times
    journal = Journal(tmp_path, segment_bytes=4096)
    journal.install(backend_holding(table_name))
    c = dynamodb_client
    try:
        # When concurrent writers update their own items
        def writer(n: int) -> None:
            for i in range(40):
                c.put_item(TableName=table_name, Item={**_key(f"w{n}-{i % 10}"), "i": {"N": str(i)}})

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        journal.wait_compacted()
        before = _items(c, table_name)

        # Then an image was written, fewer fsyncs than writes were needed, and a restart gives the same table
        assert (tmp_path / "image.json").exists()
        assert journal.fsyncs < 160
        journal = _restart(c, table_name, tmp_path, journal)
        assert _items(c, table_name) == before
        assert len(before) == 40 and all(i["i"] == {"N": "39"} or int(i["i"]["N"]) >= 30 for i in before)
    finally:
        journal.close()


def test_a_torn_last_line_is_ignored(dynamodb_client: Any, table_name: str, tmp_path: Path) -> None:
    # Given an acknowledged write and then a crash in the middle of writing the next line
    journal = Journal(tmp_path)
    journal.install(backend_holding(table_name))
    dynamodb_client.put_item(TableName=table_name, Item={**_key("kept"), "v": {"S": "1"}})
    journal.close()
    segment = sorted(tmp_path.glob("journal-*.log"))[-1]
    with segment.open("ab") as out:
        out.write(b'[{"table": "half')
    # When the stack restarts
    dynamodb_client.delete_table(TableName=table_name)
    create_table(dynamodb_client, table_name)
    again = Journal(tmp_path)
    try:
        again.install(backend_holding(table_name))
        # Then the acknowledged write is there and the torn line is not
        assert [i["PK"]["S"] for i in _items(dynamodb_client, table_name)] == ["kept"]
    finally:
        again.close()


def test_items_past_their_ttl_are_deleted_as_dynamodb_deletes_them(
    dynamodb_client: Any, moto_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    from local.dynamodb.ttl import TtlSweeper
    from local.streams.records import lambda_record

    # Given a journaled table with one expired delivery marker, one that is not, and an item without TTL
    journal = Journal(tmp_path)
    backend = backend_holding(table_name)
    journal.install(backend)
    now = 1_800_000_000
    c = dynamodb_client
    try:
        c.put_item(TableName=table_name, Item={**_key("EVENT#old"), "expiresAt": {"N": str(now - 1)}})
        c.put_item(TableName=table_name, Item={**_key("EVENT#new"), "expiresAt": {"N": str(now + 60)}})
        c.put_item(TableName=table_name, Item={**_key("ORDER#1"), "expiresAt": {"S": "not a number"}})

        # When the sweeper passes
        deleted = TtlSweeper(backend, table_name, now=lambda: float(now)).sweep()

        # Then only the expired item is gone, its REMOVE is marked as the TTL service's, and that survives a restart
        assert deleted == 1
        assert {i["PK"]["S"] for i in _items(c, table_name)} == {"EVENT#new", "ORDER#1"}
        streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
        arn = c.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        last = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"][-1]
        handed = lambda_record(last, arn, "ap-south-1")
        assert handed["eventName"] == "REMOVE"
        assert handed["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        journal = _restart(c, table_name, tmp_path, journal)
        assert {i["PK"]["S"] for i in _items(c, table_name)} == {"EVENT#new", "ORDER#1"}
    finally:
        journal.close()


def test_stream_records_past_the_retention_leave_memory(
    dynamodb_client: Any, moto_endpoint: str, table_name: str
) -> None:
    from local.dynamodb.stream_retention import DYNAMODB_RETENTION_SECONDS, trim_stream

    # Given a stream with three records
    for name in ("a", "b", "c"):
        dynamodb_client.put_item(TableName=table_name, Item=_key(name))
    _, records = _records(dynamodb_client, moto_endpoint, table_name)
    table = backend_holding(table_name).tables[table_name]
    # When a day and more has passed
    trimmed = trim_stream(table, time.time() + DYNAMODB_RETENTION_SECONDS + 60, settled=None)
    # Then all but the newest are gone, and the next record continues the sequence
    assert trimmed == 2
    dynamodb_client.put_item(TableName=table_name, Item=_key("d"))
    _, after = _records(dynamodb_client, moto_endpoint, table_name)
    assert [r[2] for r in after[:1]] == [records[-1][2]]
    assert int(after[-1][2]) == int(records[-1][2]) + 1
