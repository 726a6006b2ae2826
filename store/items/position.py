"""The position item: its fills (the position is their walk), its version, counters, and index attributes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import compact, deserialize, parse_timestamp, serialize, timestamp
from store.items.keys import instrument_positions_partition, intraday_partition, position_sort_key
from store.items.keys import position_key as position_key_item
from trading.clock import IST
from trading.ids import BasketId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import Fill, InstrumentRef, Position, PositionKey, Product, Side

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from store.items.attributes import Item
    from trading.model import Order


def position_attributes(order: Order) -> dict[str, Any]:
    """The descriptive (non-counter) attributes of the order's position item."""
    return compact(
        {
            "type": "Position",
            "owner": order.owner,
            "basketId": order.basket_id,
            "strategyId": order.strategy_id,
            "exchange": order.instrument.exchange,
            "tradingsymbol": order.instrument.tradingsymbol,
            "product": order.product.value,
            "multiplier": order.multiplier,
            "GSI4PK": instrument_positions_partition(order.instrument),
            "GSI4SK": f"{order.basket_id}#{position_sort_key(order.position_key)}",
        }
    )


def intraday_keys(order: Order, first_filled_at: datetime) -> dict[str, str]:
    """The sparse GSI1 keys of an MIS position (set at its first fill); none for other products."""
    if order.product is not Product.MIS:
        return {}
    day = first_filled_at.astimezone(IST).date()
    return {"GSI1PK": intraday_partition(day), "GSI1SK": f"{order.owner}#{position_sort_key(order.position_key)}"}


def position_item(order: Order, position: Position) -> Item:
    """The whole item of `position` as the domain decided it, keyed and indexed like its order's position."""
    book = position.book
    first = position.fills[0].filled_at if position.fills else None
    return {
        **position_key_item(position.key),
        **serialize(
            {
                **position_attributes(order),
                **(intraday_keys(order, first) if first is not None else {}),
                "version": position.version,
                "fills": [_fill_row(f) for f in position.fills],
                "buyQuantity": book.buy_quantity,
                "buyValue": book.buy_value,
                "sellQuantity": book.sell_quantity,
                "sellValue": book.sell_value,
                "netQuantity": book.net_quantity,
            }
        ),
    }


def _fill_row(fill: Fill) -> list[Any]:
    return [fill.order_id, fill.trade_id, fill.side.value, fill.quantity, fill.price, timestamp(fill.filled_at)]


def _fill_of_row(row: list[Any]) -> Fill:
    order_id, trade_id, side, quantity, price, filled_at = row
    return Fill(
        TradeId(trade_id), OrderId(order_id), Side(side), int(quantity), Decimal(price), parse_timestamp(filled_at)
    )


def new_position(order: Order) -> Position:
    """The order's position before its first fill (version 0: not stored yet)."""
    return Position(order.position_key, order.owner, multiplier=order.multiplier)


def position_of(item: Mapping[str, Any]) -> Position:
    v = deserialize(item)
    key = PositionKey(
        basket_id=BasketId(v["basketId"]),
        strategy_id=StrategyId(v["strategyId"]) if "strategyId" in v else None,
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        product=Product(v["product"]),
    )
    return Position(
        key=key,
        owner=OwnerId(v["owner"]),
        multiplier=Decimal(v["multiplier"]),
        fills=tuple(_fill_of_row(row) for row in v.get("fills", [])),
        version=int(v.get("version", 0)),
    )
