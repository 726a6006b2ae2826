"""The single table's spec, shared by the adapter, the local stack and the CDK app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from store.errors import TABLE_EXISTS, error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TABLE_NAME = "Trading"
TTL_ATTRIBUTE = "expiresAt"

# How long a stream record can be handed to the stream Lambda: the event source mapping's
# MaximumRecordAgeInSeconds (infra/streams.py; the local poller honours it too). Older records go to the
# on-failure destination. An hour: a live update that could not be delivered for that long is stale (a
# subscriber re-queries after reconnecting), and the mapping's bounded retries give up on a failing record
# far sooner anyway.
STREAM_MAX_RECORD_AGE_SECONDS = 3600
# A delivery marker (EVENT#<id>) has only to outlive the last redelivery of the record that published its
# event: that is within STREAM_MAX_RECORD_AGE_SECONDS of the record's creation, so before the marker (written
# later) is that old. The margin covers an invocation in flight as the age limit passes (the stream function's
# timeout is minutes) and clock skew; TTL never deletes early, only late.
DELIVERY_TTL_SECONDS = STREAM_MAX_RECORD_AGE_SECONDS + 15 * 60

BY_OWNER = "ByOwner"
BY_ORDER_ID = "ByOrderId"
BY_BROKER_ORDER = "ByBrokerOrder"
BY_INSTRUMENT = "ByInstrument"

# index name -> (partition key attribute, sort key attribute); every key attribute is a string.
INDEXES: dict[str, tuple[str, str]] = {
    BY_OWNER: ("GSI1PK", "GSI1SK"),
    BY_ORDER_ID: ("GSI2PK", "GSI2SK"),
    BY_BROKER_ORDER: ("GSI3PK", "GSI3SK"),
    # every position of an instrument: a cold P&L engine loads them on the instrument's first mark
    BY_INSTRUMENT: ("GSI4PK", "GSI4SK"),
}
PRIMARY_KEY = ("PK", "SK")


def _key_schema(partition: str, sort: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": partition, "KeyType": "HASH"},
        {"AttributeName": sort, "KeyType": "RANGE"},
    ]


def table_definition(name: str) -> dict[str, Any]:
    """Keyword arguments for `client.create_table` (the TTL attribute is `TTL_ATTRIBUTE`)."""
    attributes = [PRIMARY_KEY[0], PRIMARY_KEY[1]] + [a for keys in INDEXES.values() for a in keys]
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": _key_schema(*PRIMARY_KEY),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": _key_schema(partition, sort),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (partition, sort) in INDEXES.items()
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def create_table(client: DynamoDBClient, name: str) -> None:
    """Create the table unless it exists, wait until it is ACTIVE, and turn on TTL.

    Parameters
    ----------
    client
        A DynamoDB client (any endpoint).
    name
        The table name.
    """
    try:
        client.create_table(**table_definition(name))
    except ClientError as exc:
        if error_code(exc) != TABLE_EXISTS:
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
