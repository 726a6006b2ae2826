"""Baskets, their strategies and legs, limits and schedule, and the rules of editing and running them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from trading.errors import Conflict, ValidationError
from trading.model.leg_risk import NO_LEG_RISK
from trading.model.protection import AUTOMATIC

if TYPE_CHECKING:
    from datetime import datetime, time
    from decimal import Decimal

    from trading.ids import BasketId, LegId, OwnerId, StrategyId
    from trading.model.instrument import InstrumentRef
    from trading.model.leg_risk import LegRisk, StrategyRisk
    from trading.model.protection import MarketProtection

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


class BasketStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    EXECUTING = "EXECUTING"
    LIVE = "LIVE"
    EXITING = "EXITING"
    CLOSED = "CLOSED"
    FAILED = "FAILED"


class PartialFailurePolicy(enum.StrEnum):
    """What executing a basket does when some legs are refused and others went through."""

    EXIT_FILLED = "EXIT_FILLED"  # stop placing, exit what went through (the exit loop), end FAILED once flat
    KEEP_FILLED = "KEEP_FILLED"  # place every leg; keep what filled in a LIVE basket (limits still apply)


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
    market_protection: MarketProtection = AUTOMATIC  # used by MARKET and SL_M legs only
    risk: LegRisk = NO_LEG_RISK  # its managed exit once entered (trading.rules.leg_risk)


@dataclass(frozen=True)
class Strategy:
    id: StrategyId
    name: str
    legs: tuple[Leg, ...] = ()
    risk: StrategyRisk | None = None  # a stop-loss/target on its legs together (trading.rules.leg_risk)


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
    # An EXITING basket unwinding a partly failed execution (EXIT_FILLED): once flat it ends FAILED, not CLOSED.
    unwinding: bool = False
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
            How many orders the broker took; with KEEP_FILLED and at least one, the basket stays LIVE;
            with EXIT_FILLED and at least one, it is EXITING (unwinding) until what went through is flat.
        """
        reason = "rejected: " + "; ".join(rejected)
        if not rejected:
            self.status = BasketStatus.LIVE
            self.status_message = None
        elif accepted and self.on_partial_failure is PartialFailurePolicy.KEEP_FILLED:
            self.status = BasketStatus.LIVE
            self.status_message = f"partly executed, filled legs kept; {reason}"
        elif accepted:
            self.status = BasketStatus.EXITING
            self.status_message = reason
            self.unwinding = True
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
        self.unwinding = False

    def close(self) -> None:
        """Flat and idle: an exit ends CLOSED; the unwinding of a failed execution ends FAILED."""
        if self.unwinding:
            self.status = BasketStatus.FAILED
            self.status_message = f"{self.status_message}; what went through was squared off"
            self.unwinding = False
        else:
            self.status = BasketStatus.CLOSED
