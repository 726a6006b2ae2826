"""Orders: placing and cancelling them, and applying what the broker reports (updates, fills) until a basket settles."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    Conflict,
    DomainError,
    RateLimited,
    ValidationError,
)
from trading.ids import BasketId, BrokerOrderId, StrategyId
from trading.model import (
    BasketStatus,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Product,
    Side,
    Validity,
    Variety,
    decide_fill,
)
from trading.model.protection import AUTOMATIC
from trading.rules.pre_trade import check_quantity
from trading.usecases.idempotency import (
    Placed,
    ReadBackPorts,
    RequestPorts,
    check_client_request_id,
    fingerprint_of,
    read_back,
    run_once,
)
from trading.usecases.tickets import OrderTicket, TicketPorts, checked_orders, instrument_of, request_of
from trading.usecases.trading_gate import GatePorts, admit_orders, refuse_if_halted
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from decimal import Decimal

    from trading.ids import OrderId, OwnerId
    from trading.model import Basket, Fill, Order
    from trading.model.protection import MarketProtection
    from trading.ports import Baskets, Broker, Brokers, Clock, Orders

log = logging.getLogger(__name__)


class OrderPorts(Protocol):
    @property
    def orders(self) -> Orders: ...
    @property
    def clock(self) -> Clock: ...


class SyncPorts(OrderPorts, Protocol):
    @property
    def brokers(self) -> Brokers: ...


class SettlePorts(Protocol):
    @property
    def baskets(self) -> Baskets: ...
    @property
    def clock(self) -> Clock: ...


class BrokerUpdatePorts(SyncPorts, SettlePorts, Protocol): ...


class PlaceOrderPorts(SyncPorts, SettlePorts, TicketPorts, RequestPorts, ReadBackPorts, GatePorts, Protocol): ...


@dataclass(frozen=True)
class OrderInput:
    basket_id: BasketId
    exchange: str
    tradingsymbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.NRML
    variety: Variety = Variety.REGULAR
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    strategy_id: StrategyId | None = None
    market_protection: MarketProtection = AUTOMATIC


def place_all(ports: SyncPorts, owner: OwnerId, orders: list[Order], stop_on_refusal: bool = False) -> list[str]:
    """Place orders in the given sequence; returns the reasons of those the broker refused.

    Orders are already stored as PENDING, so a placement whose outcome is unknown is kept
    and reconciled by its tag (our order id) rather than placed again. With `stop_on_refusal`,
    the orders after the first refusal are not sent; they are stored as CANCELLED with the reason.
    """
    sessions: dict[str, Broker] = {}
    rejected: list[str] = []
    for order in orders:
        if rejected and stop_on_refusal:
            skipped = OrderUpdate(BrokerOrderId(""), OrderStatus.CANCELLED, message="not placed: an earlier leg failed")
            apply_order_update_to(ports, order, skipped)
            continue
        request = request_of(order)
        try:
            session = sessions.get(order.broker)
            if session is None:
                session = sessions[order.broker] = ports.brokers.for_owner(owner, order.broker)
            order.broker_order_id = session.place_order(request)
        except (BrokerRejected, BrokerNotConnected, RateLimited) as exc:
            rejected.append(f"{order.side} {order.quantity} {order.instrument}: {exc.message}")
            rejection = OrderUpdate(BrokerOrderId(""), OrderStatus.REJECTED, message=exc.message)
            apply_order_update_to(ports, order, rejection)
            continue
        except BrokerUnavailable as exc:
            log.warning("placement outcome unknown for order %s: %s", order.id, exc.message)
            rejected.append(f"{order.side} {order.quantity} {order.instrument}: outcome unknown ({exc.message})")
            continue
        ports.orders.record_placement(order)
    return rejected


def place_order(ports: PlaceOrderPorts, owner: OwnerId, spec: OrderInput, client_request_id: str) -> Order:
    """Place one order (sliced above the freeze quantity: the first slice is returned) in a LIVE basket."""

    def prepare() -> list[Order]:
        basket = ports.baskets.get(owner, spec.basket_id)
        refuse_if_halted(ports, owner, basket.broker)
        if basket.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {basket.status}; orders can be added only to a LIVE basket (execute it first)")
        if spec.strategy_id is not None:
            basket.strategy(spec.strategy_id)
        if spec.quantity <= 0:
            raise ValidationError(f"quantity must be positive, got {spec.quantity}")
        instrument = instrument_of(ports.instruments, spec.exchange, spec.tradingsymbol)
        check_quantity(spec.quantity, instrument)
        ticket = OrderTicket(
            instrument=instrument,
            quantity=spec.quantity,
            side=spec.side,
            order_type=spec.order_type,
            product=spec.product,
            variety=spec.variety,
            validity=spec.validity,
            price=spec.price,
            trigger_price=spec.trigger_price,
            strategy_id=spec.strategy_id,
            market_protection=spec.market_protection,
        )
        crid = check_client_request_id(client_request_id)
        broker = ports.brokers.for_owner(owner, basket.broker).name
        return checked_orders(ports, ticket, owner, basket.id, crid, broker, ports.clock.now())

    def run(orders: list[Order]) -> Placed:
        admit_orders(ports, owner, orders[0].broker, len(orders))  # before the first write
        ports.orders.add_all(orders)
        place_all(ports, owner, orders)
        if ports.baskets.get(owner, spec.basket_id).status is BasketStatus.EXITING:
            # the basket began exiting while this order was on its way, after the exit looked for working orders
            for order in orders:
                if order.broker_order_id:
                    try:
                        cancel_quietly(ports, order)
                    except BrokerNotConnected as exc:  # the exit itself fails on it, naming what is open
                        log.warning("order %s placed as its basket began exiting: %s", order.id, exc.message)
        return Placed(spec.basket_id, tuple(o.id for o in orders))

    fingerprint = fingerprint_of("placeOrder", *vars(spec).values())
    placed = run_once(ports, owner, client_request_id, "placeOrder", fingerprint, prepare, run)
    return read_back(ports, owner, placed).orders[0]  # a consistent read: the basket's collection


def cancel_working(ports: SyncPorts, order: Order) -> Order:
    """Ask the broker to cancel a working order, then bring it up to date."""
    if order.status.is_terminal:
        raise Conflict(f"order {order.id} is {order.status}; it can no longer be cancelled")
    if order.broker_order_id is None:
        raise Conflict(f"order {order.id} has not reached the broker yet; retry in a moment")
    broker = ports.brokers.for_owner(order.owner, order.broker)
    broker.cancel_order(order.broker_order_id, order.variety)
    return sync_order(ports, order)


def cancel_quietly(ports: SyncPorts, order: Order) -> None:
    """Cancel a working order during an exit (or one placed as its basket began exiting); one that finished
    meanwhile is only brought up to date.

    Raises
    ------
    BrokerNotConnected
        The order can be neither cancelled nor read: its broker session is gone (an exit cannot go on).
    """
    try:
        cancel_working(ports, order)
    except DomainError as exc:
        log.warning("could not cancel order %s while exiting: %s", order.id, exc.message)
        try:
            sync_order(ports, order)
        except BrokerNotConnected:
            raise
        except DomainError:
            log.warning("order %s is left for reconciliation", order.id)


def cancel_order(ports: SyncPorts, owner: OwnerId, order_id: OrderId) -> Order:
    return cancel_working(ports, ports.orders.get(owner, order_id))


class CancelAllPorts(SyncPorts, Protocol):
    @property
    def baskets(self) -> Baskets: ...


def cancel_all_orders(ports: CancelAllPorts, owner: OwnerId, basket_id: BasketId) -> list[Order]:
    """Cancel every working order of the basket; returns the orders it cancelled."""
    orders = ports.baskets.view(owner, basket_id).orders
    return [cancel_working(ports, o) for o in orders if not o.status.is_terminal and o.broker_order_id]


def apply_order_update_to(ports: OrderPorts, order: Order, update: OrderUpdate, attempts: int = 5) -> Order:
    """Apply a broker report to an order; stale or out-of-order reports change nothing."""
    for _ in range(attempts):
        if update.broker_order_id and order.broker_order_id is None:
            order.broker_order_id = update.broker_order_id
        if not order.apply_update(update):
            return order
        order.updated_at = ports.clock.now()
        try:
            ports.orders.save(order, bump(order))
            return order
        except Conflict:
            order = ports.orders.get(order.owner, order.id)
    raise Conflict(f"order {order.id} kept changing while applying a broker update; retry")


class FillPorts(Protocol):
    @property
    def orders(self) -> Orders: ...


FILL_ATTEMPTS = 8  # concurrent fills of one position each win in turn; a fill loses at most to the others


def apply_fill(ports: FillPorts, order: Order, fill: Fill, attempts: int = FILL_ATTEMPTS) -> bool:
    """Record one fill: the domain decides the order's and position's new state, the store writes it atomically.

    Returns False, writing nothing, when the fill (same order and trade id) was recorded before. When
    another fill of the same order or position was recorded since we read them, the store refuses the
    stale decision and we decide again on what it holds now.

    Raises
    ------
    ValidationError
        The fill is not a valid fill of this order (price, quantity, side, more than is unfilled).
    Conflict
        The order or position kept changing under concurrent fills for `attempts` tries.
    """
    order.check_fill(fill)
    current = order
    for _ in range(attempts):
        decision = decide_fill(current, ports.orders.position(current), fill)
        if decision is None:
            return False
        try:
            recorded = ports.orders.record_fill(current, decision)
        except Conflict:
            current = ports.orders.get(order.owner, order.id)
            continue
        if recorded:
            order.take(decision)
        return recorded
    raise Conflict(f"fill {fill.trade_id} of order {order.id} kept conflicting with other fills; retry")


def sync_order(ports: SyncPorts, order: Order) -> Order:
    """Bring an order up to date from its broker: status first, then its exact fills."""
    if order.broker_order_id is None:
        return order
    broker = ports.brokers.for_owner(order.owner, order.broker)
    order = apply_order_update_to(ports, order, broker.order_update(order.broker_order_id))
    _apply_fills(ports, order)
    return order


def _apply_fills(ports: SyncPorts, order: Order) -> None:
    fills = ports.brokers.for_owner(order.owner, order.broker).order_fills(order)
    for fill in sorted(fills, key=lambda f: (f.filled_at, f.trade_id)):
        apply_fill(ports, order, fill)


def on_broker_update(ports: BrokerUpdatePorts, broker: str, update: OrderUpdate) -> Order | None:
    """A postback or feed update: a notification that an order changed; None when the order is not ours.

    Only the report's order ids are used: Kite's postback checksum signs just order_id + order_timestamp,
    so any other field of a replayed body may have been edited. The order's state (status, quantities,
    message, tag) is read from the broker's own order history and applied from there, for every status;
    fills never come from the report either (they are the broker's trades).
    """
    order = ports.orders.find(broker, update.broker_order_id, update.tag)
    if order is None or not update.broker_order_id:
        return None
    truth = ports.brokers.for_owner(order.owner, order.broker).order_update(update.broker_order_id)
    if truth.tag and truth.tag != order.id:
        return None  # the broker's order is another of ours (or not ours): the report's tag was not its own
    order = apply_order_update_to(ports, order, truth)
    if truth.filled_quantity > order.filled_quantity:
        _apply_fills(ports, order)
    if order.status.is_terminal:  # only a finished order can let an exiting basket close
        settle_basket(ports, order.owner, order.basket_id)
    return order


def settle_basket(ports: SettlePorts, owner: OwnerId, basket_id: BasketId) -> Basket:
    """Close an EXITING basket once no order is working and every position is flat."""
    view = ports.baskets.view(owner, basket_id)
    basket, orders, positions = view.basket, view.orders, view.positions
    flat = all(p.net_quantity == 0 for p in positions)
    idle = all(o.status.is_terminal for o in orders)
    if basket.status is BasketStatus.EXITING and flat and idle:
        basket.close()
        basket.updated_at = ports.clock.now()
        try:
            ports.baskets.save(basket, bump(basket))
        except Conflict:
            log.info("basket %s changed while settling; the next update settles it", basket.id)
    return basket
