"""Reconciliation over the embedded DynamoDB with a fake broker: adoption by tag, missed updates and fills,
abandonment after the grace period, and what it leaves alone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.builders import NOW, a_basket, a_fill, an_order, placed
from tests.fakes import FixedClock
from trading.errors import BrokerNotConnected
from trading.ids import BrokerOrderId
from trading.model import BasketStatus, Fill, Order, OrderStatus, OrderUpdate
from trading.ports import Ports
from trading.usecases.reconciliation import reconcile_owner

if TYPE_CHECKING:
    from datetime import datetime

    from store import DynamoStore
    from trading.ids import OwnerId
    from trading.model import Variety
    from trading.ports import OrderRequest


@dataclass
class FakeBroker:
    """The broker's side: an order book and its trades; placing anything fails the test."""

    name: str = "paper"
    book: list[OrderUpdate] = field(default_factory=list)
    trades: dict[str, list[Fill]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def order_book(self) -> list[OrderUpdate]:
        self.calls.append("order_book")
        return list(self.book)

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        raise AssertionError("reconciliation must never place an order")

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        raise AssertionError("reconciliation must never cancel an order")

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        return next(u for u in self.book if u.broker_order_id == broker_order_id)

    def order_fills(self, order: Order) -> list[Fill]:
        self.calls.append(f"order_fills:{order.broker_order_id}")
        return [replace(f, order_id=order.id) for f in self.trades.get(str(order.broker_order_id), [])]


@dataclass
class FakeBrokers:
    broker: FakeBroker

    def for_owner(self, owner: OwnerId, broker: str | None = None) -> FakeBroker:
        if broker is not None and broker != self.broker.name:
            raise BrokerNotConnected(f"{broker.upper()} is not available on this deployment")
        return self.broker


def ports_of(store: DynamoStore, broker: FakeBroker, at: datetime) -> Ports:
    return Ports(
        baskets=store.baskets,
        orders=store.orders,
        instruments=store.instruments,
        marks=store.marks,
        requests=store.requests,
        brokers=FakeBrokers(broker),
        clock=FixedClock(at),
        deliveries=store.deliveries,
    )


def test_an_order_placed_but_unconfirmed_is_adopted_by_its_tag_with_its_fills(store: DynamoStore) -> None:
    # Given our PENDING order without a broker id, and the broker's COMPLETE order tagged with our id
    basket = a_basket(status=BasketStatus.LIVE)
    store.baskets.add(basket)
    order = an_order(basket)
    store.orders.add_all([order])
    theirs = BrokerOrderId("2601050000000042")
    broker = FakeBroker(
        book=[OrderUpdate(theirs, OrderStatus.COMPLETE, tag=order.id, filled_quantity=order.quantity)],
        trades={theirs: [a_fill(order, quantity=65), a_fill(order, quantity=65, price=Decimal("120.00"))]},
    )

    report = reconcile_owner(ports_of(store, broker, NOW + timedelta(seconds=5)), order.owner)

    ours = store.orders.get(order.owner, order.id)
    assert (report.checked, report.adopted, report.updated, report.fills) == (1, 1, 1, 2)
    assert (ours.broker_order_id, ours.status, ours.filled_quantity) == (theirs, OrderStatus.COMPLETE, 130)
    assert ours.filled_value == Decimal("120.05") * 65 + Decimal("120.00") * 65
    # And a second pass finds nothing left to do
    again = reconcile_owner(ports_of(store, broker, NOW + timedelta(seconds=6)), order.owner)
    assert (again.checked, again.fills) == (0, 0)


def test_an_order_the_broker_never_saw_is_rejected_only_after_the_grace_period(store: DynamoStore) -> None:
    basket = a_basket(status=BasketStatus.LIVE)
    store.baskets.add(basket)
    order = an_order(basket)
    store.orders.add_all([order])
    broker = FakeBroker(book=[])

    early = reconcile_owner(ports_of(store, broker, NOW + timedelta(seconds=30)), order.owner)
    assert store.orders.get(order.owner, order.id).status is OrderStatus.PENDING
    late = reconcile_owner(ports_of(store, broker, NOW + timedelta(minutes=3)), order.owner)

    ours = store.orders.get(order.owner, order.id)
    assert (early.abandoned, late.abandoned) == (0, 1)
    assert ours.status is OrderStatus.REJECTED
    assert ours.status_message is not None and "never reached" in ours.status_message


def test_a_missed_partial_fill_is_applied_without_moving_the_status_backwards(store: DynamoStore) -> None:
    # Given an OPEN order we know of, and the broker's book saying UPDATE (a partial fill) with 65 filled
    basket = a_basket(status=BasketStatus.LIVE)
    store.baskets.add(basket)
    order = placed(an_order(basket, status=OrderStatus.OPEN))
    store.orders.add_all([order])
    assert order.broker_order_id
    broker = FakeBroker(
        book=[OrderUpdate(order.broker_order_id, None, tag=order.id, filled_quantity=65)],
        trades={order.broker_order_id: [a_fill(order, quantity=65)]},
    )

    report = reconcile_owner(ports_of(store, broker, NOW), order.owner)

    ours = store.orders.get(order.owner, order.id)
    assert (report.updated, report.fills) == (0, 1)
    assert (ours.status, ours.filled_quantity) == (OrderStatus.OPEN, 65)


def test_finished_orders_are_left_alone_and_an_unreachable_broker_only_holds_back_its_own(store: DynamoStore) -> None:
    basket = a_basket(status=BasketStatus.LIVE)
    store.baskets.add(basket)
    done = placed(an_order(basket, status=OrderStatus.CANCELLED))
    elsewhere = an_order(basket, broker="kite")
    lost = an_order(basket)  # at the paper broker, which never saw it
    store.orders.add_all([done, elsewhere, lost])
    broker = FakeBroker(book=[])

    report = reconcile_owner(ports_of(store, broker, NOW + timedelta(hours=1)), done.owner)

    # The paper order is settled; the kite one waits for a kite session, and the report says why
    assert (report.checked, report.abandoned) == (1, 1)
    assert store.orders.get(lost.owner, lost.id).status is OrderStatus.REJECTED
    assert store.orders.get(elsewhere.owner, elsewhere.id).status is OrderStatus.PENDING
    assert any("KITE is not available" in problem for problem in report.problems)


def test_when_no_broker_of_the_unsettled_orders_can_be_reached_reconciliation_says_so(store: DynamoStore) -> None:
    basket = a_basket(status=BasketStatus.LIVE)
    store.baskets.add(basket)
    elsewhere = an_order(basket, broker="kite")
    store.orders.add_all([elsewhere])

    with pytest.raises(BrokerNotConnected, match="KITE"):
        reconcile_owner(ports_of(store, FakeBroker(book=[]), NOW + timedelta(hours=1)), elsewhere.owner)
    assert store.orders.get(elsewhere.owner, elsewhere.id).status is OrderStatus.PENDING
