"""The table's partition and sort keys: key builders, sort-key prefixes and the GSI key values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.items.attributes import serialize

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

    from store.items.attributes import Item
    from trading.model import Fill, InstrumentRef, PositionKey

BASKET_SK = "#BASKET"
ORDER_SK_PREFIX = "ORDER#"
FILL_SK_PREFIX = "FILL#"
POSITION_SK_PREFIX = "POSITION#"
MARK_SK = "#MARK"
REQUEST_SK = "#REQUEST"
EVENT_SK = "#EVENT"
GSI_ORDER_SK = "#ORDER"
NO_STRATEGY = "-"


def basket_partition(basket_id: str) -> str:
    return f"BASKET#{basket_id}"


def basket_key(basket_id: str) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": BASKET_SK})


def owner_partition(owner: str, kind: str) -> str:
    """GSI1 partition of one owner's items of one kind ("BASKET" or "ORDER")."""
    return f"OWNER#{owner}#{kind}"


def order_key(basket_id: str, order_id: str) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": f"{ORDER_SK_PREFIX}{order_id}"})


def order_partition(order_id: str) -> str:
    return f"ORDER#{order_id}"


def broker_order_partition(broker: str, broker_order_id: str) -> str:
    return f"BROKERORDER#{broker}#{broker_order_id}"


INSTRUMENT_PARTITION_PREFIX = "INSTRUMENT#"


def instrument_partition(exchange: str) -> str:
    return f"{INSTRUMENT_PARTITION_PREFIX}{exchange}"


def instrument_key(ref: InstrumentRef) -> Item:
    return serialize({"PK": instrument_partition(ref.exchange), "SK": ref.tradingsymbol})


def mark_key(ref: InstrumentRef) -> Item:
    return serialize({"PK": f"MARK#{ref}", "SK": MARK_SK})


def request_key(owner: str, client_request_id: str) -> Item:
    return serialize({"PK": f"REQUEST#{owner}#{client_request_id}", "SK": REQUEST_SK})


def event_key(event_id: str) -> dict[str, str]:
    """The (untyped) key of a delivery marker."""
    return {"PK": f"EVENT#{event_id}", "SK": EVENT_SK}


def position_sort_key(key: PositionKey) -> str:
    strategy = key.strategy_id or NO_STRATEGY
    return f"{POSITION_SK_PREFIX}{strategy}#{key.instrument}#{key.product}"


def position_key(key: PositionKey) -> Item:
    return serialize({"PK": basket_partition(key.basket_id), "SK": position_sort_key(key)})


def fill_key(basket_id: str, fill: Fill) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": f"{FILL_SK_PREFIX}{fill.order_id}#{fill.trade_id}"})


def sort_key_of(item: Mapping[str, Any]) -> str:
    return str(item["SK"]["S"])


def instrument_positions_partition(ref: InstrumentRef) -> str:
    """ByInstrument (GSI4) partition holding every position of the instrument."""
    return f"POSITIONS#{ref.exchange}:{ref.tradingsymbol}"


def intraday_partition(day: date) -> str:
    """ByOwner (GSI1) partition of the MIS positions first filled on `day` (IST): the 15:15 square-off reads it."""
    return f"INTRADAY#{day.isoformat()}"
