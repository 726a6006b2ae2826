"""Orders, the broker's reports of them and their fills, and the rules for applying both."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.errors import ValidationError
from trading.model.position import PositionKey
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

        A report that would move the order backwards, or out of a terminal status, is stale
        (postbacks arrive out of order) and is ignored: statuses never regress.
        """
        if update.status is None or update.status == self.status:
            changed = bool(update.message) and update.message != self.status_message
            self.status_message = update.message or self.status_message
            return changed
        if self.status.is_terminal or update.status.rank < self.status.rank:
            return False
        self.status = update.status
        self.status_message = update.message
        return True

    def check_fill(self, fill: Fill) -> None:
        """Refuse a fill that cannot be this order's (the store refuses replays and overfills atomically).

        Raises
        ------
        ValidationError
            The fill is for another order or side, or is larger than the order.
        """
        if fill.order_id != self.id or fill.side is not self.side:
            raise ValidationError(f"fill {fill.trade_id} does not belong to order {self.id}")
        if not 0 < fill.quantity <= self.quantity:
            raise ValidationError(
                f"fill {fill.trade_id} of {fill.quantity} does not fit order {self.id} of {self.quantity}"
            )

    def apply_fill(self, fill: Fill) -> None:
        """Count a fill that the store has accepted.

        Raises
        ------
        ValidationError
            As `check_fill`, or the fill would take the order past its quantity.
        """
        self.check_fill(fill)
        if self.filled_quantity + fill.quantity > self.quantity:
            raise ValidationError(
                f"fill {fill.trade_id} of {fill.quantity} overfills order {self.id} "
                f"({self.filled_quantity}/{self.quantity} filled)"
            )
        self.filled_quantity += fill.quantity
        self.filled_value += fill.price * fill.quantity

    @property
    def position_key(self) -> PositionKey:
        return PositionKey(self.basket_id, self.strategy_id, self.instrument, self.product)
