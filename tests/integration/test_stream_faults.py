"""Faults between the stream and subscribers: a failing record, a publish that times out after it went
through. The real stream handler, the real poller, the real publish path (resolver Lambda + pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import boto3

from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import StreamPoller
from local.streams.records import stream_arn
from store import connect
from store.spec import create_table
from subscriptions.handler import Live, make_handler
from subscriptions.pnl import PnlFeed
from subscriptions.publishers import LocalPublisher, PublishFailed
from tests.builders import a_basket, an_order
from trading.clock import SystemClock
from trading.ids import OwnerId
from trading.pnl_engine import PnlEngine

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack
    from trading.model import Order
    from trading.ports import LiveEvent, Publisher


class Faulty:
    """Fails every publish of one order's events, or times out once after the publish went through."""

    def __init__(self, inner: Publisher, poison: str | None = None, time_out_once: bool = False) -> None:
        self.inner = inner
        self.poison = poison
        self.time_out_once = time_out_once
        self.calls: list[str] = []

    def publish(self, event: LiveEvent) -> None:
        self.calls.append(event.event_id)
        if event.kind == "order" and event.payload["order"]["id"] == self.poison:
            raise PublishFailed("AppSync answered 500")
        self.inner.publish(event)
        if self.time_out_once:
            self.time_out_once = False
            raise TimeoutError("the publish went through but its reply was lost")


def pipeline(stack: LocalStack, tmp_path: Path, publisher: Publisher) -> tuple[Any, StreamPoller]:
    """A fresh table with its own poller driving the production stream handler."""
    table = f"Faults-{uuid.uuid4().hex[:8]}"
    create_table(stack.dynamodb, table)
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.dynamodb.meta.endpoint_url, region_name="ap-south-1")
    handler = make_handler(lambda: Live(publisher=publisher, pnl=PnlFeed(PnlEngine(), SystemClock())))
    poller = StreamPoller(
        streams,
        stream_arn(stack.dynamodb, table),
        handler,
        max_retries=2,
        retry_delay=0,
        dead_letters=DeadLetterStore(tmp_path / "dlq.jsonl"),
    )
    return connect(table, stack.dynamodb), poller


def deliveries(stack: LocalStack, owner: str, poller: StreamPoller) -> list[dict[str, Any]]:
    """Run the poller until the stream is drained; return what an onOrderUpdate subscriber received."""

    async def listen() -> list[dict[str, Any]]:
        subscription = stack.pubsub.subscribe("onOrderUpdate", {"ownerId": owner})
        received: list[dict[str, Any]] = []
        await asyncio.to_thread(poller.run_once)
        with contextlib.suppress(TimeoutError):
            while True:
                received.append(await asyncio.wait_for(subscription.__anext__(), timeout=0.5))
        subscription.close()
        return received

    return asyncio.run(listen())


def orders_of(owner: str, count: int) -> list[Order]:
    basket = a_basket(owner=OwnerId(owner))
    return [an_order(basket) for _ in range(count)]


def test_a_record_that_keeps_failing_is_dead_lettered_and_nothing_else_is_lost_or_doubled(
    stack: LocalStack, tmp_path: Path
) -> None:
    # Given five new orders, one of which the publisher always fails on
    owner = f"fault-{uuid.uuid4().hex[:8]}"
    orders = orders_of(owner, 5)
    publisher = Faulty(LocalPublisher(stack.endpoint.execute_as_iam), poison=orders[2].id)
    store, poller = pipeline(stack, tmp_path, publisher)
    store.orders.add_all(orders)

    # When the stream is processed
    received = deliveries(stack, owner, poller)

    # Then the four others reach the subscriber exactly once, the failed one was retried, then dead-lettered
    assert sorted(r["order"]["id"] for r in received) == sorted(o.id for o in orders if o.id != orders[2].id)
    assert len({r["eventId"] for r in received}) == len(received)
    poisoned = [
        c for c in publisher.calls if c in {f"order:{e['record']['eventID']}" for e in poller.dead_letters.list()}
    ]
    assert len(poisoned) == 3  # the first try and max_retries=2 retries
    (dead,) = poller.dead_letters.list()
    assert dead["record"]["dynamodb"]["NewImage"]["id"]["S"] == orders[2].id
    assert "batchItemFailures" in dead["error"]  # the handler reported it failed; its log has the cause


def test_a_publish_that_timed_out_after_going_through_is_not_delivered_twice(stack: LocalStack, tmp_path: Path) -> None:
    # Given a publisher whose first publish goes through but reports a timeout
    owner = f"fault-{uuid.uuid4().hex[:8]}"
    orders = orders_of(owner, 3)
    publisher = Faulty(LocalPublisher(stack.endpoint.execute_as_iam), time_out_once=True)
    store, poller = pipeline(stack, tmp_path, publisher)
    store.orders.add_all(orders)

    # When the stream is processed (the timed-out record is retried)
    received = deliveries(stack, owner, poller)

    # Then it was published twice but delivered once, and so was everything else
    assert len(publisher.calls) > len(set(publisher.calls))
    assert sorted(r["order"]["id"] for r in received) == sorted(o.id for o in orders)
    assert poller.dead_letters.list() == []
