"""modifyOrder through the fakes: what reaches the broker, what is saved, what is refused before sending."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.builders import OWNER
from tests.unit.usecases.given import a_live_basket
from tests.unit.usecases.test_orders import an_order_input
from trading.errors import Conflict, ValidationError
from trading.model import OrderStatus, OrderType, Validity
from trading.model.protection import AUTOMATIC, MarketProtection
from trading.usecases.modifications import ModifyInput, modify_order
from trading.usecases.orders import place_order, sync_order

if TYPE_CHECKING:
    from tests.fakes import Fakes
    from trading.model import Order


def a_resting_limit(fakes: Fakes) -> Order:
    basket = a_live_basket(fakes)
    order = an_order_input(basket.id, order_type=OrderType.LIMIT, price=Decimal("110.00"))
    placed = sync_order(fakes.ports, place_order(fakes.ports, OWNER, order, "rest-1"))
    assert placed.status is OrderStatus.OPEN
    return placed


def test_a_new_price_reaches_the_broker_and_is_saved_as_a_new_version(fakes: Fakes) -> None:
    order = a_resting_limit(fakes)

    changed = modify_order(fakes.ports, OWNER, ModifyInput(order.id, price=Decimal("111.50")), "m-1")

    ((broker_order_id, change),) = fakes.broker.modified
    assert broker_order_id == order.broker_order_id
    assert (change.order_type, change.quantity, change.price) == (OrderType.LIMIT, 65, Decimal("111.50"))
    assert (changed.price, changed.version) == (Decimal("111.50"), order.version + 1)
    assert fakes.orders.get(OWNER, order.id).price == Decimal("111.50")


def test_limit_to_market_drops_the_price_and_carries_protection(fakes: Fakes) -> None:
    order = a_resting_limit(fakes)
    protection = MarketProtection(Decimal(2))

    changed = modify_order(
        fakes.ports, OWNER, ModifyInput(order.id, order_type=OrderType.MARKET, market_protection=protection), "m-2"
    )

    change = fakes.broker.modified[-1][1]
    assert (change.order_type, change.price, change.market_protection) == (OrderType.MARKET, None, protection)
    assert (changed.order_type, changed.price, changed.market_protection) == (OrderType.MARKET, None, protection)


def test_to_market_without_a_protection_is_automatic(fakes: Fakes) -> None:
    order = a_resting_limit(fakes)
    modify_order(fakes.ports, OWNER, ModifyInput(order.id, order_type=OrderType.MARKET), "m-3")
    assert fakes.broker.modified[-1][1].market_protection == AUTOMATIC


def test_a_repeated_client_request_id_modifies_once(fakes: Fakes) -> None:
    order = a_resting_limit(fakes)
    spec = ModifyInput(order.id, price=Decimal("111.50"))
    first = modify_order(fakes.ports, OWNER, spec, "m-4")
    again = modify_order(fakes.ports, OWNER, spec, "m-4")
    assert len(fakes.broker.modified) == 1
    assert again.version == first.version


def test_an_order_not_yet_at_the_broker_cannot_be_modified(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    fakes.broker.unreachable.add(an_order_input(basket.id).tradingsymbol)
    pending = place_order(
        fakes.ports, OWNER, an_order_input(basket.id, order_type=OrderType.LIMIT, price=Decimal(110)), "p"
    )
    with pytest.raises(Conflict, match="is PENDING"):
        modify_order(fakes.ports, OWNER, ModifyInput(pending.id, price=Decimal(112)), "m-7")


def test_a_filled_order_cannot_be_modified(fakes: Fakes) -> None:
    order = a_resting_limit(fakes)
    assert order.broker_order_id is not None
    fakes.broker.fill(order.broker_order_id)
    sync_order(fakes.ports, order)

    with pytest.raises(Conflict, match="is COMPLETE; only OPEN or TRIGGER_PENDING orders"):
        modify_order(fakes.ports, OWNER, ModifyInput(order.id, price=Decimal(112)), "m-5")
    assert fakes.broker.modified == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"quantity": 100}, "not a multiple of its lot size"),
        ({"quantity": 65 * 28}, "exceeds the freeze quantity 1755"),
        ({"price": Decimal("111.01")}, "not a multiple of its tick size"),
        ({"order_type": OrderType.SL}, "needs a trigger price"),
        ({"validity": Validity.DAY}, "changes nothing"),
    ],
)
def test_bad_terms_are_refused_before_anything_is_sent(fakes: Fakes, spec: dict[str, object], message: str) -> None:
    order = a_resting_limit(fakes)
    with pytest.raises(ValidationError, match=message):
        modify_order(fakes.ports, OWNER, ModifyInput(order.id, **spec), "m-6")  # type: ignore[arg-type]
    assert fakes.broker.modified == []
    assert fakes.orders.get(OWNER, order.id).version == order.version
