"""Request budgets of the hot paths, counted at the resolver handler's DynamoDB client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.helpers import invoke, live_condor

if TYPE_CHECKING:
    from local.stack import LocalStack
    from tests.requests_counter import RequestCounter


def test_a_basket_with_strategies_orders_and_positions_is_one_query(
    alice: dict[str, str], handler_requests: RequestCounter
) -> None:
    basket = live_condor(alice["sub"])
    with handler_requests.measure() as calls:
        again = invoke("Query", "basket", {"id": basket["id"]}, alice["sub"])
    assert (len(again["strategies"]), len(again["orders"]), len(again["positions"])) == (2, 4, 4)
    assert calls == ["Query"]


def test_a_page_of_orders_is_one_query(alice: dict[str, str], handler_requests: RequestCounter) -> None:
    basket = live_condor(alice["sub"])
    with handler_requests.measure() as by_owner:
        page = invoke("Query", "orders", {"limit": 3}, alice["sub"])
    assert len(page["items"]) == 3
    assert page["nextToken"]
    with handler_requests.measure() as next_page:
        invoke("Query", "orders", {"limit": 3, "nextToken": page["nextToken"]}, alice["sub"])
    with handler_requests.measure() as by_basket:
        invoke("Query", "orders", {"basketId": basket["id"], "status": "COMPLETE", "limit": 10}, alice["sub"])
    # by basket: the basket's owner is checked first (another user's basket is NotFound, as a missing one)
    assert (by_owner, next_page, by_basket) == (["Query"], ["Query"], ["GetItem", "Query"])


def test_an_accounts_risk_is_its_item_a_page_of_baskets_and_each_live_basket_once(
    stack: LocalStack, handler_requests: RequestCounter
) -> None:
    sub = stack.add_user("budget-risk")["sub"]  # its own user: limits must not reach the session's alice
    live_condor(sub)
    invoke("Mutation", "setAccountLimits", {"input": {"broker": "PAPER", "dailyLossLimit": "90000.00"}}, sub)
    with handler_requests.measure() as calls:
        risk = invoke("Query", "accountRisk", {"broker": "PAPER"}, sub)
    assert (risk["basketsCounted"], risk["locked"]) == (1, False)
    # the account's item; the owner's baskets (ByOwner, one page); the LIVE basket's collection; its marks
    assert calls == ["GetItem", "Query", "Query", "BatchGetItem"]
