"""The position item: counters the fill transaction adds to, plus its descriptive and index attributes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import compact, deserialize
from store.items.keys import instrument_positions_partition, intraday_partition, position_sort_key
from trading.clock import IST
from trading.ids import BasketId, OwnerId, StrategyId
from trading.model import InstrumentRef, Position, PositionKey, Product

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from trading.ids import TradeId
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


def position_of(item: Mapping[str, Any], seen_trades: Iterable[TradeId] = ()) -> Position:
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
        buy_quantity=int(v.get("buyQuantity", 0)),
        buy_value=Decimal(v.get("buyValue", 0)),
        sell_quantity=int(v.get("sellQuantity", 0)),
        sell_value=Decimal(v.get("sellValue", 0)),
        seen_trades=set(seen_trades),
    )
