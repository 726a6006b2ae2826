"""Margin as brokers report it: what an order or a basket blocks, its charges, and an account's funds."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trading.model.instrument import InstrumentRef

ZERO = Decimal(0)


class Segment(enum.StrEnum):
    """A broker's margin segment: equity (NSE, BSE, NFO, BFO, CDS) or commodity (MCX)."""

    EQUITY = "EQUITY"
    COMMODITY = "COMMODITY"

    @property
    def key(self) -> str:
        """The broker's name for it ("equity", "commodity")."""
        return self.value.lower()

    @classmethod
    def of_exchange(cls, exchange: str) -> Segment:
        return cls.COMMODITY if exchange == "MCX" else cls.EQUITY


@dataclass(frozen=True)
class Charges:
    """What trading an order costs besides its price (brokerage, taxes, exchange and SEBI fees, stamp duty, GST)."""

    brokerage: Decimal = ZERO
    transaction_tax: Decimal = ZERO
    exchange_turnover_charge: Decimal = ZERO
    sebi_turnover_charge: Decimal = ZERO
    stamp_duty: Decimal = ZERO
    gst: Decimal = ZERO
    total: Decimal = ZERO

    def __add__(self, other: Charges) -> Charges:
        return Charges(
            self.brokerage + other.brokerage,
            self.transaction_tax + other.transaction_tax,
            self.exchange_turnover_charge + other.exchange_turnover_charge,
            self.sebi_turnover_charge + other.sebi_turnover_charge,
            self.stamp_duty + other.stamp_duty,
            self.gst + other.gst,
            self.total + other.total,
        )


@dataclass(frozen=True)
class MarginBreakdown:
    """Margin by component (SPAN, exposure, option premium, VaR for equity, the rest) and its `total`."""

    total: Decimal
    span: Decimal = ZERO
    exposure: Decimal = ZERO
    option_premium: Decimal = ZERO
    var: Decimal = ZERO
    additional: Decimal = ZERO


@dataclass(frozen=True)
class OrderMargin:
    """One order's margin on its own, and its charges."""

    instrument: InstrumentRef
    margin: MarginBreakdown
    charges: Charges = field(default_factory=Charges)


@dataclass(frozen=True)
class BasketMargin:
    """A basket's margin: `initial` (legs summed), `final` (after offsets between legs and, when asked, positions)."""

    initial: MarginBreakdown
    final: MarginBreakdown
    orders: list[OrderMargin]
    charges: Charges = field(default_factory=Charges)

    @property
    def hedge_benefit(self) -> Decimal:
        """How much less the basket blocks together than its legs would one by one."""
        return self.initial.total - self.final.total


@dataclass(frozen=True)
class Funds:
    """An account's margin in one segment: `available` to block now, `used` (blocked), `cash` (opening balance)."""

    segment: Segment
    available: Decimal
    used: Decimal
    cash: Decimal
