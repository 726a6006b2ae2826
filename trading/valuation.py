"""Valuation: a basket's positions priced at the latest marks (`pnl_of`) and the report it makes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trading.ids import BasketId
    from trading.model import Position
    from trading.ports import MarkSource


@dataclass(frozen=True)
class PositionPnl:
    position: Position
    last_price: Decimal | None
    pnl: Decimal
    realised: Decimal
    unrealised: Decimal


@dataclass(frozen=True)
class PnlReport:
    basket_id: BasketId
    pnl: Decimal
    realised: Decimal
    unrealised: Decimal
    positions: list[PositionPnl]


def pnl_of(marks: MarkSource, basket_id: BasketId, positions: list[Position]) -> PnlReport:
    """Each position at its mark (without one: its open quantity at its own average cost), and the totals."""
    prices = marks.last_prices(list({p.key.instrument for p in positions}))
    rows = []
    for position in positions:
        last = prices.get(position.key.instrument)
        if last is None:
            avg = position.buy_price if position.net_quantity > 0 else position.sell_price
            pnl = position.pnl(avg)
        else:
            pnl = position.pnl(last)
        rows.append(PositionPnl(position, last, pnl, position.realised, pnl - position.realised))
    return PnlReport(
        basket_id=basket_id,
        pnl=sum((r.pnl for r in rows), Decimal(0)),
        realised=sum((r.realised for r in rows), Decimal(0)),
        unrealised=sum((r.unrealised for r in rows), Decimal(0)),
        positions=rows,
    )
