"""The local stack's faster moto (transactions, update expressions) keeps DynamoDB's semantics, stream included."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from local.streams.records import stream_arn

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "ITEM"}}


def stream_records(client: DynamoDBClient, moto_endpoint: str, table: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name="ap-south-1")
    arn = stream_arn(client, table)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"])


def counter(client: DynamoDBClient, table: str, pk: str) -> int | None:
    item = client.get_item(TableName=table, Key=key(pk)).get("Item")
    return int(item["n"]["N"]) if item else None


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(
    dynamodb_client: DynamoDBClient, moto_endpoint: str, table_name: str
) -> None:
    # Given two items and the patched transactions
    assert getattr(DynamoDBBackend.transact_write_items, "_fast", False)
    for pk in ("a", "b"):
        dynamodb_client.put_item(TableName=table_name, Item={**key(pk), "n": {"N": "1"}})
    records_before = len(stream_records(dynamodb_client, moto_endpoint, table_name))

    def transaction(condition_on_b: str) -> list[Any]:
        return [
            {"Update": {"TableName": table_name, "Key": key("a"), "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": table_name, "Item": {**key("c"), "n": {"N": "7"}},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"TableName": table_name, "Key": key("b"), "UpdateExpression": "ADD n :one",
                        "ConditionExpression": condition_on_b, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]  # fmt: skip

    # When a transaction that already changed a and created c fails its last condition
    with pytest.raises(dynamodb_client.exceptions.TransactionCanceledException):
        dynamodb_client.transact_write_items(TransactItems=transaction("n > :one"))

    # Then nothing of it is visible: not in the items, not in the stream
    assert counter(dynamodb_client, table_name, "a") == 1
    assert counter(dynamodb_client, table_name, "b") == 1
    assert counter(dynamodb_client, table_name, "c") is None
    assert len(stream_records(dynamodb_client, moto_endpoint, table_name)) == records_before

    # And the same transaction with a condition that holds is applied whole, with its stream records
    dynamodb_client.transact_write_items(TransactItems=transaction("n = :one"))
    assert [counter(dynamodb_client, table_name, pk) for pk in ("a", "b", "c")] == [2, 2, 7]
    records = stream_records(dynamodb_client, moto_endpoint, table_name)[records_before:]
    assert {r["dynamodb"]["Keys"]["PK"]["S"] for r in records} == {"a", "b", "c"}


def test_a_cached_update_expression_is_applied_afresh_each_time(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    # Given the parse cache and the fast tree copy in place
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    expression = "SET #k = if_not_exists(#k, :k), seen = :at ADD n :one"
    assert UpdateExpressionParser.make(expression) is UpdateExpressionParser.make(expression)

    # When the same expression updates two items, one of them twice, with different values
    def update(pk: str, k: str, at: str) -> None:
        dynamodb_client.update_item(
            TableName=table_name,
            Key=key(pk),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#k": "kind"},
            ExpressionAttributeValues={":k": {"S": k}, ":at": {"S": at}, ":one": {"N": "1"}},
        )

    update("x", "first", "t1")
    update("x", "second", "t2")
    update("y", "other", "t3")

    # Then each application used its own values and the item's own state
    x = dynamodb_client.get_item(TableName=table_name, Key=key("x"))["Item"]
    y = dynamodb_client.get_item(TableName=table_name, Key=key("y"))["Item"]
    assert (x["kind"]["S"], x["seen"]["S"], x["n"]["N"]) == ("first", "t2", "2")
    assert (y["kind"]["S"], y["seen"]["S"], y["n"]["N"]) == ("other", "t3", "1")
