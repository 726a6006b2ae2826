"""DynamoDB adapters for the `trading.ports` repositories, all over one table."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from store import codec
from store.errors import (
    REASON_CONDITION_FAILED,
    REASON_TRANSACTION_CONFLICT,
    cancellation_reasons,
    domain_error,
    translated,
)
from store.pages import INVALID_TOKEN, decode_token, encode_token
from store.spec import (
    BY_BROKER_ORDER,
    BY_INSTRUMENT,
    BY_ORDER_ID,
    BY_OWNER,
    DEFAULT_TABLE_NAME,
    INDEXES,
    PRIMARY_KEY,
)
from trading.clock import SystemClock
from trading.errors import Conflict, NotFound, RateLimited, ValidationError
from trading.instruments import EXCHANGES
from trading.model import PositionDelta
from trading.ports import BasketView, Page

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import date
    from decimal import Decimal

    from mypy_boto3_dynamodb import DynamoDBClient

    from store.codec import Item
    from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId, TradeId
    from trading.instruments import Instrument
    from trading.model import Basket, Fill, InstrumentRef, Order, OrderStatus, Position, PositionKey
    from trading.ports import Clock

TRANSACT_LIMIT = 100
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
BATCH_ATTEMPTS = 8
FILL_ATTEMPTS = 4  # the first try and 3 retries on a TransactionConflict
REQUEST_TTL_SECONDS = 7 * 24 * 3600
IN_PROGRESS = "IN_PROGRESS"
DONE = "DONE"


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 1.0))


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class _Table:
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
        values = {":pk": codec.typed(partition)}
        condition = "#pk = :pk"
        if sort_prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sk
            values[":prefix"] = codec.typed(sort_prefix)
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
                values[f":f{i}"] = codec.typed(value)
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
                "ExpressionAttributeValues": {":pk": codec.typed(partition)},
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
                "ExpressionAttributeValues": {":pk": codec.typed(partition)},
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
                ExpressionAttributeValues={":pk": codec.typed(partition)},
            )
        items = response.get("Items", [])
        return items[0] if items else None


def _owned_by(item: Item | None, owner: str) -> bool:
    return item is not None and item.get("owner", {}).get("S") == owner


class DynamoBaskets:
    """`trading.ports.Baskets`: one item per basket, its strategies and legs embedded."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = _Table(client, table_name)

    def add(self, basket: Basket) -> None:
        """Store a new basket.

        Raises
        ------
        Conflict
            A basket with this id exists.
        """
        with translated(f"basket {basket.id} already exists"):
            self._table.client.put_item(
                TableName=self._table.name,
                Item=codec.basket_item(basket),
                ConditionExpression="attribute_not_exists(PK)",
            )

    def get(self, owner: OwnerId, basket_id: BasketId) -> Basket:
        """The caller's basket (consistent read).

        Raises
        ------
        NotFound
            No such basket, or it is another user's.
        """
        item = self._table.get(codec.basket_key(basket_id))
        if item is None or not _owned_by(item, owner):
            raise NotFound(f"basket {basket_id} not found")
        return codec.basket_of(item)

    def view(self, owner: OwnerId, basket_id: BasketId) -> BasketView:
        """The basket with its orders and positions, from one Query of its item collection.

        Raises
        ------
        NotFound
            No such basket, or it is another user's.
        """
        items = self._table.query_all(codec.basket_partition(basket_id))
        basket_items = [i for i in items if codec.sort_key_of(i) == codec.BASKET_SK]
        if not basket_items or not _owned_by(basket_items[0], owner):
            raise NotFound(f"basket {basket_id} not found")
        mine = [i for i in items if _owned_by(i, owner)]
        orders = [codec.order_of(i) for i in mine if codec.sort_key_of(i).startswith(codec.ORDER_SK_PREFIX)]
        by_id = {o.id: o for o in orders}
        seen: dict[PositionKey, set[TradeId]] = defaultdict(set)
        for item in mine:
            if codec.sort_key_of(item).startswith(codec.FILL_SK_PREFIX):
                fill = codec.fill_of(item)
                if fill.order_id in by_id:
                    seen[by_id[fill.order_id].position_key].add(fill.trade_id)
        positions: list[Position] = []
        for item in mine:
            if codec.sort_key_of(item).startswith(codec.POSITION_SK_PREFIX):
                position = codec.position_of(item)
                position.seen_trades = seen.get(position.key, set())
                positions.append(position)
        return BasketView(codec.basket_of(basket_items[0]), orders, positions)

    def save(self, basket: Basket, expected_version: int) -> None:
        """Replace the basket if the store still holds `expected_version` (the caller bumped `version`).

        Raises
        ------
        Conflict
            The basket changed (or went away) since `expected_version`.
        """
        with translated(f"basket {basket.id} changed since version {expected_version}; re-read it and retry"):
            self._table.client.put_item(
                TableName=self._table.name,
                Item=codec.basket_item(basket),
                ConditionExpression="#version = :expected AND #owner = :owner",
                ExpressionAttributeNames={"#version": "version", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":expected": codec.typed(expected_version),
                    ":owner": codec.typed(basket.owner),
                },
            )

    def delete(self, basket: Basket, expected_version: int) -> None:
        """Delete the basket item if the store still holds `expected_version`.

        Raises
        ------
        Conflict
            The basket changed (or went away) since `expected_version`.
        """
        with translated(f"basket {basket.id} changed since version {expected_version}; re-read it and retry"):
            self._table.client.delete_item(
                TableName=self._table.name,
                Key=codec.basket_key(basket.id),
                ConditionExpression="#version = :expected AND #owner = :owner",
                ExpressionAttributeNames={"#version": "version", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":expected": codec.typed(expected_version),
                    ":owner": codec.typed(basket.owner),
                },
            )

    def list(self, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]:
        """One page of the owner's baskets, newest first (one Query).

        Raises
        ------
        ValidationError
            `next_token` is not a token of this listing.
        """
        items, token = self._table.query_page(codec.owner_partition(owner, "BASKET"), limit, next_token, index=BY_OWNER)
        return Page([codec.basket_of(i) for i in items], token)


class DynamoOrders:
    """`trading.ports.Orders`: orders, fills and positions in their basket's item collection."""

    def __init__(self, client: DynamoDBClient, table_name: str, clock: Clock | None = None) -> None:
        self._table = _Table(client, table_name)
        self._clock = clock or SystemClock()

    def add_all(self, orders: list[Order]) -> None:
        """Store new orders, one TransactWriteItems per 100 (all or none of each hundred).

        Raises
        ------
        Conflict
            One of the orders exists already (nothing of its hundred was written).
        """
        for chunk in _chunks(orders, TRANSACT_LIMIT):
            actions: list[Any] = [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": codec.order_item(order),
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
        item = self._table.query_index_one(BY_ORDER_ID, codec.order_partition(order_id))
        if item is None or not _owned_by(item, owner):
            raise NotFound(f"order {order_id} not found")
        return codec.order_of(item)

    def positions_of_instrument(self, ref: InstrumentRef) -> list[Position]:
        """Every user's positions in `ref` (ByInstrument; eventually consistent, like any GSI read)."""
        items = self._table.query_index_all(BY_INSTRUMENT, codec.instrument_positions_partition(ref))
        return [codec.position_of(item) for item in items]

    def find(self, broker: str, broker_order_id: BrokerOrderId, tag: str | None) -> Order | None:
        """The order a broker report is about: by its tag (our order id), else by broker order id."""
        if tag:
            item = self._table.query_index_one(BY_ORDER_ID, codec.order_partition(tag))
            if item is not None:
                order = codec.order_of(item)
                same_broker_order = order.broker_order_id in (None, broker_order_id) or not broker_order_id
                if order.broker == broker and same_broker_order:
                    return order
        if not broker_order_id:
            return None
        item = self._table.query_index_one(BY_BROKER_ORDER, codec.broker_order_partition(broker, broker_order_id))
        return None if item is None else codec.order_of(item)

    def save(self, order: Order, expected_version: int) -> None:
        """Write the order's status, message and broker order id if it is still at `expected_version`.

        Fill counters are left alone: fills change them concurrently.

        Raises
        ------
        Conflict
            The order changed (or went away) since `expected_version`.
        """
        names = {"#status": "status", "#updatedAt": "updatedAt", "#version": "version"}
        values: dict[str, Any] = {
            ":status": codec.typed(order.status.value),
            ":updatedAt": codec.typed(codec.timestamp(order.updated_at)),
            ":version": codec.typed(order.version),
            ":expected": codec.typed(expected_version),
        }
        sets = ["#status = :status", "#updatedAt = :updatedAt", "#version = :version"]
        removes = []
        names["#statusMessage"] = "statusMessage"
        if order.status_message:
            sets.append("#statusMessage = :statusMessage")
            values[":statusMessage"] = codec.typed(order.status_message)
        else:
            removes.append("#statusMessage")
        for attribute, value in self._broker_order_attributes(order).items():
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = codec.typed(value)
            sets.append(f"#{attribute} = :{attribute}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        with translated(f"order {order.id} changed since version {expected_version}; re-read it and retry"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=codec.order_key(order.basket_id, order.id),
                UpdateExpression=expression,
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    @staticmethod
    def _broker_order_attributes(order: Order) -> dict[str, str]:
        if not order.broker_order_id:
            return {}
        return {"brokerOrderId": order.broker_order_id, **codec.broker_order_keys(order)}

    def record_placement(self, order: Order) -> None:
        """Record the broker order id of a just-placed order (its version is unchanged).

        Raises
        ------
        ValueError
            The order has no broker order id (a bug in the caller).
        Conflict
            The order does not exist.
        """
        attributes = self._broker_order_attributes(order)
        if not attributes:
            raise ValueError(f"order {order.id} has no broker order id to record")
        with translated(f"order {order.id} does not exist; it cannot be marked placed"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=codec.order_key(order.basket_id, order.id),
                UpdateExpression="SET " + ", ".join(f"{a} = :{a}" for a in attributes),
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={f":{a}": codec.typed(v) for a, v in attributes.items()},
            )

    def intraday_positions(self, day: date) -> list[Position]:
        """Every user's MIS positions first filled on `day` (IST), one Query of ByOwner per 1 MB page."""
        items = self._table.query_index_all(BY_OWNER, codec.intraday_partition(day))
        return [codec.position_of(item) for item in items]

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
                codec.basket_partition(basket_id),
                limit,
                next_token,
                sort_prefix=codec.ORDER_SK_PREFIX,
                filters={"owner": owner, **filters},
            )
        else:
            items, token = self._table.query_page(
                codec.owner_partition(owner, "ORDER"), limit, next_token, index=BY_OWNER, filters=filters
            )
        return Page([codec.order_of(i) for i in items if _owned_by(i, owner)], token)

    def apply_fill(self, order: Order, fill: Fill) -> bool:
        """Record a fill, add it to its order and position, all in one TransactWriteItems.

        Returns False, writing nothing, when the fill was applied before.

        Raises
        ------
        ValidationError
            The fill would take the order past its quantity (or the order is gone).
        Conflict
            The items kept changing under concurrent transactions.
        """
        actions = _fill_transaction(self._table.name, order, fill, self._clock.now())
        for attempt in range(FILL_ATTEMPTS):
            try:
                self._table.client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                if reasons[:1] == [REASON_CONDITION_FAILED]:
                    return False
                if reasons[1:2] == [REASON_CONDITION_FAILED]:
                    raise ValidationError(
                        f"fill {fill.trade_id} of {fill.quantity} overfills order {order.id} of {order.quantity}"
                    ) from exc
                if REASON_TRANSACTION_CONFLICT in reasons and attempt + 1 < FILL_ATTEMPTS:
                    _backoff(attempt)
                    continue
                error = domain_error(exc, f"fill {fill.trade_id} kept conflicting with other writes; retry")
                if error is None:
                    raise
                raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover


def _fill_transaction(table_name: str, order: Order, fill: Fill, now: datetime) -> list[Any]:
    """The three actions of `DynamoOrders.apply_fill`: put the fill, count it on its order and position."""
    delta = PositionDelta.of(fill, order.multiplier)
    descriptive = {**codec.position_attributes(order), **codec.intraday_keys(order, fill.filled_at)}
    position_names = {f"#{a}": a for a in descriptive}
    position_values = {f":{a}": codec.typed(v) for a, v in descriptive.items()}
    position_values.update(
        {
            ":bq": codec.typed(delta.buy_quantity),
            ":bv": codec.typed(delta.buy_value),
            ":sq": codec.typed(delta.sell_quantity),
            ":sv": codec.typed(delta.sell_value),
        }
    )
    position_sets = ", ".join(f"#{a} = if_not_exists(#{a}, :{a})" for a in descriptive)
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": codec.fill_item(order, fill, recorded_at=now),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": codec.order_key(order.basket_id, order.id),
                "UpdateExpression": "ADD filledQuantity :q, filledValue :v SET updatedAt = :now",
                "ConditionExpression": "attribute_exists(PK) AND filledQuantity <= :max",
                "ExpressionAttributeValues": {
                    ":q": codec.typed(fill.quantity),
                    ":v": codec.typed(fill.price * fill.quantity),
                    ":now": codec.typed(codec.timestamp(now)),
                    ":max": codec.typed(order.quantity - fill.quantity),
                },
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": codec.position_key(order.position_key),
                "UpdateExpression": (
                    f"SET {position_sets} ADD buyQuantity :bq, buyValue :bv, sellQuantity :sq, sellValue :sv"
                ),
                "ExpressionAttributeNames": position_names,
                "ExpressionAttributeValues": position_values,
            }
        },
    ]


class DynamoInstruments:
    """`trading.ports.Instruments`: the instrument master, one partition per exchange."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = _Table(client, table_name)

    def get(self, ref: InstrumentRef) -> Instrument | None:
        """The instrument, or None when the master does not list it."""
        item = self._table.get(codec.instrument_key(ref), consistent=False)
        return None if item is None else codec.instrument_of(item)

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
                        ":pk": codec.typed(codec.instrument_partition(name)),
                        ":text": codec.typed(text),
                    },
                    Limit=limit - len(found),
                )
            found.extend(codec.instrument_of(i) for i in response.get("Items", []))
        return found

    def put_instruments(self, instruments: list[Instrument]) -> None:
        """Write instruments (replacing same-symbol ones), 25 per BatchWriteItem.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving items unprocessed.
        """
        unique = {i.ref: i for i in instruments}
        requests = [{"PutRequest": {"Item": codec.instrument_item(i)}} for i in unique.values()]
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            pending: Any = {self._table.name: chunk}
            for attempt in range(BATCH_ATTEMPTS):
                with translated():
                    response = self._table.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems")
                if not pending:
                    break
                _backoff(attempt)
            else:
                raise RateLimited("the database is busy writing instruments; retry in a moment")


class DynamoMarks:
    """`trading.ports.MarkSource`: the last traded price per instrument."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = _Table(client, table_name)

    def put_mark(self, ref: InstrumentRef, price: Decimal, at: datetime) -> bool:
        """Store a mark unless a newer one is stored; returns False for a stale mark."""
        try:
            with translated(f"a newer mark of {ref} is stored"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=codec.mark_item(ref, price, at),
                    ConditionExpression="attribute_not_exists(PK) OR #at <= :at",
                    ExpressionAttributeNames={"#at": "at"},
                    ExpressionAttributeValues={":at": codec.typed(codec.timestamp(at))},
                )
        except Conflict:
            return False
        return True

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        """The last price of each instrument that has a mark, 100 per BatchGetItem.

        Raises
        ------
        RateLimited
            DynamoDB kept leaving keys unprocessed.
        """
        prices: dict[InstrumentRef, Decimal] = {}
        keys = [codec.mark_key(ref) for ref in dict.fromkeys(refs)]
        for chunk in _chunks(keys, BATCH_GET_LIMIT):
            pending: Any = {self._table.name: {"Keys": chunk}}
            for attempt in range(BATCH_ATTEMPTS):
                with translated():
                    response = self._table.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._table.name, []):
                    ref, price = codec.mark_of(item)
                    prices[ref] = price
                pending = response.get("UnprocessedKeys")
                if not pending:
                    break
                _backoff(attempt)
            else:
                raise RateLimited("the database is busy reading marks; retry in a moment")
        return prices


class DynamoRequests:
    """`trading.ports.Requests`: one idempotency record per (owner, clientRequestId), kept 7 days."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        wait_seconds: float = 15.0,
        poll_seconds: float = 0.1,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._table = _Table(client, table_name)
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._now = now

    def claim(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """Claim the id; None when claimed now, else the first request's result once it is done.

        Raises
        ------
        Conflict
            The id was used for a different request, or the first request is still running
            after the wait.
        """
        key = codec.request_key(owner, client_request_id)
        deadline = time.monotonic() + self._wait
        while True:
            if self._try_claim(owner, client_request_id, operation, fingerprint):
                return None
            result = self._result(key, client_request_id, operation, fingerprint, deadline)
            if result is not None:
                return result
            # the first request released its claim (it failed): try to claim it again

    def find(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """The result of an earlier request with this id, waiting while it runs; None if there was none.

        Raises
        ------
        Conflict
            As `claim`.
        """
        key = codec.request_key(owner, client_request_id)
        return self._result(key, client_request_id, operation, fingerprint, time.monotonic() + self._wait)

    def _result(
        self, key: dict[str, Any], client_request_id: str, operation: str, fingerprint: str, deadline: float
    ) -> dict[str, Any] | None:
        """Wait for a live record to be DONE and return its result; None when there is no live record."""
        record = self._table.get(key)
        while record is not None:
            stored = codec.deserialize(record)
            if int(stored.get("expiresAt", 0)) < int(self._now()):
                return None  # expired: it no longer holds the id
            if stored["fingerprint"] != fingerprint or stored["operation"] != operation:
                raise Conflict(f"clientRequestId {client_request_id} was already used for a different request")
            if stored["state"] == DONE:
                result: dict[str, Any] = json.loads(stored["result"])
                return result
            if time.monotonic() >= deadline:
                raise Conflict(f"request {client_request_id} is still being processed; retry later")
            time.sleep(self._poll)
            record = self._table.get(key)
        return None

    def _try_claim(self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str) -> bool:
        now = int(self._now())
        item = {
            **codec.request_key(owner, client_request_id),
            **codec.serialize(
                {
                    "type": "Request",
                    "owner": owner,
                    "clientRequestId": client_request_id,
                    "operation": operation,
                    "fingerprint": fingerprint,
                    "state": IN_PROGRESS,
                    "createdAt": codec.timestamp(datetime.fromtimestamp(now, UTC)),
                    "expiresAt": now + REQUEST_TTL_SECONDS,
                }
            ),
        }
        try:
            # an expired record may outlive its TTL for a while; it no longer holds the id
            with translated(f"clientRequestId {client_request_id} is taken"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(PK) OR expiresAt < :now",
                    ExpressionAttributeValues={":now": codec.typed(now)},
                )
        except Conflict:
            return False
        return True

    def complete(self, owner: OwnerId, client_request_id: ClientRequestId, result: dict[str, Any]) -> None:
        """Store the result a repeat of this request gets.

        Raises
        ------
        Conflict
            The claim no longer exists.
        """
        with translated(f"request {client_request_id} is no longer claimed"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=codec.request_key(owner, client_request_id),
                UpdateExpression="SET #state = :done, #result = :result",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#state": "state", "#result": "result"},
                ExpressionAttributeValues={
                    ":done": codec.typed(DONE),
                    ":result": codec.typed(json.dumps(result, separators=(",", ":"))),
                },
            )

    def release(self, owner: OwnerId, client_request_id: ClientRequestId) -> None:
        """Drop an unfinished claim so the request can be retried; a finished one is kept."""
        try:
            with translated(f"request {client_request_id} is already done"):
                self._table.client.delete_item(
                    TableName=self._table.name,
                    Key=codec.request_key(owner, client_request_id),
                    ConditionExpression="#state = :in_progress",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":in_progress": codec.typed(IN_PROGRESS)},
                )
        except Conflict:
            pass


DELIVERY_TTL_SECONDS = 24 * 3600


class DynamoDeliveries:
    """`trading.ports.Deliveries`: one marker item per published event id, kept a day."""

    def __init__(self, client: DynamoDBClient, table_name: str, now: Callable[[], float] = time.time) -> None:
        self._table = _Table(client, table_name)
        self._now = now

    def first(self, event_id: str) -> bool:
        """Record `event_id`; False when it was recorded before (its event was already delivered)."""
        item = codec.serialize(
            {
                "PK": f"EVENT#{event_id}",
                "SK": "#EVENT",
                "type": "Delivery",
                "expiresAt": int(self._now()) + DELIVERY_TTL_SECONDS,
            }
        )
        try:
            with translated(f"event {event_id} was already delivered"):
                self._table.client.put_item(
                    TableName=self._table.name, Item=item, ConditionExpression="attribute_not_exists(PK)"
                )
        except Conflict:
            return False
        return True


@dataclass(frozen=True)
class DynamoStore:
    """Every repository over one table; build it once per composition root with `connect`."""

    baskets: DynamoBaskets
    orders: DynamoOrders
    instruments: DynamoInstruments
    marks: DynamoMarks
    requests: DynamoRequests
    deliveries: DynamoDeliveries
    table_name: str


def connect(
    table_name: str | None = None, client: DynamoDBClient | None = None, clock: Clock | None = None
) -> DynamoStore:
    """The repositories over `table_name` (default "Trading").

    Parameters
    ----------
    table_name
        The table; the entrypoints' is their settings' `table_name`.
    client
        A DynamoDB client; by default one from the environment's region and endpoint.
    clock
        What stamps `updatedAt` on fills; the system clock by default.
    """
    name = table_name or DEFAULT_TABLE_NAME
    client = client or boto3.client("dynamodb")
    return DynamoStore(
        baskets=DynamoBaskets(client, name),
        orders=DynamoOrders(client, name, clock),
        instruments=DynamoInstruments(client, name),
        marks=DynamoMarks(client, name),
        requests=DynamoRequests(client, name),
        deliveries=DynamoDeliveries(client, name),
        table_name=name,
    )
