"""`trading.ports.Baskets` over the table: one item per basket, read with its orders and positions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.errors import translated
from store.items.attributes import typed
from store.items.basket import basket_item, basket_of
from store.items.keys import (
    BASKET_SK,
    ORDER_SK_PREFIX,
    POSITION_SK_PREFIX,
    basket_key,
    basket_partition,
    owner_partition,
    sort_key_of,
)
from store.items.order import order_of
from store.items.position import position_of
from store.spec import BY_OWNER
from store.table import Table, owned_by
from trading.errors import NotFound
from trading.ports import BasketView, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.ids import BasketId, OwnerId
    from trading.model import Basket


class DynamoBaskets:
    """`trading.ports.Baskets`: one item per basket, its strategies and legs embedded."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

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
                Item=basket_item(basket),
                ConditionExpression="attribute_not_exists(PK)",
            )

    def get(self, owner: OwnerId, basket_id: BasketId) -> Basket:
        """The caller's basket (consistent read).

        Raises
        ------
        NotFound
            No such basket, or it is another user's.
        """
        item = self._table.get(basket_key(basket_id))
        if item is None or not owned_by(item, owner):
            raise NotFound(f"basket {basket_id} not found")
        return basket_of(item)

    def view(self, owner: OwnerId, basket_id: BasketId) -> BasketView:
        """The basket with its orders and positions, from one Query of its item collection.

        Raises
        ------
        NotFound
            No such basket, or it is another user's.
        """
        items = self._table.query_all(basket_partition(basket_id))
        basket_items = [i for i in items if sort_key_of(i) == BASKET_SK]
        if not basket_items or not owned_by(basket_items[0], owner):
            raise NotFound(f"basket {basket_id} not found")
        mine = [i for i in items if owned_by(i, owner)]
        orders = [order_of(i) for i in mine if sort_key_of(i).startswith(ORDER_SK_PREFIX)]
        positions = [position_of(i) for i in mine if sort_key_of(i).startswith(POSITION_SK_PREFIX)]
        return BasketView(basket_of(basket_items[0]), orders, positions)

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
                Item=basket_item(basket),
                ConditionExpression="#version = :expected AND #owner = :owner",
                ExpressionAttributeNames={"#version": "version", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":expected": typed(expected_version),
                    ":owner": typed(basket.owner),
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
                Key=basket_key(basket.id),
                ConditionExpression="#version = :expected AND #owner = :owner",
                ExpressionAttributeNames={"#version": "version", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":expected": typed(expected_version),
                    ":owner": typed(basket.owner),
                },
            )

    def list(self, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]:
        """One page of the owner's baskets, newest first (one Query).

        Raises
        ------
        ValidationError
            `next_token` is not a token of this listing.
        """
        items, token = self._table.query_page(owner_partition(owner, "BASKET"), limit, next_token, index=BY_OWNER)
        return Page([basket_of(i) for i in items], token)
