"""Positions per (basket, strategy, instrument, product): what a fill adds, and P&L by Kite's formula."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.model.basket import Side

if TYPE_CHECKING:
    from trading.ids import BasketId, OwnerId, StrategyId, TradeId
    from trading.model.basket import Product
    from trading.model.instrument import InstrumentRef
    from trading.model.order import Fill


@dataclass(frozen=True)
class PositionKey:
    basket_id: BasketId
    strategy_id: StrategyId | None
    instrument: InstrumentRef
    product: Product


@dataclass(frozen=True)
class PositionDelta:
    """What one fill adds to a position's counters (values include the multiplier)."""

    buy_quantity: int
    buy_value: Decimal
    sell_quantity: int
    sell_value: Decimal

    @classmethod
    def of(cls, fill: Fill, multiplier: Decimal) -> PositionDelta:
        value = fill.price * fill.quantity * multiplier
        if fill.side is Side.BUY:
            return cls(fill.quantity, value, 0, Decimal(0))
        return cls(0, Decimal(0), fill.quantity, value)


@dataclass
class Position:
    """Counters per (basket, strategy, instrument, product); P&L by Kite's formula."""

    key: PositionKey
    owner: OwnerId
    multiplier: Decimal = Decimal(1)
    buy_quantity: int = 0
    buy_value: Decimal = Decimal(0)
    sell_quantity: int = 0
    sell_value: Decimal = Decimal(0)
    seen_trades: set[TradeId] = field(default_factory=set)

    def apply(self, fill: Fill) -> bool:
        """Add a fill once; a trade already seen is refused (returns False)."""
        if fill.trade_id in self.seen_trades:
            return False
        delta = PositionDelta.of(fill, self.multiplier)
        self.buy_quantity += delta.buy_quantity
        self.buy_value += delta.buy_value
        self.sell_quantity += delta.sell_quantity
        self.sell_value += delta.sell_value
        self.seen_trades.add(fill.trade_id)
        return True

    @property
    def net_quantity(self) -> int:
        return self.buy_quantity - self.sell_quantity

    @property
    def buy_price(self) -> Decimal:
        return self.buy_value / (self.buy_quantity * self.multiplier) if self.buy_quantity else Decimal(0)

    @property
    def sell_price(self) -> Decimal:
        return self.sell_value / (self.sell_quantity * self.multiplier) if self.sell_quantity else Decimal(0)

    def pnl(self, last_price: Decimal) -> Decimal:
        """Kite's formula: (sell_value - buy_value) + net_qty * last_price * multiplier."""
        return (self.sell_value - self.buy_value) + self.net_quantity * last_price * self.multiplier

    @property
    def realised(self) -> Decimal:
        """P&L locked in on the closed quantity, at average buy and sell prices."""
        closed = min(self.buy_quantity, self.sell_quantity)
        return closed * (self.sell_price - self.buy_price) * self.multiplier

    def unrealised(self, last_price: Decimal) -> Decimal:
        return self.pnl(last_price) - self.realised
