"""The local AppSync fan-out: argument filtering, idempotent publishes, slow subscribers, scale."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator  # noqa: TC003 -- strawberry reads annotations at runtime
from typing import Any

import pytest
import strawberry

from local.realtime.pubsub import PubSub, SubscriberDropped, Subscription, routes_from_schema
from schema.aws import AwsSubscribe

ROUTES = {"publishPnl": ["onPnl"], "publishFill": ["onFill"]}


def a_pnl(owner: str = "u1", basket: str = "b1", event: str = "e1", pnl: str = "10.00") -> dict[str, Any]:
    return {"eventId": event, "ownerId": owner, "basketId": basket, "pnl": pnl}


async def drain(subscription: Subscription, settle: float = 0.05) -> list[dict[str, Any]]:
    """Everything delivered so far (waits briefly for callbacks still on their way to the loop)."""
    received: list[dict[str, Any]] = []
    while True:
        try:
            received.append(await asyncio.wait_for(subscription.__anext__(), settle))
        except TimeoutError:
            return received


async def publish_from_thread(pubsub: PubSub, *publishes: tuple[str, dict[str, Any], str | None]) -> list[bool]:
    """Publish as the stream poller does: from a thread that is not the subscribers' loop."""
    return await asyncio.to_thread(lambda: [pubsub.publish(*p) for p in publishes])


def test_subscription_gets_results_matching_its_non_null_arguments() -> None:
    async def scenario() -> None:
        # Given subscriptions for a user, for one of their baskets, and for another user
        pubsub = PubSub(ROUTES)
        all_of_u1 = pubsub.subscribe("onPnl", {"ownerId": "u1", "basketId": None})
        basket_b1 = pubsub.subscribe("onPnl", {"ownerId": "u1", "basketId": "b1"})
        other_user = pubsub.subscribe("onPnl", {"ownerId": "u2"})
        fills_of_u1 = pubsub.subscribe("onFill", {"ownerId": "u1"})

        # When P&L is published for two baskets of u1 and one of u2
        await publish_from_thread(
            pubsub,
            ("publishPnl", a_pnl("u1", "b1", "e1"), "e1"),
            ("publishPnl", a_pnl("u1", "b2", "e2"), "e2"),
            ("publishPnl", a_pnl("u2", "b9", "e3"), "e3"),
        )

        # Then each gets what its arguments select, and another field gets nothing
        assert [p["eventId"] for p in await drain(all_of_u1)] == ["e1", "e2"]
        assert [p["eventId"] for p in await drain(basket_b1)] == ["e1"]
        assert [p["eventId"] for p in await drain(other_user)] == ["e3"]
        assert await drain(fills_of_u1) == []

    asyncio.run(scenario())


def test_subscription_without_owner_argument_filters_on_the_others() -> None:
    async def scenario() -> None:
        pubsub = PubSub(ROUTES)
        any_owner_b2 = pubsub.subscribe("onPnl", {"basketId": "b2"})

        await publish_from_thread(
            pubsub, ("publishPnl", a_pnl("u1", "b1", "e1"), None), ("publishPnl", a_pnl("u2", "b2", "e2"), None)
        )

        assert [p["eventId"] for p in await drain(any_owner_b2)] == ["e2"]

    asyncio.run(scenario())


def test_a_retried_publish_with_the_same_event_id_is_delivered_once() -> None:
    async def scenario() -> None:
        pubsub = PubSub(ROUTES)
        subscription = pubsub.subscribe("onPnl", {"ownerId": "u1"})

        accepted = await publish_from_thread(
            pubsub,
            ("publishPnl", a_pnl(event="e1"), "e1"),
            ("publishPnl", a_pnl(event="e1"), "e1"),
            ("publishPnl", a_pnl(event="e2"), "e2"),
        )

        assert accepted == [True, False, True]
        assert [p["eventId"] for p in await drain(subscription)] == ["e1", "e2"]

    asyncio.run(scenario())


def test_remembered_event_ids_are_bounded() -> None:
    pubsub = PubSub(ROUTES, remembered_events=3)
    for event in ("e1", "e2", "e3", "e4"):
        assert pubsub.publish("publishPnl", a_pnl(event=event), event)

    assert pubsub.publish("publishPnl", a_pnl(event="e1"), "e1")  # forgotten: the oldest went first
    assert not pubsub.publish("publishPnl", a_pnl(event="e4"), "e4")


def test_a_slow_subscriber_is_dropped_without_blocking_the_publisher_or_the_others() -> None:
    async def scenario() -> None:
        # Given a subscriber that never reads and one that does
        pubsub = PubSub(ROUTES, max_pending=5)
        slow = pubsub.subscribe("onPnl", {"ownerId": "u1"})
        fast = pubsub.subscribe("onPnl", {"ownerId": "u1"})
        received: list[dict[str, Any]] = []

        async def read_fast() -> None:
            async for payload in fast:
                received.append(payload)
                if len(received) == 50:
                    return

        reader = asyncio.create_task(read_fast())

        # When 50 updates are published from another thread, each once the reading subscriber has the one
        # before (a live client keeping up, however busy the machine), while the slow one reads nothing
        def publish_all() -> None:
            for n in range(50):
                pubsub.publish("publishPnl", a_pnl(event=f"e{n}"), f"e{n}")
                deadline = time.monotonic() + 30
                while len(received) <= n and time.monotonic() < deadline:
                    time.sleep(0.001)

        await asyncio.wait_for(asyncio.to_thread(publish_all), 60)
        await asyncio.wait_for(reader, 30)

        # Then the publisher never waited on the slow one (all 50 went out though it read none), which ends
        # with an error and is unsubscribed
        assert [p["eventId"] for p in received] == [f"e{n}" for n in range(50)]
        with pytest.raises(SubscriberDropped, match="fell more than 5 updates behind"):
            await slow.__anext__()
        assert pubsub.subscriber_count("onPnl") == 1

    asyncio.run(scenario())


def test_close_ends_the_iteration_and_unsubscribes() -> None:
    async def scenario() -> None:
        pubsub = PubSub(ROUTES)
        subscription = pubsub.subscribe("onPnl", {"ownerId": "u1"})
        waiting = asyncio.create_task(subscription.__anext__())
        await asyncio.sleep(0)

        subscription.close()

        with pytest.raises(StopAsyncIteration):
            await waiting
        assert pubsub.subscriber_count() == 0
        assert pubsub.publish("publishPnl", a_pnl(), None)  # nobody left; still accepted

    asyncio.run(scenario())


def test_fan_out_to_a_thousand_subscribers() -> None:
    async def scenario() -> None:
        # Given 1,000 users each subscribed, and 1,000 subscribers of one busy user
        pubsub = PubSub(ROUTES)
        per_user = {f"u{n}": pubsub.subscribe("onPnl", {"ownerId": f"u{n}"}) for n in range(1000)}
        busy = [pubsub.subscribe("onPnl", {"ownerId": "busy", "basketId": None}) for _ in range(1000)]

        # When each user gets one update and the busy user one
        def publish_all() -> float:
            started = time.monotonic()
            for n in range(1000):
                pubsub.publish("publishPnl", a_pnl(f"u{n}", event=f"e{n}"), f"e{n}")
            pubsub.publish("publishPnl", a_pnl("busy", event="busy"), "busy")
            return time.monotonic() - started

        elapsed = await asyncio.to_thread(publish_all)

        # Then every subscriber has exactly its own update, quickly (no scan of everyone per publish)
        assert elapsed < 2
        for n in range(1000):
            assert (await asyncio.wait_for(per_user[f"u{n}"].__anext__(), 1))["eventId"] == f"e{n}"
        for subscription in busy:
            assert (await asyncio.wait_for(subscription.__anext__(), 1))["eventId"] == "busy"
        for subscription in [*list(per_user.values())[::100], *busy[::100]]:
            assert await drain(subscription, 0.01) == []

    asyncio.run(scenario())


def test_publish_is_safe_from_many_threads() -> None:
    async def scenario() -> None:
        pubsub = PubSub(ROUTES)
        subscription = pubsub.subscribe("onPnl", {"ownerId": "u1"})

        def publish_range(start: int) -> None:
            for n in range(start, start + 100):
                pubsub.publish("publishPnl", a_pnl(event=f"e{n}"), f"e{n}")
                pubsub.publish("publishPnl", a_pnl(event=f"e{n}"), f"e{n}")  # retries race too

        threads = [threading.Thread(target=publish_range, args=(k * 100,)) for k in range(4)]

        def run_all() -> None:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        await asyncio.to_thread(run_all)

        received = await drain(subscription)
        assert sorted(p["eventId"] for p in received) == sorted(f"e{n}" for n in range(400))

    asyncio.run(scenario())


SDL = """
type PnlUpdate { eventId: ID! ownerId: ID! basketId: ID! pnl: String! }
type Query { ping: String }
type Mutation {
  publishPnl(eventId: ID!, ownerId: ID!, basketId: ID!, pnl: String!): PnlUpdate @aws_iam
  publishAny(eventId: ID!, ownerId: ID!, basketId: ID!, pnl: String!): PnlUpdate @aws_iam
}
type Subscription @aws_cognito_user_pools {
  onPnl(ownerId: ID!, basketId: ID): PnlUpdate @aws_subscribe(mutations: ["publishPnl", "publishAny"])
  onAny(ownerId: ID!): PnlUpdate @aws_subscribe(mutations: ["publishAny"])
  notLive: String
}
"""


def test_routes_from_appsync_sdl_without_directive_definitions() -> None:
    assert routes_from_schema(SDL) == {"publishPnl": ["onPnl"], "publishAny": ["onPnl", "onAny"]}


def test_routes_from_a_renamed_subscription_root() -> None:
    sdl = (
        "schema { query: Q subscription: Live }\ntype Q { a: Int }\n"
        'type Live { onA: Int @aws_subscribe(mutations: "publishA") }'
    )
    assert routes_from_schema(sdl) == {"publishA": ["onA"]}


@strawberry.type
class PnlUpdate:
    owner_id: strawberry.ID
    pnl: str


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type(name="Subscription")
class LiveUpdates:
    @strawberry.subscription(directives=[AwsSubscribe(mutations=["publishPnl"])])  # type: ignore[untyped-decorator]
    async def on_pnl(self, owner_id: strawberry.ID) -> AsyncGenerator[PnlUpdate, None]:
        yield PnlUpdate(owner_id=owner_id, pnl="0")


def test_routes_from_a_strawberry_schema() -> None:
    schema = strawberry.Schema(query=Query, subscription=LiveUpdates)
    assert routes_from_schema(schema) == {"publishPnl": ["onPnl"]}


def test_routes_from_the_exported_schema() -> None:
    from schema.export import SCHEMA_FILE

    routes = routes_from_schema(SCHEMA_FILE.read_text())

    assert routes["publishPnl"] == ["onPnl"]
    assert routes["publishFill"] == ["onFill"]
    assert routes["publishOrderUpdate"] == ["onOrderUpdate"]
