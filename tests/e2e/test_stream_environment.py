"""The stream Lambda in an execution environment of its own, as on AWS: with `lambda_environments > 0` the stream
poller hands each batch to `subscriptions.handler:handler` in another process, which publishes over HTTP to the
stack's GraphQL endpoint signed with the stream role's credentials (SigV4), and the endpoint verifies the signature
as AppSync does. A subscriber over the real-time WebSocket hears the orders, fills and P&L of an order placed over
GraphQL; a publish without the role's signature is refused and delivers nothing.

The stack here is the test's own (its own table and state directory), not the session's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from botocore.credentials import Credentials
from gql import Client

from subscriptions.publishers import AppSyncPublisher, PublishFailed
from tests.e2e.test_live_updates import ON_FILL, ON_ORDER, ON_PNL, collect, transport
from tests.graphql_client import graphql_data
from tests.helpers import an_order_input, condor_input, wait_until
from tests.stack_fixtures import pooled_stack
from trading.ids import BasketId, OwnerId
from trading.ports import LiveEvent

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.emulator.pool import LambdaPool
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

EXECUTE = "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose Lambdas run in execution environments (one each: the stream Lambda has one anyway)."""
    with pooled_stack(tmp_path_factory.mktemp("stream-environment") / "state", "StreamEnvironment", 1) as stack:
        yield stack


def stream_pool(stack: LocalStack) -> LambdaPool:
    return next(pool for pool in stack.pools if pool.function_name == "basketgraph-streams")


def a_fill_event(owner: str, basket_id: str) -> LiveEvent:
    fill = {
        "tradeId": f"T-{uuid.uuid4().hex[:8]}",
        "orderId": "O-forged",
        "basketId": basket_id,
        "exchange": "NFO",
        "tradingsymbol": "NIFTY26DEC26000CE",
        "side": "BUY",
        "quantity": 65,
        "price": "1.00",
        "filledAt": "2026-11-24T04:00:00.000000Z",
        "recordedAt": "2026-11-24T04:00:00.120000Z",
    }
    return LiveEvent("fill", f"fill:forged:{uuid.uuid4().hex}", OwnerId(owner), BasketId(basket_id), {"fill": fill})


def test_the_stream_lambda_in_its_own_environment_publishes_orders_fills_and_pnl_signed(pooled: LocalStack) -> None:
    user = pooled.add_user("streamed")
    token, owner = user["token"], user["sub"]
    orders: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    pnls: list[dict[str, Any]] = []
    placed: list[str] = []
    queried: list[Decimal] = []

    async def scenario() -> None:
        async with Client(transport=transport(pooled, token)) as session:
            # Given a LIVE basket, and a subscriber to its orders, fills and P&L
            created = await asyncio.to_thread(
                graphql_data,
                pooled,
                token,
                "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }",
                {"i": condor_input()},
            )
            basket_id = created["createBasket"]["id"]
            mine = {"o": owner, "b": basket_id}
            tasks = [
                asyncio.create_task(collect(session, query, mine, into))
                for query, into in ((ON_ORDER, orders), (ON_FILL, fills), (ON_PNL, pnls))
            ]
            await asyncio.to_thread(wait_until, lambda: pooled.pubsub.subscriber_count() >= 3, 30)
            await asyncio.to_thread(graphql_data, pooled, token, EXECUTE, {"b": basket_id, "r": str(uuid.uuid4())})
            await asyncio.to_thread(wait_until, lambda: len(fills) >= 4, 60)

            # When an order is placed over GraphQL, and the market moves
            order = an_order_input(basket_id, orderType="MARKET", price=None)
            reply = await asyncio.to_thread(graphql_data, pooled, token, PLACE, {"i": order})
            placed.append(reply["placeOrder"]["id"])
            await asyncio.to_thread(
                wait_until, lambda: any(f["onFill"]["fill"]["orderId"] == placed[0] for f in fills), 60
            )
            first = fills[0]["onFill"]["fill"]
            prices = {f"NFO:{first['tradingsymbol']}": str(Decimal(first["price"]) + 7)}
            moved = await asyncio.to_thread(requests.post, f"{pooled.url}/local/prices", json=prices, timeout=30)
            assert moved.status_code == 200, moved.text
            answer = await asyncio.to_thread(
                graphql_data, pooled, token, "query($b: ID!) { pnl(basketId: $b) { pnl } }", {"b": basket_id}
            )
            queried.append(Decimal(answer["pnl"]["pnl"]))
            # Then the subscriber hears the P&L the query gives
            await asyncio.to_thread(wait_until, lambda: any(Decimal(p["onPnl"]["pnl"]) == queried[0] for p in pnls), 60)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    asyncio.run(asyncio.wait_for(scenario(), timeout=240))

    statuses = [o["onOrderUpdate"]["order"]["status"] for o in orders if o["onOrderUpdate"]["order"]["id"] == placed[0]]
    assert statuses[-1] == "COMPLETE", statuses
    assert len({o["onOrderUpdate"]["eventId"] for o in orders}) == len(orders)  # each change once
    assert len({f["onFill"]["fill"]["tradeId"] for f in fills}) == len(fills) == 5
    # and it was the stream Lambda in another process that published them: the stack runs no stream handler
    pool = stream_pool(pooled)
    assert pooled.live is None
    assert pool.invocations > 0
    assert pool.pids()
    assert all(Path(f"/proc/{pid}").exists() for pid in pool.pids())


def test_a_publish_not_signed_by_the_stream_role_is_refused_and_delivers_nothing(pooled: LocalStack) -> None:
    user = pooled.add_user("forgery")
    owner = user["sub"]
    basket_id = f"b-{uuid.uuid4().hex[:8]}"
    url = f"{pooled.url}/graphql"
    role = pooled.stream_role
    impostor = Credentials(role.access_key, "not-the-role-secret", role.token)
    stranger = Credentials("ASIASTRANGER0000000", role.secret_key, role.token)
    heard: list[dict[str, Any]] = []

    async def scenario() -> None:
        subscription = pooled.pubsub.subscribe("onFill", {"ownerId": owner, "basketId": basket_id})
        # Wrong secret, another key id: AppSync refuses the signature
        for credentials in (impostor, stranger):
            forged = AppSyncPublisher(url, "ap-south-1", timeout=10, credentials=credentials)
            with pytest.raises(PublishFailed, match="UnauthorizedException"):
                await asyncio.to_thread(forged.publish, a_fill_event(owner, basket_id))
        # Unsigned, and a user's own token: refused too
        body = {
            "query": "mutation($e: ID!, $o: ID!, $b: ID!, $p: AWSJSON!) "
            "{ publishFill(eventId: $e, ownerId: $o, basketId: $b, payload: $p) { eventId } }",
            "variables": {"e": f"fill:forged:{uuid.uuid4().hex}", "o": owner, "b": basket_id, "p": "{}"},
        }
        unsigned = await asyncio.to_thread(requests.post, url, json=body, timeout=10)
        assert unsigned.status_code == 401
        assert unsigned.json()["errors"][0]["errorType"] == "UnauthorizedException"
        as_user = await asyncio.to_thread(
            requests.post, url, json=body, headers={"Authorization": user["token"]}, timeout=10
        )
        assert as_user.json()["data"] == {"publishFill": None}
        assert "stream handler's IAM role only" in as_user.json()["errors"][0]["message"]
        # A signed request whose body was changed after signing
        genuine = AppSyncPublisher(url, "ap-south-1", timeout=10, credentials=role)
        signed_body = '{"query": "{ __typename }"}'
        headers = genuine._auth.get_headers(signed_body)
        tampered = await asyncio.to_thread(requests.post, url, data=b'{"query": "{ me { id } }"}', headers=headers)
        assert tampered.status_code == 401
        assert "signature" in tampered.json()["errors"][0]["message"]
        # ... while the role's own signature delivers (to show the subscriber was listening)
        event = a_fill_event(owner, basket_id)
        await asyncio.to_thread(genuine.publish, event)
        heard.append(await asyncio.wait_for(subscription.__anext__(), 30))
        with contextlib.suppress(TimeoutError):
            heard.append(await asyncio.wait_for(subscription.__anext__(), 0.5))
        subscription.close()
        assert [h["eventId"] for h in heard] == [event.event_id]

    asyncio.run(scenario())


def test_records_the_environment_could_not_publish_are_retried_dead_lettered_and_replayed_through_it(
    pooled: LocalStack,
) -> None:
    from local.auth import IamVerifier, local_role_credentials

    user = pooled.add_user("refused")
    token, owner = user["token"], user["sub"]
    basket_id = graphql_data(
        pooled, token, "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": condor_input()}
    )["createBasket"]["id"]
    graphql_data(pooled, token, EXECUTE, {"b": basket_id, "r": str(uuid.uuid4())})
    heard: list[dict[str, Any]] = []
    placed: list[str] = []
    genuine = pooled.endpoint.iam
    assert genuine is not None

    def complete_is_dead_lettered() -> bool:
        return any(placed[0] in str(entry) and "'COMPLETE'" in str(entry) for entry in pooled.dead_letters.list())

    async def scenario() -> None:
        async with Client(transport=transport(pooled, token)) as session:
            task = asyncio.create_task(collect(session, ON_ORDER, {"o": owner, "b": basket_id}, heard))
            await asyncio.to_thread(wait_until, lambda: pooled.pubsub.subscriber_count("onOrderUpdate") >= 1, 30)
            # Given AppSync refusing the stream role's signature (its credentials no longer the role's), and a
            # mapping that retries a failing record once (MaximumRetryAttempts 1)
            pooled.endpoint.iam = IamVerifier(local_role_credentials(), genuine.host, genuine.region)
            retries, pooled.poller.max_retries = pooled.poller.max_retries, 1
            try:
                # When an order is placed and fills: its records fail, are retried and dead-lettered
                order = an_order_input(basket_id, orderType="MARKET", price=None)
                reply = await asyncio.to_thread(graphql_data, pooled, token, PLACE, {"i": order})
                placed.append(reply["placeOrder"]["id"])
                await asyncio.to_thread(wait_until, complete_is_dead_lettered, 120)
            finally:
                pooled.endpoint.iam = genuine
                pooled.poller.max_retries = retries
            assert not any(h["onOrderUpdate"]["order"]["id"] == placed[0] for h in heard)

            # Then replaying the dead letters through the stream Lambda's environment delivers them
            replay = await asyncio.to_thread(requests.post, f"{pooled.url}/local/dead-letters/replay", timeout=120)
            assert replay.json()["replayed"] >= 1, replay.json()
            complete = {"id": placed[0], "status": "COMPLETE"}
            await asyncio.to_thread(wait_until, lambda: any(_order_of(h) == complete for h in heard), 60)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(asyncio.wait_for(scenario(), timeout=300))
    assert not any(placed[0] in str(entry) for entry in pooled.dead_letters.list())


def test_a_stream_environment_that_dies_is_replaced_and_the_batch_delivered(pooled: LocalStack) -> None:
    user = pooled.add_user("crashed")
    token, owner = user["token"], user["sub"]
    pool = stream_pool(pooled)
    wait_until(lambda: len(pool.pids()) == 1, 60)
    [dead] = pool.pids()
    basket_id = graphql_data(
        pooled, token, "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": condor_input()}
    )["createBasket"]["id"]
    heard: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with Client(transport=transport(pooled, token)) as session:
            task = asyncio.create_task(collect(session, ON_FILL, {"o": owner, "b": basket_id}, heard))
            await asyncio.to_thread(wait_until, lambda: pooled.pubsub.subscriber_count("onFill") >= 1, 30)
            # Given the stream Lambda's environment killed (as Lambda may lose one)
            os.kill(dead, 9)
            await asyncio.to_thread(wait_until, lambda: not Path(f"/proc/{dead}/status").exists() or _zombie(dead), 30)
            # When the basket executes: the batch fails in the dead environment, and is retried in a new one
            await asyncio.to_thread(graphql_data, pooled, token, EXECUTE, {"b": basket_id, "r": str(uuid.uuid4())})
            await asyncio.to_thread(wait_until, lambda: len(heard) >= 4, 120)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(asyncio.wait_for(scenario(), timeout=240))
    assert len({h["onFill"]["fill"]["tradeId"] for h in heard}) == 4
    assert dead not in pool.pids()
    assert len(pool.pids()) == 1


def _order_of(heard: dict[str, Any]) -> dict[str, Any]:
    order = heard["onOrderUpdate"]["order"]
    return {"id": order["id"], "status": order["status"]}


def _zombie(pid: int) -> bool:
    with contextlib.suppress(FileNotFoundError):
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    return True
