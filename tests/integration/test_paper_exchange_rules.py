"""The paper exchange enforces Kite's 2026 rules: market protection, the MARKET -> LIMIT conversion, the
10-slice autoslice cap and no IOC on MCX — over loopback HTTP with the official kiteconnect client."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from tests.fakes import FixedClock
from tests.integration.test_paper_exchange import API_KEY, API_SECRET, INSTRUMENTS
from tests.integration.test_paper_exchange_complete import FROZEN, MORNING
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterator

NO_PROTECTION = "Market orders without market protection are not allowed via API"
GOLD = Instrument(
    token=53505799,
    exchange="MCX",
    tradingsymbol="GOLDM26DECFUT",
    name="GOLDM",
    instrument_type="FUT",
    segment="MCX-FUT",
    lot_size=1,
    tick_size=Decimal(1),
)


@pytest.fixture
def kite() -> Iterator[tuple[KiteConnect, PaperExchange]]:
    exchange = PaperExchange(
        [*INSTRUMENTS, FROZEN, GOLD],
        {"NSE:SBIN": Decimal("812.35"), "NFO:BANKNIFTY26DEC59000CE": Decimal(900), "MCX:GOLDM26DECFUT": Decimal(76000)},
        api_key=API_KEY,
        api_secret=API_SECRET,
        clock=FixedClock(MORNING),
        market_open=lambda exchange, at: True,
    )
    server = PaperExchangeServer(exchange)
    client = KiteConnect(API_KEY, root=server.start())
    client.generate_session("paper-AB1234", api_secret=API_SECRET)
    yield client, exchange
    server.stop()
    exchange.close(timeout=1)


def sbin(client: KiteConnect, **fields: Any) -> str:
    order: dict[str, Any] = {
        "variety": "regular",
        "exchange": "NSE",
        "tradingsymbol": "SBIN",
        "transaction_type": "BUY",
        "quantity": 10,
        "product": "MIS",
        "order_type": "MARKET",
        **fields,
    }
    return str(client.place_order(**order))


class TestMarketProtectionRequired:
    @pytest.mark.parametrize("protection", [None, 0])
    @pytest.mark.parametrize("order_type", ["MARKET", "SL-M"])
    def test_market_and_sl_m_without_protection_are_refused_with_kites_message(
        self, kite: tuple[KiteConnect, PaperExchange], order_type: str, protection: int | None
    ) -> None:
        client, _ = kite
        with pytest.raises(kite_errors.InputException) as refused:
            sbin(
                client,
                order_type=order_type,
                trigger_price=800 if order_type == "SL-M" else None,
                transaction_type="SELL",
                market_protection=protection,
            )
        assert (refused.value.code, str(refused.value)) == (400, NO_PROTECTION)
        assert client.orders() == []

    @pytest.mark.parametrize("protection", [-2, 100.5, "abc"])
    def test_protection_outside_automatic_or_0_to_100_is_refused(
        self, kite: tuple[KiteConnect, PaperExchange], protection: object
    ) -> None:
        client, _ = kite
        with pytest.raises(kite_errors.InputException, match=r"^Invalid `market_protection`\. Send -1"):
            sbin(client, market_protection=protection)
        assert client.orders() == []

    def test_limit_orders_need_no_protection(self, kite: tuple[KiteConnect, PaperExchange]) -> None:
        client, _ = kite
        order_id = sbin(client, order_type="LIMIT", price=800)
        assert client.order_history(order_id)[-1]["status"] == "OPEN"


class TestProtectedMarketBecomesLimit:
    def test_buy_fills_no_worse_than_the_protection_price_and_the_rest_rests_as_limit(
        self, kite: tuple[KiteConnect, PaperExchange]
    ) -> None:
        # Given 10 shares per price level and a BUY of 500 at 0.1 % protection from 812.35
        client, exchange = kite
        exchange.liquidity = 10
        # When it is placed
        order_id = sbin(client, quantity=500, market_protection=0.1)
        # Then it became a LIMIT at 812.35 x 1.001 = 813.16235, rounded down to the tick: 813.15
        row = client.order_history(order_id)[-1]
        assert (row["order_type"], row["price"], row["market_protection"]) == ("LIMIT", 813.15, 0.1)
        prices = [Decimal(str(t["average_price"])) for t in client.order_trades(order_id)]
        assert max(prices) == Decimal("813.15")
        assert min(prices) == Decimal("812.35")
        # 17 levels from 812.35 to 813.15, 10 each; the remaining 330 rest OPEN at the protection price
        assert (row["status"], row["filled_quantity"], row["pending_quantity"]) == ("OPEN", 170, 330)
        # And a later price above the protection fills nothing more
        exchange.set_price("NSE:SBIN", Decimal("813.20"))
        assert client.order_history(order_id)[-1]["filled_quantity"] == 170

    def test_sell_protection_rounds_up_and_automatic_uses_the_documented_table(
        self, kite: tuple[KiteConnect, PaperExchange]
    ) -> None:
        client, exchange = kite
        exchange.liquidity = 10
        # SELL 2 %: 812.35 x 0.98 = 796.103, rounded up to the tick: 796.15
        sell = client.order_history(sbin(client, transaction_type="SELL", quantity=20, market_protection=2))[-1]
        # automatic BUY: 1 % for prices from 500 to 5000: 820.4735, rounded down: 820.45
        buy = client.order_history(sbin(client, quantity=10, market_protection=-1))[-1]
        assert (sell["order_type"], sell["price"], sell["status"]) == ("LIMIT", 796.15, "COMPLETE")
        assert (buy["order_type"], buy["price"], buy["market_protection"]) == ("LIMIT", 820.45, -1)
        assert all(Decimal(str(t["average_price"])) >= Decimal("796.15") for t in client.order_trades(sell["order_id"]))

    def test_a_triggered_sl_m_becomes_a_limit_at_the_protection_from_the_trigger_price(
        self, kite: tuple[KiteConnect, PaperExchange]
    ) -> None:
        client, exchange = kite
        order_id = sbin(client, order_type="SL-M", transaction_type="SELL", trigger_price=800, market_protection=1)
        assert client.order_history(order_id)[-1]["status"] == "TRIGGER PENDING"

        exchange.set_price("NSE:SBIN", Decimal("799.95"))

        row = client.order_history(order_id)[-1]
        # 799.95 x 0.99 = 791.9505, rounded up to the tick: 792.00
        assert (row["status"], row["order_type"], row["price"], row["average_price"]) == (
            "COMPLETE",
            "LIMIT",
            792,
            799.95,
        )

    def test_modifying_to_market_needs_protection_and_converts(self, kite: tuple[KiteConnect, PaperExchange]) -> None:
        client, _ = kite
        order_id = sbin(client, order_type="LIMIT", price=800)
        with pytest.raises(kite_errors.InputException, match=NO_PROTECTION):
            client.modify_order("regular", order_id, order_type="MARKET")
        client.modify_order("regular", order_id, order_type="MARKET", market_protection=-1)
        row = client.order_history(order_id)[-1]
        assert (row["status"], row["order_type"], row["price"], row["average_price"]) == (
            "COMPLETE",
            "LIMIT",
            820.45,
            812.35,
        )


class TestSliceAndValidityLimits:
    def test_an_autoslice_needing_more_than_10_slices_is_refused_naming_the_largest_that_fits(
        self, kite: tuple[KiteConnect, PaperExchange]
    ) -> None:
        client, _ = kite
        order = {
            "variety": "regular",
            "exchange": "NFO",
            "tradingsymbol": FROZEN.tradingsymbol,
            "transaction_type": "BUY",
            "product": "NRML",
            "order_type": "LIMIT",
            "price": 900,
        }
        with pytest.raises(kite_errors.InputException) as refused:
            client.place_autoslice_order(quantity=6030, **order)
        assert refused.value.code == 400
        assert "needs 11 slices of the freeze quantity 600" in str(refused.value)
        assert str(refused.value).endswith("Place at most 6000.")
        assert client.orders() == []

        reply = client.place_autoslice_order(quantity=6000, **order)
        assert len(reply["children"]) == 10
        assert all("order_id" in child for child in reply["children"])

    def test_ioc_on_mcx_is_refused(self, kite: tuple[KiteConnect, PaperExchange]) -> None:
        client, _ = kite
        gold = {
            "variety": "regular",
            "exchange": "MCX",
            "tradingsymbol": GOLD.tradingsymbol,
            "transaction_type": "BUY",
            "quantity": 1,
            "product": "NRML",
            "order_type": "LIMIT",
            "price": 76000,
        }
        with pytest.raises(kite_errors.InputException, match=r"^IOC orders are not allowed for MCX"):
            client.place_order(validity="IOC", **gold)
        assert client.orders() == []
        assert client.order_history(client.place_order(validity="DAY", **gold))[-1]["status"] == "COMPLETE"

    def test_ioc_elsewhere_is_still_taken(self, kite: tuple[KiteConnect, PaperExchange]) -> None:
        client, _ = kite
        order_id = sbin(client, order_type="LIMIT", price=800, validity="IOC")
        assert client.order_history(order_id)[-1]["status"] == "CANCELLED"


class TestModificationLimits:
    def test_a_26th_modification_is_refused_with_kites_order_exception(
        self, kite: tuple[KiteConnect, PaperExchange]
    ) -> None:
        client, exchange = kite
        exchange.order_rate = None  # 26 requests in a row; the 10/s limit has its own tests
        order_id = sbin(client, order_type="LIMIT", price=700)
        for step in range(25):
            client.modify_order("regular", order_id, price=700 + step + 1)
        with pytest.raises(kite_errors.OrderException) as refused:
            client.modify_order("regular", order_id, price=800)
        assert (refused.value.code, str(refused.value)) == (400, "Maximum allowed order modifications exceeded.")
        assert client.order_history(order_id)[-1]["price"] == 725

    def test_a_complete_order_cannot_be_modified(self, kite: tuple[KiteConnect, PaperExchange]) -> None:
        client, _ = kite
        order_id = sbin(client, market_protection=-1)
        with pytest.raises(kite_errors.OrderException, match=r"^Order cannot be modified as it is complete\.$"):
            client.modify_order("regular", order_id, quantity=20)
