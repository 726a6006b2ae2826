"""An account's daily limits: their bounds, when the day's P&L reaches one, how long a lock lasts, and the order cap."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.errors import TradingHalted, ValidationError
from trading.model.account_risk import HaltKind
from trading.money import to_paise
from trading.rules.limits import MAX_AMOUNT, PAISA

if TYPE_CHECKING:
    from datetime import date

    from trading.model.account_risk import AccountLimits, AccountRisk
    from trading.money import Exact
    from trading.rules.calendar import MarketCalendar

MAX_ORDERS_PER_DAY = 100_000  # past any retail account's day (the exchange caps order rates, not counts)
LOOKAHEAD_DAYS = 30


def check_account_limits(limits: AccountLimits) -> AccountLimits:
    """Amounts are positive rupees with at most paise (at most MAX_AMOUNT); the order cap is 1..MAX_ORDERS_PER_DAY.

    Raises
    ------
    ValidationError
        Naming the limit and the value.
    """
    for what, value in (
        ("dailyLossLimit", limits.daily_loss_limit),
        ("dailyProfitTarget", limits.daily_profit_target),
    ):
        if value is None:
            continue
        if not value.is_finite() or value <= 0:
            raise ValidationError(f"{what} must be a positive amount in rupees, got {value}")
        if value > MAX_AMOUNT:
            raise ValidationError(f"{what} {value} is above the ceiling of {MAX_AMOUNT} rupees")
        if value != value.quantize(PAISA):
            raise ValidationError(f"{what} {value} has more than two decimals; give rupees and paise")
    cap = limits.max_orders_per_day
    if cap is not None and not 1 <= cap <= MAX_ORDERS_PER_DAY:
        raise ValidationError(f"maxOrdersPerDay must be between 1 and {MAX_ORDERS_PER_DAY}, got {cap}")
    return limits


def day_breach(limits: AccountLimits, day_pnl: Exact) -> tuple[HaltKind, str] | None:
    """Which daily limit the account's (exact) P&L of the day reached, and why in words; None when none."""
    loss, target = limits.daily_loss_limit, limits.daily_profit_target
    if loss is not None and day_pnl <= -loss:
        return HaltKind.DAILY_LOSS_LIMIT, f"daily loss limit {loss:.2f} reached (P&L {to_paise(day_pnl)})"
    if target is not None and day_pnl >= target:
        return HaltKind.DAILY_PROFIT_TARGET, f"daily profit target {target:.2f} reached (P&L {to_paise(day_pnl)})"
    return None


def trading_day(now: datetime) -> date:
    """The IST day `now` falls on: the day limits and order counts are of."""
    return now.astimezone(IST).date()


def next_trading_day_start(calendar: MarketCalendar, now: datetime) -> datetime:
    """Midnight IST (as UTC) that begins the first trading day after `now`'s: when a daily limit's lock lapses."""
    day = trading_day(now)
    for offset in range(1, LOOKAHEAD_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if calendar.is_trading_day(candidate):
            return datetime.combine(candidate, time(0), IST).astimezone(UTC)
    return datetime.combine(day + timedelta(days=LOOKAHEAD_DAYS + 1), time(0), IST).astimezone(UTC)


def check_order_room(risk: AccountRisk, day: date, count: int) -> None:
    """Refuse `count` more orders on `day` past the account's daily cap.

    Raises
    ------
    TradingHalted
        Saying how many were sent today, the cap, and that the count starts again on the next trading day.
    """
    cap = risk.limits.max_orders_per_day
    sent = risk.orders_on(day)
    if cap is not None and sent + count > cap:
        raise TradingHalted(
            f"maximum of {cap} orders a day reached on your {risk.broker.upper()} account "
            f"({sent} sent on {day.isoformat()}, {count} more asked); new orders are taken again "
            "from the next trading day"
        )
