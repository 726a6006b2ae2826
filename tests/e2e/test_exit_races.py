"""An exit racing a fill on the local stack (issue 17): the basket ends CLOSED with every position at zero."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, CE_26500, an_order_input, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"
EXIT = "mutation($id: ID!, $rid: String!) { exitBasket(basketId: $id, clientRequestId: $rid) { basket { status } } }"


def test_an_exit_right_after_an_order_leaves_the_basket_flat_and_closed(stack: LocalStack) -> None:
    user = stack.add_user("exit_race")
    token = user["token"]
    basket_id = create(stack, token, [leg(CE_26000), leg(CE_26500, side="SELL")])
    execute(stack, token, basket_id)
    wait_until(lambda: basket(stack, token, basket_id)["status"] == "LIVE")
    order = an_order_input(basket_id, tradingsymbol=CE_26000, side="BUY", quantity=65, orderType="MARKET")
    order.pop("price", None)
    data(stack, token, PLACE, {"i": order})
    data(stack, token, EXIT, {"id": basket_id, "rid": f"exit-{basket_id}"})

    def flat_and_closed() -> bool:
        view: dict[str, Any] = basket(stack, token, basket_id)
        return view["status"] == "CLOSED" and all(p["netQuantity"] == 0 for p in view["positions"])

    wait_until(flat_and_closed, timeout=60)
