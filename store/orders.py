"""`trading.ports.Orders` over the table: orders, and the one transaction that applies a fill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from store.errors import (
    REASON_CONDITION_FAILED,
    REASON_TRANSACTION_CONFLICT,
    cancellation_reasons,
    domain_error,
    translated,
)
from store.items.attributes import timestamp, typed
from store.items.fill import booked_fill_of, fill_item
from store.items.keys import (
    FILL_SK_PREFIX,
    ORDER_SK_PREFIX,
    basket_partition,
    broker_order_partition,
    instrument_positions_partition,
    intraday_partition,
    order_key,
    order_partition,
    owner_partition,
    position_key,
)
from store.items.order import broker_order_attributes, order_item, order_of, order_terms
from store.items.position import new_position, position_item, position_of
from store.spec import BY_BROKER_ORDER, BY_INSTRUMENT, BY_ORDER_ID, BY_OWNER
from store.table import TRANSACT_LIMIT, Table, backoff, chunks, owned_by
from trading.clock import SystemClock
from trading.errors import Conflict, NotFound
from trading.ports import Page

if TYPE_CHECKING:
    from datetime import date, datetime

    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.ids import BasketId, BrokerOrderId, OrderId, OwnerId
    from trading.model import BookedFill, FillDecision, InstrumentRef, Order, OrderStatus, Position
    from trading.ports import Clock

FILL_ATTEMPTS = 4  # the first try and 3 retries on a TransactionConflict


class DynamoOrders:
    """`trading.ports.Orders`: orders, fills and positions in their basket's item collection."""

    def __init__(self, client: DynamoDBClient, table_name: str, clock: Clock | None = None) -> None:
        self._table = Table(client, table_name)
        self._clock = clock or SystemClock()

    def add_all(self, orders: list[Order]) -> None:
        """Store new orders, one TransactWriteItems per 100 (all or none of each hundred).

        Raises
        ------
        Conflict
            One of the orders exists already (nothing of its hundred was written).
        """
        for chunk in chunks(orders, TRANSACT_LIMIT):
            actions: list[Any] = [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": order_item(order),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for order in chunk
            ]
            with translated("an order of this request already exists"):
                self._table.client.transact_write_items(TransactItems=actions)

    def get(self, owner: OwnerId, order_id: OrderId) -> Order:
        """The caller's order, by id (one Query of ByOrderId).

        Raises
        ------
        NotFound
            No such order, or it is another user's.
        """
        item = self._table.query_index_one(BY_ORDER_ID, order_partition(order_id))
        if item is None or not owned_by(item, owner):
            raise NotFound(f"order {order_id} not found")
        return order_of(item)

    def positions_of_instrument(self, ref: InstrumentRef) -> list[Position]:
        """Every user's positions in `ref` (ByInstrument; eventually consistent, like any GSI read)."""
        items = self._table.query_index_all(BY_INSTRUMENT, instrument_positions_partition(ref))
        return [position_of(item) for item in items]

    def find(self, broker: str, broker_order_id: BrokerOrderId, tag: str | None) -> Order | None:
        """The order a broker report is about: by its tag (our order id), else by broker order id."""
        if tag:
            item = self._table.query_index_one(BY_ORDER_ID, order_partition(tag))
            if item is not None:
                order = order_of(item)
                same_broker_order = order.broker_order_id in (None, broker_order_id) or not broker_order_id
                if order.broker == broker and same_broker_order:
                    return order
        if not broker_order_id:
            return None
        item = self._table.query_index_one(BY_BROKER_ORDER, broker_order_partition(broker, broker_order_id))
        return None if item is None else order_of(item)

    def save(self, order: Order, expected_version: int) -> None:
        """Write the order's status, message, broker order id and terms (a modification's) if it is still at
        `expected_version`.

        Fill counters are left alone: fills change them concurrently.

        Raises
        ------
        Conflict
            The order changed (or went away) since `expected_version`.
        """
        names = {"#status": "status", "#updatedAt": "updatedAt", "#version": "version"}
        values: dict[str, Any] = {
            ":status": typed(order.status.value),
            ":updatedAt": typed(timestamp(order.updated_at)),
            ":version": typed(order.version),
            ":expected": typed(expected_version),
        }
        sets = ["#status = :status", "#updatedAt = :updatedAt", "#version = :version"]
        removes = []
        names["#statusMessage"] = "statusMessage"
        if order.status_message:
            sets.append("#statusMessage = :statusMessage")
            values[":statusMessage"] = typed(order.status_message)
        else:
            removes.append("#statusMessage")
        terms = order_terms(order)
        for attribute, value in {**broker_order_attributes(order), **terms}.items():
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = typed(value)
            sets.append(f"#{attribute} = :{attribute}")
        for attribute in ("price", "triggerPrice", "marketProtection"):
            if attribute not in terms:  # a modification dropped it (MARKET has no price; automatic protection)
                names[f"#{attribute}"] = attribute
                removes.append(f"#{attribute}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        with translated(f"order {order.id} changed since version {expected_version}; re-read it and retry"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=order_key(order.basket_id, order.id),
                UpdateExpression=expression,
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def record_placement(self, order: Order) -> None:
        """Record the broker order id of a just-placed order (its version is unchanged).

        Raises
        ------
        ValueError
            The order has no broker order id (a bug in the caller).
        Conflict
            The order does not exist.
        """
        attributes = broker_order_attributes(order)
        if not attributes:
            raise ValueError(f"order {order.id} has no broker order id to record")
        with translated(f"order {order.id} does not exist; it cannot be marked placed"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=order_key(order.basket_id, order.id),
                UpdateExpression="SET " + ", ".join(f"{a} = :{a}" for a in attributes),
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={f":{a}": typed(v) for a, v in attributes.items()},
            )

    def intraday_positions(self, day: date) -> list[Position]:
        """Every user's MIS positions first filled on `day` (IST), one Query of ByOwner per 1 MB page."""
        items = self._table.query_index_all(BY_OWNER, intraday_partition(day))
        return [position_of(item) for item in items]

    def list(
        self,
        owner: OwnerId,
        limit: int,
        next_token: str | None,
        basket_id: BasketId | None = None,
        status: OrderStatus | None = None,
    ) -> Page[Order]:
        """One page of the owner's orders, newest first, from one Query.

        `limit` bounds the items read; a status filter may return fewer with a next_token.

        Raises
        ------
        ValidationError
            `next_token` is not a token of this listing.
        """
        filters: dict[str, Any] = {} if status is None else {"status": status.value}
        if basket_id is not None:
            items, token = self._table.query_page(
                basket_partition(basket_id),
                limit,
                next_token,
                sort_prefix=ORDER_SK_PREFIX,
                filters={"owner": owner, **filters},
            )
        else:
            items, token = self._table.query_page(
                owner_partition(owner, "ORDER"), limit, next_token, index=BY_OWNER, filters=filters
            )
        return Page([order_of(i) for i in items if owned_by(i, owner)], token)

    def fills(self, owner: OwnerId, basket_id: BasketId, limit: int, next_token: str | None) -> Page[BookedFill]:
        """One page of the basket's fills, newest order first (one Query of its collection); each page in
        exchange time, newest first. The caller has checked the basket is the owner's.

        Raises
        ------
        ValidationError
            `next_token` is not a token of this listing.
        """
        items, token = self._table.query_page(
            basket_partition(basket_id), limit, next_token, sort_prefix=FILL_SK_PREFIX, filters={"owner": owner}
        )
        booked = [booked_fill_of(i) for i in items if owned_by(i, owner)]
        booked.sort(key=lambda b: (b.fill.filled_at, b.fill.trade_id), reverse=True)
        return Page(booked, token)

    def position(self, order: Order) -> Position:
        """The order's position as stored now (a strongly consistent GetItem); a new one before its first fill."""
        item = self._table.client.get_item(
            TableName=self._table.name, Key=position_key(order.position_key), ConsistentRead=True
        ).get("Item")
        return new_position(order) if item is None else position_of(item)

    def record_fill(self, order: Order, decision: FillDecision) -> bool:
        """Write a decided fill in one TransactWriteItems: the fill, the order's counters, the position.

        Each write is conditioned on the state the decision was made from (the order's filled
        quantity, the position's version), so a decision made on stale state writes nothing.

        Returns False, writing nothing, when the fill is stored already.

        Raises
        ------
        Conflict
            The order's fills or the position changed since the decision (decide again), the order
            is gone, or the items kept conflicting with concurrent transactions.
        """
        actions = _fill_transaction(self._table.name, order, decision, self._clock.now())
        for attempt in range(FILL_ATTEMPTS):
            try:
                self._table.client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                if reasons[:1] == [REASON_CONDITION_FAILED]:
                    return False
                if REASON_CONDITION_FAILED in reasons:
                    raise Conflict(
                        f"order {order.id} or its position changed while fill {decision.fill.trade_id} was decided"
                    ) from exc
                if REASON_TRANSACTION_CONFLICT in reasons and attempt + 1 < FILL_ATTEMPTS:
                    backoff(attempt)
                    continue
                error = domain_error(exc, f"fill {decision.fill.trade_id} kept conflicting with other writes; retry")
                if error is None:
                    raise
                raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover


def _fill_transaction(table_name: str, order: Order, decision: FillDecision, now: datetime) -> list[Any]:
    """The three actions of `DynamoOrders.record_fill`, each writing what the decision says, over what it read."""
    expected = decision.expected_position_version
    position_condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(PK)"}
        if expected == 0
        else {
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": typed(expected)},
        }
    )
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": fill_item(order, decision.fill, recorded_at=now),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": order_key(order.basket_id, order.id),
                "UpdateExpression": "SET filledQuantity = :q, filledValue = :v, updatedAt = :now",
                "ConditionExpression": "attribute_exists(PK) AND filledQuantity = :expected",
                "ExpressionAttributeValues": {
                    ":q": typed(decision.filled_quantity),
                    ":v": typed(decision.filled_value),
                    ":now": typed(timestamp(now)),
                    ":expected": typed(decision.expected_filled_quantity),
                },
            }
        },
        {"Put": {"TableName": table_name, "Item": position_item(order, decision.position), **position_condition}},
    ]
