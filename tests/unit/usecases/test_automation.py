"""Automation through the fakes: exits on a risk limit, scheduled entries and exits, the MIS square-off."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.builders import NIFTY_CALL, NIFTY_PUT, NOW, OWNER
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from tests.unit.usecases.test_orders import an_order_input
from trading.model import BasketStatus, OrderStatus, Product, RiskLimits
from trading.ports import ScheduledAction
from trading.rules.calendar import SCHEDULED_EVENT_LATENESS_LIMIT, MarketCalendar
from trading.usecases.automation import exit_on_limit, run_scheduled, square_off, square_off_all
from trading.usecases.exits import on_exiting_update
from trading.usecases.orders import place_order

if TYPE_CHECKING:
    from tests.fakes import Fakes
    from trading.ids import BasketId


def _with_risk(fakes: Fakes, basket_id: BasketId, risk: RiskLimits) -> None:
    stored = fakes.baskets.baskets[basket_id]
    stored.risk = risk


def test_a_basket_past_its_max_loss_is_exited_once(fakes: Fakes) -> None:
    # Given a LIVE straddle (long call 120.05, short put 98.35, 65 each) with a max loss of 1000
    basket = a_live_basket(fakes)
    _with_risk(fakes, basket.id, RiskLimits(max_loss=Decimal(1000)))
    # When the call falls 20 and the put rises 10: (-20 - 10) * 65 = -1950
    fakes.marks.prices = {NIFTY_CALL: Decimal("100.05"), NIFTY_PUT: Decimal("108.35")}
    first = exit_on_limit(fakes.ports, OWNER, basket.id)
    again = exit_on_limit(fakes.ports, OWNER, basket.id)
    # Then one exit, with the reason on the basket
    assert first is not None
    assert again is None
    assert len(first.orders) == 2
    assert first.view.basket.status is BasketStatus.EXITING
    assert "loss" in (first.view.basket.status_message or "")


def test_a_basket_within_its_limits_is_left_alone(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    _with_risk(fakes, basket.id, RiskLimits(max_loss=Decimal(1000)))
    fakes.marks.prices = {NIFTY_CALL: Decimal("120.05"), NIFTY_PUT: Decimal("98.35")}
    assert exit_on_limit(fakes.ports, OWNER, basket.id) is None
    assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.LIVE


def test_a_scheduled_entry_executes_the_draft_and_a_repeat_does_nothing(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    first = run_scheduled(fakes.ports, ScheduledAction.ENTRY, OWNER, draft.id, NOW)
    again = run_scheduled(fakes.ports, ScheduledAction.ENTRY, OWNER, draft.id, NOW)
    assert first is not None
    assert first.view.basket.status is BasketStatus.LIVE
    assert again is None
    assert len(fakes.broker.placed) == 2


def test_a_stale_timer_is_skipped(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    late = NOW - timedelta(seconds=SCHEDULED_EVENT_LATENESS_LIMIT.total_seconds() + 1)
    assert run_scheduled(fakes.ports, ScheduledAction.ENTRY, OWNER, draft.id, late) is None
    assert fakes.broker.placed == []


def test_a_scheduled_exit_exits_a_live_basket_with_the_time_as_reason(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    execution = run_scheduled(fakes.ports, ScheduledAction.EXIT, OWNER, basket.id, NOW)
    assert execution is not None
    assert execution.view.basket.status_message == "scheduled exit at 09:30 IST"


def test_square_off_exits_only_mis_positions(fakes: Fakes) -> None:
    nrml = a_live_basket(fakes, product=Product.NRML)
    mis = a_live_basket(fakes, product=Product.MIS)
    day = NOW.date()
    assert square_off(fakes.ports, OWNER, nrml.id, day) is None
    execution = square_off(fakes.ports, OWNER, mis.id, day)
    assert execution is not None
    assert {o.product for o in execution.orders} == {Product.MIS}
    assert len(execution.orders) == 2


def test_square_off_all_finds_every_basket_with_mis_opened_that_day(fakes: Fakes) -> None:
    a_live_basket(fakes, product=Product.NRML)
    mis = a_live_basket(fakes, product=Product.MIS)
    assert square_off_all(fakes.ports, NOW.date()) == [mis.id]
    # a repeat finds the square-off already on its way
    assert square_off_all(fakes.ports, NOW.date()) == []


def test_no_square_off_on_a_holiday(fakes: Fakes) -> None:
    a_live_basket(fakes, product=Product.MIS)
    fakes.calendar = MarketCalendar(holidays=frozenset({NOW.date()}))
    assert square_off_all(fakes.ports, NOW.date()) == []


def test_a_basket_at_its_target_is_exited(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    _with_risk(fakes, basket.id, RiskLimits(target=Decimal(500)))
    fakes.marks.prices = {NIFTY_CALL: Decimal("130.05"), NIFTY_PUT: Decimal("98.35")}  # +650
    execution = exit_on_limit(fakes.ports, OWNER, basket.id)
    assert execution is not None
    assert execution.view.basket.status is BasketStatus.EXITING


def test_a_scheduled_square_off_squares_off_the_mis_positions(fakes: Fakes) -> None:
    basket = a_live_basket(fakes, product=Product.MIS)
    execution = run_scheduled(fakes.ports, ScheduledAction.SQUARE_OFF, OWNER, basket.id, NOW)
    assert execution is not None
    assert execution.view.basket.status_message == "MIS positions squared off at 15:15 IST"


def test_a_square_off_that_leaves_nothing_open_is_a_whole_exit_and_cancels_every_working_order(fakes: Fakes) -> None:
    # Given a basket whose open positions are all MIS, and a resting NRML order in it
    basket = a_live_basket(fakes, product=Product.MIS)
    resting = place_order(fakes.ports, OWNER, an_order_input(basket.id, product=Product.NRML), "resting-nrml")
    # When the 15:15 square-off runs
    execution = square_off(fakes.ports, OWNER, basket.id, NOW.date())
    # Then the basket is EXITING, the NRML order was cancelled too (nothing keeps the exit waiting)
    assert execution is not None
    assert execution.view.basket.status is BasketStatus.EXITING
    assert fakes.orders.get(OWNER, resting.id).status is OrderStatus.CANCELLED
    # and once the MIS exits fill, the basket is CLOSED
    for order in execution.orders:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id)
        on_exiting_update(fakes.ports, "paper", fakes.broker.order_update(order.broker_order_id))
    assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.CLOSED
