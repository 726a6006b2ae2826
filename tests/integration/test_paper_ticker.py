"""The paper exchange's KiteTicker WebSocket, consumed by the official `kiteconnect.KiteTicker`, and the
mark feed (`brokers.kite.feed`) writing throttled marks from it into DynamoDB."""

from __future__ import annotations

import base64
import json
import queue
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from kiteconnect import KiteConnect, KiteTicker

from brokers.kite.feed import MarkFeed, on_reactor, ticker_for
from brokers.kite.mapping import order_update_from_kite
from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from brokers.paper.ticker import MODE_FULL, MODE_QUOTE, DepthLevel, Tick, encode_frame, encode_packet
from tests.fakes import FixedClock
from tests.helpers import wait_until
from tests.integration.test_paper_exchange import API_KEY, API_SECRET, CE, INSTRUMENTS, MOCKS, a_request
from trading.marks import MarkThrottle
from trading.model import OrderStatus
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterator

    from store import DynamoStore

INFY = Instrument(
    token=408065,
    exchange="NSE",
    tradingsymbol="INFY",
    name="INFOSYS",
    instrument_type="EQ",
    segment="NSE",
    lot_size=1,
    tick_size=Decimal("0.05"),
)


def mock(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MOCKS / name).read_text())
    return data


CE_TOKEN = INSTRUMENTS[0].token


def packet(name: str) -> bytes:
    return base64.b64decode((MOCKS / name).read_text())


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def tick_of(sample: dict[str, Any]) -> Tick:
    """A ticker mock (Kite's documented JSON) as the exchange's tick."""

    def levels(side: str) -> tuple[DepthLevel, ...]:
        rows = sample.get("depth", {}).get(side, [])
        return tuple(DepthLevel(Decimal(str(r["price"])), r["quantity"], r["orders"]) for r in rows)

    ohlc = sample.get("ohlc", {})
    return Tick(
        token=sample["instrument_token"],
        last_price=Decimal(str(sample["last_price"])),
        last_quantity=sample.get("last_quantity", 0),
        average_price=Decimal(str(sample.get("average_price", 0))),
        volume=sample.get("volume", 0),
        buy_quantity=sample.get("buy_quantity", 0),
        sell_quantity=sample.get("sell_quantity", 0),
        open=Decimal(str(ohlc.get("open", 0))),
        high=Decimal(str(ohlc.get("high", 0))),
        low=Decimal(str(ohlc.get("low", 0))),
        close=Decimal(str(ohlc.get("close", 0))),
        last_trade_time=epoch(sample["last_trade_time"]) if "last_trade_time" in sample else 0,
        oi=sample.get("oi", 0),
        oi_day_high=sample.get("oi_day_high", 0),
        oi_day_low=sample.get("oi_day_low", 0),
        timestamp=epoch(sample["timestamp"]) if "timestamp" in sample else 0,
        bids=levels("buy"),
        asks=levels("sell"),
    )


def as_documented(decoded: dict[str, Any]) -> dict[str, Any]:
    """kiteconnect-python's tick field names, renamed to those of Kite's documented JSON."""
    names = {
        "last_traded_quantity": "last_quantity",
        "average_traded_price": "average_price",
        "volume_traded": "volume",
        "total_buy_quantity": "buy_quantity",
        "total_sell_quantity": "sell_quantity",
        "exchange_timestamp": "timestamp",
    }
    out = {names.get(k, k): v for k, v in decoded.items() if k != "change"}
    for key in ("last_trade_time", "timestamp"):
        if isinstance(out.get(key), datetime):  # kiteconnect gives naive times in the host's zone
            out[key] = out[key].astimezone(UTC).isoformat()
    return out


def documented(sample: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in sample.items() if k != "change"}
    for key in ("last_trade_time", "timestamp"):
        if key in out:
            out[key] = datetime.fromisoformat(out[key]).astimezone(UTC).isoformat()
    return out


class TestPackets:
    @pytest.mark.parametrize(
        ("sample", "binary"), [("ticker_quote.json", "ticker_quote.packet"), ("ticker_full.json", "ticker_full.packet")]
    )
    def test_the_encoder_writes_kites_published_packets_byte_for_byte(self, sample: str, binary: str) -> None:
        data = mock(sample)

        assert encode_packet(tick_of(data), data["mode"]) == packet(binary)

    @pytest.mark.parametrize("sample", ["ticker_ltp.json", "ticker_quote.json", "ticker_full.json"])
    def test_kiteconnect_decodes_our_packets_to_the_documented_values(self, sample: str) -> None:
        data = mock(sample)

        [decoded] = KiteTicker("k", "t")._parse_binary(encode_frame([encode_packet(tick_of(data), data["mode"])]))

        assert as_documented(decoded) == documented(data)


class Collector:
    """KiteTicker callbacks into queues."""

    def __init__(self) -> None:
        self.ticks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.orders: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = False

    def attach(self, ticker: KiteTicker, tokens: list[int], mode: str) -> None:
        def on_connect(ws: Any, response: Any) -> None:
            ws.subscribe(tokens)
            ws.set_mode(mode, tokens)
            self.connected = True

        def on_ticks(ws: Any, ticks: list[dict[str, Any]]) -> None:
            for tick in ticks:
                self.ticks.put(tick)

        def on_order_update(ws: Any, data: dict[str, Any]) -> None:
            self.orders.put(data)

        ticker.on_connect = on_connect
        ticker.on_ticks = on_ticks
        ticker.on_order_update = on_order_update

    def next_tick(self, where: Any = lambda t: True, timeout: float = 10) -> dict[str, Any]:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while datetime.now(UTC) < deadline:
            try:
                tick = self.ticks.get(timeout=0.2)
            except queue.Empty:
                continue
            if where(tick):
                return tick
        raise AssertionError("no matching tick")


@pytest.fixture
def exchange() -> Iterator[tuple[PaperExchange, str]]:
    paper = PaperExchange(
        [*INSTRUMENTS, INFY],
        {CE: Decimal("120.00"), INFY.ref: Decimal("1573.15")},
        api_key=API_KEY,
        api_secret=API_SECRET,
        liquidity=500,
    )
    server = PaperExchangeServer(paper)
    url = server.start()
    yield paper, url
    server.stop()
    paper.close()


def session(url: str, user: str = "AB1234") -> KiteConnect:
    kite = KiteConnect(API_KEY, root=url)
    kite.generate_session(f"paper-{user}", api_secret=API_SECRET)
    return kite


def connect(url: str, access_token: str, collector: Collector, tokens: list[int], mode: str) -> KiteTicker:
    ticker = KiteTicker(API_KEY, access_token, root=url.replace("http://", "ws://"))
    collector.attach(ticker, tokens, mode)
    on_reactor(ticker.connect, threaded=True)
    wait_until(lambda: collector.connected)
    return ticker


class TestKiteTicker:
    def test_kiteticker_gets_the_exchanges_own_ticks_in_full_mode(self, exchange: tuple[PaperExchange, str]) -> None:
        paper, url = exchange
        kite = session(url)
        collector = Collector()
        ticker = connect(url, kite.access_token, collector, [INFY.token], MODE_FULL)
        try:
            # When a trade happens and the price moves
            kite.place_order(
                variety="regular",
                exchange="NSE",
                tradingsymbol="INFY",
                transaction_type="BUY",
                quantity=7,
                product="CNC",
                order_type="MARKET",
                market_protection=-1,
            )
            paper.set_previous_close(INFY.ref, Decimal("1567.80"))  # a first session has no earlier close
            paper.set_price(INFY.ref, Decimal("1575.00"))
            paper.set_price(INFY.ref, Decimal("1573.70"))
            # Then the subscriber decodes the state of the market from Kite's binary packets
            tick = collector.next_tick(lambda t: t["mode"] == MODE_FULL and t["last_price"] == 1573.7)
        finally:
            on_reactor(ticker.close)
        assert tick["instrument_token"] == INFY.token
        assert (tick["last_traded_quantity"], tick["volume_traded"], tick["average_traded_price"]) == (7, 7, 1573.15)
        assert tick["ohlc"] == {"open": 1573.15, "high": 1575.0, "low": 1573.15, "close": 1567.8}
        assert tick["depth"]["buy"][0] == {"quantity": 500, "price": 1573.65, "orders": 1}
        assert tick["depth"]["sell"][0] == {"quantity": 500, "price": 1573.75, "orders": 1}

    def test_order_updates_arrive_as_text_for_their_own_account_only(self, exchange: tuple[PaperExchange, str]) -> None:
        _, url = exchange
        mine, theirs = session(url), session(url, "ZZ9999")
        me, them = Collector(), Collector()
        tickers = [
            connect(url, mine.access_token, me, [CE_TOKEN], MODE_QUOTE),
            connect(url, theirs.access_token, them, [CE_TOKEN], MODE_QUOTE),
        ]
        try:
            order_id = mine.place_order(
                variety="regular",
                exchange="NFO",
                tradingsymbol=CE.tradingsymbol,
                transaction_type="BUY",
                quantity=75,
                product="NRML",
                order_type="MARKET",
                market_protection=-1,
                tag=a_request().tag,
            )
            updates = [me.orders.get(timeout=10) for _ in range(5)]
        finally:
            for ticker in tickers:
                on_reactor(ticker.close)
        assert [u["status"] for u in updates] == [
            "PUT ORDER REQ RECEIVED",
            "VALIDATION PENDING",
            "OPEN PENDING",
            "OPEN",
            "COMPLETE",
        ]
        final = order_update_from_kite(updates[-1])
        assert (final.broker_order_id, final.status, final.filled_quantity) == (order_id, OrderStatus.COMPLETE, 75)
        assert them.orders.empty()

    def test_a_bad_access_token_is_refused_at_the_handshake(self, exchange: tuple[PaperExchange, str]) -> None:
        _, url = exchange
        closed: queue.Queue[Any] = queue.Queue()
        ticker = KiteTicker(API_KEY, "not-a-token", root=url.replace("http://", "ws://"), reconnect=False)
        ticker.on_close = lambda ws, code, reason: closed.put(code)
        ticker.on_error = lambda ws, code, reason: closed.put(code)
        on_reactor(ticker.connect, threaded=True)

        try:
            closed.get(timeout=10)
            assert not ticker.is_connected()
        finally:
            on_reactor(ticker.close)


class TestMarkFeed:
    def test_the_feed_writes_throttled_marks_and_never_loses_the_last(
        self, exchange: tuple[PaperExchange, str], store: DynamoStore
    ) -> None:
        # Given the feed following two instruments, at most one mark each per 30 s
        paper, url = exchange
        kite = session(url)
        clock = FixedClock(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))
        feed = MarkFeed(store.marks, {CE_TOKEN: CE, INFY.token: INFY.ref}, MarkThrottle(timedelta(seconds=30)), clock)
        ticker = ticker_for(feed, API_KEY, kite.access_token, url.replace("http://", "ws://"))
        on_reactor(ticker.connect, threaded=True)
        try:
            wait_until(lambda: feed.ticks >= 4)  # the snapshots on subscribe and on mode
            # When the price moves three times within the interval
            for price in ("121.00", "122.50", "119.95"):
                paper.set_price(CE, Decimal(price))
            wait_until(lambda: feed.ticks >= 7)
            held = store.marks.last_prices([CE])[CE]
            # Then nothing more was written until the interval passed; a flush then writes the latest
            clock.at += timedelta(seconds=31)
            feed.flush()
        finally:
            on_reactor(ticker.close)
        assert held == Decimal("120")
        assert store.marks.last_prices([CE, INFY.ref]) == {CE: Decimal("119.95"), INFY.ref: Decimal("1573.15")}
        # the first snapshot of each, then on flush the latest of each (CE moved; INFY's is re-confirmed)
        assert feed.written == 4
