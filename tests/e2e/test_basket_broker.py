"""A basket names the broker its orders go to; the deployment's default otherwise. Over GraphQL/HTTP
on the local stack, where the paper exchange is the only broker offered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.graphql_client import graphql
from tests.helpers import condor_input, exchange_order_count, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id broker status version } }"
EXECUTE = (
    "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) "
    "{ basket { id status broker } } }"
)
UPDATE = "mutation($i: UpdateBasketInput!) { updateBasket(input: $i) { id broker version } }"
BASKET = "query($id: ID!) { basket(id: $id) { status broker orders { status } } }"


def test_a_basket_for_a_broker_the_user_cannot_reach_is_refused_and_places_nothing(stack: LocalStack) -> None:
    user = stack.add_user(f"angel_{uuid.uuid4().hex[:6]}")
    created = graphql(stack, user["token"], CREATE, {"i": {**condor_input(), "broker": "ANGEL"}})["data"][
        "createBasket"
    ]
    assert created["broker"] == "ANGEL"

    body = graphql(stack, user["token"], EXECUTE, {"b": created["id"], "r": str(uuid.uuid4())})

    (error,) = body["errors"]
    assert error["errorType"] == "BrokerNotConnected"
    assert "ANGEL" in error["message"]
    assert exchange_order_count(stack, user["sub"]) == 0
    after = graphql(stack, user["token"], BASKET, {"id": created["id"]})["data"]["basket"]
    assert after == {"status": "DRAFT", "broker": "ANGEL", "orders": []}


def test_a_draft_basket_can_be_moved_to_the_paper_exchange_and_then_trades_there(stack: LocalStack) -> None:
    user = stack.add_user(f"mover_{uuid.uuid4().hex[:6]}")
    created = graphql(stack, user["token"], CREATE, {"i": {**condor_input(), "broker": "KITE"}})["data"]["createBasket"]
    moved = graphql(
        stack,
        user["token"],
        UPDATE,
        {"i": {"id": created["id"], "expectedVersion": created["version"], "broker": "PAPER"}},
    )["data"]["updateBasket"]
    assert moved["broker"] == "PAPER"

    executed = graphql(stack, user["token"], EXECUTE, {"b": created["id"], "r": str(uuid.uuid4())})
    assert "errors" not in executed, executed

    def live() -> bool:
        basket = graphql(stack, user["token"], BASKET, {"id": created["id"]})["data"]["basket"]
        return bool(basket["status"] == "LIVE" and all(o["status"] == "COMPLETE" for o in basket["orders"]))

    wait_until(live)
    assert exchange_order_count(stack, user["sub"]) == 4
    # Once it has traded, its broker is fixed
    version = graphql(stack, user["token"], "query($id: ID!) { basket(id: $id) { version } }", {"id": created["id"]})
    again = graphql(
        stack,
        user["token"],
        UPDATE,
        {"i": {"id": created["id"], "expectedVersion": version["data"]["basket"]["version"], "broker": "KITE"}},
    )
    assert again["data"] is None
    assert again["errors"][0]["errorType"] == "ValidationError"
    assert "only while it is a DRAFT" in again["errors"][0]["message"]
