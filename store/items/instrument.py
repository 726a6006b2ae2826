"""The instrument item: one per symbol in its exchange's partition (the instrument master)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import decimal_or_none, deserialize, serialize
from store.items.keys import instrument_partition
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.items.attributes import Item


def instrument_item(instrument: Instrument) -> Item:
    return serialize(
        {
            "PK": instrument_partition(instrument.exchange),
            "SK": instrument.tradingsymbol,
            "type": "Instrument",
            "token": instrument.token,
            "exchange": instrument.exchange,
            "tradingsymbol": instrument.tradingsymbol,
            "name": instrument.name,
            "instrumentType": instrument.instrument_type,
            "segment": instrument.segment,
            "lotSize": instrument.lot_size,
            "tickSize": instrument.tick_size,
            "expiry": instrument.expiry.isoformat() if instrument.expiry else None,
            "strike": instrument.strike,
            "freezeQuantity": instrument.freeze_quantity,
            "multiplier": instrument.multiplier,
        }
    )


def instrument_of(item: Mapping[str, Any]) -> Instrument:
    v = deserialize(item)
    return Instrument(
        token=int(v["token"]),
        exchange=v["exchange"],
        tradingsymbol=v["tradingsymbol"],
        name=v["name"],
        instrument_type=v["instrumentType"],
        segment=v["segment"],
        lot_size=int(v["lotSize"]),
        tick_size=Decimal(v["tickSize"]),
        expiry=date.fromisoformat(v["expiry"]) if "expiry" in v else None,
        strike=decimal_or_none(v.get("strike")),
        freeze_quantity=int(v["freezeQuantity"]) if "freezeQuantity" in v else None,
        multiplier=Decimal(v.get("multiplier", 1)),
    )
