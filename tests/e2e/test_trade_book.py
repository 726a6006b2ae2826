"""`fills(basketId)`: a basket's trade book over GraphQL, so a page can render history it did not watch live."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.graphql_client import graphql, graphql_data
from tests.helpers import CE_26000, condor_input, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

FILLS = """query($id: ID!, $limit: Int!, $next: String) { fills(basketId: $id, limit: $limit, nextToken: $next) {
  items { tradeId orderId basketId exchange tradingsymbol side quantity price filledAt recordedAt } nextToken } }"""
ORDERS = "query($id: ID!) { basket(id: $id) { orders { id tradingsymbol side status filledQuantity averagePrice } } }"


def _executed_condor(stack: LocalStack, token: str) -> str:
    basket_id: str = graphql_data(
        stack, token, "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": condor_input()}
    )["createBasket"]["id"]
    graphql_data(
        stack,
        token,
        "mutation($id: ID!, $r: String!) { executeBasket(basketId: $id, clientRequestId: $r) { basket { id } } }",
        {"id": basket_id, "r": str(uuid.uuid4())},
    )

    def complete() -> bool:
        orders = graphql_data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"]
        return len(orders) == 4 and all(o["status"] == "COMPLETE" and o["filledQuantity"] == 65 for o in orders)

    wait_until(complete)
    return basket_id


def _all_fills(stack: LocalStack, token: str, basket_id: str, limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token_in: str | None = None
    for _ in range(50):
        page = graphql_data(stack, token, FILLS, {"id": basket_id, "limit": limit, "next": token_in})["fills"]
        assert len(page["items"]) <= limit
        found += page["items"]
        token_in = page["nextToken"]
        if token_in is None:
            return found
    raise AssertionError("the trade book never ended")


def test_the_trade_book_holds_every_fill_of_the_baskets_orders(stack: LocalStack, alice: dict[str, str]) -> None:
    basket_id = _executed_condor(stack, alice["token"])
    orders = {o["id"]: o for o in graphql_data(stack, alice["token"], ORDERS, {"id": basket_id})["basket"]["orders"]}

    whole = _all_fills(stack, alice["token"], basket_id, 50)
    paged = _all_fills(stack, alice["token"], basket_id, 1)

    assert sorted(f["tradeId"] for f in paged) == sorted(f["tradeId"] for f in whole)
    assert len({(f["orderId"], f["tradeId"]) for f in whole}) == len(whole)
    times = [f["filledAt"] for f in whole]
    assert times == sorted(times, reverse=True)
    for order_id, order in orders.items():
        mine = [f for f in whole if f["orderId"] == order_id]
        assert sum(f["quantity"] for f in mine) == order["filledQuantity"] == 65
        assert {(f["tradingsymbol"], f["side"], f["basketId"], f["exchange"]) for f in mine} == {
            (order["tradingsymbol"], order["side"], basket_id, "NFO")
        }
        average = sum(f["quantity"] * Decimal(f["price"]) for f in mine) / order["filledQuantity"]
        assert average.quantize(Decimal("0.01")) == Decimal(order["averagePrice"]).quantize(Decimal("0.01"))
        assert all(f["recordedAt"] for f in mine)


def test_another_users_trade_book_is_not_found_as_a_missing_basket_is(
    stack: LocalStack, alice: dict[str, str], bob: dict[str, str]
) -> None:
    basket_id = _executed_condor(stack, alice["token"])
    variables = {"limit": 1, "next": None}
    theirs = graphql(stack, bob["token"], FILLS, {"id": basket_id, **variables})
    missing = graphql(stack, bob["token"], FILLS, {"id": "no-such-basket", **variables})
    assert theirs["data"] is None and missing["data"] is None
    assert [e["errorType"] for e in theirs["errors"]] == [e["errorType"] for e in missing["errors"]] == ["NotFound"]
    assert theirs["errors"][0]["message"].replace(basket_id, "X") == missing["errors"][0]["message"].replace(
        "no-such-basket", "X"
    )


def test_a_pnl_query_is_as_of_its_latest_fill_or_mark_and_moves_with_the_market(
    stack: LocalStack, alice: dict[str, str]
) -> None:
    basket_id = _executed_condor(stack, alice["token"])
    query = "query($id: ID!) { pnl(basketId: $id) { pnl asOf } }"
    first = graphql_data(stack, alice["token"], query, {"id": basket_id})["pnl"]["asOf"]
    latest_fill = max(f["filledAt"] for f in _all_fills(stack, alice["token"], basket_id, 50))
    assert _at(first) >= _at(latest_fill)
    requests.post(f"{stack.url}/local/prices", json={f"NFO:{CE_26000}": "301.05"}, timeout=30)

    def moved() -> bool:
        later = graphql_data(stack, alice["token"], query, {"id": basket_id})["pnl"]["asOf"]
        return _at(later) > _at(first)

    wait_until(moved)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
