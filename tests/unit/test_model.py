"""Order lifecycle, fills and positions: the domain's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.errors import Conflict, ValidationError
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import (
    Basket,
    BasketStatus,
    Fill,
    InstrumentRef,
    Order,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionKey,
    Product,
    Side,
    decide_fill,
)

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
CE = InstrumentRef("NFO", "NIFTY26DEC26000CE")


def an_order(side: Side = Side.BUY, quantity: int = 130) -> Order:
    return Order(
        id=OrderId("o1"),
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
    )


def a_fill(trade: str, quantity: int, price: str, side: Side = Side.BUY) -> Fill:
    return Fill(TradeId(trade), OrderId("o1"), side, quantity, Decimal(price), NOW)


def update(status: OrderStatus) -> OrderUpdate:
    return OrderUpdate(BrokerOrderId("k1"), status)


def test_order_moves_forward_through_its_lifecycle() -> None:
    order = an_order()
    assert order.apply_update(update(OrderStatus.OPEN))
    assert order.apply_update(update(OrderStatus.COMPLETE))
    assert order.status is OrderStatus.COMPLETE


@pytest.mark.parametrize(
    ("first", "late"),
    [
        (OrderStatus.OPEN, OrderStatus.PENDING),
        (OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING),
        (OrderStatus.COMPLETE, OrderStatus.OPEN),
        (OrderStatus.CANCELLED, OrderStatus.COMPLETE),
        (OrderStatus.REJECTED, OrderStatus.OPEN),
    ],
)
def test_a_late_report_never_moves_an_order_backwards_or_out_of_a_terminal_status(
    first: OrderStatus, late: OrderStatus
) -> None:
    # Given an order already at `first`
    order = an_order()
    order.apply_update(update(first))
    # When an older report arrives
    changed = order.apply_update(update(late))
    # Then nothing changes
    assert not changed
    assert order.status is first


def record(order: Order, position: Position, fill: Fill) -> Position:
    """What the store does with a decision: the order and position take exactly what was decided."""
    decision = decide_fill(order, position, fill)
    assert decision is not None
    order.take(decision)
    return decision.position


def a_position() -> Position:
    return Position(PositionKey(BasketId("b1"), None, CE, Product.NRML), OwnerId("alice"))


def test_fills_add_up_and_average_price_is_exact() -> None:
    order = an_order(quantity=130)
    position = record(order, a_position(), a_fill("t1", 65, "100.05"))
    position = record(order, position, a_fill("t2", 65, "100.10"))
    assert order.filled_quantity == 130
    assert order.average_price == Decimal("100.075")
    assert (position.version, position.net_quantity) == (2, 130)


def test_a_fill_cannot_overfill_or_belong_to_another_side() -> None:
    order = an_order(quantity=65)
    position = record(order, a_position(), a_fill("t1", 65, "100"))
    with pytest.raises(ValidationError, match="overfills"):
        decide_fill(order, position, a_fill("t2", 65, "100"))
    with pytest.raises(ValidationError, match="does not belong"):
        order.check_fill(a_fill("t3", 65, "100", side=Side.SELL))
    assert decide_fill(order, position, a_fill("t1", 65, "100")) is None  # a replay: nothing to write


def test_position_applies_a_trade_once_and_prices_by_kites_formula() -> None:
    # Given a position bought 10 @ 100 and sold 4 @ 110
    position = Position(PositionKey(BasketId("b1"), StrategyId("s1"), CE, Product.NRML), OwnerId("alice"))
    assert position.apply(a_fill("t1", 10, "100"))
    assert position.apply(a_fill("t2", 4, "110", side=Side.SELL))
    # When the same trade is replayed
    assert not position.apply(a_fill("t1", 10, "100"))
    # Then it counts once, and P&L follows (sell - buy) + net * ltp * multiplier
    assert position.net_quantity == 6
    last = Decimal("105")
    assert position.pnl(last) == (Decimal(440) - Decimal(1000)) + 6 * last
    assert position.realised == Decimal(40)  # 4 closed against the average of 100
    assert position.unrealised(last) == Decimal(30)  # 6 open at 100, marked at 105


def test_basket_edits_only_in_draft_and_execution_needs_legs() -> None:
    basket = Basket(BasketId("b1"), OwnerId("alice"), "condor", NOW, NOW)
    with pytest.raises(ValidationError, match="no legs"):
        basket.start_execution()
    basket.status = BasketStatus.LIVE
    with pytest.raises(Conflict, match="only a DRAFT basket can be executed"):
        basket.start_execution()
    with pytest.raises(Conflict, match="only a DRAFT basket can be edited"):
        basket.remove_strategy(StrategyId("s1"))
