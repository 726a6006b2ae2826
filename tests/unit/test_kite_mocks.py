"""Every Kite sample the adapter reads, parsed into domain objects with the values Kite wrote.

(The ticker packets are checked byte for byte in tests/integration/test_paper_ticker.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brokers.kite.mapping import (
    fill_from_kite,
    instruments_from_csv,
    order_update_from_kite,
    product_from_kite,
)
from trading.errors import ValidationError
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId
from trading.model import InstrumentRef, Order, OrderStatus, OrderType, Product, Side

MOCKS = Path(__file__).resolve().parents[2].parent / "shared" / "kite-mocks"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((MOCKS / name).read_text())["data"]


def our_order(trade: dict[str, Any]) -> Order:
    return Order(
        id=OrderId(f"ours-{trade['order_id']}"),
        owner=OwnerId("alice"),
        basket_id=BasketId("b1"),
        client_request_id=ClientRequestId("r1"),
        broker="kite",
        instrument=InstrumentRef(trade["exchange"], trade["tradingsymbol"]),
        side=Side(trade["transaction_type"]),
        quantity=int(trade["quantity"]),
        order_type=OrderType.MARKET,
        product=Product.NRML,
        created_at=AT,
        updated_at=AT,
        broker_order_id=BrokerOrderId(str(trade["order_id"])),
    )


class TestOrderBook:
    def test_every_row_of_orders_json(self) -> None:
        updates = [order_update_from_kite(row) for row in load("orders.json")]

        assert [(u.broker_order_id, u.status, u.filled_quantity, u.average_price) for u in updates] == [
            ("100000000000000", OrderStatus.CANCELLED, 0, None),
            ("300000000000000", OrderStatus.COMPLETE, 1, Decimal("109.4")),
            ("500000000000000", OrderStatus.COMPLETE, 1, Decimal("109.35")),
            ("220524001859672", OrderStatus.REJECTED, 0, None),
            ("700000000000000", OrderStatus.COMPLETE, 1, Decimal(4852)),
            ("9000000000000000", OrderStatus.COMPLETE, 1, Decimal(4852)),
            ("98000000000000000", OrderStatus.CANCELLED, 0, None),
            ("250117800776785", OrderStatus.CANCELLED, 0, None),
            ("1953341975595868160", OrderStatus.COMPLETE, 1, Decimal("156.7")),
            ("1953367517686685697", OrderStatus.COMPLETE, 150, Decimal("12.3")),
        ]
        assert [u.tag for u in updates if u.tag] == ["icebergord", "connect test order1", "connect test order2"]
        assert updates[1].at == datetime(2021, 5, 31, 9, 50, 28, tzinfo=UTC)  # 15:20:28 IST

    def test_order_history_ends_where_the_order_book_row_does(self) -> None:
        history = [order_update_from_kite(row) for row in load("order_info.json")]

        assert {u.broker_order_id for u in history} == {"171229000724687"}
        assert history[-1].status is OrderStatus.OPEN
        # the modification's interim rows change no status
        assert [u.status for u in history[4:7]] == [None, None, None]


class TestTrades:
    def test_every_row_of_trades_json_is_an_exact_fill(self) -> None:
        trades = load("trades.json")

        fills = [fill_from_kite(t, our_order(t)) for t in trades]

        assert [(f.trade_id, f.order_id, f.side, f.quantity, f.price) for f in fills] == [
            ("10000000", "ours-200000000000000", Side.BUY, 1, Decimal("420.65")),
            ("40000000", "ours-500000000000000", Side.BUY, 1, Decimal("72.755")),
            ("70000000", "ours-800000000000000", Side.BUY, 1, Decimal(4852)),
            ("90000000", "ours-1100000000000000", Side.BUY, 1, Decimal(4852)),
        ]
        assert fills[0].filled_at == datetime(2021, 5, 31, 3, 46, 39, tzinfo=UTC)  # 09:16:39 IST

    def test_order_trades_json(self) -> None:
        [trade] = load("order_trades.json")

        fill = fill_from_kite(trade, our_order(trade))

        assert (fill.trade_id, fill.quantity, fill.price) == ("10000000", 1, Decimal(4852))
        assert fill.filled_at == datetime(2021, 5, 31, 10, 30, 36, tzinfo=UTC)


class TestPositions:
    def test_an_undocumented_product_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="unknown Kite product"):
            product_from_kite("XYZ")


class TestInstrumentsAndPostbacks:
    def test_the_instrument_masters_parse(self) -> None:
        everything = instruments_from_csv((MOCKS / "instruments_all.csv").read_text())
        nse = instruments_from_csv((MOCKS / "instruments_nse.csv").read_text())

        assert everything and nse
        assert all(i.lot_size > 0 and i.tick_size > 0 for i in everything + nse)

    def test_the_postback_sample(self) -> None:
        body = json.loads((MOCKS / "postback.json").read_text())

        update = order_update_from_kite(body)

        assert (update.broker_order_id, update.status, update.filled_quantity, update.average_price) == (
            "220303000308932",
            OrderStatus.COMPLETE,
            1,
            Decimal(470),
        )
        assert update.at == datetime(2022, 3, 3, 3, 54, 25, tzinfo=UTC)
