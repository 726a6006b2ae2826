"""Exiting a basket through the fakes: cancel what works, square off what is open, settle when flat."""

from __future__ import annotations

import contextlib
import random
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from tests.unit.usecases.test_orders import an_order_input
from trading.errors import Conflict, DomainError
from trading.model import BasketStatus, OrderStatus, OrderType, Product, Side
from trading.usecases.execution import execute_basket
from trading.usecases.exits import exit_basket, on_exiting_update, resume_exit
from trading.usecases.orders import cancel_order, on_broker_update, place_order
from trading.usecases.reconciliation import reconcile_owner
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from tests.fakes import Fakes
    from trading.ids import BasketId, BrokerOrderId
    from trading.model import Order
    from trading.ports import OrderRequest


def test_an_exit_buys_back_shorts_first_and_the_basket_closes_once_flat(fakes: Fakes) -> None:
    # Given a LIVE straddle: long call, short put
    basket = a_live_basket(fakes)
    # When
    execution = exit_basket(fakes.ports, OWNER, basket.id, "out-1")
    # Then the short put is bought back before the long call is sold, both at market
    assert [(o.instrument, o.side, o.order_type) for o in execution.orders] == [
        (NIFTY_PUT, Side.BUY, OrderType.MARKET),
        (NIFTY_CALL, Side.SELL, OrderType.MARKET),
    ]
    assert execution.view.basket.status is BasketStatus.EXITING
    # and when the broker reports both exits filled, the basket is CLOSED
    for order in execution.orders:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id)
        on_broker_update(fakes.ports, "paper", fakes.broker.order_update(order.broker_order_id))
    assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.CLOSED


def test_an_exit_cancels_the_working_orders_first(fakes: Fakes) -> None:
    # Given a basket whose legs rest unfilled
    draft = a_stored_draft(fakes, product=Product.NRML)
    entry = execute_basket(fakes.ports, OWNER, draft.id, "in")
    # When
    execution = exit_basket(fakes.ports, OWNER, draft.id, "out-2")
    # Then nothing was open, so no exit order; both working orders were cancelled and the basket closed
    assert execution.orders == []
    assert sorted(fakes.broker.cancelled) == sorted(str(o.broker_order_id) for o in entry.orders)
    assert {o.status for o in execution.view.orders} == {OrderStatus.CANCELLED}
    assert execution.view.basket.status is BasketStatus.CLOSED


def test_exiting_again_while_exit_orders_work_is_a_conflict(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    exit_basket(fakes.ports, OWNER, basket.id, "out-3")
    with pytest.raises(Conflict, match="already exiting"):
        exit_basket(fakes.ports, OWNER, basket.id, "out-4")


def test_a_draft_cannot_be_exited(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    with pytest.raises(Conflict, match="only a LIVE or FAILED basket"):
        exit_basket(fakes.ports, OWNER, draft.id, "out-5")
    assert fakes.orders.orders == {}


def test_a_partial_exit_squares_off_only_the_given_products_and_stays_live(fakes: Fakes) -> None:
    # Given a LIVE basket of MIS positions
    basket = a_live_basket(fakes, product=Product.MIS)
    # When only NRML is to go
    execution = exit_basket(fakes.ports, OWNER, basket.id, "out-6", products=frozenset({Product.NRML}))
    # Then nothing is squared off and the basket stays LIVE
    assert (execution.orders, execution.view.basket.status) == ([], BasketStatus.LIVE)


def _deliver(fakes: Fakes) -> None:
    """Every postback the broker owes: each order's current report, through the exit-aware entry point."""
    for broker_order_id in list(fakes.broker.book):
        on_exiting_update(fakes.ports, "paper", fakes.broker.order_update(broker_order_id))


def _flat_and_closed(fakes: Fakes, basket_id: BasketId) -> bool:
    view = fakes.baskets.view(OWNER, basket_id)
    return view.basket.status is BasketStatus.CLOSED and all(p.net_quantity == 0 for p in view.positions)


def test_the_issue_sequence_an_order_filled_at_the_broker_but_pending_here_is_squared_off_too(fakes: Fakes) -> None:
    # Given a LIVE basket (long call, short put) and a MARKET BUY 65 of the call placed into it,
    basket = a_live_basket(fakes)
    fakes.broker.fill_on_place = True
    order = place_order(fakes.ports, OWNER, an_order_input(basket.id), "extra-1")
    fakes.broker.fill_on_place = False
    # filled at the broker while our book still says PENDING (no postback yet)
    assert not fakes.orders.get(OWNER, order.id).status.is_terminal
    # When the exit runs at once: the cancel is refused ("it is complete")
    execution = exit_basket(fakes.ports, OWNER, basket.id, "out-issue")
    # Then the fill was synced and squared off with the rest: the short bought back first
    sides = [o.side for o in execution.orders]
    assert sides == sorted(sides, key=lambda s: s is not Side.BUY)
    bought = sum(o.quantity for o in execution.orders if (o.instrument, o.side) == (NIFTY_PUT, Side.BUY))
    sold = sum(o.quantity for o in execution.orders if (o.instrument, o.side) == (NIFTY_CALL, Side.SELL))
    assert (bought, sold) == (65, 130)
    for exit_order in execution.orders:
        assert exit_order.broker_order_id is not None
        fakes.broker.fill(exit_order.broker_order_id)
    _deliver(fakes)
    assert _flat_and_closed(fakes, basket.id)


def test_a_fill_landing_after_the_exit_was_planned_is_squared_off_by_the_continuation(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    extra = place_order(fakes.ports, OWNER, an_order_input(basket.id), "extra-2")
    assert extra.broker_order_id is not None
    fakes.broker.cancel_refusals = 1  # the cancel races the fill: the broker fills, then refuses the cancel
    fakes.broker.fill(extra.broker_order_id)
    execution = exit_basket(fakes.ports, OWNER, basket.id, "out-late")
    for exit_order in execution.orders:
        assert exit_order.broker_order_id is not None
        fakes.broker.fill(exit_order.broker_order_id)
    _deliver(fakes)
    assert _flat_and_closed(fakes, basket.id)


def test_an_exit_whose_orders_are_refused_ends_failed_naming_the_open_positions(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    fakes.broker.refuse[NIFTY_PUT.tradingsymbol] = "margin"
    exit_basket(fakes.ports, OWNER, basket.id, "out-refused")
    failed = fakes.baskets.get(OWNER, basket.id)
    assert failed.status is BasketStatus.FAILED
    assert "margin" in (failed.status_message or "")
    assert NIFTY_PUT.tradingsymbol in (failed.status_message or "")


@pytest.mark.parametrize("seed", range(200))
def test_random_interleavings_end_flat_and_closed_never_exiting(fakes: Fakes, seed: int) -> None:
    rng = random.Random(seed)
    basket = a_live_basket(fakes)
    exited = False
    for step in range(rng.randint(3, 12)):
        action = rng.choice(["place", "fill", "fill", "cancel", "deliver", "exit", "limit"])
        view = fakes.baskets.view(OWNER, basket.id)
        working = [o for o in view.orders if not o.status.is_terminal and o.broker_order_id]
        open_at_broker = [b for b, u in fakes.broker.book.items() if u.status is not None and not u.status.is_terminal]
        if action == "place" and view.basket.status is BasketStatus.LIVE:
            side = rng.choice([Side.BUY, Side.SELL])
            symbol = rng.choice([NIFTY_CALL, NIFTY_PUT]).tradingsymbol
            place_order(fakes.ports, OWNER, an_order_input(basket.id, side=side, tradingsymbol=symbol), f"p{step}")
        elif action == "fill" and open_at_broker:
            fakes.broker.fill(rng.choice(open_at_broker))
        elif action == "cancel" and working:
            with contextlib.suppress(DomainError):
                cancel_order(fakes.ports, OWNER, rng.choice(working).id)
        elif action == "deliver":
            _deliver(fakes)
        elif action == "exit":
            with contextlib.suppress(Conflict):
                exit_basket(fakes.ports, OWNER, basket.id, f"x{step}")
                exited = True
        elif action == "limit" and view.basket.status is BasketStatus.LIVE:
            limit_exit = exit_basket(fakes.ports, OWNER, basket.id, f"l{step}", reason="max loss", only_live=True)
            exited = exited or limit_exit is not None
        if _flat_and_closed(fakes, basket.id):
            break
    if not exited:
        with contextlib.suppress(Conflict):
            exit_basket(fakes.ports, OWNER, basket.id, "final")
    # the broker eventually fills whatever still rests, and every report reaches us
    for _ in range(10):
        for broker_order_id, update in list(fakes.broker.book.items()):
            if update.status is not None and not update.status.is_terminal:
                fakes.broker.fill(broker_order_id)
        _deliver(fakes)
    status = fakes.baskets.get(OWNER, basket.id).status
    assert status is not BasketStatus.EXITING
    if status is BasketStatus.CLOSED:
        assert _flat_and_closed(fakes, basket.id)


def test_exiting_again_when_nothing_of_the_exit_works_resumes_it(fakes: Fakes) -> None:
    # Given an exit whose orders were cancelled at the broker, leaving the positions open
    basket = a_live_basket(fakes)
    first = exit_basket(fakes.ports, OWNER, basket.id, "out-7")
    for order in first.orders:
        cancel_order(fakes.ports, OWNER, order.id)
    # When exiting again, it resumes (no Conflict) and squares off what is still open
    again = exit_basket(fakes.ports, OWNER, basket.id, "out-8")
    assert sorted(o.side for o in again.orders) == sorted(o.side for o in first.orders)


def test_an_exit_interrupted_after_its_gate_is_resumed_by_reconciliation_until_closed(fakes: Fakes) -> None:
    # Given a LIVE basket whose exit stopped right after it was saved EXITING (a restart): nothing works, all open
    basket = a_live_basket(fakes)
    basket.start_exit()
    fakes.baskets.save(basket, bump(basket))
    # When the periodic reconciliation runs
    first = reconcile_owner(fakes.ports, OWNER)
    # Then it took the exit's next turn: the short put is bought back before the long call is sold
    view = fakes.baskets.view(OWNER, basket.id)
    exits = [o for o in view.orders if not o.status.is_terminal]
    placed = [(r.instrument, r.side) for r in fakes.broker.placed[-2:]]
    assert placed == [(NIFTY_PUT, Side.BUY), (NIFTY_CALL, Side.SELL)]
    assert len(exits) == 2
    assert (first.exits, view.basket.status) == (1, BasketStatus.EXITING)
    # and when the exits fill with every postback lost, the next pass closes the basket, flat
    for order in exits:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id)
    reconcile_owner(fakes.ports, OWNER)
    assert _flat_and_closed(fakes, basket.id)


def test_an_exit_resumed_with_the_broker_session_gone_ends_failed_naming_the_open_positions(fakes: Fakes) -> None:
    # Given an interrupted exit whose every order is finished, and the broker now refuses everything
    basket = a_live_basket(fakes)
    basket.start_exit()
    fakes.baskets.save(basket, bump(basket))
    for symbol in (NIFTY_CALL.tradingsymbol, NIFTY_PUT.tradingsymbol):
        fakes.broker.refuse[symbol] = "session expired"
    # When reconciliation resumes it
    reconcile_owner(fakes.ports, OWNER)
    # Then it is FAILED (not left EXITING), saying why and what is open
    failed = fakes.baskets.get(OWNER, basket.id)
    assert failed.status is BasketStatus.FAILED
    assert failed.status_message is not None
    assert failed.status_message.startswith("exit failed: exit rejected: BUY 65 ")
    assert failed.status_message.endswith(f"open: {NIFTY_PUT.tradingsymbol} -65, {NIFTY_CALL.tradingsymbol} +65") or (
        failed.status_message.endswith(f"open: {NIFTY_CALL.tradingsymbol} +65, {NIFTY_PUT.tradingsymbol} -65")
    )


def test_an_exit_whose_broker_session_died_with_an_order_working_ends_failed_not_exiting(fakes: Fakes) -> None:
    # Given a LIVE basket with a resting order, and then the broker session dies
    basket = a_live_basket(fakes)
    place_order(fakes.ports, OWNER, an_order_input(basket.id), "resting")
    fakes.broker.disconnected = True
    # When it is exited: the resting order can be neither cancelled nor read
    exit_basket(fakes.ports, OWNER, basket.id, "out-dead")
    # Then the exit does not wait for it forever: FAILED, saying why and what is open
    failed = fakes.baskets.get(OWNER, basket.id)
    assert failed.status is BasketStatus.FAILED
    assert failed.status_message is not None
    assert failed.status_message.startswith("exit failed: your PAPER session expired")
    assert f"{NIFTY_CALL.tradingsymbol} +65" in failed.status_message
    assert f"{NIFTY_PUT.tradingsymbol} -65" in failed.status_message


def test_an_interrupted_exit_with_an_order_working_and_the_session_dead_is_failed_by_reconciliation(
    fakes: Fakes,
) -> None:
    # Given an exit interrupted with an order still working, and the broker session dead since
    basket = a_live_basket(fakes)
    place_order(fakes.ports, OWNER, an_order_input(basket.id), "resting-2")
    exiting = fakes.baskets.get(OWNER, basket.id)
    exiting.start_exit()
    fakes.baskets.save(exiting, bump(exiting))
    fakes.broker.disconnected = True
    # When reconciliation runs (it cannot reach the broker either)
    with contextlib.suppress(DomainError):
        reconcile_owner(fakes.ports, OWNER)
    # Then the exit is FAILED, not left EXITING
    assert fakes.baskets.get(OWNER, basket.id).status is BasketStatus.FAILED


def test_an_order_placed_as_its_basket_began_exiting_cancels_itself(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a LIVE basket, and an exit whose gate lands while a resting order is on its way to the broker
    basket = a_live_basket(fakes)
    place = fakes.broker.place_order

    def place_while_the_exit_starts(request: OrderRequest) -> BrokerOrderId:
        broker_order_id = place(request)
        exiting = fakes.baskets.get(OWNER, basket.id)
        exiting.start_exit()
        fakes.baskets.save(exiting, bump(exiting))
        return broker_order_id

    monkeypatch.setattr(fakes.broker, "place_order", place_while_the_exit_starts)
    # When the order's placement returns
    order = place_order(fakes.ports, OWNER, an_order_input(basket.id), "raced")
    # Then it was cancelled (the exit, which looked for working orders before it had a broker id, cannot block on it)
    assert order.broker_order_id in fakes.broker.cancelled
    assert fakes.orders.get(OWNER, order.id).status is OrderStatus.CANCELLED


def test_of_two_racing_turns_of_an_exit_only_one_places_orders(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an EXITING basket with nothing working and both positions open, and two turns of its exit at once:
    # the second reads the basket while the first is storing its orders
    basket = a_live_basket(fakes)
    exiting = fakes.baskets.get(OWNER, basket.id)
    exiting.start_exit()
    fakes.baskets.save(exiting, bump(exiting))
    add_all = fakes.orders.add_all
    raced: list[list[Order]] = []

    def add_all_while_another_turn_runs(orders: list[Order]) -> None:
        if not raced:
            raced.append([])
            raced[0] = resume_exit(fakes.ports, OWNER, basket.id)
        add_all(orders)

    monkeypatch.setattr(fakes.orders, "add_all", add_all_while_another_turn_runs)
    placed_before = len(fakes.broker.placed)
    # When
    first = resume_exit(fakes.ports, OWNER, basket.id)
    # Then one turn placed the two exit orders; the other's were stored CANCELLED, never sent
    assert len(fakes.broker.placed) - placed_before == 2
    assert sorted([len(first), len(raced[0])]) == [0, 2]
    not_sent = [o for o in fakes.baskets.view(OWNER, basket.id).orders if o.broker_order_id is None]
    assert [(o.status, o.status_message) for o in not_sent] == [
        (OrderStatus.CANCELLED, "not placed: another turn placed")
    ] * 2
