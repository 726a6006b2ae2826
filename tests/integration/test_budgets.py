"""Request budgets of the hot paths, counted at the resolver handler's DynamoDB client."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from local.emulator import LambdaContext
from resolvers.handler import handler
from tests.events import appsync_event
from tests.helpers import condor_input, wait_until

if TYPE_CHECKING:
    from tests.requests_counter import RequestCounter


def call(parent: str, field: str, arguments: dict[str, Any], sub: str) -> Any:
    return handler(appsync_event(parent, field, arguments, sub), LambdaContext())


def live_basket(sub: str) -> dict[str, Any]:
    draft = call("Mutation", "createBasket", {"input": condor_input()}, sub)
    call("Mutation", "executeBasket", {"basketId": draft["id"], "clientRequestId": str(uuid.uuid4())}, sub)

    def settled() -> bool:
        basket = call("Query", "basket", {"id": draft["id"]}, sub)
        return len(basket["positions"]) == 4 and all(
            o["status"] == "COMPLETE" and o["filledQuantity"] == o["quantity"] for o in basket["orders"]
        )

    wait_until(settled)
    return dict(call("Query", "basket", {"id": draft["id"]}, sub))


def test_a_basket_with_strategies_orders_and_positions_is_one_query(
    alice: dict[str, str], handler_requests: RequestCounter
) -> None:
    basket = live_basket(alice["sub"])
    with handler_requests.measure() as calls:
        again = call("Query", "basket", {"id": basket["id"]}, alice["sub"])
    assert (len(again["strategies"]), len(again["orders"]), len(again["positions"])) == (2, 4, 4)
    assert calls == ["Query"]


def test_a_page_of_orders_is_one_query(alice: dict[str, str], handler_requests: RequestCounter) -> None:
    basket = live_basket(alice["sub"])
    with handler_requests.measure() as by_owner:
        page = call("Query", "orders", {"limit": 3}, alice["sub"])
    assert len(page["items"]) == 3
    assert page["nextToken"]
    with handler_requests.measure() as next_page:
        call("Query", "orders", {"limit": 3, "nextToken": page["nextToken"]}, alice["sub"])
    with handler_requests.measure() as by_basket:
        call("Query", "orders", {"basketId": basket["id"], "status": "COMPLETE", "limit": 10}, alice["sub"])
    assert (by_owner, next_page, by_basket) == (["Query"], ["Query"], ["Query"])
