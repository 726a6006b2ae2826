"""The mark item: the last traded price of one instrument and when it traded."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import deserialize, serialize, timestamp
from store.items.keys import mark_key
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from store.items.attributes import Item


def mark_item(ref: InstrumentRef, price: Decimal, at: datetime) -> Item:
    return {
        **mark_key(ref),
        **serialize(
            {
                "type": "Mark",
                "exchange": ref.exchange,
                "tradingsymbol": ref.tradingsymbol,
                "lastPrice": price,
                "at": timestamp(at),
            }
        ),
    }


def mark_of(item: Mapping[str, Any]) -> tuple[InstrumentRef, Decimal]:
    v = deserialize(item)
    return InstrumentRef(v["exchange"], v["tradingsymbol"]), Decimal(v["lastPrice"])
