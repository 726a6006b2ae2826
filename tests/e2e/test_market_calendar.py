"""The shipped market calendar on the local stack, over HTTP GraphQL: a holiday refuses orders, AMO windows hold."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from composition.runtime import Composition
from tests.fakes import FixedClock
from tests.graphql_client import graphql, graphql_data
from tests.helpers import an_order_input, condor_input, exchange_order_count
from trading.clock import IST

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

EXECUTE = (
    "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) "
    "{ basket { id status } orders { id status } } }"
)
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"


@pytest.fixture
def exchange_hours(stack: LocalStack) -> Iterator[FixedClock]:
    """The stack composed as `basketgraph dev --market-hours nse` composes it (the shipped holiday files), on a
    clock the test sets; the stack's own composition comes back afterwards."""
    running = stack.composition
    calendar = Composition(stack.settings.replace(market_hours="nse")).calendar
    clock = FixedClock(datetime(2026, 1, 26, 10, 0, tzinfo=IST).astimezone(UTC))
    stack.composition = running.with_ports(dataclasses.replace(running.ports, calendar=calendar, clock=clock))
    yield clock
    stack.composition = running


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    error = body["errors"][0]
    return error["errorType"], error["message"]


def test_republic_day_2026_refuses_an_execution_and_writes_nothing(
    stack: LocalStack, alice: dict[str, str], exchange_hours: FixedClock
) -> None:
    # Given a draft condor (NFO options) and the exchange's book before
    token = alice["token"]
    create = "mutation($input: CreateBasketInput!) { createBasket(input: $input) { id status } }"
    draft = graphql_data(stack, token, create, {"input": condor_input("holiday condor")})["createBasket"]
    before = exchange_order_count(stack, alice["sub"])

    # When it is executed at 10:00 IST on Monday 26 January 2026, a holiday in the shipped NSE list
    body = graphql(stack, token, EXECUTE, {"id": draft["id"], "rid": str(uuid.uuid4())})

    # Then the execution is refused as outside market hours, the basket stays a draft and no order went out
    kind, message = error_of(body)
    assert kind == "ValidationError"
    assert "NFO is closed" in message
    assert "use variety AMO" in message
    basket = graphql_data(stack, token, "query($id: ID!) { basket(id: $id) { status orders { id } } }", draft)
    assert basket["basket"] == {"status": "DRAFT", "orders": []}
    assert exchange_order_count(stack, alice["sub"]) == before


def test_the_next_day_trades_and_an_fo_amo_before_1545_is_refused(
    stack: LocalStack, alice: dict[str, str], exchange_hours: FixedClock
) -> None:
    # Given a condor executed at 10:00 IST on Tuesday 27 January 2026, the trading day after the holiday
    token = alice["token"]
    create = "mutation($input: CreateBasketInput!) { createBasket(input: $input) { id } }"
    basket = graphql_data(stack, token, create, {"input": condor_input("after the holiday")})["createBasket"]
    exchange_hours.at = datetime(2026, 1, 27, 10, 0, tzinfo=IST).astimezone(UTC)
    executed = graphql_data(stack, token, EXECUTE, {"id": basket["id"], "rid": str(uuid.uuid4())})
    assert executed["executeBasket"]["basket"]["status"] == "LIVE"
    # and the clock at 15:40 IST: NFO closed, its AMO window (from 15:45) not open yet
    exchange_hours.at = datetime(2026, 1, 27, 15, 40, tzinfo=IST).astimezone(UTC)

    # When an AMO order is placed, and a regular one
    amo = graphql(stack, token, PLACE, {"i": an_order_input(basket["id"], variety="AMO")})
    regular = graphql(stack, token, PLACE, {"i": an_order_input(basket["id"])})

    # Then both are refused, each naming the hours it is taken in
    assert error_of(amo)[0] == "ValidationError"
    assert "AMO orders from 15:45 to 09:10" in error_of(amo)[1]
    assert error_of(regular)[0] == "ValidationError"
    assert "NFO is closed (open 09:15-15:30" in error_of(regular)[1]
