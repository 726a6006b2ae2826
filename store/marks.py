"""`trading.ports.MarkSource` over the table: the last traded price (and previous close) per instrument, newest wins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.errors import translated
from store.items.attributes import deserialize, parse_timestamp, timestamp, typed
from store.items.keys import mark_key
from store.items.mark import close_of, mark_item, mark_of
from store.table import Table
from trading.errors import Conflict

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from mypy_boto3_dynamodb import DynamoDBClient

    from store.items.attributes import Item
    from trading.model import InstrumentRef
    from trading.valuation import PreviousClose


class DynamoMarks:
    """`trading.ports.MarkSource`: the last traded price per instrument."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def put_mark(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> bool:
        """Store a mark (with the previous close, if known) unless a newer one is stored; False for a stale mark."""
        try:
            with translated(f"a newer mark of {ref} is stored"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=mark_item(ref, price, at, close),
                    ConditionExpression="attribute_not_exists(PK) OR #at <= :at",
                    ExpressionAttributeNames={"#at": "at"},
                    ExpressionAttributeValues={":at": typed(timestamp(at))},
                )
        except Conflict:
            return False
        return True

    def marked_at(self, refs: list[InstrumentRef]) -> datetime | None:
        """When the latest of these instruments' marks was taken (None: none has a mark)."""
        keys = [mark_key(ref) for ref in dict.fromkeys(refs)]
        items = self._table.batch_get(keys, "the database is busy reading marks; retry in a moment")
        times = [parse_timestamp(deserialize(item)["at"]) for item in items]
        return max(times, default=None)

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        """The last price of each instrument that has a mark, 100 per BatchGetItem.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving keys unprocessed.
        """
        return dict(mark_of(item) for item in self._items(refs))

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        """The last price of each instrument that has a mark and the previous close stored with it, in one read."""
        quotes = {}
        for item in self._items(refs):
            ref, price = mark_of(item)
            quotes[ref] = (price, close_of(item))
        return quotes

    def _items(self, refs: list[InstrumentRef]) -> list[Item]:
        keys = [mark_key(ref) for ref in dict.fromkeys(refs)]
        return self._table.batch_get(keys, "the database is busy reading marks; retry in a moment")
