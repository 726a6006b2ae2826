"""The embedded DynamoDB keeps no object it no longer holds: moto's own record of every model object it made
(`instances_tracked`) stays as it was however many writes, stream reads and transactions run."""

from __future__ import annotations

from typing import Any

import boto3

from local.streams.records import stream_arn

WRITES = 60


def _tracked() -> dict[str, int]:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord, StreamShard
    from moto.dynamodbstreams.models import ShardIterator

    return {cls.__name__: len(cls.instances_tracked) for cls in (Item, StreamRecord, StreamShard, ShardIterator)}


def test_writes_and_stream_reads_leave_no_tracked_objects_behind(
    dynamodb_client: Any, moto_endpoint: str, table_name: str
) -> None:
    c = dynamodb_client
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
    arn = stream_arn(c, table_name)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    before = _tracked()

    for i in range(WRITES):
        key = {"PK": {"S": f"SOAK#{i}"}, "SK": {"S": "A"}}
        c.put_item(TableName=table_name, Item={**key, "n": {"N": "0"}})
        c.update_item(
            TableName=table_name,
            Key=key,
            UpdateExpression="SET n = n + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        c.transact_write_items(
            TransactItems=[{"Put": {"TableName": table_name, "Item": {"PK": {"S": f"SOAK#{i}"}, "SK": {"S": "B"}}}}]
        )
    position = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator, read = position["ShardIterator"], 0
    while iterator:
        reply = streams.get_records(ShardIterator=iterator, Limit=50)
        if not reply["Records"]:
            break
        read += len(reply["Records"])
        iterator = reply.get("NextShardIterator")

    assert read == 3 * WRITES  # everything written is still there to read
    got = c.get_item(TableName=table_name, Key={"PK": {"S": "SOAK#7"}, "SK": {"S": "A"}})["Item"]
    assert got["n"] == {"N": "1"}
    assert _tracked() == before
