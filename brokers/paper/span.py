"""The paper exchange's margin model: SPAN + exposure by instrument type, and the offset of defined-risk spreads.

- Option bought: its premium (price x quantity x multiplier), nothing else.
- Option sold, future either way: SPAN_RATE + EXPOSURE_RATE of the notional (a future's price, an option's strike,
  x quantity x multiplier).
- Equity: CNC the full value (Kite's `var`), MIS `MIS_RATE` of it.
- Together (`final`): the options of one underlying and expiry whose payoff at expiry is bounded below (every short
  call covered by a long call) block the lesser of their legs' sum and their largest loss at expiry, premiums
  included: a bear call spread blocks its width less the credit. Everything else blocks what its legs do alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from trading.model.instrument import Instrument

ZERO = Decimal(0)
SPAN_RATE = Decimal("0.10")
EXPOSURE_RATE = Decimal("0.03")
MIS_RATE = Decimal("0.20")
OPTION_TYPES = ("CE", "PE")


@dataclass(frozen=True)
class Exposure:
    """A quantity of an instrument bought (+) or sold (-) at a price (an order's, or a position's average)."""

    instrument: Instrument
    quantity: int
    price: Decimal
    product: str = "NRML"

    @property
    def is_option(self) -> bool:
        return self.instrument.instrument_type in OPTION_TYPES and self.instrument.strike is not None

    @property
    def units(self) -> Decimal:
        return abs(self.quantity) * self.instrument.multiplier


@dataclass(frozen=True)
class Components:
    """Kite's margin fields the model fills; `total` is their sum."""

    span: Decimal = ZERO
    exposure: Decimal = ZERO
    option_premium: Decimal = ZERO
    var: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.span + self.exposure + self.option_premium + self.var

    def __add__(self, other: Components) -> Components:
        return Components(
            self.span + other.span,
            self.exposure + other.exposure,
            self.option_premium + other.option_premium,
            self.var + other.var,
        )


def alone(leg: Exposure) -> Components:
    """What one leg blocks on its own."""
    instrument = leg.instrument
    if leg.quantity == 0:
        return Components()
    if leg.is_option and leg.quantity > 0:
        return Components(option_premium=leg.price * leg.units)
    if leg.is_option or instrument.instrument_type == "FUT":
        base = instrument.strike if leg.is_option and instrument.strike is not None else leg.price
        notional = base * leg.units
        return Components(span=SPAN_RATE * notional, exposure=EXPOSURE_RATE * notional)
    value = leg.price * leg.units
    return Components(var=value if leg.product == "CNC" else MIS_RATE * value)


def initial(legs: Iterable[Exposure]) -> Components:
    """The legs' margins summed, with no offset."""
    return sum((alone(leg) for leg in legs), Components())


def final(legs: Iterable[Exposure]) -> Components:
    """What the legs block together: defined-risk option groups at their largest loss, the rest alone."""
    groups: dict[tuple[str, object], list[Exposure]] = defaultdict(list)
    total = Components()
    for leg in legs:
        if leg.is_option:
            groups[(leg.instrument.name, leg.instrument.expiry)].append(leg)
        else:
            total += alone(leg)
    for group in groups.values():
        total += _together(group)
    return total


def _together(group: list[Exposure]) -> Components:
    summed = initial(group)
    loss = _largest_loss(group)
    if loss is None or loss >= summed.total:
        return summed
    premium = sum((leg.price * leg.quantity * leg.instrument.multiplier for leg in group), ZERO)
    return Components(span=max(ZERO, loss - premium), option_premium=premium)


def _largest_loss(group: list[Exposure]) -> Decimal | None:
    """The group's largest loss at expiry, premiums paid and received included; None when unbounded (naked calls)."""
    calls_beyond = sum(leg.quantity for leg in group if leg.instrument.instrument_type == "CE")
    if calls_beyond < 0:
        return None
    strikes = sorted({leg.instrument.strike for leg in group if leg.instrument.strike is not None})
    worst = min(_payoff(group, s) for s in [ZERO, *strikes])
    return max(ZERO, -worst)


def _payoff(group: list[Exposure], underlying: Decimal) -> Decimal:
    value = ZERO
    for leg in group:
        strike = leg.instrument.strike or ZERO
        call = leg.instrument.instrument_type == "CE"
        intrinsic = max(ZERO, underlying - strike) if call else max(ZERO, strike - underlying)
        value += (intrinsic - leg.price) * leg.quantity * leg.instrument.multiplier
    return value
