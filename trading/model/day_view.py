"""A position as Kite shows it on a trading day: the overnight quantity carried in, the day's buys and sells, m2m.

Kite's net position is the quantity carried overnight (at its average) plus the day's trades; its `m2m`
values the carried quantity at the previous close instead of its cost, so
`m2m = pnl - overnight_quantity * (close_price - overnight_average) * multiplier`, where Kite's pnl is of the
carried quantity and the day's trades: ours also holds what was realised before the day, which m2m leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.model.basket import Side
from trading.model.position import Position, walk

if TYPE_CHECKING:
    from datetime import date

    from trading.model.order import Fill

_ZERO = Fraction(0)


def trading_day(fill: Fill) -> date:
    """The IST date a fill belongs to."""
    return fill.filled_at.astimezone(IST).date()


@dataclass(frozen=True)
class DayView:
    """Kite's day figures of a position: quantities are units, values include the multiplier."""

    overnight_quantity: int
    overnight_average: Fraction
    overnight_realised: Fraction  # realised before the day: in our pnl, not in Kite's m2m
    day_buy_quantity: int
    day_buy_value: Decimal
    day_sell_quantity: int
    day_sell_value: Decimal
    multiplier: Decimal

    @classmethod
    def of(cls, position: Position, day: date) -> DayView:
        """The position's fills before `day` carried in, and those on `day` (later ones are not yet)."""
        before = walk([f for f in position.fills if trading_day(f) < day], position.multiplier)
        today = [f for f in position.fills if trading_day(f) == day]
        buys = [f for f in today if f.side is Side.BUY]
        sells = [f for f in today if f.side is Side.SELL]
        m = position.multiplier
        return cls(
            overnight_quantity=before.net_quantity,
            overnight_average=before.average,
            overnight_realised=before.realised,
            day_buy_quantity=sum(f.quantity for f in buys),
            day_buy_value=sum((f.price * f.quantity * m for f in buys), Decimal(0)),
            day_sell_quantity=sum(f.quantity for f in sells),
            day_sell_value=sum((f.price * f.quantity * m for f in sells), Decimal(0)),
            multiplier=m,
        )

    @property
    def day_buy_price(self) -> Fraction:
        return _per_unit(self.day_buy_value, self.day_buy_quantity, self.multiplier)

    @property
    def day_sell_price(self) -> Fraction:
        return _per_unit(self.day_sell_value, self.day_sell_quantity, self.multiplier)

    def m2m(self, pnl: Fraction, close_price: Decimal | None) -> Fraction | None:
        """Kite's m2m: the day's P&L, the carried quantity valued from the previous close; None if that is unknown."""
        day_pnl = pnl - self.overnight_realised
        if self.overnight_quantity == 0:
            return day_pnl
        if close_price is None:
            return None
        carried = self.overnight_quantity * (Fraction(close_price) - self.overnight_average)
        return day_pnl - carried * Fraction(self.multiplier)


def day_position(position: Position, day: date) -> Position:
    """Kite's "day" row: the position of the day's trades alone."""
    return Position(
        position.key, position.owner, position.multiplier, tuple(f for f in position.fills if trading_day(f) == day)
    )


def _per_unit(value: Decimal, quantity: int, multiplier: Decimal) -> Fraction:
    return Fraction(value) / (quantity * Fraction(multiplier)) if quantity else _ZERO
