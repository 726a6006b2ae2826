"""Modifying a working order: new price, trigger, quantity, order type or validity, checked, sent, recorded.

Idempotent by clientRequestId like placement: a repeat returns the order as it is and sends nothing. Each
change is saved on the order (a new version), so subscribers hear it on `onOrderUpdate`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from trading.errors import Conflict, ValidationError
from trading.model import OrderType
from trading.ports import OrderChange
from trading.rules.pre_trade import check_order_prices, check_quantity, check_validity
from trading.usecases.idempotency import Placed, RequestPorts, fingerprint_of, run_once
from trading.usecases.tickets import instrument_of
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from decimal import Decimal

    from trading.ids import OrderId, OwnerId
    from trading.model import Order, Validity
    from trading.model.protection import MarketProtection
    from trading.ports import Brokers, Clock, Instruments, Orders

PRICED = (OrderType.LIMIT, OrderType.SL)
TRIGGERED = (OrderType.SL, OrderType.SL_M)
SAVE_ATTEMPTS = 5


class ModifyPorts(RequestPorts, Protocol):
    @property
    def orders(self) -> Orders: ...
    @property
    def instruments(self) -> Instruments: ...
    @property
    def brokers(self) -> Brokers: ...
    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True)
class ModifyInput:
    """What to change; None keeps the order's own value."""

    order_id: OrderId
    order_type: OrderType | None = None
    quantity: int | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    validity: Validity | None = None
    market_protection: MarketProtection | None = None


def new_terms(order: Order, spec: ModifyInput) -> OrderChange:
    """The order's terms after the change; a price or trigger the new type has no use for is dropped."""
    order_type = spec.order_type or order.order_type
    price = spec.price if spec.price is not None else order.price
    trigger = spec.trigger_price if spec.trigger_price is not None else order.trigger_price
    return OrderChange(
        order_type=order_type,
        quantity=spec.quantity if spec.quantity is not None else order.quantity,
        price=price if order_type in PRICED else None,
        trigger_price=trigger if order_type in TRIGGERED else None,
        validity=spec.validity or order.validity,
        market_protection=spec.market_protection or order.market_protection,
    )


def modify_order(ports: ModifyPorts, owner: OwnerId, spec: ModifyInput, client_request_id: str) -> Order:
    """Change a working order at its broker, then record the new terms.

    Raises
    ------
    Conflict
        The order is not OPEN or TRIGGER_PENDING at the broker (e.g. already filled, cancelled or rejected).
    ValidationError
        The new terms break a rule (lots, ticks, prices per type, at most the freeze quantity, more than is
        filled), or change nothing. Nothing is sent.
    BrokerRejected, BrokerUnavailable, BrokerNotConnected, RateLimited
        From the broker; the order keeps its terms.
    """

    def prepare() -> tuple[Order, OrderChange]:
        order = ports.orders.get(owner, spec.order_id)
        if not order.is_modifiable:
            raise Conflict(
                f"order {order.id} is {order.status}; only OPEN or TRIGGER_PENDING orders at the broker can be modified"
            )
        instrument = instrument_of(ports.instruments, order.instrument.exchange, order.instrument.tradingsymbol)
        change = new_terms(order, spec)
        check_quantity(change.quantity, instrument)
        if change.quantity <= order.filled_quantity:
            raise ValidationError(f"quantity {change.quantity} must exceed the {order.filled_quantity} already filled")
        freeze = instrument.freeze_quantity
        if freeze and change.quantity > freeze:
            raise ValidationError(
                f"quantity {change.quantity} exceeds the freeze quantity {freeze} of {instrument.ref}; "
                "a modified order is one slice, so place the rest as a new order"
            )
        check_order_prices(change.order_type, change.price, change.trigger_price, instrument)
        check_validity(change.validity, instrument)
        if change == terms_of(order):
            raise ValidationError(f"the modification changes nothing on order {order.id}")
        return order, change

    def run(plan: tuple[Order, OrderChange]) -> Placed:
        order, change = plan
        ports.brokers.for_owner(owner, order.broker).modify_order(order, change)
        record_change(ports, order, change)
        return Placed(order.basket_id, (order.id,))

    fingerprint = fingerprint_of("modifyOrder", *vars(spec).values())
    placed = run_once(ports, owner, client_request_id, "modifyOrder", fingerprint, prepare, run)
    return ports.orders.get(owner, placed.order_ids[0])


def terms_of(order: Order) -> OrderChange:
    return OrderChange(
        order.order_type, order.quantity, order.price, order.trigger_price, order.validity, order.market_protection
    )


def record_change(ports: ModifyPorts, order: Order, change: OrderChange) -> None:
    """Save the new terms on the order (a new version); a concurrent update is re-read and the change reapplied."""
    for _ in range(SAVE_ATTEMPTS):
        changed = replace(
            order,
            order_type=change.order_type,
            quantity=change.quantity,
            price=change.price,
            trigger_price=change.trigger_price,
            validity=change.validity,
            market_protection=change.market_protection,
            updated_at=ports.clock.now(),
        )
        try:
            ports.orders.save(changed, bump(changed))
            return
        except Conflict:
            order = ports.orders.get(order.owner, order.id)
    raise Conflict(f"order {order.id} kept changing while its modification was recorded; re-read it")
