"""What the Angel One and Shoonya symbol builders share: which exchanges trade derivatives, and how a
strike is written in a trading symbol."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

DERIVATIVE_EXCHANGES = ("NFO", "BFO", "MCX", "CDS")


def strike_text(value: Decimal) -> str:
    """`26000` for a whole strike, `102.5` otherwise (no exponent, no trailing zeros)."""
    whole = value.to_integral_value()
    return str(whole) if value == whole else format(value.normalize(), "f")
