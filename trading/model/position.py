"""Positions per (basket, strategy, instrument, product): the set of their fills, valued by average cost.

A position is its fills, walked in exchange time order (`filled_at`, then trade id, then order id):
adding to the open side moves the average; reducing realises against it; going flat resets it; a fill
that crosses zero closes the old side at its average and opens the remainder at its own price.
Averages and realised P&L are exact fractions (an average of 90 units rarely ends as a decimal);
`trading.money` rounds them once, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from trading.model.basket import Side

if TYPE_CHECKING:
    from datetime import datetime

    from trading.ids import BasketId, OrderId, OwnerId, StrategyId, TradeId
    from trading.model.basket import Product
    from trading.model.instrument import InstrumentRef
    from trading.model.order import Fill

_ZERO = Fraction(0)


@dataclass(frozen=True)
class PositionKey:
    basket_id: BasketId
    strategy_id: StrategyId | None
    instrument: InstrumentRef
    product: Product


def fill_identity(fill: Fill) -> tuple[OrderId, TradeId]:
    """A fill is the same fill when its order and trade id are (exchanges reuse trade ids across orders)."""
    return (fill.order_id, fill.trade_id)


def exchange_order(fill: Fill) -> tuple[datetime, TradeId, OrderId]:
    """The order fills are walked in: exchange time, then trade id (then order id, to make it total)."""
    return (fill.filled_at, fill.trade_id, fill.order_id)


@dataclass(frozen=True)
class Book:
    """What a walk of fills adds up to. Quantities are units; values include the multiplier."""

    buy_quantity: int = 0
    buy_value: Decimal = Decimal(0)
    sell_quantity: int = 0
    sell_value: Decimal = Decimal(0)
    net_quantity: int = 0
    average: Fraction = _ZERO  # of the open side, per unit; 0 when flat
    realised: Fraction = _ZERO

    def step(self, fill: Fill, multiplier: Decimal) -> Book:
        """This book after one more fill (the next in exchange time order)."""
        return self.trade(fill.side, fill.quantity, fill.price, multiplier)

    def trade(self, side: Side, quantity: int, price: Decimal, multiplier: Decimal) -> Book:
        """This book after one more trade of `quantity` at `price` (the next in exchange time order)."""
        signed = quantity if side is Side.BUY else -quantity
        value = price * quantity * multiplier
        buys = (self.buy_quantity + quantity, self.buy_value + value) if signed > 0 else None
        sells = (self.sell_quantity + quantity, self.sell_value + value) if signed < 0 else None
        net, average, realised = self.net_quantity, self.average, self.realised
        exact = Fraction(price)
        if net == 0 or (net > 0) == (signed > 0):
            average = (average * abs(net) + exact * quantity) / (abs(net) + quantity)
        else:
            closed = min(quantity, abs(net))
            direction = 1 if net > 0 else -1
            realised += closed * (exact - average) * direction * Fraction(multiplier)
            if quantity > abs(net):
                average = exact
            elif quantity == abs(net):
                average = _ZERO
        return Book(
            buy_quantity=buys[0] if buys else self.buy_quantity,
            buy_value=buys[1] if buys else self.buy_value,
            sell_quantity=sells[0] if sells else self.sell_quantity,
            sell_value=sells[1] if sells else self.sell_value,
            net_quantity=net + signed,
            average=average,
            realised=realised,
        )


def walk(fills: list[Fill] | tuple[Fill, ...], multiplier: Decimal) -> Book:
    """The book of these fills (already in exchange time order)."""
    book = Book()
    for fill in fills:
        book = book.step(fill, multiplier)
    return book


@dataclass
class Position:
    """A position is the set of its fills; every figure is derived from them in exchange time order."""

    key: PositionKey
    owner: OwnerId
    multiplier: Decimal = Decimal(1)
    fills: tuple[Fill, ...] = ()
    version: int = 0  # of the stored item; the store writes a decided position only over this version
    _book: Book = field(default_factory=Book, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.fills = tuple(sorted(self.fills, key=exchange_order))
        if len({fill_identity(f) for f in self.fills}) != len(self.fills):
            raise ValueError(f"position {self.key} holds a fill twice")
        self._book = walk(self.fills, self.multiplier)

    def has(self, fill: Fill) -> bool:
        return any(fill_identity(f) == fill_identity(fill) for f in self.fills)

    def apply(self, fill: Fill) -> bool:
        """Add a fill once, wherever it falls in exchange time; a fill already held is refused (False)."""
        if self.has(fill):
            return False
        if not self.fills or exchange_order(fill) > exchange_order(self.fills[-1]):
            self.fills = (*self.fills, fill)
            self._book = self._book.step(fill, self.multiplier)
        else:
            self.fills = tuple(sorted((*self.fills, fill), key=exchange_order))
            self._book = walk(self.fills, self.multiplier)
        return True

    @property
    def book(self) -> Book:
        return self._book

    @property
    def seen_trades(self) -> set[TradeId]:
        return {f.trade_id for f in self.fills}

    @property
    def buy_quantity(self) -> int:
        return self._book.buy_quantity

    @property
    def sell_quantity(self) -> int:
        return self._book.sell_quantity

    @property
    def buy_value(self) -> Decimal:
        return self._book.buy_value

    @property
    def sell_value(self) -> Decimal:
        return self._book.sell_value

    @property
    def net_quantity(self) -> int:
        return self._book.net_quantity

    @property
    def average_price(self) -> Fraction:
        """The open side's average cost per unit (Kite's `average_price`); 0 when flat."""
        return self._book.average

    @property
    def buy_price(self) -> Fraction:
        """Average of all buys (Kite's `buy_price`); 0 without buys."""
        return _per_unit(self.buy_value, self.buy_quantity, self.multiplier)

    @property
    def sell_price(self) -> Fraction:
        return _per_unit(self.sell_value, self.sell_quantity, self.multiplier)

    @property
    def value(self) -> Decimal:
        """Kite's `value`: sell value minus buy value."""
        return self.sell_value - self.buy_value

    def marked_pnl(self, last_price: Decimal) -> Decimal:
        """Kite's formula, (sell_value - buy_value) + net_qty * last_price * multiplier: exact in decimals."""
        return self.value + self.net_quantity * last_price * self.multiplier

    def pnl(self, last_price: Decimal | None) -> Fraction:
        """At a mark, Kite's formula (= realised + unrealised); unmarked, the realised P&L."""
        return self.realised if last_price is None else Fraction(self.marked_pnl(last_price))

    @property
    def realised(self) -> Fraction:
        """P&L locked in by reducing against the average cost, exactly."""
        return self._book.realised

    def unrealised(self, last_price: Decimal | None) -> Fraction:
        """The open quantity against its average at the mark; 0 unmarked (never valued at cost)."""
        if last_price is None:
            return _ZERO
        return self.net_quantity * (Fraction(last_price) - self.average_price) * Fraction(self.multiplier)


def _per_unit(value: Decimal, quantity: int, multiplier: Decimal) -> Fraction:
    return Fraction(value) / (quantity * Fraction(multiplier)) if quantity else _ZERO
