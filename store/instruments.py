"""`trading.ports.Instruments` over the table: the instrument master, one partition per exchange."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.errors import translated
from store.items.attributes import typed
from store.items.instrument import instrument_item, instrument_of
from store.items.keys import instrument_key, instrument_partition
from store.table import Table
from trading.model.instrument import EXCHANGES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.model import InstrumentRef
    from trading.model.instrument import Instrument


class DynamoInstruments:
    """`trading.ports.Instruments`: the instrument master, one partition per exchange."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def get(self, ref: InstrumentRef) -> Instrument | None:
        """The instrument, or None when the master does not list it."""
        item = self._table.get(instrument_key(ref), consistent=False)
        return None if item is None else instrument_of(item)

    def search(self, text: str, exchange: str | None, limit: int) -> list[Instrument]:
        """Up to `limit` instruments whose symbol starts with `text`, one Query per exchange searched."""
        found: list[Instrument] = []
        for name in [exchange] if exchange else EXCHANGES:
            if len(found) >= limit:
                break
            with translated():
                response = self._table.client.query(
                    TableName=self._table.name,
                    KeyConditionExpression="PK = :pk AND begins_with(SK, :text)",
                    ExpressionAttributeValues={
                        ":pk": typed(instrument_partition(name)),
                        ":text": typed(text),
                    },
                    Limit=limit - len(found),
                )
            found.extend(instrument_of(i) for i in response.get("Items", []))
        return found

    def put_instruments(self, instruments: list[Instrument]) -> None:
        """Write instruments (replacing same-symbol ones), 25 per BatchWriteItem.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving items unprocessed.
        """
        unique = {i.ref: i for i in instruments}
        items = [instrument_item(i) for i in unique.values()]
        self._table.batch_put(items, "the database is busy writing instruments; retry in a moment")
