"""Average-cost P&L through production code: fills recorded by the real store in the embedded DynamoDB
(out of order, one replayed), then the real stream handler and poller publish the basket's P&L.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import boto3

from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import StreamPoller
from local.streams.records import stream_arn
from store import connect
from store.spec import create_table
from subscriptions.handler import Live, make_handler
from subscriptions.pnl import PnlFeed
from tests.builders import NIFTY_CALL, NOW, a_basket, a_fill, an_order, placed
from trading.clock import SystemClock
from trading.ids import OwnerId, TradeId
from trading.model import Side
from trading.pnl_engine import PnlEngine
from trading.usecases.orders import apply_fill

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack
    from trading.ports import LiveEvent


class Recording:
    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def publish(self, event: LiveEvent) -> None:
        self.events.append(event)


def test_the_issues_flip_example_is_recorded_and_published_by_average_cost(stack: LocalStack, tmp_path: Path) -> None:
    # Given a fresh table, its stream handler (a new P&L engine) and a poller from the start
    table = f"Avg-{uuid.uuid4().hex[:8]}"
    create_table(stack.dynamodb, table)
    store = connect(table, stack.dynamodb)
    published = Recording()
    live = Live(publisher=published, pnl=PnlFeed(PnlEngine(timedelta(0)), SystemClock(), wait_for_stragglers=False))
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.dynamodb.meta.endpoint_url, region_name="ap-south-1")
    poller = StreamPoller(
        streams,
        stream_arn(stack.dynamodb, table),
        make_handler(lambda: live),
        dead_letters=DeadLetterStore(tmp_path / "dlq.jsonl"),
    )
    poller.skip_to_end()
    basket = a_basket(owner=OwnerId(f"avg-{uuid.uuid4().hex[:8]}"))
    store.baskets.add(basket)
    lot = Decimal(15)
    buy = placed(an_order(basket, quantity=3, multiplier=lot))
    sell = placed(an_order(basket, side=Side.SELL, quantity=8, multiplier=lot))
    store.orders.add_all([buy, sell])
    bought = a_fill(buy, trade_id=TradeId("T1"), quantity=3, price=Decimal(790), filled_at=NOW)
    closed = a_fill(sell, trade_id=TradeId("T2"), quantity=3, price=Decimal(806), filled_at=NOW + timedelta(seconds=1))
    flipped = a_fill(sell, trade_id=TradeId("T3"), quantity=5, price=Decimal(747), filled_at=NOW + timedelta(seconds=2))

    # When BUY 3@790, SELL 3@806, SELL 5@747 (x15) arrive last first, the first twice, and the mark is 787
    assert apply_fill(store, sell, flipped)
    assert apply_fill(store, buy, bought)
    assert not apply_fill(store, buy, bought)
    assert apply_fill(store, sell, closed)
    assert store.marks.put_mark(NIFTY_CALL, Decimal(787), NOW + timedelta(minutes=1))
    poller.run_once()

    # Then the store holds the in-order walk, and the published P&L is by average cost
    [position] = store.baskets.view(basket.owner, basket.id).positions
    assert (position.net_quantity, position.average_price, position.realised, position.version) == (
        -5,
        Fraction(747),
        Fraction(720),
        3,
    )
    assert [
        o.filled_quantity for o in sorted(store.baskets.view(basket.owner, basket.id).orders, key=lambda o: o.side)
    ] == [3, 8]
    [*_, last] = [e for e in published.events if e.kind == "pnl" and e.basket_id == basket.id]
    assert (last.payload["realised"], last.payload["unrealised"], last.payload["pnl"]) == (
        "720.00",
        "-3000.00",
        "-2280.00",
    )
    [row] = last.payload["positions"]
    assert (row["position"]["averagePrice"], row["position"]["value"]) == ("747.00", "56745.00")  # 92295 - 35550
    # NOW is a past day: all of it is carried overnight, and with no previous close m2m is unknown
    assert (row["position"]["overnightQuantity"], row["closePrice"], row["m2m"]) == (-5, None, None)

    # And when today's mark brings the previous close (790), m2m values the carried -5 at it, not at 747
    assert store.marks.put_mark(NIFTY_CALL, Decimal(787), datetime.now(UTC), Decimal(790))
    poller.run_once()
    [*_, last] = [e for e in published.events if e.kind == "pnl" and e.basket_id == basket.id]
    [row] = last.payload["positions"]
    assert (row["closePrice"], row["pnl"]) == ("790.00", "-2280.00")
    # Kite's m2m is the day's: -5 * (787 - 790) * 15, the 720 realised on the earlier day left out
    assert row["m2m"] == "225.00"
    assert poller.dead_letters.list() == []
