"""The paper exchange over real loopback HTTP, driven by the official kiteconnect client and `KiteBroker`."""

from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from kiteconnect import KiteConnect

from brokers.kite.accounts import KiteBrokers, access_token_name, connect_paper_account
from brokers.kite.broker import KiteBroker
from brokers.kite.mapping import order_update_from_kite
from brokers.kite.postback import verify_postback
from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from trading.errors import BrokerNotConnected, BrokerRejected, Unauthorized
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId
from trading.model import InstrumentRef, Order, OrderStatus, OrderType, Product, Side, Validity, Variety
from trading.model.instrument import Instrument
from trading.ports import OrderRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

MOCKS = Path(__file__).resolve().parents[2].parent / "shared" / "kite-mocks"
API_KEY = "paper_api_key"
API_SECRET = "paper_api_secret"
CE = InstrumentRef("NFO", "NIFTY26DEC26000CE")
SBIN = InstrumentRef("NSE", "SBIN")
INSTRUMENTS = [
    Instrument(
        token=10189826,
        exchange="NFO",
        tradingsymbol="NIFTY26DEC26000CE",
        name="NIFTY",
        instrument_type="CE",
        segment="NFO-OPT",
        lot_size=75,
        tick_size=Decimal("0.05"),
        strike=Decimal(26000),
    ),
    Instrument(
        token=779521,
        exchange="NSE",
        tradingsymbol="SBIN",
        name="STATE BANK OF INDIA",
        instrument_type="EQ",
        segment="NSE",
        lot_size=1,
        tick_size=Decimal("0.05"),
    ),
]
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def sample_row(name: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads((MOCKS / name).read_text())["data"][0]
    return row


class PostbackReceiver:
    """A tiny HTTP endpoint on loopback that keeps every body it is sent."""

    def __init__(self) -> None:
        bodies: queue.Queue[bytes] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.put(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.bodies = bodies
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/postbacks/kite"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def received(self) -> list[bytes]:
        out = []
        while not self.bodies.empty():
            out.append(self.bodies.get_nowait())
        return out

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[PostbackReceiver]:
    server = PostbackReceiver()
    yield server
    server.stop()


@pytest.fixture
def exchange(receiver: PostbackReceiver) -> Iterator[PaperExchange]:
    paper = PaperExchange(
        INSTRUMENTS,
        {"NFO:NIFTY26DEC26000CE": Decimal("120.00"), "NSE:SBIN": Decimal("812.35")},
        api_key=API_KEY,
        api_secret=API_SECRET,
        postback_url=receiver.url,
    )
    yield paper
    paper.close()


@pytest.fixture
def base_url(exchange: PaperExchange) -> Iterator[str]:
    server = PaperExchangeServer(exchange)
    yield server.start()
    server.stop()


@pytest.fixture
def kite(base_url: str) -> KiteConnect:
    client = KiteConnect(API_KEY, root=base_url)
    client.generate_session("paper-AB1234", api_secret=API_SECRET)
    return client


@pytest.fixture
def broker(kite: KiteConnect, base_url: str) -> KiteBroker:
    return KiteBroker(API_KEY, kite.access_token, root=base_url, name="paper")


def a_request(
    order_type: OrderType = OrderType.MARKET,
    side: Side = Side.BUY,
    quantity: int = 75,
    price: str | None = None,
    trigger: str | None = None,
    instrument: InstrumentRef = CE,
    tag: str = "0190a1b2c3d4e5f6a7b8",
) -> OrderRequest:
    return OrderRequest(
        instrument=instrument,
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=Product.NRML,
        variety=Variety.REGULAR,
        validity=Validity.DAY,
        price=Decimal(price) if price else None,
        trigger_price=Decimal(trigger) if trigger else None,
        tag=tag,
    )


def our_order(broker_order_id: str, side: Side = Side.BUY, quantity: int = 75) -> Order:
    return Order(
        id=OrderId("0190a1b2c3d4e5f6a7b8"),
        owner=OwnerId("alice"),
        basket_id=BasketId("b1"),
        client_request_id=ClientRequestId("r1"),
        broker="paper",
        instrument=CE,
        side=side,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=Product.NRML,
        created_at=NOW,
        updated_at=NOW,
        broker_order_id=BrokerOrderId(broker_order_id),
    )


def set_prices(base_url: str, prices: dict[str, str]) -> None:
    reply = requests.post(f"{base_url}/paper/prices", json=prices, timeout=5)
    assert reply.status_code == 200, reply.text


class TestSession:
    def test_generate_session_answers_in_kites_shape(self, base_url: str) -> None:
        client = KiteConnect(API_KEY, root=base_url)

        session = client.generate_session("paper-AB1234", api_secret=API_SECRET)

        assert set(json.loads((MOCKS / "generate_session.json").read_text())["data"]) <= set(session)
        assert session["user_id"] == "AB1234"
        assert client.access_token == session["access_token"]
        assert isinstance(session["login_time"], datetime)

    def test_a_wrong_secret_gets_no_session(self, base_url: str) -> None:
        with pytest.raises(Exception, match="checksum") as caught:
            KiteConnect(API_KEY, root=base_url).generate_session("paper-AB1234", api_secret="wrong")

        assert type(caught.value).__name__ == "TokenException"

    def test_an_invalid_access_token_is_not_connected(self, base_url: str) -> None:
        stranger = KiteBroker(API_KEY, "not-a-token", root=base_url, name="paper")

        with pytest.raises(BrokerNotConnected, match="reconnect the broker account"):
            stranger.place_order(a_request())

    def test_connect_paper_account_stores_a_working_token(self, base_url: str) -> None:
        class Secrets:
            def __init__(self) -> None:
                self.values: dict[str, str] = {}

            def get(self, name: str) -> str | None:
                return self.values.get(name)

            def put(self, name: str, value: str) -> None:
                self.values[name] = value

        secrets = Secrets()
        brokers = KiteBrokers(api_key=API_KEY, secrets=secrets, root=base_url, name="paper")
        owner = OwnerId("3f2a9c1e-0000-4000-8000-00000000abcd")

        user_id = connect_paper_account(
            secrets, owner, root=base_url, api_key=API_KEY, api_secret=API_SECRET, brokers=brokers
        )
        order_id = brokers.for_owner(owner).place_order(a_request())

        assert user_id == owner
        assert access_token_name(owner, "paper") in secrets.values
        assert brokers.for_owner(owner).order_update(order_id).status is OrderStatus.COMPLETE


class TestOrders:
    def test_a_market_order_fills_at_the_last_price_with_a_trade(self, broker: KiteBroker, kite: KiteConnect) -> None:
        order_id = broker.place_order(a_request())

        update = broker.order_update(order_id)
        fills = broker.order_fills(our_order(order_id))

        assert order_id.isdigit()
        assert (update.status, update.filled_quantity, update.average_price) == (
            OrderStatus.COMPLETE,
            75,
            Decimal("120"),
        )
        assert update.tag == "0190a1b2c3d4e5f6a7b8"
        assert len(fills) == 1
        assert (fills[0].side, fills[0].quantity, fills[0].price) == (Side.BUY, 75, Decimal("120"))
        assert fills[0].order_id == "0190a1b2c3d4e5f6a7b8"
        assert fills[0].filled_at.tzinfo is not None
        assert [row["status"] for row in kite.order_history(order_id)] == [
            "PUT ORDER REQ RECEIVED",
            "VALIDATION PENDING",
            "OPEN PENDING",
            "OPEN",
            "COMPLETE",
        ]

    def test_order_and_trade_rows_have_kites_fields(self, broker: KiteBroker, kite: KiteConnect) -> None:
        order_id = broker.place_order(a_request(instrument=SBIN, quantity=3))

        [row] = [o for o in kite.orders() if o["order_id"] == order_id]
        [trade] = kite.trades()

        assert set(sample_row("orders.json")) <= set(row)
        assert set(sample_row("trades.json")) <= set(trade)
        assert (row["status"], row["pending_quantity"], row["average_price"]) == ("COMPLETE", 0, 812.35)
        assert isinstance(row["order_timestamp"], datetime)
        assert (trade["order_id"], trade["quantity"], trade["average_price"]) == (order_id, 3, 812.35)

    def test_a_limit_order_rests_then_fills_at_its_limit_when_the_price_crosses(
        self, broker: KiteBroker, base_url: str
    ) -> None:
        order_id = broker.place_order(a_request(OrderType.LIMIT, price="110.00"))
        assert broker.order_update(order_id).status is OrderStatus.OPEN

        set_prices(base_url, {"NFO:NIFTY26DEC26000CE": "111.05"})
        assert broker.order_update(order_id).status is OrderStatus.OPEN
        set_prices(base_url, {"NFO:NIFTY26DEC26000CE": "109.5"})

        update = broker.order_update(order_id)
        [fill] = broker.order_fills(our_order(order_id))
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal("110"))
        assert (fill.quantity, fill.price) == (75, Decimal("110"))

    def test_a_marketable_limit_order_fills_at_the_better_last_price(self, broker: KiteBroker) -> None:
        order_id = broker.place_order(a_request(OrderType.LIMIT, side=Side.SELL, price="115.00"))

        [fill] = broker.order_fills(our_order(order_id, side=Side.SELL))

        assert (fill.side, fill.price) == (Side.SELL, Decimal("120"))

    def test_a_stop_loss_waits_for_its_trigger(self, broker: KiteBroker, exchange: PaperExchange) -> None:
        order_id = broker.place_order(a_request(OrderType.SL_M, side=Side.SELL, trigger="115"))
        assert broker.order_update(order_id).status is OrderStatus.TRIGGER_PENDING

        exchange.set_price(CE, Decimal("114.40"))

        update = broker.order_update(order_id)
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal("114.4"))
        assert exchange.last_price("NFO:NIFTY26DEC26000CE") == Decimal("114.40")

    def test_cancel(self, broker: KiteBroker, kite: KiteConnect) -> None:
        order_id = broker.place_order(a_request(OrderType.LIMIT, price="100"))

        broker.cancel_order(order_id, Variety.REGULAR)

        update = broker.order_update(order_id)
        assert update.status is OrderStatus.CANCELLED
        assert broker.order_fills(our_order(order_id)) == []
        assert [row["status"] for row in kite.order_history(order_id)][-2:] == ["CANCEL PENDING", "CANCELLED"]
        with pytest.raises(BrokerRejected, match="cannot be cancelled"):
            broker.cancel_order(order_id, Variety.REGULAR)

    def test_modify_a_limit_price_into_the_market(self, broker: KiteBroker, kite: KiteConnect) -> None:
        order_id = broker.place_order(a_request(OrderType.LIMIT, price="100"))

        kite.modify_order("regular", order_id, price=121)

        update = broker.order_update(order_id)
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal("120"))
        assert "MODIFIED" in [row["status"] for row in kite.order_history(order_id)]

    def test_a_quantity_off_the_lot_size_is_rejected_with_the_exchanges_message(self, broker: KiteBroker) -> None:
        with pytest.raises(BrokerRejected, match=r"multiple of the lot size \(75\)"):
            broker.place_order(a_request(quantity=30))

    @pytest.mark.parametrize(
        ("request_", "message"),
        [
            (a_request(instrument=InstrumentRef("NFO", "NOPE")), "expired or does not exist"),
            (a_request(OrderType.LIMIT), "needs a price"),
            (a_request(OrderType.SL, price="100"), "needs a trigger price"),
            (a_request(OrderType.LIMIT, price="100.03"), "multiple of tick size"),
        ],
    )
    def test_invalid_orders_are_rejected(self, broker: KiteBroker, request_: OrderRequest, message: str) -> None:
        with pytest.raises(BrokerRejected, match=message):
            broker.place_order(request_)

    def test_another_users_order_is_not_found(self, broker: KiteBroker, base_url: str) -> None:
        order_id = broker.place_order(a_request())
        other = KiteConnect(API_KEY, root=base_url)
        other.generate_session("paper-ZZ9999", api_secret=API_SECRET)

        with pytest.raises(BrokerRejected, match="order_id"):
            KiteBroker(API_KEY, other.access_token, root=base_url).order_update(order_id)


class TestPostbacks:
    def test_every_state_change_arrives_signed_and_in_order(
        self, broker: KiteBroker, exchange: PaperExchange, receiver: PostbackReceiver
    ) -> None:
        order_id = broker.place_order(a_request())
        assert exchange.flush_postbacks(5)

        bodies = receiver.received()
        payloads = [verify_postback(body, API_SECRET) for body in bodies]

        assert [p["status"] for p in payloads] == [
            "PUT ORDER REQ RECEIVED",
            "VALIDATION PENDING",
            "OPEN PENDING",
            "OPEN",
            "COMPLETE",
        ]
        assert set(json.loads((MOCKS / "postback.json").read_text())) <= set(payloads[-1])
        final = order_update_from_kite(payloads[-1])
        assert (final.broker_order_id, final.status, final.filled_quantity) == (
            order_id,
            OrderStatus.COMPLETE,
            75,
        )
        assert final.tag == "0190a1b2c3d4e5f6a7b8"
        with pytest.raises(Unauthorized):
            verify_postback(bodies[-1], "another-secret")

    def test_an_unreachable_receiver_does_not_block_orders(self) -> None:
        lonely = PaperExchange(
            INSTRUMENTS,
            {CE: Decimal(120)},
            api_key=API_KEY,
            api_secret=API_SECRET,
            postback_url="http://127.0.0.1:9/nowhere",
        )
        server = PaperExchangeServer(lonely)
        url = server.start()
        try:
            client = KiteConnect(API_KEY, root=url)
            client.generate_session("paper-AB1234", api_secret=API_SECRET)
            order_id = KiteBroker(API_KEY, client.access_token, root=url).place_order(a_request())
            assert client.order_history(order_id)[-1]["status"] == "COMPLETE"
        finally:
            server.stop()
            lonely.close(timeout=0.1)


class TestPositions:
    def test_positions_come_in_kites_shape(
        self, broker: KiteBroker, kite: KiteConnect, exchange: PaperExchange
    ) -> None:
        broker.place_order(a_request(quantity=150))
        exchange.set_price(CE, Decimal("130.5"))
        broker.place_order(a_request(side=Side.SELL, quantity=75))
        exchange.set_price(CE, Decimal("125"))

        positions = kite.positions()

        sample = json.loads((MOCKS / "positions.json").read_text())["data"]
        assert set(positions) == {"net", "day"}
        [net] = positions["net"]
        assert set(net) == set(sample["net"][0])
        assert (net["tradingsymbol"], net["product"], net["quantity"]) == ("NIFTY26DEC26000CE", "NRML", 75)
        assert (net["buy_quantity"], net["buy_value"], net["sell_quantity"], net["sell_value"]) == (
            150,
            18000,
            75,
            9787.5,
        )
        assert net["last_price"] == 125
        # Kite's formula: (sell_value - buy_value) + quantity * last_price * multiplier
        assert net["pnl"] == 9787.5 - 18000 + 75 * 125
        assert net["realised"] == 75 * 10.5
        assert positions["day"] == positions["net"]
