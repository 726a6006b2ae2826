"""Valuation: a basket's positions priced at the latest marks (`pnl_of`), their previous closes, and the report."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from trading.ids import BasketId
    from trading.model import Position
    from trading.ports import MarkSource


_ZERO = Fraction(0)


@dataclass(frozen=True)
class PreviousClose:
    """An instrument's previous trading day's close (Kite's `ohlc.close`) as the feed saw it on `day` (IST)."""

    price: Decimal
    day: date

    def on(self, day: date) -> Decimal | None:
        """The close for positions shown on `day`; None when it was seen on another day (it is another close)."""
        return self.price if day == self.day else None


@dataclass(frozen=True)
class PositionPnl:
    """One position at its mark; exact (`trading.money` rounds at the edge). pnl == realised + unrealised."""

    position: Position
    last_price: Decimal | None
    pnl: Fraction
    realised: Fraction
    unrealised: Fraction
    close: PreviousClose | None = None  # m2m's base for the quantity carried overnight

    @classmethod
    def of(cls, position: Position, last_price: Decimal | None, close: PreviousClose | None = None) -> PositionPnl:
        """At its mark; unmarked, its realised P&L (unrealised 0), never its open quantity at cost."""
        realised = position.realised
        if last_price is None:
            return cls(position, None, realised, realised, _ZERO, close)
        pnl = position.pnl(last_price)  # Kite's formula: realised + unrealised by average cost, exactly
        return cls(position, last_price, pnl, realised, pnl - realised, close)


@dataclass(frozen=True)
class PnlReport:
    basket_id: BasketId
    pnl: Fraction
    realised: Fraction
    unrealised: Fraction
    positions: list[PositionPnl]
    as_of: datetime | None = None  # the latest mark or fill it reflects (None: neither yet)


def pnl_of(marks: MarkSource, basket_id: BasketId, positions: list[Position]) -> PnlReport:
    """Each position at its mark (without one: its realised P&L) with its previous close, and the exact totals."""
    refs = list({p.key.instrument for p in positions})
    quotes = marks.quotes(refs)  # one read of the marks: the price and the close together
    rows = [PositionPnl.of(p, *quotes.get(p.key.instrument, (None, None))) for p in positions]
    return PnlReport(
        basket_id=basket_id,
        pnl=sum((r.pnl for r in rows), _ZERO),
        realised=sum((r.realised for r in rows), _ZERO),
        unrealised=sum((r.unrealised for r in rows), _ZERO),
        positions=rows,
    )
