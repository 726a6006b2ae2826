"""One adapter contract, three adapters: Kite (against the paper exchange), Angel One and Shoonya.

Every adapter runs through its official SDK over real loopback HTTP.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.contract.venues import LIMIT, QUANTITY, REF, VENUES, SentChange
from trading.errors import BrokerNotConnected, BrokerRejected
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId
from trading.model import Order, OrderStatus, OrderType, Product, Side, Validity, Variety
from trading.model.protection import AUTOMATIC, MarketProtection
from trading.ports import OrderChange, OrderRequest

if TYPE_CHECKING:
    from tests.contract.venues import Venue

TAG = "contract-tag"
TICKET = OrderRequest(
    instrument=REF,
    side=Side.BUY,
    quantity=QUANTITY,
    order_type=OrderType.LIMIT,
    product=Product.NRML,
    variety=Variety.REGULAR,
    validity=Validity.DAY,
    price=LIMIT,
    trigger_price=None,
    tag=TAG,
)


def our_order(broker_order_id: str, broker: str) -> Order:
    now = datetime.now(UTC)
    return Order(
        id=OrderId("ord-contract"),
        owner=OwnerId("owner-contract"),
        basket_id=BasketId("basket-contract"),
        client_request_id=ClientRequestId("crid-contract"),
        broker=broker,
        instrument=REF,
        side=Side.BUY,
        quantity=QUANTITY,
        order_type=OrderType.LIMIT,
        product=Product.NRML,
        price=LIMIT,
        created_at=now,
        updated_at=now,
        broker_order_id=BrokerOrderId(broker_order_id),
    )


def test_placing_returns_the_broker_order_id_and_sends_the_venues_own_terms(venue: Venue) -> None:
    # When
    broker_order_id = venue.broker.place_order(TICKET)

    # Then
    assert broker_order_id
    assert isinstance(broker_order_id, str)
    sent = venue.last_order()
    assert sent.symbol == venue.symbol
    assert (sent.quantity, sent.side, sent.product, sent.order_type) == (
        QUANTITY,
        venue.buy,
        venue.product_nrml,
        venue.limit_type,
    )
    assert sent.price == LIMIT
    assert sent.tag == TAG


def test_a_resting_order_is_open_then_complete_with_the_exact_average(venue: Venue) -> None:
    # Given
    broker_order_id = venue.broker.place_order(TICKET)

    # When / Then
    resting = venue.broker.order_update(broker_order_id)
    assert resting.broker_order_id == broker_order_id
    assert resting.status is OrderStatus.OPEN
    assert resting.filled_quantity == 0

    trades = venue.fill(broker_order_id)
    done = venue.broker.order_update(broker_order_id)
    assert done.status is OrderStatus.COMPLETE
    assert done.filled_quantity == QUANTITY
    expected_average = sum(q * p for q, p in trades) / sum(q for q, _ in trades)
    assert done.average_price == expected_average
    assert done.at is not None
    assert done.at.tzinfo is not None


def test_fills_are_the_venues_exact_trades_of_that_order(venue: Venue) -> None:
    # Given
    broker_order_id = venue.broker.place_order(TICKET)
    assert venue.broker.order_fills(our_order(broker_order_id, venue.broker.name)) == []
    trades = venue.fill(broker_order_id)

    # When
    fills = venue.broker.order_fills(our_order(broker_order_id, venue.broker.name))

    # Then
    assert sorted((f.quantity, f.price) for f in fills) == sorted(trades)
    assert sum(f.quantity for f in fills) == QUANTITY
    assert all(isinstance(f.price, Decimal) for f in fills)
    assert len({f.trade_id for f in fills}) == len(fills)
    assert {f.order_id for f in fills} == {OrderId("ord-contract")}
    assert {f.side for f in fills} == {Side.BUY}
    assert all(f.filled_at.tzinfo is not None for f in fills)


def test_cancelling_a_working_order_ends_it_cancelled(venue: Venue) -> None:
    # Given
    broker_order_id = venue.broker.place_order(TICKET)

    # When
    venue.broker.cancel_order(broker_order_id, Variety.REGULAR)

    # Then
    cancelled = venue.broker.order_update(broker_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_quantity == 0


def test_a_refused_order_is_broker_rejected_with_the_venues_message(venue: Venue) -> None:
    # Given
    venue.arm_rejection()

    # When / Then
    with pytest.raises(BrokerRejected) as refused:
        venue.broker.place_order(replace(TICKET, quantity=1))
    assert venue.rejection in refused.value.message


def test_a_refused_token_is_broker_not_connected_on_every_call(venue: Venue) -> None:
    # Given
    broker_order_id = venue.broker.place_order(TICKET)

    # When
    venue.expire_token()

    # Then
    with pytest.raises(BrokerNotConnected, match="reconnect"):
        venue.broker.place_order(TICKET)
    with pytest.raises(BrokerNotConnected, match="reconnect"):
        venue.broker.order_update(broker_order_id)
    with pytest.raises(BrokerNotConnected, match="reconnect"):
        venue.broker.order_fills(our_order(broker_order_id, venue.broker.name))
    with pytest.raises(BrokerNotConnected, match="reconnect"):
        venue.broker.cancel_order(broker_order_id, Variety.REGULAR)


MARKET_TICKET = replace(TICKET, order_type=OrderType.MARKET, price=None)


@pytest.mark.parametrize(
    ("protection", "kite_value", "limit"),
    [
        # 318.65 x 1.02 = 325.023, rounded down to the 0.05 tick
        (MarketProtection(Decimal(2)), Decimal(2), Decimal("325.00")),
        # automatic: the documented table's 2 % for last prices from 100 up to 500
        (AUTOMATIC, Decimal(-1), Decimal("325.00")),
        (MarketProtection(Decimal("0.5")), Decimal("0.5"), Decimal("320.20")),
    ],
)
def test_a_market_order_carries_its_protection_and_lands_as_a_limit_at_the_protection_price(
    venue: Venue, protection: MarketProtection, kite_value: Decimal, limit: Decimal
) -> None:
    # When a MARKET BUY is placed with market protection (the latest mark / last price is 318.65)
    venue.broker.place_order(replace(MARKET_TICKET, market_protection=protection))

    # Then Kite's exchange converted it to a LIMIT at the protection price, and the others were sent one
    sent = venue.last_order()
    assert (sent.order_type, sent.price) == (venue.limit_type, limit)
    if venue.takes_market_orders:
        assert sent.market_protection == kite_value


def test_a_market_sell_is_protected_below_the_last_price(venue: Venue) -> None:
    venue.broker.place_order(replace(MARKET_TICKET, side=Side.SELL, market_protection=MarketProtection(Decimal(1))))

    sent = venue.last_order()
    # 318.65 x 0.99 = 315.4635, rounded up to the tick: the protection never goes past the percentage
    assert (sent.order_type, sent.price) == (venue.limit_type, Decimal("315.50"))


@pytest.mark.parametrize("name", ["angel", "shoonya"])
def test_without_a_mark_a_broker_that_forbids_market_orders_refuses_before_sending(name: str) -> None:
    # Given a broker that takes no MARKET orders from algos, and no mark yet for the instrument
    venue = VENUES[name]()
    try:
        assert venue.marks is not None
        venue.marks.prices.clear()
        # When / Then the order is refused here, and nothing reached the broker
        with pytest.raises(BrokerRejected, match="no last price"):
            venue.broker.place_order(MARKET_TICKET)
        assert venue.takes_market_orders is False
        with pytest.raises(StopIteration):
            venue.last_order()
    finally:
        venue.close()


def test_a_working_order_takes_a_new_price_then_becomes_a_protected_market_order(venue: Venue) -> None:
    # Given a resting LIMIT BUY of 130 at 300 (the last price is 318.65)
    order = our_order(venue.broker.place_order(TICKET), venue.name)

    # When its price moves to 301
    venue.broker.modify_order(order, OrderChange(OrderType.LIMIT, QUANTITY, Decimal("301.00"), None, Validity.DAY))
    # Then the venue got (or holds) the new price, in its own words
    assert venue.last_change() == SentChange(QUANTITY, venue.limit_type, Decimal("301.00"))

    # When it becomes a MARKET order with 2 % protection
    venue.broker.modify_order(
        order, OrderChange(OrderType.MARKET, QUANTITY, None, None, Validity.DAY, MarketProtection(Decimal(2)))
    )
    # Then it is a LIMIT at the protection price: 318.65 x 1.02 rounded down to the tick
    assert venue.last_change() == SentChange(QUANTITY, venue.limit_type, Decimal("325.00"))


def test_angel_refuses_ioc_before_sending() -> None:
    # Angel One prohibits IOC orders from algos (April 2026): refused here, nothing reaches Angel
    venue = VENUES["angel"]()
    try:
        with pytest.raises(BrokerRejected, match="no IOC orders"):
            venue.broker.place_order(replace(TICKET, validity=Validity.IOC))
        with pytest.raises(StopIteration):
            venue.last_order()
    finally:
        venue.close()
