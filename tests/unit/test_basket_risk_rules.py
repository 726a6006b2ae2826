"""Basket execution and risk rules in the domain: hedge-first order, the partial-failure policy, limits, schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from tests.builders import NIFTY_PUT, a_basket, a_leg, a_strategy
from trading.clock import IST
from trading.errors import Conflict, ValidationError
from trading.model import BasketStatus, InstrumentRef, PartialFailurePolicy, RiskLimits, Schedule, Side
from trading.rules.calendar import MarketCalendar, is_stale
from trading.rules.limits import check_risk_limits, check_schedule, limit_breach

WING = InstrumentRef("NFO", "NIFTY26JAN24500CE")


def test_buy_legs_of_every_strategy_go_before_any_sell_leg_keeping_their_order() -> None:
    # Given a short straddle first and its wings in a later strategy
    short_call = a_leg(side=Side.SELL)
    short_put = a_leg(instrument=NIFTY_PUT, side=Side.SELL)
    long_call = a_leg(instrument=WING, side=Side.BUY)
    long_put = a_leg(instrument=NIFTY_PUT, side=Side.BUY)
    basket = a_basket(a_strategy(short_call, short_put), a_strategy(long_call, long_put))
    # Then the wings are placed first, each side in basket order
    assert [leg for _, leg in basket.placement_order()] == [long_call, long_put, short_call, short_put]


@pytest.mark.parametrize(
    ("policy", "accepted", "status", "message"),
    [
        (PartialFailurePolicy.EXIT_FILLED, 1, BasketStatus.EXITING, "rejected: SELL 65 NFO:X: margin"),
        (PartialFailurePolicy.EXIT_FILLED, 0, BasketStatus.FAILED, "rejected: SELL 65 NFO:X: margin"),
        (PartialFailurePolicy.KEEP_FILLED, 1, BasketStatus.LIVE, "partly executed, filled legs kept; rejected: "),
        (PartialFailurePolicy.KEEP_FILLED, 0, BasketStatus.FAILED, "rejected: SELL 65 NFO:X: margin"),
    ],
)
def test_a_partly_failed_execution_follows_the_basket_policy(
    policy: PartialFailurePolicy, accepted: int, status: BasketStatus, message: str
) -> None:
    basket = a_basket(a_strategy(), on_partial_failure=policy, status=BasketStatus.EXECUTING)
    basket.finish_execution(["SELL 65 NFO:X: margin"], accepted)
    assert basket.status is status
    assert basket.status_message is not None and basket.status_message.startswith(message)


def test_a_fully_placed_execution_is_live() -> None:
    basket = a_basket(a_strategy(), status=BasketStatus.EXECUTING)
    basket.finish_execution([], 2)
    assert (basket.status, basket.status_message) == (BasketStatus.LIVE, None)


@pytest.mark.parametrize(
    ("pnl", "reason"),
    [
        ("-4999.99", None),
        ("-5000.00", "max loss 5000.00 reached (P&L -5000.00); exited automatically"),
        ("-7250.5", "max loss 5000.00 reached (P&L -7250.50); exited automatically"),
        ("2500.49", None),
        ("2500.50", "target 2500.50 reached (P&L 2500.50); exited automatically"),
        ("0", None),
    ],
)
def test_a_limit_is_reached_at_equality(pnl: str, reason: str | None) -> None:
    limits = RiskLimits(max_loss=Decimal("5000.00"), target=Decimal("2500.50"))
    assert limit_breach(limits, Decimal(pnl)) == reason


def test_no_limits_never_breach() -> None:
    assert limit_breach(RiskLimits(), Decimal("-1000000")) is None


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (RiskLimits(max_loss=Decimal(0)), "max loss must be a positive amount in rupees, got 0"),
        (RiskLimits(target=Decimal("-1")), "target must be a positive amount in rupees, got -1"),
        (RiskLimits(target=Decimal("Infinity")), "target must be a positive amount in rupees"),
        (RiskLimits(max_loss=Decimal("10.005")), "max loss 10.005 has more than two decimals"),
    ],
)
def test_bad_limits_are_refused(limits: RiskLimits, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_risk_limits(limits)


@pytest.mark.parametrize(
    ("schedule", "exchanges", "message"),
    [
        (Schedule(entry_at=time(9, 14)), {"NFO"}, "schedule.entryAt 09:14 is outside NFO hours"),
        (Schedule(exit_at=time(15, 30)), {"NSE"}, "schedule.exitAt 15:30 is outside NSE hours"),
        (Schedule(exit_at=time(16, 0)), {"MCX", "NFO"}, "schedule.exitAt 16:00 is outside NFO hours"),
        (Schedule(entry_at=time(10), exit_at=time(10)), {"NSE"}, "exitAt 10:00 must be after entryAt 10:00"),
    ],
)
def test_schedules_outside_the_session_or_backwards_are_refused(
    schedule: Schedule, exchanges: set[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_schedule(schedule, exchanges, MarketCalendar())


def test_a_schedule_inside_every_session_is_taken() -> None:
    schedule = Schedule(entry_at=time(9, 15), exit_at=time(15, 29))
    assert check_schedule(schedule, {"NFO", "MCX"}, MarketCalendar()) == schedule


def ist(day: date, at: time) -> datetime:
    return datetime.combine(day, at, IST).astimezone(UTC)


FRIDAY, SATURDAY, MONDAY, TUESDAY = date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 5), date(2026, 1, 6)


@pytest.mark.parametrize(
    ("now", "at", "due"),
    [
        (ist(FRIDAY, time(9, 0)), time(9, 20), ist(FRIDAY, time(9, 20))),  # later today
        (ist(FRIDAY, time(9, 20)), time(9, 20), ist(TUESDAY, time(9, 20))),  # strictly after; Monday is a holiday
        (ist(SATURDAY, time(8, 0)), time(15, 10), ist(TUESDAY, time(15, 10))),
        (datetime(2026, 1, 2, 20, 0, tzinfo=UTC), time(9, 20), ist(TUESDAY, time(9, 20))),  # 01:30 IST Saturday
    ],
)
def test_a_time_of_day_falls_due_at_its_next_occurrence_in_ist_on_a_trading_day(
    now: datetime, at: time, due: datetime
) -> None:
    calendar = MarketCalendar(holidays=frozenset({MONDAY}))
    assert calendar.next_at(at, now) == due


def test_a_practice_market_trades_every_day() -> None:
    assert MarketCalendar(always_open=True).next_at(time(9, 20), ist(FRIDAY, time(10))) == ist(SATURDAY, time(9, 20))


@pytest.mark.parametrize(
    ("late", "stale"),
    [(timedelta(0), False), (timedelta(minutes=5), False), (timedelta(minutes=5, seconds=1), True)],
)
def test_a_scheduled_event_delivered_over_five_minutes_late_is_stale(late: timedelta, stale: bool) -> None:
    # Given an event due at 15:15 IST / When it is delivered `late` / Then it is stale only past five minutes
    due = ist(FRIDAY, time(15, 15))
    assert is_stale(due, due + late) is stale


def test_an_automatic_exit_is_taken_by_a_live_basket_only() -> None:
    basket = a_basket(a_strategy(), status=BasketStatus.LIVE)
    basket.start_limit_exit("max loss")
    assert (basket.status, basket.status_message) == (BasketStatus.EXITING, "max loss")
    with pytest.raises(Conflict, match="only a LIVE basket is exited automatically"):
        basket.start_limit_exit("again")
