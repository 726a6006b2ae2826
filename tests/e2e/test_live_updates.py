"""Live updates end to end: gql's AppSync WebSocket transport against the local stack, unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from gql.transport.exceptions import TransportQueryError

from tests.graphql_client import graphql_data
from tests.helpers import CE_26000, CE_26500, PE_25500, PE_26000, an_order_input, condor_input, wait_until
from trading.model import OrderStatus

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ON_ORDER = (
    "subscription($o: ID!, $b: ID) { onOrderUpdate(ownerId: $o, basketId: $b) "
    "{ eventId basketId order { id status filledQuantity } } }"
)
ON_FILL = (
    "subscription($o: ID!, $b: ID) { onFill(ownerId: $o, basketId: $b) "
    "{ eventId fill { tradeId orderId side quantity price tradingsymbol } } }"
)
ON_PNL = "subscription($o: ID!, $b: ID) { onPnl(ownerId: $o, basketId: $b) { basketId pnl asOf } }"


def transport(stack: LocalStack, token: str) -> AppSyncWebsocketsTransport:
    host = stack.url.split("//", 1)[1]
    return AppSyncWebsocketsTransport(
        url=f"ws://{host}/graphql", auth=AppSyncJWTAuthentication(host=host, jwt=token), keep_alive_timeout=60
    )


async def collect(session: Any, query: str, variables: dict[str, Any], into: list[dict[str, Any]]) -> None:
    request = gql(query)
    request.variable_values = variables
    async for result in session.subscribe(request):
        into.append(result)


def test_a_subscriber_hears_every_order_change_and_fill_once_and_pnl_to_the_last_mark(
    stack: LocalStack, alice: dict[str, str], bob: dict[str, str]
) -> None:
    orders: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    pnls: list[dict[str, Any]] = []
    bobs_own: list[dict[str, Any]] = []
    refusal: list[BaseException] = []
    expected: list[Decimal] = []

    async def scenario() -> None:
        async with (
            Client(transport=transport(stack, alice["token"])) as a,
            Client(transport=transport(stack, bob["token"])) as b,
        ):
            # Given Alice's draft basket, and her subscriptions to it
            created = await asyncio.to_thread(
                graphql_data,
                stack,
                alice["token"],
                "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }",
                {"i": condor_input()},
            )
            basket_id = created["createBasket"]["id"]
            mine = {"o": alice["sub"], "b": basket_id}
            tasks = [
                asyncio.create_task(collect(a, ON_ORDER, mine, orders)),
                asyncio.create_task(collect(a, ON_FILL, mine, fills)),
                asyncio.create_task(collect(a, ON_PNL, mine, pnls)),
                asyncio.create_task(collect(b, ON_ORDER, {"o": bob["sub"]}, bobs_own)),
            ]
            # Bob asking for Alice's events is refused
            try:
                await collect(b, ON_ORDER, {"o": alice["sub"]}, bobs_own)
            except TransportQueryError as exc:
                refusal.append(exc)
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count() >= 4)

            # When Alice executes it and the market moves
            await asyncio.to_thread(
                graphql_data,
                stack,
                alice["token"],
                "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }",
                {"b": basket_id, "r": str(uuid.uuid4())},
            )
            await asyncio.to_thread(wait_until, lambda: len(fills) == 4, 30)
            # move each leg's price off its fill price, and work out P&L by Kite's formula by hand
            filled = {f["onFill"]["fill"]["tradingsymbol"]: f["onFill"]["fill"] for f in fills}
            moves = {
                symbol: Decimal(fill["price"]) + Decimal(step)
                for (symbol, fill), step in zip(sorted(filled.items()), ["-3.05", "4.10", "-1.15", "2.20"], strict=True)
            }
            signed = {s: (65 if f["side"] == "BUY" else -65) for s, f in filled.items()}
            expected.append(
                sum((-signed[s] * Decimal(f["price"]) for s, f in filled.items()), Decimal(0))
                + sum((signed[s] * moves[s] for s in filled), Decimal(0))
            )
            await asyncio.to_thread(
                requests.post,
                f"{stack.url}/local/prices",
                json={f"NFO:{k}": str(v) for k, v in moves.items()},
                timeout=10,
            )
            await asyncio.to_thread(
                wait_until, lambda: any(Decimal(p["onPnl"]["pnl"]) == expected[0] for p in pnls), 30
            )
            final = await asyncio.to_thread(
                graphql_data, stack, alice["token"], "query($b: ID!) { pnl(basketId: $b) { pnl } }", {"b": basket_id}
            )
            assert Decimal(final["pnl"]["pnl"]) == expected[0]
            await asyncio.sleep(0.5)  # anything late or duplicated would arrive now
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    asyncio.run(asyncio.wait_for(scenario(), timeout=90))

    # Then: every order change once, in order per order, ending COMPLETE
    events = [o["onOrderUpdate"] for o in orders]
    assert len({e["eventId"] for e in events}) == len(events)
    by_order: dict[str, list[str]] = {}
    for e in events:
        by_order.setdefault(e["order"]["id"], []).append(e["order"]["status"])
    assert len(by_order) == 4
    for statuses in by_order.values():
        ranks = [OrderStatus(s).rank for s in statuses]
        assert ranks == sorted(ranks), statuses
        assert statuses[-1] == "COMPLETE"
    # every fill once
    trades = [f["onFill"]["fill"] for f in fills]
    assert len({t["tradeId"] for t in trades}) == 4
    assert sorted(t["tradingsymbol"] for t in trades) == sorted([CE_26000, PE_26000, CE_26500, PE_25500])
    # the last P&L equals the query and Kite's formula by hand
    assert Decimal(pnls[-1]["onPnl"]["pnl"]) == expected[0]
    # Bob was refused Alice's events and heard nothing of hers on his own
    assert refusal
    assert "Unauthorized" in str(refusal[0]) or "own events" in str(refusal[0])
    assert bobs_own == []


def test_a_subscriber_that_reconnects_requeries_and_continues(stack: LocalStack, alice: dict[str, str]) -> None:
    token, owner = alice["token"], alice["sub"]
    basket_id = graphql_data(
        stack, token, "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": condor_input()}
    )["createBasket"]["id"]
    graphql_data(
        stack,
        token,
        "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }",
        {"b": basket_id, "r": str(uuid.uuid4())},
    )
    place = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"

    def an_order() -> str:
        order = an_order_input(basket_id, orderType="MARKET", price=None)
        return str(graphql_data(stack, token, place, {"i": order})["placeOrder"]["id"])

    def fills_of(order_id: str, seen: list[dict[str, Any]]) -> bool:
        return any(f["onFill"]["fill"]["orderId"] == order_id for f in seen)

    async def listen_until(predicate: Any, seen: list[dict[str, Any]], then: Any = None) -> None:
        async with Client(transport=transport(stack, token)) as session:
            task = asyncio.create_task(collect(session, ON_FILL, {"o": owner, "b": basket_id}, seen))
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count("onFill") >= 1)
            if then is not None:
                await asyncio.to_thread(then)
            await asyncio.to_thread(wait_until, lambda: predicate(seen), 30)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Given a subscriber that hears a fill, then disconnects
    first: list[dict[str, Any]] = []
    placed: list[str] = []
    asyncio.run(
        listen_until(lambda seen: placed and fills_of(placed[0], seen), first, lambda: placed.append(an_order()))
    )
    wait_until(lambda: stack.pubsub.subscriber_count("onFill") == 0)

    # When an order fills while it is away
    missed = an_order()
    wait_until(
        lambda: any(
            o["id"] == missed and o["status"] == "COMPLETE"
            for o in graphql_data(
                stack, token, "query($b: ID!) { basket(id: $b) { orders { id status } } }", {"b": basket_id}
            )["basket"]["orders"]
        )
    )

    # Then on reconnecting it re-queries and sees it, and it hears what happens next
    again: list[dict[str, Any]] = []
    after: list[str] = []
    asyncio.run(listen_until(lambda seen: after and fills_of(after[0], seen), again, lambda: after.append(an_order())))
    assert fills_of(after[0], again)
    # Events are not replayed (a fill the stream had published while it was away is gone; the query is
    # how a client catches up); whatever it does hear, it hears once.
    assert len({f["onFill"]["eventId"] for f in first + again}) == len(first + again)
