"""A cold P&L engine (a new stream Lambda instance) learns an instrument's positions on its first mark.

The positions were written before the engine existed, so their stream records are not its news;
the ByInstrument index lets the first mark of the instrument find them. The real stream handler,
a real poller, the embedded DynamoDB.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import boto3
import pytest

from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import StreamPoller
from local.streams.records import stream_arn
from store import connect
from store.spec import create_table
from subscriptions.handler import Live, make_handler
from subscriptions.pnl import PnlFeed
from tests.builders import NIFTY_CALL, NIFTY_LOT, NOW, a_basket, a_fill, an_order, placed
from trading.clock import SystemClock
from trading.ids import OwnerId
from trading.model import Side
from trading.pnl_engine import PnlEngine
from trading.usecases.orders import apply_fill

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack
    from store import DynamoStore
    from trading.ports import LiveEvent


class Recording:
    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def publish(self, event: LiveEvent) -> None:
        self.events.append(event)


def held_positions(stack: LocalStack) -> tuple[DynamoStore, dict[str, str]]:
    """A fresh table where two users hold the NIFTY call: a long at 120.05 and a short at 130.00."""
    table = f"Cold-{uuid.uuid4().hex[:8]}"
    create_table(stack.dynamodb, table)
    store = connect(table, stack.dynamodb)
    baskets = {}
    for side, price in ((Side.BUY, Decimal("120.05")), (Side.SELL, Decimal("130.00"))):
        basket = a_basket(owner=OwnerId(f"cold-{uuid.uuid4().hex[:8]}"))
        order = placed(an_order(basket, side=side, quantity=NIFTY_LOT, price=price))
        store.orders.add_all([order])
        assert apply_fill(store, order, a_fill(order, quantity=NIFTY_LOT, price=price))
        baskets[side.value] = basket.id
    return store, baskets


def cold_pipeline(
    stack: LocalStack, store: DynamoStore, tmp_path: Path, *, load: bool
) -> tuple[Recording, StreamPoller]:
    """A stream handler with a new engine, and a poller that starts after everything written so far."""
    published = Recording()
    positions_of = store.orders.positions_of_instrument if load else None
    feed = PnlFeed(PnlEngine(), SystemClock(), wait_for_stragglers=False, positions_of=positions_of)
    live = Live(publisher=published, pnl=feed)
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.dynamodb.meta.endpoint_url, region_name="ap-south-1")
    poller = StreamPoller(
        streams,
        stream_arn(stack.dynamodb, store.table_name),
        make_handler(lambda: live),
        dead_letters=DeadLetterStore(tmp_path / "dlq.jsonl"),
    )
    poller.skip_to_end()
    return published, poller


@pytest.mark.parametrize("load", [True, False], ids=["loads-by-instrument", "without-the-index"])
def test_a_cold_engine_prices_positions_it_never_saw_on_the_instruments_first_mark(
    stack: LocalStack, tmp_path: Path, load: bool
) -> None:
    # Given positions written before this engine started
    store, baskets = held_positions(stack)
    published, poller = cold_pipeline(stack, store, tmp_path, load=load)

    # When the instrument's first mark arrives
    assert store.marks.put_mark(NIFTY_CALL, Decimal("125.05"), NOW + timedelta(minutes=1))
    poller.run_once()

    # Then both baskets' P&L is published from it, by Kite's formula; without the index, nothing is
    pnl = {event.basket_id: event.payload["pnl"] for event in published.events if event.kind == "pnl"}
    if not load:
        assert pnl == {}
        return
    assert pnl == {
        baskets["BUY"]: "325.00",  # (125.05 - 120.05) x 65
        baskets["SELL"]: "321.75",  # (130.00 - 125.05) x 65
    }
    assert poller.dead_letters.list() == []
