"""GraphiQL in headless chromium against the running local stack: a query, the saved mutations, and a live
onPnl subscription that ticks while prices move (issues 3 and 6)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.browser.drive import MovingMarket, needs_chromium, real_problems, run_scenario
from tests.helpers import invoke

if TYPE_CHECKING:
    from local.stack import LocalStack


@needs_chromium
def test_graphiql_runs_the_examples_and_a_live_onpnl_ticks(stack: LocalStack) -> None:
    # Given the stack with the demo user (whose token GraphiQL pre-fills) and the market simulator running
    demo = stack.add_user("demo")
    with MovingMarket(stack):
        # When a browser opens GraphiQL and runs the saved examples, then the onPnl subscription
        result = run_scenario("graphiql.mjs", {"baseUrl": stack.url})

    # Then the examples are there as tabs, and the query answers as the demo user
    assert result["tabs"] == ["Me", "CreateBasket", "ExecuteBasket", "BasketPnl", "WatchPnl", "WatchOrders"]
    assert result["me"] == {"data": {"me": {"id": demo["sub"], "username": "demo"}}}
    # the mutations created and executed a real basket of the demo user's
    assert result["executed"]["data"]["executeBasket"]["basket"] == {
        "id": result["basketId"],
        "status": "LIVE",
        "statusMessage": None,
    }
    assert len(result["executed"]["data"]["executeBasket"]["orders"]) == 4
    basket = invoke("Query", "basket", {"id": result["basketId"]}, demo["sub"])
    assert basket["name"] == "NIFTY iron condor"
    # the subscription's ownerId was pre-filled with the demo user's id, and its P&L ticked
    assert result["ownerId"] == demo["sub"]
    events = result["events"]
    assert len(events) >= 4, events
    assert {event["basketId"] for event in events} == {result["basketId"]}
    assert [event["asOf"] for event in events] == sorted(event["asOf"] for event in events), events
    assert len({event["pnl"] for event in events}) >= 2, "the P&L moved with the prices"
    for event in events:
        assert Decimal(event["pnl"]) == Decimal(event["realised"]) + Decimal(event["unrealised"])
    # and the Examples panel opens an example in a new tab
    assert result["tabsAfter"][-1] == "WatchOrders" and len(result["tabsAfter"]) == 7
    assert real_problems(result) == []
    assert len(result["screenshots"]) == 4
    tidy = {"basketId": result["basketId"], "clientRequestId": str(uuid.uuid4())}
    invoke("Mutation", "exitBasket", tidy, demo["sub"])
