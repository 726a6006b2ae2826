"""An exit racing a fill on the local stack (issue 17): the basket ends CLOSED with every position at zero;
an exit that cannot finish ends FAILED, and subscribers hear it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import pytest
from gql import Client

from brokers.kite.accounts import access_token_name
from brokers.secrets import SsmSecretStore
from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.e2e.test_live_updates import collect, transport
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


ON_BASKET = (
    "subscription($o: ID!, $b: ID) { onBasketUpdate(ownerId: $o, basketId: $b) "
    "{ eventId basketId status statusMessage version } }"
)


def test_an_exit_that_cannot_finish_ends_failed_and_subscribers_hear_why(stack: LocalStack) -> None:
    # Given a LIVE basket long the 26000 call and short the 26500 call, and its owner subscribed to it
    user = stack.add_user("exit_failed")
    token = user["token"]
    basket_id = create(stack, token, [leg(CE_26000), leg(CE_26500, side="SELL")])
    heard: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with Client(transport=transport(stack, token)) as session:
            listening = asyncio.create_task(collect(session, ON_BASKET, {"o": user["sub"], "b": basket_id}, heard))
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count() >= 1)
            await asyncio.to_thread(execute, stack, token, basket_id)
            await asyncio.to_thread(wait_until, lambda: basket(stack, token, basket_id)["status"] == "LIVE")
            await asyncio.to_thread(  # both fills are in: the positions the failure names are the real ones
                wait_until, lambda: {o["status"] for o in basket(stack, token, basket_id)["orders"]} == {"COMPLETE"}
            )
            # When the broker session dies (the morning expiry) and the basket is exited
            access = SsmSecretStore(stack.ssm).get(access_token_name(user["sub"], "paper"))
            assert access
            stack.exchange.expire_session(access)
            await asyncio.to_thread(data, stack, token, EXIT, {"id": basket_id, "rid": f"exit-{basket_id}"})
            # Then subscribers hear it go FAILED, with the reason and what is still open
            await asyncio.to_thread(
                wait_until, lambda: any(e["onBasketUpdate"]["status"] == "FAILED" for e in heard), 60
            )
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    asyncio.run(asyncio.wait_for(scenario(), timeout=120))
    statuses = [e["onBasketUpdate"]["status"] for e in heard]
    assert statuses[-1] == "FAILED"
    assert "LIVE" in statuses and "EXITING" in statuses
    failed = heard[-1]["onBasketUpdate"]
    assert failed["basketId"] == basket_id
    assert failed["statusMessage"].startswith("exit failed: exit rejected: BUY 65 NFO:NIFTY26DEC26500CE")
    assert failed["statusMessage"].endswith(f"open: {CE_26000} +65, {CE_26500} -65") or failed[
        "statusMessage"
    ].endswith(f"open: {CE_26500} -65, {CE_26000} +65")
    # and the basket says the same when queried; nothing was left EXITING
    final = basket(stack, token, basket_id)
    assert (final["status"], final["statusMessage"]) == ("FAILED", failed["statusMessage"])
