"""A leg's managed exit through the fakes: the state saved over its version, one exit per trigger, re-entries."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER, a_basket, a_leg, a_leg_input, a_strategy
from trading.errors import ValidationError
from trading.model import BasketStatus, OrderType, Side
from trading.model.leg_risk import (
    Basis,
    CombinedBasis,
    LegRisk,
    LegRiskState,
    Level,
    ReEntry,
    StrategyRisk,
    Trail,
    Trigger,
)
from trading.usecases.baskets import add_strategy
from trading.usecases.execution import execute_basket
from trading.usecases.leg_exits import position_key, watch_leg
from trading.usecases.orders import on_broker_update, sync_order

if TYPE_CHECKING:
    from tests.fakes import Fakes
    from trading.model import Basket
    from trading.ports import OrderRequest

RISK = LegRisk(Level(Basis.POINTS, D(20)), trail=Trail(D(10), D(5)), re_entry=ReEntry(1))


def a_live_watched_basket(fakes: Fakes, risk: LegRisk = RISK, lots: int = 1) -> Basket:
    """Long `lots` of the call at market (100.00) with `risk`; short the put at 98.35, unwatched."""
    call = a_leg(order_type=OrderType.MARKET, price=None, risk=risk, lots=lots)
    put = a_leg(instrument=NIFTY_PUT, side=Side.SELL, price=D("98.35"))
    basket = a_basket(a_strategy(call, put))
    fakes.baskets.add(basket)
    fakes.broker.fill_on_place = True
    execute_basket(fakes.ports, OWNER, basket.id, f"entry-{basket.id}")
    settle(fakes, basket)
    live = fakes.baskets.get(OWNER, basket.id)
    assert live.status is BasketStatus.LIVE
    return live


def settle(fakes: Fakes, basket: Basket) -> None:
    for order in fakes.baskets.view(OWNER, basket.id).orders:
        if not order.status.is_terminal and order.broker_order_id:
            if fakes.broker.fill_on_place is False:
                fakes.broker.fill(order.broker_order_id)
            sync_order(fakes.ports, order)
            on_broker_update(fakes.ports, "paper", fakes.broker.order_update(order.broker_order_id))


def mark(fakes: Fakes, basket: Basket, price: str, known: LegRiskState | None = None) -> LegRiskState | None:
    strategy, leg = basket.legs[0]
    view = fakes.baskets.view(OWNER, basket.id)
    position = next((p for p in view.positions if p.key == position_key(basket.id, strategy.id, leg)), None)
    return watch_leg(fakes.ports, view.basket, strategy.id, leg, position, D(price), known)


def exits_of_the_call(fakes: Fakes) -> list[OrderRequest]:
    return [r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.SELL]


def test_a_trailing_stop_follows_the_price_and_exits_the_leg_once_on_the_pull_back(fakes: Fakes) -> None:
    basket = a_live_watched_basket(fakes)
    # the price rises to 127: two steps of 10, the stop moves from 80 to 90
    for price in ("105", "118", "127"):
        mark(fakes, basket, price)
    state = fakes.leg_risks.get(OWNER, basket.id, basket.legs[0][1].id)
    assert state is not None and (state.entry, state.peak, state.stop, state.fired) == (D(100), D(127), D(90), None)
    # a pull-back to 90.5 is above the stop; 90 reaches it
    mark(fakes, basket, "90.5")
    assert exits_of_the_call(fakes) == []
    fired = mark(fakes, basket, "90")
    assert getattr(fired, "fired", None) is Trigger.STOP_LOSS
    exits = exits_of_the_call(fakes)
    assert [(r.order_type, r.quantity) for r in exits] == [(OrderType.MARKET, 65)]  # one lot
    # the basket stays LIVE and says why; the short put was not touched
    after = fakes.baskets.get(OWNER, basket.id)
    assert after.status is BasketStatus.LIVE
    assert after.status_message == f"leg BUY {NIFTY_CALL.tradingsymbol}: stop-loss 90.00 reached at 90.00; leg exited"
    assert not [r for r in fakes.broker.placed if r.instrument == NIFTY_PUT and r.side is Side.BUY]


def test_a_replayed_or_concurrent_mark_acts_on_the_trigger_once(fakes: Fakes) -> None:
    basket = a_live_watched_basket(fakes, LegRisk(Level(Basis.POINTS, D(20))))
    stale = fakes.leg_risks.get(OWNER, basket.id, basket.legs[0][1].id)
    assert stale is None
    mark(fakes, basket, "80")  # one handler fires it
    # a second handler that saw nothing (its own cache) and a replay of the same mark
    mark(fakes, basket, "80", LegRiskState())
    mark(fakes, basket, "80")
    mark(fakes, basket, "79", fakes.leg_risks.get(OWNER, basket.id, basket.legs[0][1].id))
    assert len(exits_of_the_call(fakes)) == 1


def test_move_to_cost_puts_the_stop_at_the_entry(fakes: Fakes) -> None:
    risk = LegRisk(Level(Basis.POINTS, D(20)), move_to_cost_at=Level(Basis.POINTS, D(15)))
    basket = a_live_watched_basket(fakes, risk)
    mark(fakes, basket, "116")
    mark(fakes, basket, "100.05")
    assert exits_of_the_call(fakes) == []
    state = mark(fakes, basket, "100")
    assert (getattr(state, "stop", None), getattr(state, "moved_to_cost", None)) == (D(100), True)
    assert len(exits_of_the_call(fakes)) == 1


def test_a_stopped_leg_is_entered_again_up_to_its_limit(fakes: Fakes) -> None:
    basket = a_live_watched_basket(fakes)
    mark(fakes, basket, "80")
    settle(fakes, basket)  # the exit filled: the leg is flat
    entries = [r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.BUY]
    assert len(entries) == 1
    state = mark(fakes, basket, "81")  # the next mark re-enters (one re-entry allowed)
    assert (getattr(state, "cycle", None), getattr(state, "re_entries", None)) == (1, 1)
    settle(fakes, basket)
    entries = [r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.BUY]
    assert len(entries) == 2
    # the second entry is at the market (100.00 in the fake): stopped again at 80, and not re-entered
    mark(fakes, basket, "80")
    settle(fakes, basket)
    mark(fakes, basket, "81")
    mark(fakes, basket, "82")
    entries = [r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.BUY]
    assert len(entries) == 2
    assert len(exits_of_the_call(fakes)) == 2


def test_a_strategy_risk_on_mixed_sides_is_refused_and_nothing_is_written(fakes: Fakes) -> None:
    basket = a_basket()
    fakes.baskets.add(basket)
    legs = [a_leg_input(), a_leg_input(side=Side.SELL)]
    with pytest.raises(ValidationError, match="every leg of the strategy on one side"):
        add_strategy(fakes.ports, OWNER, basket.id, 1, "mixed", legs, StrategyRisk(CombinedBasis.PREMIUM, D(200)))
    assert fakes.baskets.get(OWNER, basket.id).version == 1
    kept = add_strategy(fakes.ports, OWNER, basket.id, 1, "mixed", legs, StrategyRisk(CombinedBasis.PNL, D(3000)))
    assert kept.strategies[0].risk == StrategyRisk(CombinedBasis.PNL, D(3000))
    assert fakes.baskets.get(OWNER, basket.id).strategies[0].risk == StrategyRisk(CombinedBasis.PNL, D(3000))
