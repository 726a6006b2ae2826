"""modifyOrder end to end: a LIVE basket's resting LIMIT leg gets a new price, then becomes a protected MARKET
order, and a subscriber hears each change on onOrderUpdate in order — GraphQL over HTTP and AppSync's WebSocket
protocol on the local stack, the paper exchange behind Kite's client."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from gql import Client

from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.e2e.test_live_updates import collect, transport
from tests.graphql_client import graphql as gql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26500, exchange_orders, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ON_ORDER = (
    "subscription($o: ID!, $b: ID) { onOrderUpdate(ownerId: $o, basketId: $b) "
    "{ eventId order { id status orderType price marketProtection quantity } } }"
)
MODIFY = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { id orderType price marketProtection version } }"
ORDERS = "query($id: ID!) { basket(id: $id) { orders { id status orderType price } } }"


def test_a_legs_limit_order_gets_a_new_price_then_becomes_a_protected_market_order(stack: LocalStack) -> None:
    user = stack.add_user("modifier")
    token, owner = user["token"], user["sub"]
    # Given a LIVE basket whose LIMIT leg rests far below the market
    basket_id = create(stack, token, [leg(CE_26500, orderType="LIMIT", price="1.00")])
    execute(stack, token, basket_id)

    def the_order() -> dict[str, Any]:
        return dict(data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"][0])

    wait_until(lambda: basket(stack, token, basket_id)["status"] == "LIVE" and the_order()["status"] == "OPEN", 60)
    order_id = the_order()["id"]
    heard: list[dict[str, Any]] = []

    async def modify_while_listening() -> None:
        async with Client(transport=transport(stack, token)) as session:
            task = asyncio.create_task(collect(session, ON_ORDER, {"o": owner, "b": basket_id}, heard))
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count("onOrderUpdate") >= 1)
            # When its price moves to 1.05, then it becomes a MARKET order with 5 % protection
            await asyncio.to_thread(modify, {"price": "1.05"})
            await asyncio.to_thread(wait_until, lambda: any(e["price"] == "1.05" for e in events()), 30)
            await asyncio.to_thread(modify, {"orderType": "MARKET", "marketProtection": "5"})
            # (the fill's postback can land before the modification's terms are recorded: wait for both)
            await asyncio.to_thread(wait_until, lambda: any(filled_as_market(e) for e in events()), 60)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def modify(change: dict[str, Any]) -> None:
        data(stack, token, MODIFY, {"i": {"id": order_id, "clientRequestId": str(uuid.uuid4()), **change}})

    def filled_as_market(event: dict[str, Any]) -> bool:
        return (event["status"], event["orderType"], event["marketProtection"]) == ("COMPLETE", "MARKET", "5")

    def events() -> list[dict[str, Any]]:
        return [e["onOrderUpdate"]["order"] for e in heard if e["onOrderUpdate"]["order"]["id"] == order_id]

    asyncio.run(modify_while_listening())

    # Then the subscriber heard the new price, then the MARKET order with its protection, and last the order
    # filled with those terms
    terms = [(e["orderType"], e["price"], e["marketProtection"]) for e in events()]
    first_price = terms.index(("LIMIT", "1.05", "AUTO"))
    assert terms.index(("MARKET", None, "5"), first_price) > first_price
    assert filled_as_market(events()[-1]), events()[-1]
    # and at the exchange the MARKET order became a LIMIT at its protection price, filled no worse
    (row,) = [r for r in exchange_orders(stack, owner) if r["tradingsymbol"] == CE_26500]
    assert (row["status"], row["order_type"], row["market_protection"]) == ("COMPLETE", "LIMIT", 5)
    assert Decimal(str(row["average_price"])) <= Decimal(str(row["price"]))


def exchange_history(stack: LocalStack, sub: str, order_id: str) -> list[dict[str, Any]]:
    from kiteconnect import KiteConnect

    from brokers.kite.accounts import access_token_name
    from brokers.secrets import SsmSecretStore

    token = SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))
    return list(KiteConnect("paper", access_token=token, root=stack.exchange_url).order_history(order_id))


def test_modifying_a_finished_order_is_a_conflict_and_a_repeat_sends_nothing(stack: LocalStack) -> None:
    user = stack.add_user("modifier_done")
    token, owner = user["token"], user["sub"]
    basket_id = create(stack, token, [leg(CE_26500, orderType="LIMIT", price="1.00")])
    execute(stack, token, basket_id)
    wait_until(lambda: data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"][0]["status"] == "OPEN", 60)
    order_id = data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"][0]["id"]
    change = {"id": order_id, "clientRequestId": "same-modify", "price": "1.10"}

    first = data(stack, token, MODIFY, {"i": change})["modifyOrder"]
    again = data(stack, token, MODIFY, {"i": change})["modifyOrder"]
    assert (first["price"], again["price"]) == ("1.10", "1.10")
    (row,) = exchange_orders(stack, owner)
    history = exchange_history(stack, owner, row["order_id"])
    assert (row["price"], [s["status"] for s in history].count("MODIFIED")) == (1.1, 1)  # a repeat sent nothing
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { status } }"
    data(stack, token, cancel, {"id": order_id})
    wait_until(lambda: data(stack, token, ORDERS, {"id": basket_id})["basket"]["orders"][0]["status"] == "CANCELLED")

    refused = gql(stack, token, MODIFY, {"i": {**change, "clientRequestId": "another"}})
    assert refused["errors"][0]["errorType"] == "Conflict"
    assert "only OPEN or TRIGGER_PENDING" in refused["errors"][0]["message"]
