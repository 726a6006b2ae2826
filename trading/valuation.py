"""Valuation: a basket's positions priced at the latest marks (`pnl_of`) and the report it makes."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from trading.ids import BasketId
    from trading.model import Position
    from trading.ports import MarkSource


_ZERO = Fraction(0)


@dataclass(frozen=True)
class PositionPnl:
    """One position at its mark; exact (`trading.money` rounds at the edge). pnl == realised + unrealised."""

    position: Position
    last_price: Decimal | None
    pnl: Fraction
    realised: Fraction
    unrealised: Fraction

    @classmethod
    def of(cls, position: Position, last_price: Decimal | None) -> PositionPnl:
        """At its mark; unmarked, its realised P&L (unrealised 0), never its open quantity at cost."""
        realised = position.realised
        if last_price is None:
            return cls(position, None, realised, realised, _ZERO)
        pnl = position.pnl(last_price)  # Kite's formula: realised + unrealised by average cost, exactly
        return cls(position, last_price, pnl, realised, pnl - realised)


@dataclass(frozen=True)
class PnlReport:
    basket_id: BasketId
    pnl: Fraction
    realised: Fraction
    unrealised: Fraction
    positions: list[PositionPnl]
    as_of: datetime | None = None  # the latest mark or fill it reflects (None: neither yet)


def pnl_of(marks: MarkSource, basket_id: BasketId, positions: list[Position]) -> PnlReport:
    """Each position at its mark (without one: its realised P&L), and the exact totals."""
    prices = marks.last_prices(list({p.key.instrument for p in positions}))
    rows = [PositionPnl.of(position, prices.get(position.key.instrument)) for position in positions]
    return PnlReport(
        basket_id=basket_id,
        pnl=sum((r.pnl for r in rows), _ZERO),
        realised=sum((r.realised for r in rows), _ZERO),
        unrealised=sum((r.unrealised for r in rows), _ZERO),
        positions=rows,
    )
