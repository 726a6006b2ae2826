"""The mark item: the last traded price of one instrument, when it traded, and the previous close seen with it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import deserialize, parse_timestamp, serialize, timestamp
from store.items.keys import mark_key
from trading.clock import IST
from trading.model import InstrumentRef
from trading.valuation import PreviousClose

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from store.items.attributes import Item


def mark_item(ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> Item:
    """`close`: the previous trading day's close the feed had with this price (None: not known)."""
    fields: dict[str, Any] = {
        "type": "Mark",
        "exchange": ref.exchange,
        "tradingsymbol": ref.tradingsymbol,
        "lastPrice": price,
        "at": timestamp(at),
    }
    if close is not None:
        fields["closePrice"] = close
    return {**mark_key(ref), **serialize(fields)}


def mark_of(item: Mapping[str, Any]) -> tuple[InstrumentRef, Decimal]:
    v = deserialize(item)
    return InstrumentRef(v["exchange"], v["tradingsymbol"]), Decimal(v["lastPrice"])


def close_of(item: Mapping[str, Any]) -> PreviousClose | None:
    """The previous close stored with a mark, as of the IST day the mark was taken; None without one."""
    v = deserialize(item)
    if v.get("closePrice") is None:
        return None
    return PreviousClose(Decimal(v["closePrice"]), parse_timestamp(v["at"]).astimezone(IST).date())
