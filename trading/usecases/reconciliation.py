"""Reconciliation: make our orders agree with the broker's order book and trades.

Postbacks get lost (a receiver down, a retry budget spent) and a placement can time out after the
broker took the order. This use case compares the owner's unfinished orders with the broker's book,
adopts orders found by their tag (our order id), applies missed status changes and exact fills, and
gives up on orders the broker never received. It never places an order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from trading.errors import BrokerNotConnected, BrokerUnavailable, Conflict
from trading.ids import BrokerOrderId
from trading.model import OrderStatus, OrderUpdate
from trading.usecases.orders import BrokerUpdatePorts, apply_fill, apply_order_update_to, settle_basket

if TYPE_CHECKING:
    from trading.ids import BasketId, OwnerId
    from trading.model import Order
    from trading.ports import Broker

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(minutes=2)
RECENT_ORDERS = 100


# Reconciliation reads orders and brokers and settles baskets: what a broker's update needs.
ReconcilePorts = BrokerUpdatePorts


@dataclass
class Reconciliation:
    """What one pass found and did, per owner or summed."""

    checked: int = 0
    updated: int = 0
    fills: int = 0
    adopted: int = 0
    abandoned: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Reconciliation) -> None:
        self.checked += other.checked
        self.updated += other.updated
        self.fills += other.fills
        self.adopted += other.adopted
        self.abandoned += other.abandoned
        self.problems.extend(other.problems)


def _unsettled(order: Order) -> bool:
    """Still working, or finished at the broker without all its fills here."""
    return not order.status.is_terminal or (
        order.status is OrderStatus.COMPLETE and order.filled_quantity < order.quantity
    )


def reconcile_owner(
    ports: ReconcilePorts, owner: OwnerId, *, grace: timedelta = DEFAULT_GRACE, recent: int = RECENT_ORDERS
) -> Reconciliation:
    """Reconcile the owner's `recent` newest orders, each with its own broker.

    Parameters
    ----------
    grace
        How old an order the broker has no trace of must be before it is marked REJECTED
        (a placement may still be in flight).

    Raises
    ------
    BrokerNotConnected, BrokerUnavailable
        No broker of the owner's unsettled orders could be reached (when only some could not, the
        others are reconciled and the failures are listed in the report's `problems`).
    """
    report = Reconciliation()
    by_broker: dict[str, list[Order]] = {}
    for order in ports.orders.list(owner, recent, None).items:
        if _unsettled(order):
            by_broker.setdefault(order.broker, []).append(order)
    baskets: set[tuple[OwnerId, BasketId]] = set()
    failures: list[BrokerNotConnected | BrokerUnavailable] = []
    for name, orders in by_broker.items():
        try:
            _reconcile_with(ports, ports.brokers.for_owner(owner, name), orders, grace, report, baskets)
        except (BrokerNotConnected, BrokerUnavailable) as exc:
            failures.append(exc)
            report.problems.append(f"{name}: {exc.message}")
    for basket_owner, basket_id in baskets:
        settle_basket(ports, basket_owner, basket_id)
    if failures and len(failures) == len(by_broker):
        raise failures[0]
    return report


def _reconcile_with(
    ports: ReconcilePorts,
    broker: Broker,
    orders: list[Order],
    grace: timedelta,
    report: Reconciliation,
    baskets: set[tuple[OwnerId, BasketId]],
) -> None:
    """Reconcile `orders` (all at `broker`), noting the baskets whose orders settled."""
    book = broker.order_book()  # None: this broker lists no orders, so each is asked for on its own
    by_tag = {u.tag: u for u in book or [] if u.tag}
    by_id = {u.broker_order_id: u for u in book or []}
    now = ports.clock.now()
    for order in orders:
        report.checked += 1
        if book is None:
            update = broker.order_update(order.broker_order_id) if order.broker_order_id else None
        else:
            update = by_id.get(order.broker_order_id) if order.broker_order_id else by_tag.get(order.id)
        try:
            if update is None:
                if order.broker_order_id is None and now - order.created_at >= grace:
                    _abandon(ports, order, broker.name)
                    report.abandoned += 1
                    baskets.add((order.owner, order.basket_id))
                continue
            order = _repair(ports, broker, order, update, report)
        except Conflict as exc:  # changed underneath by a postback: the next pass sees it settled
            report.problems.append(f"order {order.id}: {exc.message}")
            continue
        if order.status.is_terminal:
            baskets.add((order.owner, order.basket_id))


def _repair(ports: ReconcilePorts, broker: Broker, order: Order, update: OrderUpdate, report: Reconciliation) -> Order:
    if order.broker_order_id is None:
        order.broker_order_id = update.broker_order_id
        ports.orders.record_placement(order)
        report.adopted += 1
        log.info("order %s adopted from the %s order book as %s", order.id, broker.name, update.broker_order_id)
    before = (order.status, order.status_message)
    order = apply_order_update_to(ports, order, update)
    if (order.status, order.status_message) != before:
        report.updated += 1
    if update.filled_quantity > order.filled_quantity:
        for fill in sorted(broker.order_fills(order), key=lambda f: (f.filled_at, f.trade_id)):
            if apply_fill(ports, order, fill):
                report.fills += 1
    return order


def _abandon(ports: ReconcilePorts, order: Order, broker: str) -> None:
    message = f"{broker} has no order tagged {order.id}: the placement never reached it; place it again if needed"
    log.warning("order %s abandoned: %s", order.id, message)
    apply_order_update_to(ports, order, OrderUpdate(BrokerOrderId(""), OrderStatus.REJECTED, message=message))
