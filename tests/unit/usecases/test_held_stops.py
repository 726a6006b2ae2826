"""A leg's stop-loss held at the broker, through the fakes: one protected SL-M per entry at the tick-rounded stop,
never fired by us; our target and an exit cancel it first; its fill at the broker fires the leg and re-enters."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, OWNER, a_basket, a_leg_input
from tests.unit.usecases.test_leg_exits import a_live_watched_basket, exits_of_the_call, mark, settle
from trading.errors import ValidationError
from trading.model import OrderStatus, OrderType, Side
from trading.model.leg_risk import Basis, LegRisk, Level, ReEntry, StopLossMode, Trail, Trigger
from trading.model.protection import AUTOMATIC
from trading.rules.leg_risk import broker_stop_trigger
from trading.usecases.baskets import add_strategy
from trading.usecases.exits import exit_basket
from trading.usecases.leg_exits import on_held_stop, position_key, watch_leg
from trading.usecases.orders import sync_order

if TYPE_CHECKING:
    from tests.fakes import Fakes
    from trading.model import Basket, Order
    from trading.model.leg_risk import LegRiskState

HELD = LegRisk(Level(Basis.POINTS, D(20)), target=Level(Basis.POINTS, D(30)), stop_loss_mode=StopLossMode.AT_BROKER)


def entered(fakes: Fakes, risk: LegRisk = HELD) -> Basket:
    """LIVE, the call entered at 100.00; further orders rest at the broker until filled."""
    basket = a_live_watched_basket(fakes, risk)
    fakes.broker.fill_on_place = False
    return basket


def fill_seen(fakes: Fakes, basket: Basket, known: LegRiskState | None = None) -> LegRiskState | None:
    """The stream's position record of the call: the watch with no new mark."""
    strategy, leg = basket.legs[0]
    view = fakes.baskets.view(OWNER, basket.id)
    position = next(p for p in view.positions if p.key == position_key(basket.id, strategy.id, leg))
    return watch_leg(fakes.ports, view.basket, strategy.id, leg, position, None, known)


def stop_orders(fakes: Fakes, basket: Basket) -> list[Order]:
    return [o for o in fakes.baskets.view(OWNER, basket.id).orders if o.order_type is OrderType.SL_M]


def broker_fills_stop(fakes: Fakes, basket: Basket, price: str) -> LegRiskState | None:
    """The SL-M triggers at the broker and fills; its postback's update reaches the watch."""
    (stop,) = [o for o in stop_orders(fakes, basket) if not o.status.is_terminal]
    assert stop.broker_order_id is not None
    fakes.broker.fill(stop.broker_order_id, price=D(price))
    synced = sync_order(fakes.ports, stop)
    strategy, leg = basket.legs[0]
    view = fakes.baskets.view(OWNER, basket.id)
    position = next(p for p in view.positions if p.key == position_key(basket.id, strategy.id, leg))
    return on_held_stop(fakes.ports, view.basket, strategy.id, leg, synced, position)


def test_the_sl_m_is_placed_once_after_the_entry_fills_at_the_stop_on_its_tick(fakes: Fakes) -> None:
    basket = entered(fakes)
    state = fill_seen(fakes, basket)
    # a replay, another instance with nothing cached, and a mark all find it held
    fill_seen(fakes, basket)
    fill_seen(fakes, basket, None)
    mark(fakes, basket, "101")
    (request,) = exits_of_the_call(fakes)
    assert (request.order_type, request.quantity, request.trigger_price, request.price) == (
        OrderType.SL_M,
        65,
        D("80.00"),
        None,
    )
    assert request.market_protection == AUTOMATIC
    (order,) = stop_orders(fakes, basket)
    assert order.client_request_id == f"legstop-{basket.legs[0][1].id}-0"
    assert state is not None and state.stop_orders == (order.id,) and state.stop == D("80.00")


def test_a_stop_sliced_at_the_freeze_quantity_fires_the_leg_once_its_last_slice_has_filled(fakes: Fakes) -> None:
    # Given 28 lots (1,820) of the call, above its freeze quantity of 1,755: its SL-M goes out in two slices
    basket = a_live_watched_basket(fakes, HELD, lots=28)
    fakes.broker.fill_on_place = False
    state = fill_seen(fakes, basket)
    first, second = stop_orders(fakes, basket)
    assert state is not None and set(state.stop_orders) == {first.id, second.id}
    assert (first.quantity + second.quantity, first.trigger_price) == (1820, D("80.00"))
    strategy, leg = basket.legs[0]

    def slice_fills(order: Order, price: str) -> LegRiskState | None:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id, price=D(price))
        synced = sync_order(fakes.ports, order)
        view = fakes.baskets.view(OWNER, basket.id)
        position = next(p for p in view.positions if p.key == position_key(basket.id, strategy.id, leg))
        return on_held_stop(fakes.ports, view.basket, strategy.id, leg, synced, position)

    # When the first slice fills, the leg has not fired: part of it is still held by the second slice
    after_first = slice_fills(first, "79.90")
    assert after_first is not None and after_first.fired is None
    # Then when the second fills, the leg fires once, at the average of both slices' fills
    after_both = slice_fills(second, "79.70")
    assert after_both is not None and after_both.fired is Trigger.STOP_LOSS
    expected = (first.quantity * D("79.90") + second.quantity * D("79.70")) / 1820
    assert after_both.fired_at == expected
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M, OrderType.SL_M]


def test_the_trigger_is_rounded_toward_the_entry_on_the_tick() -> None:
    percent = LegRisk(Level(Basis.PERCENT, D("7.33")), stop_loss_mode=StopLossMode.AT_BROKER)
    assert broker_stop_trigger(percent, Side.BUY, D(100), D("0.05")) == D("92.70")  # 92.67, up toward 100
    assert broker_stop_trigger(percent, Side.SELL, D(100), D("0.05")) == D("107.30")  # 107.33, down toward 100


def test_a_mark_through_the_stop_sends_nothing_of_ours(fakes: Fakes) -> None:
    basket = entered(fakes)
    fill_seen(fakes, basket)
    state = mark(fakes, basket, "79")
    mark(fakes, basket, "70", None)
    assert state is not None and state.fired is None and state.stop == D("80.00")
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M]


def test_the_target_cancels_the_sl_m_first_and_exits_once(fakes: Fakes) -> None:
    basket = entered(fakes)
    fill_seen(fakes, basket)
    state = mark(fakes, basket, "130")
    assert state is not None and state.fired is Trigger.TARGET
    (stop,) = stop_orders(fakes, basket)
    assert stop.status is OrderStatus.CANCELLED and fakes.broker.cancelled == [stop.broker_order_id]
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M, OrderType.MARKET]
    mark(fakes, basket, "131", None)
    assert len(exits_of_the_call(fakes)) == 2


def test_a_target_racing_a_filled_sl_m_sends_no_second_exit(fakes: Fakes) -> None:
    basket = entered(fakes)
    fill_seen(fakes, basket)
    (stop,) = stop_orders(fakes, basket)
    assert stop.broker_order_id is not None
    fakes.broker.fill(stop.broker_order_id, price=D("80"))  # filled at the broker; its postback not here yet
    mark(fakes, basket, "130")  # our target: the cancel is refused, the order synced with its fill
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M]
    call = next(p for p in fakes.baskets.view(OWNER, basket.id).positions if p.key.instrument == NIFTY_CALL)
    assert call.net_quantity == 0


def test_exit_basket_cancels_the_sl_m(fakes: Fakes) -> None:
    basket = entered(fakes)
    fill_seen(fakes, basket)
    exit_basket(fakes.ports, OWNER, basket.id, "exit-all")
    (stop,) = stop_orders(fakes, basket)
    assert stop.status is OrderStatus.CANCELLED
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M, OrderType.MARKET]


def test_the_sl_m_filling_fires_the_stop_loss_and_the_leg_is_entered_again_with_a_new_stop(fakes: Fakes) -> None:
    risk = LegRisk(Level(Basis.POINTS, D(20)), re_entry=ReEntry(1), stop_loss_mode=StopLossMode.AT_BROKER)
    basket = entered(fakes, risk)
    fill_seen(fakes, basket)
    state = broker_fills_stop(fakes, basket, "79.95")
    # fired by the stop-loss at its fill, and entered again: the next cycle
    assert state is not None and (state.cycle, state.re_entries) == (1, 1)
    entries = [r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.BUY]
    assert len(entries) == 2
    message = str(fakes.baskets.get(OWNER, basket.id).status_message)
    assert f"leg BUY {NIFTY_CALL.tradingsymbol}: stop-loss 80.00 held at the broker filled at 79.95" in message
    # the re-entry fills at the market (100.00): a new SL-M for the new cycle
    settle(fakes, basket)
    again = fill_seen(fakes, basket)
    assert again is not None and len(again.stop_orders) == 1
    held = stop_orders(fakes, basket)
    assert [o.client_request_id.rsplit("-", 1)[1] for o in held] == ["0", "1"]
    assert [o.status.is_terminal for o in held] == [True, False] and held[0].status is OrderStatus.COMPLETE
    # its fill fires once more, and the re-entries are used up: nothing more is entered
    final = broker_fills_stop(fakes, basket, "80")
    assert final is not None and final.fired is Trigger.STOP_LOSS and final.fired_at == D("80")
    assert len([r for r in fakes.broker.placed if r.instrument == NIFTY_CALL and r.side is Side.BUY]) == 2
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.SL_M, OrderType.SL_M]


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (LegRisk(target=Level(Basis.POINTS, D(5)), stop_loss_mode=StopLossMode.AT_BROKER), "needs a stopLoss"),
        (
            LegRisk(Level(Basis.POINTS, D(20)), trail=Trail(D(10), D(5)), stop_loss_mode=StopLossMode.AT_BROKER),
            "trail moves the stop",
        ),
        (
            LegRisk(
                Level(Basis.POINTS, D(20)),
                move_to_cost_at=Level(Basis.POINTS, D(5)),
                stop_loss_mode=StopLossMode.AT_BROKER,
            ),
            "moveToCostAt moves the stop",
        ),
    ],
)
def test_a_stop_at_the_broker_it_cannot_hold_is_refused_and_nothing_is_written(
    fakes: Fakes, risk: LegRisk, message: str
) -> None:
    basket = a_basket()
    fakes.baskets.add(basket)
    with pytest.raises(ValidationError, match=message):
        add_strategy(fakes.ports, OWNER, basket.id, 1, "held", [a_leg_input(risk=risk)])
    assert fakes.baskets.get(OWNER, basket.id).version == 1


def test_a_refused_sl_m_leaves_the_stop_to_us_and_it_fires_once(fakes: Fakes) -> None:
    basket = entered(fakes)
    fakes.broker.refuse[NIFTY_CALL.tradingsymbol] = "trigger price must be below the last price"
    fill_seen(fakes, basket)
    del fakes.broker.refuse[NIFTY_CALL.tradingsymbol]
    (stop,) = stop_orders(fakes, basket)
    assert stop.status is OrderStatus.REJECTED
    # the stream's record of the refused order: the stop is ours for this entry, and the basket says so
    strategy, leg = basket.legs[0]
    view = fakes.baskets.view(OWNER, basket.id)
    state = on_held_stop(fakes.ports, view.basket, strategy.id, leg, stop, None)
    assert state is not None and state.stop_lost and state.fired is None
    assert "SL-M was refused by the broker (trigger price must be below" in str(
        fakes.baskets.get(OWNER, basket.id).status_message
    )
    # a mark through the stop now squares the leg off with a protected MARKET order, once
    fired = mark(fakes, basket, "80")
    mark(fakes, basket, "79", None)
    assert fired is not None and fired.fired is Trigger.STOP_LOSS
    assert [r.order_type for r in exits_of_the_call(fakes)] == [OrderType.MARKET]
