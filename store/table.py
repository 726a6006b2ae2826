"""The one table and the request shapes every repository shares: gets, queries, batches, retries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from store.errors import translated
from store.items.attributes import typed
from store.pages import INVALID_TOKEN, decode_token, encode_token
from store.spec import INDEXES, PRIMARY_KEY
from trading.errors import RateLimited, ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient

    from store.items.attributes import Item

TRANSACT_LIMIT = 100
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
BATCH_ATTEMPTS = 8


def backoff(attempt: int) -> None:
    """Sleep before retry `attempt` (0-based): exponential from 50 ms, capped at a second."""
    time.sleep(min(0.05 * 2**attempt, 1.0))


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """`items` in consecutive slices of at most `size` (a batch or transaction's limit)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def owned_by(item: Item | None, owner: str) -> bool:
    """True when the item exists and belongs to `owner`."""
    return item is not None and item.get("owner", {}).get("S") == owner


@dataclass(frozen=True)
class Table:
    """The table and the few request shapes every repository shares."""

    client: DynamoDBClient
    name: str

    def get(self, key: Item, consistent: bool = True) -> Item | None:
        with translated():
            response = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=consistent)
        return response.get("Item")

    def query_page(
        self,
        partition: str,
        limit: int,
        next_token: str | None,
        index: str | None = None,
        sort_prefix: str | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> tuple[list[Item], str | None]:
        """One Query, newest first; `filters` are equality filters on attributes.

        Raises
        ------
        ValidationError
            `next_token` is not a token of this Query.
        """
        pk, sk = INDEXES[index] if index else PRIMARY_KEY
        names = {"#pk": pk}
        values = {":pk": typed(partition)}
        condition = "#pk = :pk"
        if sort_prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sk
            values[":prefix"] = typed(sort_prefix)
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "Limit": limit,
            "ScanIndexForward": False,
        }
        if index is not None:
            request["IndexName"] = index
        if filters:
            parts = []
            for i, (attribute, value) in enumerate(filters.items()):
                names[f"#f{i}"] = attribute
                values[f":f{i}"] = typed(value)
                parts.append(f"#f{i} = :f{i}")
            request["FilterExpression"] = " AND ".join(parts)
        if next_token is not None:
            attributes = (pk, sk) if index is None else (pk, sk, *PRIMARY_KEY)
            start = decode_token(next_token, attributes, (pk, partition))
            if sort_prefix is not None and not start[sk]["S"].startswith(sort_prefix):
                raise ValidationError(INVALID_TOKEN)
            request["ExclusiveStartKey"] = start
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        with translated(invalid=INVALID_TOKEN if next_token else None):
            response = self.client.query(**request)
        return response.get("Items", []), encode_token(response.get("LastEvaluatedKey"))

    def query_all(self, partition: str, consistent: bool = True) -> list[Item]:
        """Every item of one partition of the table, one Query per 1 MB page."""
        return self._pages(
            {
                "TableName": self.name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": typed(partition)},
                "ConsistentRead": consistent,
            }
        )

    def query_index_all(self, index: str, partition: str) -> list[Item]:
        """Every item under `partition` of an index, one Query per 1 MB page."""
        pk, _ = INDEXES[index]
        return self._pages(
            {
                "TableName": self.name,
                "IndexName": index,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": pk},
                "ExpressionAttributeValues": {":pk": typed(partition)},
            }
        )

    def _pages(self, request: dict[str, Any]) -> list[Item]:
        items: list[Item] = []
        while True:
            with translated():
                response = self.client.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def query_index_one(self, index: str, partition: str) -> Item | None:
        """The one item under `partition` of a unique-key index, if any."""
        pk, _ = INDEXES[index]
        with translated():
            response = self.client.query(
                TableName=self.name,
                IndexName=index,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": pk},
                ExpressionAttributeValues={":pk": typed(partition)},
            )
        items = response.get("Items", [])
        return items[0] if items else None

    def batch_put(self, items: list[Item], busy: str) -> None:
        """Put `items`, 25 per BatchWriteItem, retrying unprocessed ones with backoff.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving items unprocessed (`busy` is the message).
        """
        requests = [{"PutRequest": {"Item": item}} for item in items]
        for chunk in chunks(requests, BATCH_WRITE_LIMIT):
            pending: Any = {self.name: chunk}
            for attempt in range(BATCH_ATTEMPTS):
                with translated():
                    response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems")
                if not pending:
                    break
                backoff(attempt)
            else:
                raise RateLimited(busy)

    def batch_get(self, keys: list[Item], busy: str) -> list[Item]:
        """The items of `keys` that exist, 100 keys per BatchGetItem, retrying unprocessed keys with backoff.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving keys unprocessed (`busy` is the message).
        """
        found: list[Item] = []
        for chunk in chunks(keys, BATCH_GET_LIMIT):
            pending: Any = {self.name: {"Keys": chunk}}
            for attempt in range(BATCH_ATTEMPTS):
                with translated():
                    response = self.client.batch_get_item(RequestItems=pending)
                found.extend(response.get("Responses", {}).get(self.name, []))
                pending = response.get("UnprocessedKeys")
                if not pending:
                    break
                backoff(attempt)
            else:
                raise RateLimited(busy)
        return found
