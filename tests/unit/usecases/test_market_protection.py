"""Market protection through the use cases (fakes): legs, placeOrder, exits; and the protection-price rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from brokers.protection import as_protected_limit
from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER, a_basket, a_leg, a_leg_input, a_strategy, an_instrument
from tests.unit.usecases.given import a_live_basket
from tests.unit.usecases.test_orders import an_order_input
from trading.errors import ValidationError
from trading.ids import BasketId, ClientRequestId, OrderId, TradeId
from trading.model import Fill, OrderType, Position, PositionKey, Product, Side, Validity, Variety
from trading.model.protection import AUTOMATIC, MarketProtection
from trading.ports import OrderRequest
from trading.rules.protection import protection_price
from trading.usecases.baskets import create_basket
from trading.usecases.execution import execute_basket
from trading.usecases.exits import exit_basket
from trading.usecases.orders import place_order
from trading.usecases.tickets import OrderTicket

if TYPE_CHECKING:
    from tests.fakes import Fakes

TICK = Decimal("0.05")
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_a_legs_protection_travels_to_the_broker(fakes: Fakes) -> None:
    # Given a MARKET leg with 2.5 % protection and a MARKET leg left automatic
    basket = a_basket(
        a_strategy(
            a_leg(order_type=OrderType.MARKET, price=None, market_protection=MarketProtection(Decimal("2.5"))),
            a_leg(instrument=NIFTY_PUT, side=Side.SELL, order_type=OrderType.MARKET, price=None),
        )
    )
    fakes.baskets.add(basket)
    # When it executes
    execution = execute_basket(fakes.ports, OWNER, basket.id, "mp-1")
    # Then each request carries its leg's protection, and the stored orders keep it
    assert [r.market_protection for r in fakes.broker.placed] == [MarketProtection(Decimal("2.5")), AUTOMATIC]
    assert [o.market_protection for o in execution.orders] == [MarketProtection(Decimal("2.5")), AUTOMATIC]


def test_place_order_sends_the_asked_protection(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    protection = MarketProtection(Decimal(1))
    placed = place_order(fakes.ports, OWNER, an_order_input(basket.id, market_protection=protection), "mp-2")
    assert placed.market_protection == protection
    assert (fakes.broker.placed[-1].order_type, fakes.broker.placed[-1].market_protection) == (
        OrderType.MARKET,
        protection,
    )


def test_exit_orders_are_market_orders_with_automatic_protection(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    before = len(fakes.broker.placed)
    exit_basket(fakes.ports, OWNER, basket.id, "mp-3")
    exits = fakes.broker.placed[before:]
    assert exits
    assert {(r.order_type, r.market_protection) for r in exits} == {(OrderType.MARKET, AUTOMATIC)}


@pytest.mark.parametrize("text", ["0", "-1", "100.01", "abc", "NaN"])
def test_protection_outside_0_to_100_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError, match="market protection must be"):
        MarketProtection.parse(text)


def test_protection_parses_auto_and_percentages() -> None:
    assert MarketProtection.parse(None) is AUTOMATIC
    assert MarketProtection.parse(" auto ") is AUTOMATIC
    assert MarketProtection.parse("100") == MarketProtection(Decimal(100))
    assert str(MarketProtection.parse("2.5")) == "2.5"


@pytest.mark.parametrize(
    ("side", "last", "percent", "expected"),
    [
        (Side.BUY, Decimal("100.00"), Decimal(1), Decimal("101.00")),
        (Side.BUY, Decimal("123.45"), Decimal(1), Decimal("124.65")),  # 124.6845 rounded down
        (Side.SELL, Decimal("123.45"), Decimal(1), Decimal("122.25")),  # 122.2155 rounded up
        (Side.SELL, Decimal("0.10"), Decimal(100), Decimal("0.05")),  # never below one tick
    ],
)
def test_protection_price_rounds_the_safe_way(side: Side, last: Decimal, percent: Decimal, expected: Decimal) -> None:
    price = protection_price(side, last, MarketProtection(percent), TICK)
    assert price == expected
    assert price % TICK == 0
    bound = last * (1 + percent / 100) if side is Side.BUY else last * (1 - percent / 100)
    assert price <= bound if side is Side.BUY else price >= bound or price == TICK


def test_protection_price_stays_inside_the_band() -> None:
    band = (Decimal(90), Decimal(110))
    assert protection_price(Side.BUY, Decimal(109), MarketProtection(Decimal(5)), TICK, band) == Decimal(110)
    assert protection_price(Side.SELL, Decimal(91), MarketProtection(Decimal(5)), TICK, band) == Decimal(90)


def test_an_sl_m_for_a_broker_without_market_orders_is_a_stop_limit_protected_from_its_trigger() -> None:
    request = OrderRequest(
        instrument=NIFTY_PUT,
        side=Side.SELL,
        quantity=65,
        order_type=OrderType.SL_M,
        product=Product.NRML,
        variety=Variety.REGULAR,
        validity=Validity.DAY,
        price=None,
        trigger_price=Decimal("80.00"),
        tag="t",
        market_protection=MarketProtection(Decimal(2)),
    )
    sent = as_protected_limit(request, an_instrument(), None)
    assert (sent.order_type, sent.price, sent.trigger_price) == (OrderType.SL, Decimal("78.40"), Decimal("80.00"))


class TestSliceCap:
    """At most 10 freeze-size slices per order (NIFTY: lot 65, freeze 1755 = 27 lots, so 270 lots fit)."""

    def test_a_leg_needing_11_slices_is_refused_naming_the_largest_quantity(self, fakes: Fakes) -> None:
        with pytest.raises(ValidationError, match=r"needs 11 slices .* the largest quantity that fits is 17550$"):
            create_basket(fakes.ports, OWNER, "big", [("s", [a_leg_input(lots=271)])])

    def test_a_leg_of_10_slices_executes_as_10_orders(self, fakes: Fakes) -> None:
        basket = create_basket(fakes.ports, OWNER, "ten", [("s", [a_leg_input(lots=270)])])
        execution = execute_basket(fakes.ports, OWNER, basket.id, "ten-1")
        assert [o.quantity for o in execution.orders] == [1755] * 10

    def test_place_order_above_the_cap_sends_nothing(self, fakes: Fakes) -> None:
        basket = a_live_basket(fakes)
        before = list(fakes.broker.placed)
        with pytest.raises(ValidationError, match="largest quantity that fits is 17550"):
            place_order(fakes.ports, OWNER, an_order_input(basket.id, quantity=17615), "cap-1")
        assert fakes.broker.placed == before

    def test_a_square_off_is_not_capped(self) -> None:
        # A position built by several orders is flattened whatever it takes: each slice is an order of its own
        bought = Fill(TradeId("t1"), OrderId("o1"), Side.BUY, 20_020, Decimal("100.00"), NOW)
        position = Position(PositionKey(BasketId("b"), None, NIFTY_CALL, Product.NRML), OWNER, fills=(bought,))
        ticket = OrderTicket.to_flatten(position, an_instrument())
        assert [o.quantity for o in ticket.orders(OWNER, BasketId("b"), ClientRequestId("x"), "paper", NOW)] == [
            *[1755] * 11,
            715,
        ]


def test_ioc_on_mcx_is_refused_and_ioc_elsewhere_is_not(fakes: Fakes) -> None:
    gold = an_instrument(exchange="MCX", tradingsymbol="GOLDM26DECFUT", lot_size=1, freeze_quantity=None)
    fakes.instruments.by_ref[gold.ref] = gold
    basket = a_live_basket(fakes)
    before = list(fakes.broker.placed)
    with pytest.raises(ValidationError, match="IOC orders are not allowed on MCX"):
        place_order(
            fakes.ports,
            OWNER,
            an_order_input(
                basket.id, exchange="MCX", tradingsymbol=gold.tradingsymbol, quantity=1, validity=Validity.IOC
            ),
            "ioc-1",
        )
    assert fakes.broker.placed == before
    place_order(fakes.ports, OWNER, an_order_input(basket.id, validity=Validity.IOC), "ioc-2")
    assert fakes.broker.placed[-1].validity is Validity.IOC
