"""A basket's automatic exits: its risk limits (max loss, target) and its schedule times."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from trading.errors import ValidationError
from trading.money import to_paise

if TYPE_CHECKING:
    from trading.model import RiskLimits, Schedule
    from trading.money import Exact
    from trading.rules.calendar import MarketCalendar

PAISA = Decimal("0.01")
# The ceiling of a max loss or target: 100 crore rupees, past any basket's P&L, exact in Decimal arithmetic.
MAX_AMOUNT = Decimal(1_000_000_000)


def check_risk_limits(limits: RiskLimits) -> RiskLimits:
    """Max loss and target are positive rupee amounts with at most paise, at most MAX_AMOUNT."""
    for what, value in (("max loss", limits.max_loss), ("target", limits.target)):
        if value is None:
            continue
        if not value.is_finite() or value <= 0:
            raise ValidationError(f"{what} must be a positive amount in rupees, got {value}")
        if value > MAX_AMOUNT:
            raise ValidationError(f"{what} {value} is above the ceiling of {MAX_AMOUNT} rupees")
        if value != value.quantize(PAISA):
            raise ValidationError(f"{what} {value} has more than two decimals; give rupees and paise")
    return limits


def limit_breach(limits: RiskLimits, pnl: Exact) -> str | None:
    """Why a basket at (exact) `pnl` must be exited (its max loss or target was reached), else None."""
    if limits.max_loss is not None and pnl <= -limits.max_loss:
        return f"max loss {limits.max_loss:.2f} reached (P&L {to_paise(pnl)}); exited automatically"
    if limits.target is not None and pnl >= limits.target:
        return f"target {limits.target:.2f} reached (P&L {to_paise(pnl)}); exited automatically"
    return None


def check_schedule(schedule: Schedule, exchanges: set[str], calendar: MarketCalendar) -> Schedule:
    """Entry and exit times must fall inside the session of every exchange the basket trades, exit after entry.

    A time of day always has a next occurrence on a trading day, so it is always in the future.
    """
    for what, at in (("entryAt", schedule.entry_at), ("exitAt", schedule.exit_at)):
        if at is None:
            continue
        for exchange in sorted(exchanges or {"NSE"}):
            opens, closes = calendar.session(exchange)
            if not opens <= at < closes:
                raise ValidationError(
                    f"schedule.{what} {at:%H:%M} is outside {exchange} hours ({opens:%H:%M}-{closes:%H:%M} IST)"
                )
    if schedule.entry_at and schedule.exit_at and schedule.exit_at <= schedule.entry_at:
        raise ValidationError(
            f"schedule.exitAt {schedule.exit_at:%H:%M} must be after entryAt {schedule.entry_at:%H:%M} (same day, IST)"
        )
    return schedule
