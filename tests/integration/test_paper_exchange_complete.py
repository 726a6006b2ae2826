"""The paper exchange, complete: every order type, partial fills, Kite's refusals, 429s, session expiry,
placement timeouts — over real loopback HTTP with the official kiteconnect client and `KiteBroker`."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from brokers.kite import ratelimit
from brokers.kite.broker import KiteBroker
from brokers.kite.postback import verify_postback
from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from tests.fakes import FixedClock
from tests.integration.test_paper_exchange import (
    API_KEY,
    API_SECRET,
    CE,
    INSTRUMENTS,
    MOCKS,
    SBIN,
    PostbackReceiver,
    a_request,
    our_order,
)
from trading.errors import BrokerNotConnected, BrokerRejected, BrokerUnavailable, RateLimited
from trading.model import InstrumentRef, OrderStatus, OrderType, Side, Validity, Variety
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterator

BANKNIFTY = InstrumentRef("NFO", "BANKNIFTY26DEC59000CE")
FROZEN = Instrument(
    token=13201538,
    exchange="NFO",
    tradingsymbol="BANKNIFTY26DEC59000CE",
    name="BANKNIFTY",
    instrument_type="CE",
    segment="NFO-OPT",
    lot_size=30,
    tick_size=Decimal("0.05"),
    strike=Decimal(59000),
    freeze_quantity=600,
)
# 09:30 IST on a Monday
MORNING = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


class Market:
    """A paper exchange on loopback with a postback receiver, its settings changeable per test."""

    def __init__(self) -> None:
        self.receiver = PostbackReceiver()
        self.clock = FixedClock(MORNING)
        self.open = True
        self.exchange = PaperExchange(
            [*INSTRUMENTS, FROZEN],
            {CE: Decimal("120.00"), SBIN: Decimal("812.35"), BANKNIFTY: Decimal("900.00")},
            api_key=API_KEY,
            api_secret=API_SECRET,
            postback_url=self.receiver.url,
            clock=self.clock,
            market_open=lambda exchange, at: self.open,
        )
        self.server = PaperExchangeServer(self.exchange)
        self.url = self.server.start()
        self.kite = KiteConnect(API_KEY, root=self.url)
        self.kite.generate_session("paper-AB1234", api_secret=API_SECRET)

    def broker(self, **options: Any) -> KiteBroker:
        return KiteBroker(API_KEY, self.kite.access_token, root=self.url, name="paper", **options)

    def postbacks(self) -> list[dict[str, Any]]:
        assert self.exchange.flush_postbacks(5)
        return [verify_postback(body, API_SECRET) for body in self.receiver.received()]

    def close(self) -> None:
        self.server.stop()
        self.exchange.close(timeout=1)
        self.receiver.stop()


@pytest.fixture
def market() -> Iterator[Market]:
    running = Market()
    yield running
    running.close()


def statuses(kite: KiteConnect, order_id: str) -> list[str]:
    return [row["status"] for row in kite.order_history(order_id)]


class TestOrderTypes:
    def test_market(self, market: Market) -> None:
        order_id = market.broker().place_order(a_request(OrderType.MARKET))

        update = market.broker().order_update(order_id)
        assert (update.status, update.filled_quantity, update.average_price) == (
            OrderStatus.COMPLETE,
            75,
            Decimal(120),
        )

    def test_limit_rests_until_crossed(self, market: Market) -> None:
        order_id = market.broker().place_order(a_request(OrderType.LIMIT, price="118.00"))
        assert market.broker().order_update(order_id).status is OrderStatus.OPEN

        market.exchange.set_price(CE, Decimal("117.95"))

        update = market.broker().order_update(order_id)
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal(118))

    def test_sl_triggers_then_fills_at_its_limit(self, market: Market) -> None:
        # Given a stop-loss BUY above the market: trigger 125, limit 126
        order_id = market.broker().place_order(a_request(OrderType.SL, price="126.00", trigger="125.00"))
        assert market.broker().order_update(order_id).status is OrderStatus.TRIGGER_PENDING
        # When the price rises through the trigger to 125.50
        market.exchange.set_price(CE, Decimal("125.50"))
        # Then it became a limit order and filled at the market, within its limit
        update = market.broker().order_update(order_id)
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal("125.5"))
        assert statuses(market.kite, order_id)[-3:] == ["TRIGGER PENDING", "OPEN", "COMPLETE"]

    def test_sl_m_triggers_and_fills_at_market(self, market: Market) -> None:
        order_id = market.broker().place_order(a_request(OrderType.SL_M, side=Side.SELL, trigger="115.00"))
        market.exchange.set_price(CE, Decimal("116"))
        assert market.broker().order_update(order_id).status is OrderStatus.TRIGGER_PENDING

        market.exchange.set_price(CE, Decimal("114.90"))

        assert market.broker().order_update(order_id).average_price == Decimal("114.9")

    def test_ioc_that_cannot_fill_is_cancelled_at_once(self, market: Market) -> None:
        request = a_request(OrderType.LIMIT, price="110.00")
        ioc = replace(request, validity=Validity.IOC)

        order_id = market.broker().place_order(ioc)

        assert market.broker().order_update(order_id).status is OrderStatus.CANCELLED
        assert market.kite.order_history(order_id)[-1]["cancelled_quantity"] == 75

    def test_ioc_fills_what_it_can_and_cancels_the_rest(self, market: Market) -> None:
        market.exchange.liquidity = 75
        # Given 75 at each price level and an IOC limit for 225 that allows one tick of slippage
        request = a_request(OrderType.LIMIT, price="120.05", quantity=225)
        order_id = market.broker().place_order(replace(request, validity=Validity.IOC))

        row = market.kite.order_history(order_id)[-1]

        assert (row["status"], row["filled_quantity"], row["cancelled_quantity"]) == ("CANCELLED", 150, 75)

    def test_amo_rests_until_the_market_opens_then_goes_live(self, market: Market) -> None:
        # Given a closed market and an after-market order
        market.open = False
        request = a_request(OrderType.MARKET)
        order_id = market.broker().place_order(replace(request, variety=Variety.AMO))
        market.exchange.set_price(CE, Decimal("121"))
        assert statuses(market.kite, order_id)[-1] == "AMO REQ RECEIVED"
        assert market.broker().order_update(order_id).status is OrderStatus.PENDING
        # When the market opens and the next price arrives
        market.open = True
        market.exchange.set_price(CE, Decimal("121.50"))
        # Then it entered the book and filled
        update = market.broker().order_update(order_id)
        assert (update.status, update.average_price) == (OrderStatus.COMPLETE, Decimal("121.5"))
        assert statuses(market.kite, order_id)[-4:] == ["AMO REQ RECEIVED", "OPEN PENDING", "OPEN", "COMPLETE"]

    def test_modify_a_trigger_pending_order_keeps_it_waiting(self, market: Market) -> None:
        order_id = market.broker().place_order(a_request(OrderType.SL_M, side=Side.SELL, trigger="115.00"))

        market.kite.modify_order("regular", order_id, trigger_price=112, order_type="SL-M")

        history = statuses(market.kite, order_id)
        assert history[-4:] == ["MODIFY VALIDATION PENDING", "MODIFY PENDING", "MODIFIED", "TRIGGER PENDING"]
        assert market.broker().order_update(order_id).status is OrderStatus.TRIGGER_PENDING

    def test_cancel_a_resting_order(self, market: Market) -> None:
        order_id = market.broker().place_order(a_request(OrderType.LIMIT, price="100.00"))

        market.broker().cancel_order(order_id, Variety.REGULAR)

        assert market.broker().order_update(order_id).status is OrderStatus.CANCELLED


class TestPartialFills:
    def test_a_market_order_walks_the_levels_and_its_fills_add_up(self, market: Market) -> None:
        # Given 75 units per price level and a market BUY of 300
        market.exchange.liquidity = 75
        order_id = market.broker().place_order(a_request(OrderType.MARKET, quantity=300))

        fills = market.broker().order_fills(our_order(order_id, quantity=300))
        update = market.broker().order_update(order_id)
        [position] = market.kite.positions()["net"]

        # Then four fills of 75 a tick apart, adding up to the order and to the position
        assert [(f.quantity, f.price) for f in fills] == [
            (75, Decimal("120")),
            (75, Decimal("120.05")),
            (75, Decimal("120.1")),
            (75, Decimal("120.15")),
        ]
        assert sum(f.quantity for f in fills) == 300 == update.filled_quantity == position["quantity"]
        assert update.average_price == Decimal("120.075")
        assert Decimal(str(position["buy_value"])) == sum(f.price * f.quantity for f in fills)
        # And the receiver heard an interim UPDATE per partial fill, with the running filled quantity
        updates = [p for p in market.postbacks() if p["status"] in ("UPDATE", "COMPLETE")]
        assert [(p["status"], p["filled_quantity"]) for p in updates] == [
            ("UPDATE", 75),
            ("UPDATE", 150),
            ("UPDATE", 225),
            ("COMPLETE", 300),
        ]

    def test_a_resting_limit_order_fills_a_level_per_price_change(self, market: Market) -> None:
        market.exchange.liquidity = 75
        order_id = market.broker().place_order(a_request(OrderType.LIMIT, price="119.00", quantity=150))

        market.exchange.set_price(CE, Decimal("118.90"))
        half = market.broker().order_update(order_id)
        market.exchange.set_price(CE, Decimal("118.95"))
        whole = market.broker().order_update(order_id)

        assert (half.status, half.filled_quantity) == (OrderStatus.OPEN, 75)
        assert (whole.status, whole.filled_quantity) == (OrderStatus.COMPLETE, 150)
        assert [f.quantity for f in market.broker().order_fills(our_order(order_id, quantity=150))] == [75, 75]


class TestRejections:
    def test_insufficient_funds_is_kites_margin_exception(self, market: Market) -> None:
        market.exchange.funds = Decimal(10000)
        # 75 x 120 = 9,000 fits; a second order needs 9,000 more of the 1,000 left
        market.broker().place_order(a_request(OrderType.MARKET))

        with pytest.raises(kite_errors.GeneralException) as raw:
            market.kite.place_order(
                variety="regular",
                exchange="NFO",
                tradingsymbol=CE.tradingsymbol,
                transaction_type="BUY",
                quantity=75,
                product="NRML",
                order_type="MARKET",
                market_protection=-1,
            )
        with pytest.raises(BrokerRejected, match=r"^Insufficient funds\. Required margin is 9000\.00 but available"):
            market.broker().place_order(a_request(OrderType.MARKET))

        assert raw.value.code == 400
        assert str(raw.value) == "Insufficient funds. Required margin is 9000.00 but available margin is 1000.00."

    def test_a_price_outside_the_band_is_refused(self, market: Market) -> None:
        market.exchange.band = Decimal("0.2")
        with pytest.raises(BrokerRejected, match=r"higher than the current upper circuit limit of 144\.00"):
            market.broker().place_order(a_request(OrderType.LIMIT, price="144.05"))
        with pytest.raises(BrokerRejected, match=r"lower than the current lower circuit limit of 96\.00"):
            market.broker().place_order(a_request(OrderType.LIMIT, price="95.95"))
        assert market.kite.orders() == []

    def test_a_quantity_off_the_lot_size_is_refused(self, market: Market) -> None:
        with pytest.raises(kite_errors.InputException, match=r"multiple of the lot size \(75\)"):
            market.kite.place_order(
                variety="regular",
                exchange="NFO",
                tradingsymbol=CE.tradingsymbol,
                transaction_type="BUY",
                quantity=80,
                product="NRML",
                order_type="MARKET",
                market_protection=-1,
            )

    def test_a_tag_longer_than_kites_20_characters_is_refused(self, market: Market) -> None:
        # Our tag is our order id: 20 characters, exactly Kite's limit
        assert len(a_request().tag) == 20
        with pytest.raises(BrokerRejected, match="at most 20 characters"):
            market.broker().place_order(a_request(tag="x" * 21))

    def test_margins_show_what_working_orders_and_positions_hold(self, market: Market) -> None:
        market.exchange.funds = Decimal(100000)
        market.broker().place_order(a_request(OrderType.MARKET))  # holds 75 x 120 = 9,000
        market.broker().place_order(a_request(OrderType.LIMIT, price="100.00"))  # blocks 7,500

        equity = market.kite.margins()["equity"]

        assert equity["net"] == 100000 - 9000 - 7500

    def test_above_the_freeze_quantity_is_refused(self, market: Market) -> None:
        with pytest.raises(BrokerRejected, match="exceeds the freeze quantity 600"):
            market.broker().place_order(a_request(instrument=BANKNIFTY, quantity=630))
        assert market.kite.orders() == []

    def test_autoslice_answers_in_kites_shape_with_a_refused_child(self, market: Market) -> None:
        # Given funds for two slices of 600 at 900 (540,000 each) but not a third
        market.exchange.set_funds("AB1234", Decimal(1_100_000))

        reply = market.kite.place_autoslice_order(
            variety="regular",
            exchange="NFO",
            tradingsymbol=BANKNIFTY.tradingsymbol,
            transaction_type="BUY",
            quantity=1290,
            product="NRML",
            order_type="LIMIT",
            price=900,
        )

        sample = json.loads((MOCKS / "autoslice_response.json").read_text())["data"]
        assert set(reply) == set(sample)
        placed = [c["order_id"] for c in reply["children"] if "order_id" in c]
        [refused] = [c["error"] for c in reply["children"] if "error" in c]
        assert set(refused) == set(sample["children"][2]["error"])
        assert (refused["code"], refused["error_type"]) == (400, "MarginException")
        assert refused["message"].startswith("Insufficient funds. Required margin is 81000.00")
        assert reply["order_id"] not in placed
        assert [o["quantity"] for o in market.kite.orders()] == [600, 600]
        assert len(placed) == 2


class TestRateLimit:
    @pytest.fixture(autouse=True)
    def _fresh_limiters(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(ratelimit, "_limiters", {})

    def test_the_eleventh_order_request_in_a_second_gets_kites_429(self, market: Market) -> None:
        replies = []
        for _ in range(11):
            reply = requests.post(
                f"{market.url}/orders/regular",
                data={
                    "exchange": "NSE",
                    "tradingsymbol": "SBIN",
                    "transaction_type": "BUY",
                    "quantity": "1",
                    "product": "CNC",
                    "order_type": "MARKET",
                    "market_protection": "-1",
                },
                headers={"Authorization": f"token {API_KEY}:{market.kite.access_token}"},
                timeout=5,
            )
            replies.append(reply)

        assert [r.status_code for r in replies] == [200] * 10 + [429]
        assert replies[-1].json() == {
            "status": "error",
            "message": "Too many requests",
            "data": None,
            "error_type": "NetworkException",
        }
        assert market.exchange.too_many_requests == 1

    def test_without_the_limiter_kites_429_is_rate_limited(self, market: Market) -> None:
        broker = market.broker(order_rate=0)

        for _ in range(10):
            broker.place_order(a_request(instrument=SBIN, quantity=1))

        with pytest.raises(RateLimited):
            broker.place_order(a_request(instrument=SBIN, quantity=1))
        assert market.exchange.too_many_requests == 1

    def test_twenty_orders_through_the_limiter_never_meet_a_429(self, market: Market) -> None:
        # Two session objects of one account share the limiter, from two threads at once
        first, second = market.broker(account="AB1234", order_rate=8), market.broker(account="AB1234", order_rate=8)
        assert first.limiter is second.limiter
        errors: list[Exception] = []

        def place(broker: KiteBroker) -> None:
            for _ in range(10):
                try:
                    broker.place_order(a_request(instrument=SBIN, quantity=1))
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=place, args=(b,)) for b in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(market.kite.orders()) == 20
        assert market.exchange.too_many_requests == 0


class TestSessions:
    def test_the_token_dies_at_six_the_next_morning(self, market: Market) -> None:
        broker = market.broker()
        broker.place_order(a_request())
        market.clock.at = datetime(2026, 11, 24, 0, 29, tzinfo=UTC)  # 05:59 IST
        broker.order_book()

        market.clock.at += timedelta(minutes=1)  # 06:00 IST

        with pytest.raises(kite_errors.TokenException) as raw:
            market.kite.orders()
        assert raw.value.code == 403
        with pytest.raises(BrokerNotConnected, match="reconnect the broker account"):
            broker.place_order(a_request())
        with pytest.raises(BrokerNotConnected, match="reconnect"):
            broker.order_book()

    def test_a_new_session_after_expiry_works(self, market: Market) -> None:
        market.clock.at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
        market.kite.generate_session("paper-AB1234", api_secret=API_SECRET)

        assert market.broker().place_order(a_request()).isdigit()


class TestPlacementTimeouts:
    def test_a_timed_out_placement_is_found_by_its_tag_and_placed_once(self, market: Market) -> None:
        # Given an exchange that books the order but answers after the client gave up
        market.exchange.reply_delay = 1.5
        broker = market.broker(timeout=0.5, lookup_delays=(0.0, 0.3))

        broker_order_id = broker.place_order(a_request(tag="tag-timeout-0000001"))

        market.exchange.reply_delay = 0
        [only] = market.kite.orders()
        assert (only["order_id"], only["tag"]) == (broker_order_id, "tag-timeout-0000001")

    def test_a_placement_that_never_arrived_is_unknown_not_retried(self, market: Market) -> None:
        url = market.url
        market.server.stop()
        broker = KiteBroker(API_KEY, market.kite.access_token, root=url, timeout=0.5, lookup_delays=(0.0,))

        with pytest.raises(BrokerUnavailable, match="reconciled, not placed again"):
            broker.place_order(a_request())
        market.server.start(port=int(url.rsplit(":", 1)[1]))
        assert market.kite.orders() == []
