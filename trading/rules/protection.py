"""The protection price of a MARKET or SL-M order: the worst price it may fill at, from the last price.

Brokers that take `market_protection` (Kite) compute it themselves; the paper exchange computes it the same
way, and brokers that forbid MARKET orders for algos (Angel One, Shoonya) get a marketable LIMIT at it.

Automatic protection uses `AUTOMATIC_PERCENTS`, a tiered table by last price. It is this project's
documented choice, not a copy of Kite's: Kite applies its own table server-side for `market_protection=-1`
and does not publish one we could verify. Cheap instruments (far-OTM options) move more per tick, so they
get the widest band.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from trading.model import OrderType, Side

if TYPE_CHECKING:
    from trading.model.protection import MarketProtection

# (last price below, percent): the first row whose bound exceeds the last price applies.
AUTOMATIC_PERCENTS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(10), Decimal(5)),
    (Decimal(100), Decimal(3)),
    (Decimal(500), Decimal(2)),
    (Decimal(5000), Decimal(1)),
)
AUTOMATIC_PERCENT_ABOVE = Decimal("0.5")
PROTECTED_TYPES = frozenset({OrderType.MARKET, OrderType.SL_M})


def needs_protection(order_type: OrderType) -> bool:
    """MARKET and SL-M orders carry market protection; the others have a price of their own."""
    return order_type in PROTECTED_TYPES


def protection_percent(protection: MarketProtection, last_price: Decimal) -> Decimal:
    """The percentage that applies: the given one, or the automatic table's row for the last price."""
    if protection.percent is not None:
        return protection.percent
    for bound, percent in AUTOMATIC_PERCENTS:
        if last_price < bound:
            return percent
    return AUTOMATIC_PERCENT_ABOVE


def protection_price(
    side: Side,
    last_price: Decimal,
    protection: MarketProtection,
    tick_size: Decimal,
    band: tuple[Decimal, Decimal] | None = None,
) -> Decimal:
    """The worst acceptable price: BUY last*(1+p/100) rounded down to the tick, SELL last*(1-p/100) rounded up.

    Rounding goes the safe way (never beyond the protection); the result is kept within the day's price band
    (`(lower, upper)`) when one is given, and a SELL never goes below one tick.
    """
    percent = protection_percent(protection, last_price) / 100
    if side is Side.BUY:
        raw, rounding = last_price * (1 + percent), ROUND_FLOOR
    else:
        raw, rounding = last_price * (1 - percent), ROUND_CEILING
    price = (raw / tick_size).to_integral_value(rounding=rounding) * tick_size
    if band is not None:
        lower, upper = band
        price = min(price, upper) if side is Side.BUY else max(price, lower)
    return max(price, tick_size)
