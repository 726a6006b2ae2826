"""Exiting a basket through the fakes: cancel what works, square off what is open, settle when flat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from trading.errors import Conflict
from trading.model import BasketStatus, OrderStatus, OrderType, Product, Side
from trading.usecases.execution import execute_basket
from trading.usecases.exits import exit_basket
from trading.usecases.orders import on_broker_update

if TYPE_CHECKING:
    from tests.fakes import Fakes


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
