"""Orders, the broker's reports of them and their fills, and the rules for applying both."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.errors import ValidationError
from trading.model.position import Position, PositionKey
from trading.model.protection import AUTOMATIC

if TYPE_CHECKING:
    from datetime import datetime

    from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId, StrategyId, TradeId
    from trading.model.basket import OrderType, Product, Side
    from trading.model.instrument import InstrumentRef
    from trading.model.protection import MarketProtection


class Variety(enum.StrEnum):
    REGULAR = "REGULAR"
    AMO = "AMO"


class Validity(enum.StrEnum):
    DAY = "DAY"
    IOC = "IOC"


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    TRIGGER_PENDING = "TRIGGER_PENDING"
    OPEN = "OPEN"
    COMPLETE = "COMPLETE"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self.rank == _TERMINAL_RANK


_TERMINAL_RANK = 3
_STATUS_RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.TRIGGER_PENDING: 1,
    OrderStatus.OPEN: 2,
    OrderStatus.COMPLETE: _TERMINAL_RANK,
    OrderStatus.CANCELLED: _TERMINAL_RANK,
    OrderStatus.REJECTED: _TERMINAL_RANK,
}


@dataclass(frozen=True)
class Fill:
    """One trade of an order at the exchange."""

    trade_id: TradeId
    order_id: OrderId
    side: Side
    quantity: int
    price: Decimal
    filled_at: datetime


@dataclass(frozen=True)
class BookedFill:
    """A fill as the trade book shows it: with its basket and instrument, and when basketgraph recorded it."""

    fill: Fill
    basket_id: BasketId
    instrument: InstrumentRef
    recorded_at: datetime | None


@dataclass(frozen=True)
class OrderUpdate:
    """A broker's neutral report of an order's state (from a postback, a poll or a feed).

    `status` is None when the report changes no status (a modification or a partial fill).
    """

    broker_order_id: BrokerOrderId
    status: OrderStatus | None
    tag: str | None = None
    message: str | None = None
    filled_quantity: int = 0
    average_price: Decimal | None = None
    at: datetime | None = None


@dataclass
class Order:
    id: OrderId
    owner: OwnerId
    basket_id: BasketId
    client_request_id: ClientRequestId
    broker: str
    instrument: InstrumentRef
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    created_at: datetime
    updated_at: datetime
    strategy_id: StrategyId | None = None
    leg_id: LegId | None = None
    variety: Variety = Variety.REGULAR
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    market_protection: MarketProtection = AUTOMATIC  # sent with MARKET and SL_M orders
    broker_order_id: BrokerOrderId | None = None
    status: OrderStatus = OrderStatus.PENDING
    status_message: str | None = None
    filled_quantity: int = 0
    filled_value: Decimal = Decimal(0)
    version: int = 1

    @property
    def pending_quantity(self) -> int:
        return 0 if self.status.is_terminal else self.quantity - self.filled_quantity

    @property
    def average_price(self) -> Decimal | None:
        if not self.filled_quantity:
            return None
        return self.filled_value / self.filled_quantity

    @property
    def is_modifiable(self) -> bool:
        """Only a working order at the broker (OPEN or TRIGGER_PENDING) can change its terms."""
        return self.status in (OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING) and self.broker_order_id is not None

    def apply_update(self, update: OrderUpdate) -> bool:
        """Move to the reported status; returns False when nothing changes.

        A report that would move the order backwards is stale (postbacks arrive out of order) and is
        ignored: statuses never regress. A terminal order is final in every field, its message too.
        """
        if self.status.is_terminal:
            return False
        if update.status is None or update.status == self.status:
            changed = bool(update.message) and update.message != self.status_message
            self.status_message = update.message or self.status_message
            return changed
        if update.status.rank < self.status.rank:
            return False
        self.status = update.status
        self.status_message = update.message
        return True

    def check_fill(self, fill: Fill) -> None:
        """Refuse a fill that cannot be this order's, whatever has been filled so far.

        Raises
        ------
        ValidationError
            The fill is for another order or side, its quantity is not positive or larger than the
            order, or its price is not a positive finite number.
        """
        if fill.order_id != self.id or fill.side is not self.side:
            raise ValidationError(f"fill {fill.trade_id} does not belong to order {self.id}")
        if isinstance(fill.quantity, bool) or not isinstance(fill.quantity, int) or fill.quantity <= 0:
            raise ValidationError(f"fill {fill.trade_id} has quantity {fill.quantity}; it must be a positive integer")
        if not isinstance(fill.price, Decimal) or not fill.price.is_finite() or fill.price <= 0:
            raise ValidationError(f"fill {fill.trade_id} has price {fill.price}; it must be a positive finite number")
        if fill.quantity > self.quantity:
            raise ValidationError(
                f"fill {fill.trade_id} of {fill.quantity} does not fit order {self.id} of {self.quantity}"
            )

    @property
    def unfilled_quantity(self) -> int:
        """What fills may still add, terminal or not (a cancelled order's last trades can arrive after it)."""
        return self.quantity - self.filled_quantity

    def take(self, decision: FillDecision) -> None:
        """Hold the fill counters a recorded decision gave this order."""
        if decision.order_id != self.id:
            raise ValueError(f"decision for order {decision.order_id} taken by order {self.id}")
        self.filled_quantity, self.filled_value = decision.filled_quantity, decision.filled_value

    @property
    def position_key(self) -> PositionKey:
        return PositionKey(self.basket_id, self.strategy_id, self.instrument, self.product)


@dataclass(frozen=True)
class FillDecision:
    """What recording one fill changes, decided once: the store writes exactly this.

    The order's fill counters and the position (with the fill among its fills) as they must become,
    and the state each was decided from, which the store makes a condition of its one transaction.
    """

    fill: Fill
    order_id: OrderId
    filled_quantity: int
    filled_value: Decimal
    expected_filled_quantity: int
    position: Position
    expected_position_version: int


def decide_fill(order: Order, position: Position, fill: Fill) -> FillDecision | None:
    """Decide what `fill` changes on `order` and its `position`; None when the position holds it already.

    Parameters
    ----------
    order
        The fill's order as stored now.
    position
        The order's position as stored now (no fills yet: a new position at version 0).

    Raises
    ------
    ValidationError
        As `Order.check_fill`, or the fill is larger than what the order has unfilled, or the
        position is not this order's.
    """
    order.check_fill(fill)
    if position.key != order.position_key:
        raise ValidationError(f"position {position.key} is not the position of order {order.id}")
    if position.has(fill):
        return None
    if fill.quantity > order.unfilled_quantity:
        raise ValidationError(
            f"fill {fill.trade_id} of {fill.quantity} overfills order {order.id} "
            f"({order.filled_quantity}/{order.quantity} filled)"
        )
    after = replace(position, fills=position.fills, version=position.version + 1)
    after.apply(fill)
    return FillDecision(
        fill=fill,
        order_id=order.id,
        filled_quantity=order.filled_quantity + fill.quantity,
        filled_value=order.filled_value + fill.price * fill.quantity,
        expected_filled_quantity=order.filled_quantity,
        position=after,
        expected_position_version=position.version,
    )
