"""Given steps of the use-case tests: fakes holding a draft, a live or a filled basket."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.builders import NIFTY_PUT, a_basket, a_leg, a_strategy
from trading.model import Basket, BasketStatus, PartialFailurePolicy, Product, Side
from trading.usecases.execution import execute_basket
from trading.usecases.orders import sync_order

if TYPE_CHECKING:
    from tests.fakes import Fakes


def a_stored_draft(
    fakes: Fakes, policy: PartialFailurePolicy = PartialFailurePolicy.EXIT_FILLED, product: Product = Product.NRML
) -> Basket:
    """A DRAFT straddle: sell the put, buy the call (in that order, so hedge-first has work to do)."""
    strategy = a_strategy(
        a_leg(instrument=NIFTY_PUT, side=Side.SELL, price=Decimal("98.35"), product=product),
        a_leg(side=Side.BUY, product=product),
    )
    basket = a_basket(strategy, on_partial_failure=policy)
    fakes.baskets.add(basket)
    return basket


def a_live_basket(fakes: Fakes, product: Product = Product.NRML) -> Basket:
    """The straddle executed with both legs filled at once: LIVE with two open positions."""
    basket = a_stored_draft(fakes, product=product)
    fakes.broker.fill_on_place = True
    execute_basket(fakes.ports, basket.owner, basket.id, f"entry-{basket.id}")
    for order in fakes.baskets.view(basket.owner, basket.id).orders:
        sync_order(fakes.ports, order)
    fakes.broker.fill_on_place = False
    live = fakes.baskets.get(basket.owner, basket.id)
    assert live.status is BasketStatus.LIVE
    return live
