"""Instruments: how traders name one, and the instrument master's record of it as the risk checks need it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

EXCHANGES = ("NSE", "BSE", "NFO", "BFO", "MCX", "CDS")


@dataclass(frozen=True)
class InstrumentRef:
    """An instrument as traders name it: exchange and trading symbol."""

    exchange: str
    tradingsymbol: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.tradingsymbol}"


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
