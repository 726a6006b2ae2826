"""The embedded DynamoDB keeps no empty partition: a key a read missed, or whose last item was deleted (by
DeleteItem, a transaction, TTL, a cancelled transaction's rollback), leaves nothing in the table's memory,
and every answer is what DynamoDB gives."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.dynamodb.server import backend_holding
from local.dynamodb.ttl import TtlSweeper

KEYS = 40
NOW = 1_800_000_000


def _key(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _partitions(table_name: str) -> tuple[int, int]:
    """(partitions, empty partitions) of the embedded table."""
    items = backend_holding(table_name).tables[table_name].items
    return len(items), sum(1 for bucket in items.values() if not bucket)


def test_missed_reads_and_deletes_leave_no_empty_partition(dynamodb_client: Any, table_name: str) -> None:
    c = dynamodb_client
    # Given a table holding one partition of two items
    c.put_item(TableName=table_name, Item=_key("KEEP", "A"))
    c.put_item(TableName=table_name, Item=_key("KEEP", "B"))

    for i in range(KEYS):
        # When reads miss, by GetItem, a failed condition and a transaction's condition check
        assert "Item" not in c.get_item(TableName=table_name, Key=_key(f"MISS#{i}"))
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            c.update_item(
                TableName=table_name,
                Key=_key(f"COND#{i}"),
                UpdateExpression="SET n = :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        # and items are deleted by DeleteItem, by a transaction, and by one that is cancelled after its put
        c.put_item(TableName=table_name, Item=_key(f"DEL#{i}"))
        c.delete_item(TableName=table_name, Key=_key(f"DEL#{i}"))
        c.put_item(TableName=table_name, Item=_key(f"TX#{i}"))
        c.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": table_name, "Key": _key(f"TX#{i}")}},
                {
                    "ConditionCheck": {
                        "TableName": table_name,
                        "Key": _key(f"CHECK#{i}"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
        with pytest.raises(ClientError, match="TransactionCanceled"):
            c.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table_name, "Item": _key(f"ROLLBACK#{i}")}},
                    {
                        "ConditionCheck": {
                            "TableName": table_name,
                            "Key": _key("KEEP", "A"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        # and a marker's TTL passes
        c.put_item(TableName=table_name, Item={**_key(f"EVENT#{i}"), "expiresAt": {"N": str(NOW - 1)}})
    assert TtlSweeper(backend_holding(table_name), table_name, now=lambda: float(NOW)).sweep() == KEYS

    # Then only the partition that holds items is there, and it still answers as before
    assert _partitions(table_name) == (1, 0)
    c.delete_item(TableName=table_name, Key=_key("KEEP", "A"))
    assert _partitions(table_name) == (1, 0)  # one item left in it
    left = c.query(
        TableName=table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "KEEP"}},
    )["Items"]
    assert [item["SK"]["S"] for item in left] == ["B"]
    c.delete_item(TableName=table_name, Key=_key("KEEP", "B"))
    assert _partitions(table_name) == (0, 0)
    assert c.scan(TableName=table_name)["Count"] == 0
