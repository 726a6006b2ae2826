"""The instrument master as the risk checks need it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.model import InstrumentRef

if TYPE_CHECKING:
    from datetime import date

EXCHANGES = ("NSE", "BSE", "NFO", "BFO", "MCX", "CDS")


@dataclass(frozen=True)
class Instrument:
    token: int
    exchange: str
    tradingsymbol: str
    name: str
    instrument_type: str
    segment: str
    lot_size: int
    tick_size: Decimal
    expiry: date | None = None
    strike: Decimal | None = None
    freeze_quantity: int | None = None
    multiplier: Decimal = Decimal(1)

    @property
    def ref(self) -> InstrumentRef:
        return InstrumentRef(self.exchange, self.tradingsymbol)
