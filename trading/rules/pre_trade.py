"""Pre-trade checks as pure functions: lot and tick multiples, prices per order type, market hours, freeze
slicing, and the bounds every number is held to before any other work.

Bounds (documented ceilings, far above anything tradable, low enough that arithmetic on them stays exact):
- a price or trigger price is at most MAX_PRICE rupees (1 crore; the dearest Indian share trades near 1.5 lakh);
- one order is at most MAX_SLICES freeze-quantity slices (the broker slices no further in one request);
- a leg is at most MAX_LOTS_PER_LEG lots before its instrument is even looked up (then the slice cap applies).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.errors import ValidationError
from trading.model import OrderType, Validity, Variety
from trading.rules.calendar import segment_of
from trading.rules.contracts import is_tradable

if TYPE_CHECKING:
    from datetime import datetime

    from trading.model.instrument import Instrument
    from trading.rules.calendar import MarketCalendar


MAX_PRICE = Decimal(10_000_000)
MAX_SLICES = 10  # slices per order under the exchanges' 2026 rules (Kite's autoslice cap)
MAX_LOTS_PER_LEG = 10_000


def check_lots(lots: int) -> None:
    """A leg's lots: positive and at most MAX_LOTS_PER_LEG (checked before the instrument is looked up)."""
    if lots <= 0:
        raise ValidationError(f"lots must be positive, got {lots}")
    if lots > MAX_LOTS_PER_LEG:
        raise ValidationError(f"a leg is at most {MAX_LOTS_PER_LEG} lots, got {lots}")


def check_quantity(quantity: int, instrument: Instrument) -> None:
    """Quantity must be positive and a whole number of lots (of a tradable instrument: an index has no lots)."""
    if not is_tradable(instrument):
        raise ValidationError(f"{instrument.ref} cannot be traded (lot size {instrument.lot_size}: an index)")
    if quantity <= 0:
        raise ValidationError(f"quantity must be positive, got {quantity}")
    if quantity % instrument.lot_size:
        raise ValidationError(
            f"quantity {quantity} of {instrument.ref} is not a multiple of its lot size {instrument.lot_size}"
        )


def check_price(price: Decimal, instrument: Instrument, what: str = "price") -> None:
    """Price must be positive, at most MAX_PRICE, and a multiple of the instrument's tick size."""
    if not price.is_finite() or price <= 0:
        raise ValidationError(f"{what} must be a positive number, got {price}")
    if not is_tradable(instrument):
        raise ValidationError(f"{instrument.ref} cannot be traded (tick size {instrument.tick_size}: an index)")
    if price > MAX_PRICE:
        raise ValidationError(f"{what} {price} is above the ceiling of {MAX_PRICE} rupees")
    if price % instrument.tick_size:
        raise ValidationError(
            f"{what} {price} of {instrument.ref} is not a multiple of its tick size {instrument.tick_size}"
        )


def check_order_prices(
    order_type: OrderType, price: Decimal | None, trigger_price: Decimal | None, instrument: Instrument
) -> None:
    """Each order type needs (and only then checks) its price and trigger price."""
    if order_type in (OrderType.LIMIT, OrderType.SL):
        if price is None:
            raise ValidationError(f"a {order_type} order needs a price")
        check_price(price, instrument)
    if order_type in (OrderType.SL, OrderType.SL_M):
        if trigger_price is None:
            raise ValidationError(f"a {order_type} order needs a trigger price")
        check_price(trigger_price, instrument, "trigger price")
    if order_type in (OrderType.MARKET, OrderType.SL_M) and price is not None:
        raise ValidationError(f"a {order_type} order takes no price")
    if order_type in (OrderType.MARKET, OrderType.LIMIT) and trigger_price is not None:
        raise ValidationError(f"a {order_type} order takes no trigger price (only SL and SL-M do)")


def check_market_hours(variety: Variety, instrument: Instrument, now: datetime, calendar: MarketCalendar) -> None:
    """Regular orders while the exchange takes them (its session; equity's pre-open too), AMO orders only inside
    the segment's AMO window, as Kite refuses them.

    Raises
    ------
    ValidationError
        The order is outside the hours its variety is taken in; the message names those hours.
    """
    exchange = instrument.exchange
    day = now.astimezone(IST).date()
    opens, closes = calendar.session(exchange, day)
    hours = f"{opens:%H:%M}-{closes:%H:%M} IST on trading days"
    if variety is Variety.REGULAR and not calendar.takes_regular(exchange, now):
        if calendar.is_trading_day(day, exchange) and segment_of(exchange).pre_open:
            hours += ", orders also 09:00-09:08 in the pre-open"
        raise ValidationError(f"{exchange} is closed (open {hours}); use variety AMO to queue the order")
    if variety is Variety.AMO and not calendar.takes_amo(exchange, now):
        starts, until = calendar.amo_window(exchange, day)
        raise ValidationError(
            f"{exchange} takes AMO orders from {starts:%H:%M} to {until:%H:%M} IST and on days it is closed "
            f"(open {hours}); AMO orders are taken only outside market hours"
        )


def check_validity(validity: Validity, instrument: Instrument) -> None:
    """No IOC orders on MCX (the exchanges' 2026 rules)."""
    if validity is Validity.IOC and instrument.exchange == "MCX":
        raise ValidationError(f"IOC orders are not allowed on MCX ({instrument.ref}); use DAY")


def check_slices(quantity: int, instrument: Instrument) -> None:
    """Refuse a quantity that needs more than `MAX_SLICES` freeze-size slices, naming the largest that fits."""
    slices = slice_quantity(quantity, instrument)
    if len(slices) > MAX_SLICES:
        largest = slices[0] * MAX_SLICES
        raise ValidationError(
            f"quantity {quantity} of {instrument.ref} needs {len(slices)} slices of at most {slices[0]} "
            f"(its freeze quantity is {instrument.freeze_quantity}); an order may have at most {MAX_SLICES} "
            f"slices, so the largest quantity that fits is {largest}"
        )


def slice_quantity(quantity: int, instrument: Instrument) -> list[int]:
    """Split a quantity above the freeze limit into lot-multiple slices no larger than it."""
    freeze = instrument.freeze_quantity
    if not freeze or quantity <= freeze:
        return [quantity]
    largest = (freeze // instrument.lot_size) * instrument.lot_size
    if largest <= 0:
        raise ValidationError(f"freeze quantity of {instrument.ref} is below one lot")
    full, rest = divmod(quantity, largest)
    return [largest] * full + ([rest] if rest else [])
