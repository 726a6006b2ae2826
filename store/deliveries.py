"""`trading.ports.Deliveries` over the table: a marker per published event id, kept while it can be redelivered."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from store.errors import translated
from store.items.delivery import delivery_item
from store.spec import DELIVERY_TTL_SECONDS
from store.table import Table
from trading.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDeliveries:
    """`trading.ports.Deliveries`: one marker item per published event id, expiring `ttl` seconds after it is
    written (`store.spec.DELIVERY_TTL_SECONDS`: just past the stream's maximum record age)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        now: Callable[[], float] = time.time,
        *,
        ttl: int = DELIVERY_TTL_SECONDS,
    ) -> None:
        self._table = Table(client, table_name)
        self._now = now
        self.ttl = ttl

    def first(self, event_id: str) -> bool:
        """Record `event_id`; False when it was recorded before (its event was already delivered)."""
        item = delivery_item(event_id, expires_at=int(self._now()) + self.ttl)
        try:
            with translated(f"event {event_id} was already delivered"):
                self._table.client.put_item(
                    TableName=self._table.name, Item=item, ConditionExpression="attribute_not_exists(PK)"
                )
        except Conflict:
            return False
        return True
