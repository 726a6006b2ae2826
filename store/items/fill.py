"""The fill item: one per (order, trade id) in the basket's collection, so a replayed fill is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import deserialize, parse_timestamp, serialize, timestamp
from store.items.keys import fill_key
from trading.ids import BasketId, OrderId, TradeId
from trading.model import BookedFill, Fill, InstrumentRef, Side

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from store.items.attributes import Item
    from trading.model import Order


def fill_item(order: Order, fill: Fill, *, recorded_at: datetime) -> Item:
    """The fill's item; `recorded_at` is when we wrote it (the exchange's time is `filled_at`)."""
    return {
        **fill_key(order.basket_id, fill),
        **serialize(
            {
                "type": "Fill",
                "owner": order.owner,
                "basketId": order.basket_id,
                "tradeId": fill.trade_id,
                "orderId": fill.order_id,
                "exchange": order.instrument.exchange,
                "tradingsymbol": order.instrument.tradingsymbol,
                "side": fill.side.value,
                "quantity": fill.quantity,
                "price": fill.price,
                "filledAt": timestamp(fill.filled_at),
                "recordedAt": timestamp(recorded_at),
            }
        ),
    }


def booked_fill_of(item: Mapping[str, Any]) -> BookedFill:
    """The fill with its basket, instrument and recording time, as the trade book and onFill show it."""
    v = deserialize(item)
    recorded = v.get("recordedAt")
    return BookedFill(
        fill=fill_of(item),
        basket_id=BasketId(v["basketId"]),
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        recorded_at=None if recorded is None else parse_timestamp(recorded),
    )


def fill_of(item: Mapping[str, Any]) -> Fill:
    v = deserialize(item)
    return Fill(
        trade_id=TradeId(v["tradeId"]),
        order_id=OrderId(v["orderId"]),
        side=Side(v["side"]),
        quantity=int(v["quantity"]),
        price=Decimal(v["price"]),
        filled_at=parse_timestamp(v["filledAt"]),
    )
