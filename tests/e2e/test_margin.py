"""Margin before execution on the local stack, through GraphQL over HTTP against the paper exchange: a hedged
basket's margin, executeBasket refused short of funds with nothing sent, and basketMargin scoped to its owner."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_broker_execution import create, leg
from tests.graphql_client import graphql as gql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, CE_26500, exchange_orders

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack
    from tests.stack_fixtures import WriteLog

pytestmark = pytest.mark.e2e

PARTS = "total span exposure optionPremium"
MARGIN = (
    "query($id: ID!) { basketMargin(basketId: $id) { basketId initial { total } "
    f"final {{ {PARTS} }} hedgeBenefit legs {{ tradingsymbol margin {{ total }} charges {{ total brokerage }} }} "
    "charges { total brokerage } funds { segment available used } available shortfall } }"
)
FUNDS = "query { funds(broker: PAPER, segment: EQUITY) { segment available used cash } }"
EXECUTE = (
    "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) "
    "{ basket { status } orders { id } } }"
)
BASKET = "query($id: ID!) { basket(id: $id) { status version orders { id } } }"
# A bear call spread: sell the 26000 call, buy the 26500 call (its wing) — a defined-risk, hedged basket.
SPREAD = [leg(CE_26000, side="SELL"), leg(CE_26500, side="BUY")]


@pytest.fixture
def carol(stack: LocalStack) -> Iterator[dict[str, str]]:
    """A user of their own, whose paper funds the test limits (and lifts again after)."""
    user = stack.add_user(f"margin_{uuid.uuid4().hex[:8]}")
    yield user
    stack.exchange.set_funds(user["sub"], None)


def margin_of(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, MARGIN, {"id": basket_id})["basketMargin"])


def test_a_hedged_baskets_final_margin_is_below_its_legs_sum(stack: LocalStack, carol: dict[str, str]) -> None:
    # Given the spread as a draft
    basket_id = create(stack, carol["token"], SPREAD, name="bear call spread")
    # When its margin is asked
    margin = margin_of(stack, carol["token"], basket_id)
    # Then each leg has its own margin (the wing first: hedges are placed first), and together they block less
    legs = {row["tradingsymbol"]: Decimal(row["margin"]["total"]) for row in margin["legs"]}
    assert [row["tradingsymbol"] for row in margin["legs"]] == [CE_26500, CE_26000]
    final, initial = Decimal(margin["final"]["total"]), Decimal(margin["initial"]["total"])
    assert initial == sum(legs.values())
    assert 0 < final < sum(legs.values())
    assert Decimal(margin["hedgeBenefit"]) == initial - final
    assert Decimal(margin["final"]["optionPremium"]) < 0  # the credit received
    # and the estimate carries the charges (₹20 a leg) and the funds, which cover it
    assert Decimal(margin["charges"]["brokerage"]) == 40
    assert margin["funds"][0]["segment"] == "EQUITY"
    assert margin["shortfall"] == "0.00"


def test_execution_short_of_margin_is_refused_with_the_shortfall_and_nothing_sent(
    stack: LocalStack, carol: dict[str, str], writes: WriteLog
) -> None:
    # Given funds ₹1,000.50 short of the spread's final margin
    basket_id = create(stack, carol["token"], SPREAD, name="short of funds")
    final = Decimal(margin_of(stack, carol["token"], basket_id)["final"]["total"])
    stack.exchange.set_funds(carol["sub"], final - Decimal("1000.50"))
    margin = margin_of(stack, carol["token"], basket_id)
    assert margin["shortfall"] == "1000.50"
    funds = data(stack, carol["token"], FUNDS)["funds"]
    assert Decimal(funds["available"]) == final - Decimal("1000.50")
    before = data(stack, carol["token"], BASKET, {"id": basket_id})["basket"]
    writes.clear()

    # When it is executed
    body = gql(stack, carol["token"], EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})

    # Then it is refused, saying by how much, before anything was written or sent
    [error] = body["errors"]
    assert error["errorType"] == "InsufficientMargin"
    assert "short by ₹1000.50" in error["message"]
    assert writes.made() == []
    assert data(stack, carol["token"], BASKET, {"id": basket_id})["basket"] == before
    assert before["status"] == "DRAFT"
    assert before["orders"] == []
    assert exchange_orders(stack, carol["sub"]) == []

    # And with the funds it needs, the same basket executes: wing, then short, both accepted
    stack.exchange.set_funds(carol["sub"], final)
    execution = data(stack, carol["token"], EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})["executeBasket"]
    assert execution["basket"]["status"] == "LIVE"
    assert len(exchange_orders(stack, carol["sub"])) == 2


def test_another_users_basket_margin_is_not_found(
    stack: LocalStack, carol: dict[str, str], bob: dict[str, str]
) -> None:
    # Given carol's basket
    basket_id = create(stack, carol["token"], SPREAD, name="carol's")
    # When bob asks its margin, and the margin of a basket that does not exist
    theirs = gql(stack, bob["token"], MARGIN, {"id": basket_id})
    missing_id = str(uuid.uuid4())
    missing = gql(stack, bob["token"], MARGIN, {"id": missing_id})
    # Then both answer alike: NotFound
    assert [e["errorType"] for e in theirs["errors"]] == [e["errorType"] for e in missing["errors"]] == ["NotFound"]
    assert theirs["errors"][0]["message"].replace(basket_id, "<id>") == missing["errors"][0]["message"].replace(
        missing_id, "<id>"
    )
