"""Executing a basket through the fakes: hedge-first placement and the partial-failure policies."""

from __future__ import annotations

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER
from tests.fakes import Fakes, FixedClock
from tests.unit.usecases.given import a_stored_draft
from trading.errors import Conflict, ValidationError
from trading.model import BasketStatus, OrderStatus, OrderType, PartialFailurePolicy, Side
from trading.usecases.baskets import LegInput, create_basket
from trading.usecases.execution import execute_basket
from trading.usecases.exits import on_exiting_update


def test_buy_legs_are_placed_before_sell_legs_and_the_basket_goes_live(fakes: Fakes) -> None:
    # Given a draft whose SELL leg comes first
    basket = a_stored_draft(fakes)
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-1")
    # Then the long call went to the broker before the short put
    assert [(r.instrument, r.side) for r in fakes.broker.placed] == [(NIFTY_CALL, Side.BUY), (NIFTY_PUT, Side.SELL)]
    assert execution.view.basket.status is BasketStatus.LIVE
    assert all(o.broker_order_id and o.status is OrderStatus.PENDING for o in execution.orders)
    assert [r.tag for r in fakes.broker.placed] == [o.id for o in execution.orders]


def test_a_leg_above_the_freeze_quantity_is_placed_in_slices(fakes: Fakes) -> None:
    # Given a 28-lot leg (1820 > freeze 1755)
    basket = create_basket(
        fakes.ports, OWNER, "big", [("s", [LegInput("NFO", NIFTY_CALL.tradingsymbol, Side.BUY, 28)])]
    )
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-big")
    # Then
    assert [o.quantity for o in execution.orders] == [1755, 65]
    assert all(o.order_type is OrderType.MARKET for o in execution.orders)


def test_exit_filled_stops_at_the_first_refusal_and_exits_what_filled(fakes: Fakes) -> None:
    # Given the call fills on placement and the broker refuses the put
    basket = a_stored_draft(fakes, PartialFailurePolicy.EXIT_FILLED)
    fakes.broker.fill_on_place = True
    fakes.broker.refuse[NIFTY_PUT.tradingsymbol] = "insufficient margin"
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-2")
    # Then the put is REJECTED and the exit loop sells the filled call back at market: the basket is EXITING
    view = execution.view
    assert view.basket.status is BasketStatus.EXITING
    assert "insufficient margin" in (view.basket.status_message or "")
    by_side = {(o.instrument, o.side): o for o in view.orders}
    assert by_side[(NIFTY_PUT, Side.SELL)].status is OrderStatus.REJECTED
    assert by_side[(NIFTY_CALL, Side.BUY)].status is OrderStatus.COMPLETE
    exit_order = by_side[(NIFTY_CALL, Side.SELL)]
    assert (exit_order.order_type, exit_order.quantity) == (OrderType.MARKET, 65)
    # and once its fill is heard of, the position is flat and the basket FAILED with the refusal
    assert exit_order.broker_order_id is not None
    on_exiting_update(fakes.ports, "paper", fakes.broker.order_update(exit_order.broker_order_id))
    after = fakes.baskets.view(OWNER, basket.id)
    assert [p.net_quantity for p in after.positions] == [0]
    assert after.basket.status is BasketStatus.FAILED
    assert after.basket.status_message == (
        f"rejected: SELL 65 {NIFTY_PUT}: insufficient margin; what went through was squared off"
    )


def test_exit_filled_unwinds_an_order_filled_behind_our_back_too(fakes: Fakes) -> None:
    # Given the call is accepted (resting) and the put refused, and the call fills just as the unwind cancels it
    basket = a_stored_draft(fakes, PartialFailurePolicy.EXIT_FILLED)
    fakes.broker.refuse[NIFTY_PUT.tradingsymbol] = "insufficient margin"
    fakes.broker.cancel_refusals = 1
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-6")
    # Then the refused cancel synced the fill and the loop placed its exit
    exits = [o for o in execution.view.orders if o.side is Side.SELL and o.instrument == NIFTY_CALL]
    assert [o.quantity for o in exits] == [65]
    assert exits[0].broker_order_id is not None
    fakes.broker.fill(exits[0].broker_order_id)
    on_exiting_update(fakes.ports, "paper", fakes.broker.order_update(exits[0].broker_order_id))
    assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.FAILED


def test_exit_filled_does_not_send_legs_after_a_refusal() -> None:
    # Given the first placed leg (the call) is refused
    fakes = Fakes()
    basket = a_stored_draft(fakes, PartialFailurePolicy.EXIT_FILLED)
    fakes.broker.refuse[NIFTY_CALL.tradingsymbol] = "blocked"
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-3")
    # Then the put never reached the broker and is CANCELLED with the reason
    assert fakes.broker.placed == []
    put = next(o for o in execution.view.orders if o.instrument == NIFTY_PUT)
    assert (put.status, put.status_message) == (OrderStatus.CANCELLED, "not placed: an earlier leg failed")
    assert execution.view.basket.status is BasketStatus.FAILED
    assert execution.view.basket.status_message == f"rejected: BUY 65 {NIFTY_CALL}: blocked"


def test_keep_filled_keeps_the_accepted_legs_live(fakes: Fakes) -> None:
    # Given
    basket = a_stored_draft(fakes, PartialFailurePolicy.KEEP_FILLED)
    fakes.broker.refuse[NIFTY_PUT.tradingsymbol] = "insufficient margin"
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-4")
    # Then
    assert execution.view.basket.status is BasketStatus.LIVE
    assert (execution.view.basket.status_message or "").startswith("partly executed, filled legs kept")
    assert len(execution.orders) == 2
    assert fakes.broker.cancelled == []


def test_a_placement_with_an_unknown_outcome_is_kept_pending_for_reconciliation(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes, PartialFailurePolicy.KEEP_FILLED)
    fakes.broker.unreachable.add(NIFTY_PUT.tradingsymbol)
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-5")
    put = next(o for o in execution.view.orders if o.instrument == NIFTY_PUT)
    assert (put.status, put.broker_order_id) == (OrderStatus.PENDING, None)
    assert "outcome unknown" in (execution.view.basket.status_message or "")


def test_only_a_draft_is_executed_and_outside_market_hours_nothing_is_written(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes)
    execute_basket(fakes.ports, OWNER, basket.id, "go-6")
    with pytest.raises(Conflict, match="only a DRAFT basket can be executed"):
        execute_basket(fakes.ports, OWNER, basket.id, "go-7")

    night = Fakes(clock=FixedClock(FixedClock().at.replace(hour=17)))  # 22:30 IST
    draft = a_stored_draft(night)
    with pytest.raises(ValidationError, match="AMO"):
        execute_basket(night.ports, OWNER, draft.id, "go-8")
    assert (night.orders.orders, night.broker.placed) == ({}, [])
    assert night.baskets.get(OWNER, draft.id).status is BasketStatus.DRAFT
