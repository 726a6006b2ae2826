"""The paper exchange's margin routes over loopback HTTP (kiteconnect and `KiteBroker`): Kite's shapes, the spread
offset, positions considered, and placement refusing by the same numbers."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from brokers.kite.broker import KiteBroker
from brokers.paper import span
from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from trading.errors import BrokerRejected
from trading.model import OrderType, Product, Side, Validity, Variety
from trading.model.instrument import Instrument
from trading.model.margin import Segment
from trading.ports import OrderRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

MOCKS = next(
    p / "shared" / "kite-mocks" for p in Path(__file__).resolve().parents if (p / "shared" / "kite-mocks").is_dir()
)
API_KEY, API_SECRET = "margin-key", "margin-secret"
LOT = 65


def a_call(strike: int, token: int) -> Instrument:
    return Instrument(
        token=token,
        exchange="NFO",
        tradingsymbol=f"NIFTY26DEC{strike}CE",
        name="NIFTY",
        instrument_type="CE",
        segment="NFO-OPT",
        lot_size=LOT,
        tick_size=Decimal("0.05"),
        expiry=date(2026, 12, 29),
        strike=Decimal(strike),
    )


SHORT_CALL, LONG_CALL = a_call(24000, 9001), a_call(24200, 9002)
PRICES = {SHORT_CALL.ref: Decimal(120), LONG_CALL.ref: Decimal(40)}
SPREAD_MARGIN = (200 - (120 - 40)) * LOT  # the bear call spread's largest loss


def ticket(instrument: Instrument, side: str, order_type: str = "MARKET") -> dict[str, Any]:
    return {
        "exchange": "NFO",
        "tradingsymbol": instrument.tradingsymbol,
        "transaction_type": side,
        "variety": "regular",
        "product": "NRML",
        "order_type": order_type,
        "quantity": LOT,
        "price": 0,
        "trigger_price": 0,
    }


def request(instrument: Instrument, side: Side) -> OrderRequest:
    return OrderRequest(
        instrument=instrument.ref,
        side=side,
        quantity=LOT,
        order_type=OrderType.MARKET,
        product=Product.NRML,
        variety=Variety.REGULAR,
        validity=Validity.DAY,
        price=None,
        trigger_price=None,
        tag=f"t-{instrument.token}-{side.value}",
    )


def sample(name: str) -> Any:
    return json.loads((MOCKS / name).read_text())["data"]


class Market:
    def __init__(self) -> None:
        self.exchange = PaperExchange([SHORT_CALL, LONG_CALL], PRICES, api_key=API_KEY, api_secret=API_SECRET)
        self.server = PaperExchangeServer(self.exchange)
        self.url = self.server.start()
        self.kite = KiteConnect(API_KEY, root=self.url)
        self.kite.generate_session("paper-MG0001", api_secret=API_SECRET)
        self.broker = KiteBroker(API_KEY, self.kite.access_token, root=self.url, name="paper")

    def close(self) -> None:
        self.server.stop()
        self.exchange.close(timeout=1)


@pytest.fixture
def market() -> Iterator[Market]:
    running = Market()
    yield running
    running.close()


def keys(value: Any) -> Any:
    """The shape of a JSON value: its keys, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def test_every_route_answers_in_kites_shape(market: Market) -> None:
    spread = [ticket(SHORT_CALL, "SELL"), ticket(LONG_CALL, "BUY")]
    basket = market.kite.basket_order_margins(spread, consider_positions=True)
    assert keys(basket) == keys(sample("basket_margins.json"))
    assert keys(market.kite.order_margins(spread)) == keys(sample("order_margins.json"))
    note = market.kite.get_virtual_contract_note([{**spread[0], "order_id": "1", "average_price": 120}])
    assert keys(note) == keys(sample("virtual_contract_note.json")[:1])
    assert keys(market.kite.margins("equity")) == keys(sample("margins_equity.json"))
    assert keys(market.kite.margins()) == keys(sample("margins.json"))


def test_a_bear_call_spread_blocks_its_largest_loss_and_each_leg_alone_more(market: Market) -> None:
    # When
    margin = market.broker.basket_margin([request(LONG_CALL, Side.BUY), request(SHORT_CALL, Side.SELL)])
    # Then
    premium = Decimal(40 * LOT)
    short_alone = Decimal(24000 * LOT) * (span.SPAN_RATE + span.EXPOSURE_RATE)
    assert [o.margin.total for o in margin.orders] == [premium, short_alone]
    assert margin.initial.total == premium + short_alone
    assert margin.final.total == SPREAD_MARGIN
    assert margin.final.total < sum(o.margin.total for o in margin.orders)
    assert margin.charges.brokerage == Decimal(40)


def test_an_open_short_is_considered_only_when_asked(market: Market) -> None:
    # Given a filled short call
    market.broker.place_order(request(SHORT_CALL, Side.SELL))
    hedge = [request(LONG_CALL, Side.BUY)]
    # When / Then its wing releases more than it costs with positions considered, and costs its premium without
    assert market.broker.basket_margin(hedge, consider_positions=True).final.total == 0
    assert market.broker.basket_margin(hedge, consider_positions=False).final.total == 40 * LOT


def test_placement_refuses_by_the_models_numbers(market: Market) -> None:
    # Given exactly the spread's margin: the wing, then the short, go through
    market.exchange.set_funds("MG0001", Decimal(SPREAD_MARGIN))
    market.broker.place_order(request(LONG_CALL, Side.BUY))
    market.broker.place_order(request(SHORT_CALL, Side.SELL))
    funds = market.broker.funds(Segment.EQUITY)
    assert (funds.available, funds.used) == (0, SPREAD_MARGIN)
    # and with a paisa less than a second spread, its wing goes through and its short is refused, saying what it
    # needs: the spread less the wing's premium
    market.exchange.set_funds("MG0001", Decimal(2 * SPREAD_MARGIN) - Decimal("0.01"))
    market.broker.place_order(request(LONG_CALL, Side.BUY))
    with pytest.raises(BrokerRejected, match=rf"Required margin is {SPREAD_MARGIN - 40 * LOT}\.00 "):
        market.broker.place_order(request(SHORT_CALL, Side.SELL))
    assert len(market.kite.orders()) == 3


def test_a_malformed_margin_request_is_refused_as_kite_refuses_input(market: Market) -> None:
    with pytest.raises(kite_errors.InputException, match="JSON list of orders"):
        market.kite.basket_order_margins({"not": "a list"})
    with pytest.raises(kite_errors.InputException, match="Unknown instrument NFO:NIFTY26DEC99999CE"):
        market.kite.order_margins([{**ticket(SHORT_CALL, "SELL"), "tradingsymbol": "NIFTY26DEC99999CE"}])
    with pytest.raises(kite_errors.InputException, match="quantity"):
        market.kite.get_virtual_contract_note([{**ticket(SHORT_CALL, "SELL"), "quantity": 0}])
    with pytest.raises(kite_errors.InputException, match="segment"):
        market.kite.margins("currency")
