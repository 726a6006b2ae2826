"""Rounding at the edge: exact P&L (fractions and decimals) to the paise people see, once."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Exact = Fraction | Decimal | int


def to_places(value: Exact, places: int) -> Decimal:
    """`value` rounded half-even to `places` decimals, exactly once (never "-0.00")."""
    scaled = round(Fraction(value) * 10**places)  # Fraction rounds half to even
    return Decimal(scaled).scaleb(-places) + Decimal(0).scaleb(-places)


def to_paise(value: Exact) -> Decimal:
    """Rupees rounded half-even to 2 places, e.g. -3.125 -> -3.12."""
    return to_places(value, 2)


def shown_pnl(pnl: Exact, realised: Exact) -> tuple[Decimal, Decimal, Decimal]:
    """(pnl, realised, unrealised) in paise so that the shown pnl is the shown realised plus unrealised.

    pnl and realised are each rounded once; unrealised is their difference (rounding all three on
    their own can miss by a paisa).
    """
    shown, locked = to_paise(pnl), to_paise(realised)
    return shown, locked, shown - locked
