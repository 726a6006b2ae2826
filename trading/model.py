"""Baskets, strategies, legs, orders, fills and positions, with their rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.errors import Conflict, ValidationError

if TYPE_CHECKING:
    from datetime import datetime, time

    from trading.ids import (
        BasketId,
        BrokerOrderId,
        ClientRequestId,
        LegId,
        OrderId,
        OwnerId,
        StrategyId,
        TradeId,
    )

MAX_NAME_LENGTH = 100
MAX_STRATEGIES = 20
MAX_LEGS = 50


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"
    SL_M = "SL_M"


class Product(enum.StrEnum):
    MIS = "MIS"
    NRML = "NRML"
    CNC = "CNC"


class Variety(enum.StrEnum):
    REGULAR = "REGULAR"
    AMO = "AMO"


class Validity(enum.StrEnum):
    DAY = "DAY"
    IOC = "IOC"


class BasketStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    EXECUTING = "EXECUTING"
    LIVE = "LIVE"
    EXITING = "EXITING"
    CLOSED = "CLOSED"
    FAILED = "FAILED"


class PartialFailurePolicy(enum.StrEnum):
    """What executing a basket does when some legs are refused and others went through."""

    EXIT_FILLED = "EXIT_FILLED"  # stop placing, square off what filled, mark the basket FAILED
    KEEP_FILLED = "KEEP_FILLED"  # place every leg; keep what filled in a LIVE basket (limits still apply)


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
class InstrumentRef:
    """An instrument as traders name it: exchange and trading symbol."""

    exchange: str
    tradingsymbol: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.tradingsymbol}"


@dataclass(frozen=True)
class Leg:
    id: LegId
    instrument: InstrumentRef
    side: Side
    lots: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.NRML
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True)
class Strategy:
    id: StrategyId
    name: str
    legs: tuple[Leg, ...] = ()


@dataclass(frozen=True)
class RiskLimits:
    max_loss: Decimal | None = None
    target: Decimal | None = None


@dataclass(frozen=True)
class Schedule:
    """Entry and exit times of day, in IST."""

    entry_at: time | None = None
    exit_at: time | None = None


def check_name(name: str, what: str = "name") -> str:
    """Strip a name and refuse empty or oversized ones."""
    stripped = name.strip()
    if not stripped:
        raise ValidationError(f"{what} must not be empty")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} is {len(stripped)} characters long; at most {MAX_NAME_LENGTH} allowed")
    return stripped


@dataclass
class Basket:
    id: BasketId
    owner: OwnerId
    name: str
    created_at: datetime
    updated_at: datetime
    status: BasketStatus = BasketStatus.DRAFT
    status_message: str | None = None
    strategies: list[Strategy] = field(default_factory=list)
    risk: RiskLimits = RiskLimits()
    schedule: Schedule = Schedule()
    on_partial_failure: PartialFailurePolicy = PartialFailurePolicy.EXIT_FILLED
    # The broker its orders go to ("kite", "paper", "angel", "shoonya"); None: the deployment's default.
    broker: str | None = None
    version: int = 1

    @property
    def legs(self) -> list[tuple[Strategy, Leg]]:
        return [(s, leg) for s in self.strategies for leg in s.legs]

    def strategy(self, strategy_id: StrategyId) -> Strategy:
        for s in self.strategies:
            if s.id == strategy_id:
                return s
        raise ValidationError(f"basket has no strategy {strategy_id}")

    def require_editable(self) -> None:
        if self.status is not BasketStatus.DRAFT:
            raise Conflict(f"basket is {self.status}; only a DRAFT basket can be edited")

    def put_strategy(self, strategy: Strategy) -> None:
        """Add or replace a strategy (by id), keeping the basket's limits."""
        self.require_editable()
        others = [s for s in self.strategies if s.id != strategy.id]
        index = next((i for i, s in enumerate(self.strategies) if s.id == strategy.id), len(others))
        strategies = [*others[:index], strategy, *others[index:]]
        if len(strategies) > MAX_STRATEGIES:
            raise ValidationError(f"a basket holds at most {MAX_STRATEGIES} strategies")
        if sum(len(s.legs) for s in strategies) > MAX_LEGS:
            raise ValidationError(f"a basket holds at most {MAX_LEGS} legs")
        self.strategies = strategies

    def remove_strategy(self, strategy_id: StrategyId) -> None:
        self.require_editable()
        self.strategy(strategy_id)
        self.strategies = [s for s in self.strategies if s.id != strategy_id]

    def put_leg(self, strategy_id: StrategyId, leg: Leg) -> None:
        strategy = self.strategy(strategy_id)
        legs = [x for x in strategy.legs if x.id != leg.id]
        index = next((i for i, x in enumerate(strategy.legs) if x.id == leg.id), len(legs))
        self.put_strategy(replace(strategy, legs=(*legs[:index], leg, *legs[index:])))

    def remove_leg(self, leg_id: LegId) -> None:
        for strategy in self.strategies:
            if any(leg.id == leg_id for leg in strategy.legs):
                legs = tuple(x for x in strategy.legs if x.id != leg_id)
                self.put_strategy(replace(strategy, legs=legs))
                return
        raise ValidationError(f"basket has no leg {leg_id}")

    def start_execution(self) -> None:
        if self.status is not BasketStatus.DRAFT:
            raise Conflict(f"basket is {self.status}; only a DRAFT basket can be executed")
        if not self.legs:
            raise ValidationError("basket has no legs to execute; add a strategy with legs first")
        self.status = BasketStatus.EXECUTING

    def placement_order(self) -> list[tuple[Strategy, Leg]]:
        """Legs in the order they are placed: hedges first.

        Every BUY leg of every strategy goes before any SELL leg (a short option is margined as
        hedged only once its long wing is in); within each side, strategies and legs keep their order.
        """
        return sorted(self.legs, key=lambda sl: sl[1].side is not Side.BUY)

    def finish_execution(self, rejected: list[str], accepted: int = 0) -> None:
        """Settle an execution: LIVE when every leg went through, else by the partial-failure policy.

        Parameters
        ----------
        rejected
            Why each refused leg was refused.
        accepted
            How many orders the broker took; with KEEP_FILLED and at least one, the basket stays LIVE.
        """
        reason = "rejected: " + "; ".join(rejected)
        if not rejected:
            self.status = BasketStatus.LIVE
            self.status_message = None
        elif accepted and self.on_partial_failure is PartialFailurePolicy.KEEP_FILLED:
            self.status = BasketStatus.LIVE
            self.status_message = f"partly executed, filled legs kept; {reason}"
        else:
            self.status = BasketStatus.FAILED
            self.status_message = reason

    def start_limit_exit(self, reason: str) -> None:
        """Begin an exit the basket's own limits or schedule asked for; only a LIVE basket takes one."""
        if self.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {self.status}; only a LIVE basket is exited automatically")
        self.status = BasketStatus.EXITING
        self.status_message = reason

    def start_exit(self) -> None:
        if self.status not in (BasketStatus.LIVE, BasketStatus.FAILED, BasketStatus.EXITING):
            raise Conflict(f"basket is {self.status}; only a LIVE or FAILED basket can be exited")
        self.status = BasketStatus.EXITING

    def close(self) -> None:
        self.status = BasketStatus.CLOSED

    def require_deletable(self) -> None:
        if self.status in (BasketStatus.EXECUTING, BasketStatus.LIVE, BasketStatus.EXITING):
            raise Conflict(f"basket is {self.status}; exit it before deleting")


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


@dataclass(frozen=True)
class PositionKey:
    basket_id: BasketId
    strategy_id: StrategyId | None
    instrument: InstrumentRef
    product: Product


@dataclass(frozen=True)
class PositionDelta:
    """What one fill adds to a position's counters (values include the multiplier)."""

    buy_quantity: int
    buy_value: Decimal
    sell_quantity: int
    sell_value: Decimal

    @classmethod
    def of(cls, fill: Fill, multiplier: Decimal) -> PositionDelta:
        value = fill.price * fill.quantity * multiplier
        if fill.side is Side.BUY:
            return cls(fill.quantity, value, 0, Decimal(0))
        return cls(0, Decimal(0), fill.quantity, value)


@dataclass
class Position:
    """Counters per (basket, strategy, instrument, product); P&L by Kite's formula."""

    key: PositionKey
    owner: OwnerId
    multiplier: Decimal = Decimal(1)
    buy_quantity: int = 0
    buy_value: Decimal = Decimal(0)
    sell_quantity: int = 0
    sell_value: Decimal = Decimal(0)
    seen_trades: set[TradeId] = field(default_factory=set)

    def apply(self, fill: Fill) -> bool:
        """Add a fill once; a trade already seen is refused (returns False)."""
        if fill.trade_id in self.seen_trades:
            return False
        delta = PositionDelta.of(fill, self.multiplier)
        self.buy_quantity += delta.buy_quantity
        self.buy_value += delta.buy_value
        self.sell_quantity += delta.sell_quantity
        self.sell_value += delta.sell_value
        self.seen_trades.add(fill.trade_id)
        return True

    @property
    def net_quantity(self) -> int:
        return self.buy_quantity - self.sell_quantity

    @property
    def buy_price(self) -> Decimal:
        return self.buy_value / (self.buy_quantity * self.multiplier) if self.buy_quantity else Decimal(0)

    @property
    def sell_price(self) -> Decimal:
        return self.sell_value / (self.sell_quantity * self.multiplier) if self.sell_quantity else Decimal(0)

    def pnl(self, last_price: Decimal) -> Decimal:
        """Kite's formula: (sell_value - buy_value) + net_qty * last_price * multiplier."""
        return (self.sell_value - self.buy_value) + self.net_quantity * last_price * self.multiplier

    @property
    def realised(self) -> Decimal:
        """P&L locked in on the closed quantity, at average buy and sell prices."""
        closed = min(self.buy_quantity, self.sell_quantity)
        return closed * (self.sell_price - self.buy_price) * self.multiplier

    def unrealised(self, last_price: Decimal) -> Decimal:
        return self.pnl(last_price) - self.realised
