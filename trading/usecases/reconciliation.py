"""Reconciliation: make our orders agree with the broker's order book and trades.

Postbacks get lost (a receiver down, a retry budget spent) and a placement can time out after the
broker took the order. This use case compares the owner's unfinished orders with the broker's book,
adopts orders found by their tag (our order id), applies missed status changes and exact fills, and
gives up on orders the broker never received. It places no order of its own, but it takes the next turn
of every exit it finds unfinished (a basket still EXITING after a restart or lost postbacks), so no
basket stays EXITING: the exit loop then squares off what is open, or closes the basket when flat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from trading.errors import BrokerNotConnected, BrokerUnavailable, Conflict, DomainError
from trading.ids import BrokerOrderId
from trading.model import BasketStatus, OrderStatus, OrderUpdate
from trading.usecases.exits import ExitPorts, resume_exit
from trading.usecases.orders import apply_fill, apply_order_update_to

if TYPE_CHECKING:
    from trading.ids import BasketId, OwnerId
    from trading.model import Order
    from trading.ports import Broker

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(minutes=2)
RECENT_ORDERS = 100


# Reconciliation reads orders and brokers, and continues unfinished exits: what an exit needs.
ReconcilePorts = ExitPorts


@dataclass
class Reconciliation:
    """What one pass found and did, per owner or summed."""

    checked: int = 0
    updated: int = 0
    fills: int = 0
    adopted: int = 0
    abandoned: int = 0
    exits: int = 0  # unfinished exits taken a turn further
    problems: list[str] = field(default_factory=list)

    def add(self, other: Reconciliation) -> None:
        self.checked += other.checked
        self.updated += other.updated
        self.fills += other.fills
        self.adopted += other.adopted
        self.abandoned += other.abandoned
        self.exits += other.exits
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
    recent_orders = ports.orders.list(owner, recent, None).items
    for order in recent_orders:
        if _unsettled(order):
            by_broker.setdefault(order.broker, []).append(order)
    failures: list[BrokerNotConnected | BrokerUnavailable] = []
    for name, orders in by_broker.items():
        try:
            _reconcile_with(ports, ports.brokers.for_owner(owner, name), orders, grace, report)
        except (BrokerNotConnected, BrokerUnavailable) as exc:
            failures.append(exc)
            report.problems.append(f"{name}: {exc.message}")
    if not any(isinstance(f, BrokerUnavailable) for f in failures):  # a broker that did not answer: next pass
        for basket_id in sorted({o.basket_id for o in recent_orders}):
            _resume(ports, owner, basket_id, report)
    if failures and len(failures) == len(by_broker):
        raise failures[0]
    return report


def _resume(ports: ReconcilePorts, owner: OwnerId, basket_id: BasketId, report: Reconciliation) -> None:
    """The next turn of the basket's exit if it is still EXITING (it settles a flat one)."""
    try:
        if ports.baskets.get(owner, basket_id).status is BasketStatus.EXITING:
            resume_exit(ports, owner, basket_id)
            report.exits += 1
    except DomainError as exc:
        report.problems.append(f"basket {basket_id}: {exc.message}")


def _reconcile_with(
    ports: ReconcilePorts,
    broker: Broker,
    orders: list[Order],
    grace: timedelta,
    report: Reconciliation,
) -> None:
    """Reconcile `orders` (all at `broker`)."""
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
                continue
            _repair(ports, broker, order, update, report)
        except Conflict as exc:  # changed underneath by a postback: the next pass sees it settled
            report.problems.append(f"order {order.id}: {exc.message}")


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
