"""The account's daily limit rules: a breach at equality, the lock's end at the next trading day, the order cap."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from tests.builders import OWNER
from trading.errors import TradingHalted
from trading.model.account_risk import AccountLimits, AccountRisk, Halt, HaltKind
from trading.rules.account_limits import check_order_room, day_breach, next_trading_day_start, trading_day
from trading.rules.calendar import MarketCalendar

LIMITS = AccountLimits(daily_loss_limit=Decimal("1000.00"), daily_profit_target=Decimal("2500.50"))


@pytest.mark.parametrize(
    ("pnl", "kind"),
    [
        (Fraction(-1000), HaltKind.DAILY_LOSS_LIMIT),
        (Fraction(-99999, 100), None),
        (Fraction(250050, 100), HaltKind.DAILY_PROFIT_TARGET),
        (Fraction(250049, 100), None),
    ],
)
def test_a_limit_is_reached_at_equality(pnl: Fraction, kind: HaltKind | None) -> None:
    breach = day_breach(LIMITS, pnl)
    assert (breach[0] if breach else None) is kind


def test_a_limits_lock_lasts_to_midnight_ist_of_the_next_trading_day() -> None:
    friday_evening = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)  # 17:30 IST, Friday
    monday = next_trading_day_start(MarketCalendar(), friday_evening)
    assert monday == datetime(2026, 1, 11, 18, 30, tzinfo=UTC)  # 00:00 IST, Monday 12 January
    holiday = MarketCalendar(holidays=frozenset({date(2026, 1, 12)}))
    assert next_trading_day_start(holiday, friday_evening) == datetime(2026, 1, 12, 18, 30, tzinfo=UTC)
    assert trading_day(datetime(2026, 1, 9, 19, 0, tzinfo=UTC)) == date(2026, 1, 10)  # 00:30 IST Saturday


def test_a_lock_holds_until_its_end_and_a_kill_switch_until_reset() -> None:
    at = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
    until = datetime(2026, 1, 5, 18, 30, tzinfo=UTC)
    day_lock = AccountRisk(OWNER, "paper").locked(Halt(HaltKind.DAILY_LOSS_LIMIT, "x", "system", at, until))
    assert day_lock.halted_at(until.replace(hour=18, minute=29)) is not None
    assert day_lock.halted_at(until) is None
    kill = AccountRisk(OWNER, "paper").locked(Halt(HaltKind.KILL_SWITCH, "x", OWNER, at, None))
    assert kill.halted_at(datetime(2030, 1, 1, tzinfo=UTC)) is not None


def test_the_order_cap_counts_the_day_only() -> None:
    risk = AccountRisk(OWNER, "paper", AccountLimits(max_orders_per_day=5), orders_day=date(2026, 1, 5), orders_today=4)
    check_order_room(risk, date(2026, 1, 5), 1)
    with pytest.raises(TradingHalted, match=r"maximum of 5 orders a day reached .* \(4 sent on 2026-01-05, 2 more"):
        check_order_room(risk, date(2026, 1, 5), 2)
    check_order_room(risk, date(2026, 1, 6), 5)  # a new day: the count starts again
