"""Account-level limits through the fakes: the daily loss limit and profit target, the kill switch and its reset,
the daily order cap, each refusal typed, each lock written once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OTHER_OWNER, OWNER
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from tests.unit.usecases.test_orders import an_order_input
from trading.errors import Conflict, TradingHalted, ValidationError
from trading.model import BasketStatus
from trading.model.account_risk import AccountLimits, HaltKind, RiskEventKind
from trading.usecases.account_risk import (
    account_risk_report,
    enforce_limits,
    kill_switch,
    reset_kill_switch,
    set_account_limits,
)
from trading.usecases.execution import execute_basket
from trading.usecases.orders import place_order

if TYPE_CHECKING:
    from tests.fakes import Fakes

PAPER = "paper"
# the straddle: long call 120.05, short put 98.35, 65 each; call -20 and put +10 is -1950.00
LOSING = {NIFTY_CALL: Decimal("100.05"), NIFTY_PUT: Decimal("108.35")}


def test_the_daily_loss_limit_locks_the_account_once_and_exits_every_live_basket(fakes: Fakes) -> None:
    # Given two LIVE baskets at the paper account and a daily loss limit of 3000.00
    first, second = a_live_basket(fakes), a_live_basket(fakes)
    set_account_limits(fakes.ports, OWNER, PAPER, AccountLimits(daily_loss_limit=Decimal("3000.00")))
    # When the marks move against both (-1950.00 each: -3900.00 together, past the limit; neither alone is)
    fakes.marks.prices = dict(LOSING)
    halt = enforce_limits(fakes.ports, OWNER, PAPER)
    again = enforce_limits(fakes.ports, OWNER, PAPER)
    # Then the account is locked once, by the system, until the next trading day, and both baskets exit
    assert halt is not None
    assert halt.kind is HaltKind.DAILY_LOSS_LIMIT
    assert halt.by == "system: daily loss limit"
    assert halt.reason == "daily loss limit 3000.00 reached (P&L -3900.00)"
    assert halt.until == datetime(2026, 1, 5, 18, 30, tzinfo=UTC)  # 00:00 IST on Tuesday 6 January
    assert again == halt
    risk = fakes.account_risk.get(OWNER, PAPER)
    assert [e.kind for e in risk.history] == [RiskEventKind.LIMITS_SET, RiskEventKind.LOCKED]
    for basket in (first, second):
        assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.EXITING
    exits = [r for r in fakes.broker.placed if r.tag not in {o.id for o in _entries(fakes)}]
    assert len(exits) == 4  # two legs of each, once


def _entries(fakes: Fakes) -> list:  # type: ignore[type-arg]
    return [o for o in fakes.orders.orders.values() if "entry" in o.client_request_id]


def test_a_locked_account_refuses_place_order_and_execute_basket_with_why_and_until_when(fakes: Fakes) -> None:
    # Given an account locked by its daily loss limit, with a LIVE basket left and a DRAFT one
    live = a_live_basket(fakes)
    draft = a_stored_draft(fakes)
    set_account_limits(fakes.ports, OWNER, PAPER, AccountLimits(daily_loss_limit=Decimal("1000.00")))
    fakes.marks.prices = dict(LOSING)
    assert enforce_limits(fakes.ports, OWNER, PAPER) is not None
    fakes.baskets.baskets[live.id].status = BasketStatus.LIVE  # as if an order were asked into a LIVE basket
    placed = len(fakes.broker.placed)
    # When the user places an order and executes the draft
    with pytest.raises(TradingHalted, match=r"halted until 2026-01-05T18:30:00\+00:00: daily loss limit 1000.00"):
        place_order(fakes.ports, OWNER, an_order_input(live.id), "o-halted")
    with pytest.raises(TradingHalted, match="by system: daily loss limit"):
        execute_basket(fakes.ports, OWNER, draft.id, "x-halted")
    # Then nothing was sent or written: the draft is still DRAFT, the ids can be used again
    assert len(fakes.broker.placed) == placed
    assert fakes.baskets.get(OWNER, draft.id).status is BasketStatus.DRAFT
    assert fakes.requests.find(OWNER, "x-halted", "executeBasket", "") is None  # type: ignore[arg-type]
    # When the next trading day has begun (09:30 IST on Tuesday)
    fakes.clock.advance(days=1)
    # Then the draft executes
    assert execute_basket(fakes.ports, OWNER, draft.id, "x-next-day").orders


def test_the_kill_switch_exits_everything_refuses_orders_until_reset(fakes: Fakes) -> None:
    # Given a LIVE basket and a resting order in it
    live = a_live_basket(fakes)
    resting = place_order(fakes.ports, OWNER, an_order_input(live.id), "o-resting")
    # When the user engages the kill switch
    report = kill_switch(fakes.ports, OWNER, PAPER, "  flash crash  ")
    # Then the resting order is cancelled, the basket exits, and the lock is the user's, until reset
    assert resting.broker_order_id in fakes.broker.cancelled
    assert fakes.baskets.get(OWNER, live.id).status is BasketStatus.EXITING
    assert report.halt is not None
    assert (report.halt.kind, report.halt.reason, report.halt.by, report.halt.until) == (
        HaltKind.KILL_SWITCH,
        "flash crash",
        OWNER,
        None,
    )
    draft = a_stored_draft(fakes)
    with pytest.raises(TradingHalted, match="until resetKillSwitch: flash crash"):
        execute_basket(fakes.ports, OWNER, draft.id, "x-1")
    # When a day passes, the lock holds; once reset, trading resumes and both events are recorded
    fakes.clock.advance(days=1)
    with pytest.raises(TradingHalted):
        execute_basket(fakes.ports, OWNER, draft.id, "x-2")
    after = reset_kill_switch(fakes.ports, OWNER, PAPER)
    assert after.halt is None
    assert [e.kind for e in after.risk.history] == [RiskEventKind.LOCKED, RiskEventKind.RESET]
    assert execute_basket(fakes.ports, OWNER, draft.id, "x-3").orders


def test_resetting_a_kill_switch_that_is_not_engaged_is_a_conflict(fakes: Fakes) -> None:
    with pytest.raises(Conflict, match="not engaged"):
        reset_kill_switch(fakes.ports, OWNER, PAPER)


def test_the_daily_order_cap_refuses_the_order_past_it(fakes: Fakes) -> None:
    # Given a LIVE basket (its two entry orders counted, though no cap was set yet) and a cap of 3 orders a day
    live = a_live_basket(fakes)
    set_account_limits(fakes.ports, OWNER, PAPER, AccountLimits(max_orders_per_day=3))
    # When a third order goes and a fourth is asked
    place_order(fakes.ports, OWNER, an_order_input(live.id), "o-third")
    with pytest.raises(TradingHalted, match="maximum of 3 orders a day reached"):
        place_order(fakes.ports, OWNER, an_order_input(live.id), "o-over")
    # Then the account's count shows 3, and the next day it starts again
    assert account_risk_report(fakes.ports, OWNER, PAPER).orders_today == 3
    fakes.clock.advance(days=1)
    place_order(fakes.ports, OWNER, an_order_input(live.id), "o-next-day")
    assert account_risk_report(fakes.ports, OWNER, PAPER).orders_today == 1


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (AccountLimits(daily_loss_limit=Decimal(-1)), "dailyLossLimit must be a positive amount"),
        (AccountLimits(daily_profit_target=Decimal("1.005")), "more than two decimals"),
        (AccountLimits(max_orders_per_day=0), "maxOrdersPerDay must be between 1"),
    ],
)
def test_bad_limits_are_refused_and_write_nothing(fakes: Fakes, limits: AccountLimits, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        set_account_limits(fakes.ports, OWNER, PAPER, limits)
    assert fakes.account_risk.items == {}


def test_one_users_lock_is_not_anothers(fakes: Fakes) -> None:
    kill_switch(fakes.ports, OWNER, PAPER, None)
    assert account_risk_report(fakes.ports, OTHER_OWNER, PAPER).halt is None
    assert account_risk_report(fakes.ports, OWNER, PAPER).halt is not None


def test_a_locked_account_is_named_before_any_other_refusal(fakes: Fakes) -> None:
    # Given a locked account whose basket is no longer LIVE (the lock exited it)
    live = a_live_basket(fakes)
    kill_switch(fakes.ports, OWNER, PAPER, "done for the day")
    assert fakes.baskets.get(OWNER, live.id).status is BasketStatus.EXITING
    # Then an order into it is refused for the lock, not for the basket's state
    with pytest.raises(TradingHalted, match="done for the day"):
        place_order(fakes.ports, OWNER, an_order_input(live.id), "o-late")
