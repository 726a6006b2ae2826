"""Exits: the loop that squares a basket off until flat (wholly or by product), whatever started it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trading.errors import BrokerNotConnected, Conflict, DomainError
from trading.ids import BrokerOrderId
from trading.model import BasketStatus, OrderStatus, OrderUpdate, PositionKey, Side
from trading.usecases.idempotency import (
    Placed,
    ReadBackPorts,
    RequestPorts,
    check_client_request_id,
    fingerprint_of,
    read_back,
    run_once,
)
from trading.usecases.orders import (
    BrokerUpdatePorts,
    SettlePorts,
    apply_order_update_to,
    cancel_quietly,
    on_broker_update,
    place_all,
    settle_basket,
    sync_order,
)
from trading.usecases.tickets import OrderTicket, TicketPorts, checked_orders, instrument_of
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from trading.ids import BasketId, ClientRequestId, OwnerId
    from trading.model import Basket, Order, Position, Product
    from trading.usecases.idempotency import Execution

log = logging.getLogger(__name__)


class ExitPorts(BrokerUpdatePorts, TicketPorts, RequestPorts, ReadBackPorts, Protocol): ...


@dataclass(frozen=True)
class ExitScope:
    """What an exit squares off when not the whole basket: the positions (and working orders) of some products
    (the 15:15 MIS square-off), or of some positions (a leg's stop-loss or target: its one position)."""

    products: frozenset[Product] | None = None
    positions: frozenset[PositionKey] | None = None

    def holds(self, key: PositionKey) -> bool:
        return (self.products is None or key.product in self.products) and (
            self.positions is None or key in self.positions
        )

    def holds_order(self, order: Order) -> bool:
        return self.holds(PositionKey(order.basket_id, order.strategy_id, order.instrument, order.product))

    @property
    def name(self) -> str:
        """What the exit's idempotency fingerprint says of the scope."""
        products = "" if self.products is None else ":" + ",".join(sorted(self.products))
        positions = "" if self.positions is None else ":" + ",".join(sorted(str(k) for k in self.positions))
        return products + positions


def exit_orders(
    ports: ExitPorts,
    basket: Basket,
    positions: list[Position],
    crid: ClientRequestId,
    scope: ExitScope | None,
) -> list[Order]:
    """MARKET orders that flatten the open positions (of `scope`, when given): shorts bought back first."""
    broker = ports.brokers.for_owner(basket.owner, basket.broker).name
    now = ports.clock.now()
    exits: list[Order] = []
    for position in positions:
        if position.net_quantity == 0 or (scope is not None and not scope.holds(position.key)):
            continue
        ref = position.key.instrument
        ticket = OrderTicket.to_flatten(position, instrument_of(ports.instruments, ref.exchange, ref.tradingsymbol))
        exits.extend(checked_orders(ports, ticket, basket.owner, basket.id, crid, broker, now))
    exits.sort(key=lambda o: o.side is not Side.BUY)  # buy back shorts before selling longs
    return exits


def square_off(
    ports: ExitPorts,
    owner: OwnerId,
    basket_id: BasketId,
    crid: ClientRequestId,
    scope: ExitScope | None = None,
) -> list[Order]:
    """One turn of the exit loop: once nothing works, flatten what is open (shorts first) or close when flat.

    Called when an exit starts and again whenever one of the basket's orders finishes, so every fill
    that lands while the exit runs (a cancel refused because the order had just filled) is squared off.
    A turn that places orders first stores them and saves the basket at the version it read: of two turns
    that raced (two postbacks at once, a postback and reconciliation), one places; the other's orders are
    stored CANCELLED, never sent, so the positions are never squared off twice.
    """
    view = ports.baskets.view(owner, basket_id)
    basket = view.basket
    if any(not o.status.is_terminal and (scope is None or scope.holds_order(o)) for o in view.orders):
        return []  # a working order's fill or final status brings the next turn
    exits = exit_orders(ports, basket, view.positions, crid, scope)
    if not exits:
        if basket.status is BasketStatus.EXITING:
            settle_basket(ports, owner, basket_id)
        return []
    ports.orders.add_all(exits)
    basket.updated_at = ports.clock.now()
    try:
        ports.baskets.save(basket, bump(basket))  # one turn at a time: of two racing turns, one places its orders
    except Conflict:
        not_placed = OrderUpdate(BrokerOrderId(""), OrderStatus.CANCELLED, message="not placed: another turn placed")
        for order in exits:
            apply_order_update_to(ports, order, not_placed)
        return []
    rejected = place_all(ports, owner, exits)
    if rejected and basket.status is BasketStatus.EXITING:
        fail_exit(ports, owner, basket_id, "exit rejected: " + "; ".join(rejected))
    elif rejected:
        note(ports, owner, basket_id, "exit rejected: " + "; ".join(rejected))
    return exits


def fail_exit(ports: ExitPorts, owner: OwnerId, basket_id: BasketId, reason: str, attempts: int = 5) -> None:
    """An exit that cannot finish: the basket goes FAILED, naming why and what is still open."""
    for _ in range(attempts):
        view = ports.baskets.view(owner, basket_id)
        basket = view.basket
        open_ = ", ".join(
            f"{p.key.instrument.tradingsymbol} {p.net_quantity:+d}" for p in view.positions if p.net_quantity
        )
        failed = f"exit failed: {reason}; open: {open_ or 'none'}"
        # an unwound execution keeps why it failed in the first place
        basket.status_message = f"{basket.status_message}; {failed}" if basket.unwinding else failed
        basket.status = BasketStatus.FAILED
        basket.unwinding = False
        basket.updated_at = ports.clock.now()
        try:
            ports.baskets.save(basket, bump(basket))
            return
        except Conflict:
            continue
    log.warning("basket %s kept changing; exit failure not recorded: %s", basket_id, reason)


def continue_exit(ports: ExitPorts, order: Order) -> None:
    """After one of an EXITING basket's orders finished: the next turn of its exit."""
    if not order.status.is_terminal or ports.baskets.get(order.owner, order.basket_id).status is not (
        BasketStatus.EXITING
    ):
        return
    crid = check_client_request_id(f"exit-{order.basket_id}-{order.id}")
    try:
        square_off(ports, order.owner, order.basket_id, crid)
    except DomainError as exc:
        fail_exit(ports, order.owner, order.basket_id, exc.message)


def on_exiting_update(ports: ExitPorts, broker: str, update: OrderUpdate) -> Order | None:
    """A postback or feed update, and the continuation of the basket's exit when it is EXITING."""
    order = on_broker_update(ports, broker, update)
    if order is not None:
        continue_exit(ports, order)
    return order


def note(ports: SettlePorts, owner: OwnerId, basket_id: BasketId, message: str, attempts: int = 5) -> None:
    """Append to the basket's status message, re-reading it while postbacks move it on."""
    for _ in range(attempts):
        basket = ports.baskets.get(owner, basket_id)
        basket.status_message = f"{basket.status_message}; {message}" if basket.status_message else message
        basket.updated_at = ports.clock.now()
        try:
            ports.baskets.save(basket, bump(basket))
            return
        except Conflict:
            continue
    log.warning("basket %s kept changing; not noted: %s", basket_id, message)


def run_exit(
    ports: ExitPorts,
    owner: OwnerId,
    basket_id: BasketId,
    crid: ClientRequestId,
    scope: ExitScope | None = None,
) -> list[Order]:
    """Start the exit loop of a basket already saved as EXITING (or LIVE, squaring off `scope`).

    Cancels what works (read after that save: an order placed meanwhile is either seen here or sees the
    basket EXITING and cancels itself; a refusal because it just filled syncs it, and its fill is squared off
    too), then takes the loop's first turn; an exit that cannot go on ends FAILED. Every path that squares off
    comes here: `exitBasket`, risk and scheduled exits, the 15:15 square-off, the unwinding of a failed execution.
    """
    try:
        for order in ports.baskets.view(owner, basket_id).orders:
            working = not order.status.is_terminal and order.broker_order_id
            if working and (scope is None or scope.holds_order(order)):
                cancel_quietly(ports, order)
        return square_off(ports, owner, basket_id, crid, scope)
    except DomainError as exc:
        fail_exit(ports, owner, basket_id, exc.message)
        return []


def resume_exit(ports: ExitPorts, owner: OwnerId, basket_id: BasketId) -> list[Order]:
    """Take the next turn of an EXITING basket's exit (after a restart, or postbacks lost): its working
    orders are brought up to date from the broker first. Returns the exit orders placed; a no-op otherwise."""
    view = ports.baskets.view(owner, basket_id)
    if view.basket.status is not BasketStatus.EXITING:
        return []
    try:
        for order in view.orders:
            if not order.status.is_terminal:
                _sync_working(ports, order)
        return square_off(ports, owner, basket_id, check_client_request_id(f"resume-{basket_id}-{view.basket.version}"))
    except DomainError as exc:
        fail_exit(ports, owner, basket_id, exc.message)
        return []


def _sync_working(ports: ExitPorts, order: Order) -> None:
    """Bring a working order of an exit up to date; a broker that did not answer leaves it for the next turn.

    Raises
    ------
    BrokerNotConnected
        Its broker session is gone: the exit cannot go on.
    """
    try:
        sync_order(ports, order)
    except BrokerNotConnected:
        raise
    except DomainError as exc:
        log.warning("order %s of exiting basket %s not synced: %s", order.id, order.basket_id, exc.message)


def exit_basket(
    ports: ExitPorts,
    owner: OwnerId,
    basket_id: BasketId,
    client_request_id: str,
    *,
    reason: str | None = None,
    products: frozenset[Product] | None = None,
    positions: frozenset[PositionKey] | None = None,
    only_live: bool = False,
) -> Execution:
    """Cancel the basket's working orders and square off its open positions at market.

    Parameters
    ----------
    reason
        Why (an automatic exit); kept as the basket's status message.
    products
        Only positions and working orders of these products (the MIS square-off); the basket
        stays LIVE while other positions remain open.
    positions
        Only these positions and their working orders (a leg's managed exit); the basket stays LIVE even
        when nothing else is open (the leg may be entered again).
    only_live
        Refuse (Conflict) unless the basket is LIVE: automatic exits never repeat a running exit.

    Raises
    ------
    Conflict
        The basket is not in a state to exit, or another exit changed it first.
    """

    scope = None if products is None and positions is None else ExitScope(products, positions)

    def prepare() -> tuple[Basket, ExitScope | None]:
        view = ports.baskets.view(owner, basket_id)
        basket, orders = view.basket, view.orders
        if only_live and basket.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {basket.status}; only a LIVE basket is exited automatically")
        crid = check_client_request_id(client_request_id)
        working_now = [o for o in orders if not o.status.is_terminal]
        if basket.status is BasketStatus.EXITING and working_now:
            # its exit orders are still on their way: squaring off again would overshoot the positions
            raise Conflict(
                f"basket is already exiting and {len(working_now)} of its orders are still working; "
                "exit again once they have finished (or cancel them)"
            )
        open_positions = [p for p in view.positions if p.net_quantity]
        partial = scope is not None and (positions is not None or any(not scope.holds(p.key) for p in open_positions))
        if partial:
            if basket.status is not BasketStatus.LIVE:
                raise Conflict(f"basket is {basket.status}; only a LIVE basket is squared off in part")
            basket.status_message = reason
        elif only_live:
            basket.start_limit_exit(reason or "exited automatically")
        else:
            basket.start_exit()
            basket.status_message = reason or basket.status_message
        exit_orders(ports, basket, view.positions, crid, scope)  # validates the tickets before the first write
        # A square-off that leaves nothing else open is a whole exit: it cancels every working order too, as
        # the loop's later turns (which know no products) wait for every order of an EXITING basket.
        return basket, scope if partial else None

    def run(plan: tuple[Basket, ExitScope | None]) -> Placed:
        basket, scope = plan
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, bump(basket))  # the gate: of two racing exits, one writes and the other fails
        exits = run_exit(ports, owner, basket.id, check_client_request_id(client_request_id), scope)
        return Placed(basket.id, tuple(o.id for o in exits))

    fingerprint = fingerprint_of("exitBasket", f"{basket_id}{scope.name if scope else ''}")
    placed = run_once(ports, owner, client_request_id, "exitBasket", fingerprint, prepare, run)
    return read_back(ports, owner, placed)
