"""Market protection on the local stack: a leg's MARKET order (and an exit's) reaches the paper exchange with
`market_protection` and fills as a LIMIT no worse than the protection price — through GraphQL over HTTP."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.graphql_client import graphql as gql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, CE_26500, an_order_input, exchange_orders, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

LEGS = "query($id: ID!) { basket(id: $id) { strategies { legs { tradingsymbol marketProtection } } } }"
ORDERS = "query($id: ID!) { basket(id: $id) { orders { id tradingsymbol side orderType marketProtection status } } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id marketProtection } }"
EXIT = "mutation($id: ID!, $rid: String!) { exitBasket(basketId: $id, clientRequestId: $rid) { basket { status } } }"


def no_worse_than_its_limit(row: dict[str, Any]) -> bool:
    average, limit = Decimal(str(row["average_price"])), Decimal(str(row["price"]))
    return average <= limit if row["transaction_type"] == "BUY" else average >= limit


def test_a_legs_market_order_carries_its_protection_to_the_exchange(stack: LocalStack) -> None:
    # Given a basket with a MARKET leg at 3 % protection and one left automatic
    user = stack.add_user("protection")
    token = user["token"]
    basket_id = create(
        stack,
        token,
        [leg(CE_26000, orderType="MARKET", marketProtection="3"), leg(CE_26500, side="SELL", orderType="MARKET")],
    )
    legs = data(stack, token, LEGS, {"id": basket_id})["basket"]["strategies"][0]["legs"]
    assert [(x["tradingsymbol"], x["marketProtection"]) for x in legs] == [(CE_26000, "3"), (CE_26500, "AUTO")]

    # When it executes
    execute(stack, token, basket_id)
    wait_until(lambda: basket(stack, token, basket_id)["status"] == "LIVE", timeout=60)

    # Then our orders say MARKET with their protection, and Kite's book shows each as a protected LIMIT
    orders = data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"]
    assert sorted((o["tradingsymbol"], o["orderType"], o["marketProtection"]) for o in orders) == sorted(
        [(CE_26000, "MARKET", "3"), (CE_26500, "MARKET", "AUTO")]
    )
    rows = {row["tradingsymbol"]: row for row in exchange_orders(stack, user["sub"])}
    assert (rows[CE_26000]["market_protection"], rows[CE_26500]["market_protection"]) == (3, -1)
    assert {row["order_type"] for row in rows.values()} == {"LIMIT"}
    assert all(row["status"] == "COMPLETE" and no_worse_than_its_limit(row) for row in rows.values())

    # And the exit's MARKET orders carry automatic protection too
    data(stack, token, EXIT, {"id": basket_id, "rid": f"exit-{basket_id}"})
    wait_until(lambda: basket(stack, token, basket_id)["status"] == "CLOSED", timeout=60)
    exits = exchange_orders(stack, user["sub"])[2:]
    assert exits
    assert {(row["market_protection"], row["order_type"]) for row in exits} == {(-1, "LIMIT")}


def test_place_order_takes_a_percentage_and_refuses_one_out_of_range(stack: LocalStack) -> None:
    user = stack.add_user("protection_order")
    token = user["token"]
    basket_id = create(stack, token, [leg(CE_26000)])
    execute(stack, token, basket_id)
    wait_until(lambda: basket(stack, token, basket_id)["status"] == "LIVE", timeout=60)
    before = len(exchange_orders(stack, user["sub"]))

    refused = gql(
        stack,
        token,
        PLACE,
        {"i": {**market_order(basket_id), "marketProtection": "0"}},
    )
    assert refused["errors"][0]["errorType"] == "ValidationError"
    assert "market protection must be" in refused["errors"][0]["message"]
    assert len(exchange_orders(stack, user["sub"])) == before

    # an order needing more than 10 freeze-size slices is refused before anything is sent
    too_big = gql(stack, token, PLACE, {"i": {**market_order(basket_id), "quantity": 65 * 1000}})
    assert too_big["errors"][0]["errorType"] == "ValidationError"
    assert (
        "an order may have at most 10 slices, so the largest quantity that fits is" in too_big["errors"][0]["message"]
    )
    assert len(exchange_orders(stack, user["sub"])) == before

    placed = data(stack, token, PLACE, {"i": {**market_order(basket_id), "marketProtection": "1.5"}})["placeOrder"]
    assert placed["marketProtection"] == "1.5"
    assert exchange_orders(stack, user["sub"])[-1]["market_protection"] == 1.5


def market_order(basket_id: str) -> dict[str, Any]:
    order = an_order_input(basket_id, tradingsymbol=CE_26000, quantity=65, orderType="MARKET")
    order.pop("price", None)
    order["clientRequestId"] = str(uuid.uuid4())
    return order
