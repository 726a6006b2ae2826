"""An account's risk controls as values: its daily limits, its lock (halt) and the record of who locked it and when.

An account is one user's account at one broker (the broker's adapter name, "paper", "kite"...). Orders of
every basket at that broker count against its limits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from trading.errors import TradingHalted

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from trading.ids import OwnerId

# How many lock and reset events an account keeps (the newest); older ones are dropped.
HISTORY_KEPT = 50


class HaltKind(enum.StrEnum):
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    DAILY_PROFIT_TARGET = "DAILY_PROFIT_TARGET"
    KILL_SWITCH = "KILL_SWITCH"


class RiskEventKind(enum.StrEnum):
    LOCKED = "LOCKED"  # a daily limit was reached or the kill switch engaged
    RESET = "RESET"  # the kill switch was reset
    LIMITS_SET = "LIMITS_SET"


@dataclass(frozen=True)
class AccountLimits:
    """Per trading day (IST): a loss that stops trading, a profit that stops it, and how many orders may be sent."""

    daily_loss_limit: Decimal | None = None
    daily_profit_target: Decimal | None = None
    max_orders_per_day: int | None = None


@dataclass(frozen=True)
class Halt:
    """Why and since when the account takes no new orders; `until` None means until resetKillSwitch."""

    kind: HaltKind
    reason: str
    by: str  # the user's sub, or "system: daily loss limit"
    at: datetime
    until: datetime | None

    def holds_at(self, now: datetime) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class RiskEvent:
    kind: RiskEventKind
    reason: str
    by: str
    at: datetime
    halt: HaltKind | None = None


@dataclass(frozen=True)
class AccountRisk:
    """An account's limits, its lock, the orders it sent on `orders_day`, and the lock's history (newest last).

    `version` orders every change of limits or lock: a lock is written at the version it was decided from,
    so of the stream handlers that see a limit reached at once, one locks the account.
    """

    owner: OwnerId
    broker: str
    limits: AccountLimits = AccountLimits()
    halt: Halt | None = None
    history: tuple[RiskEvent, ...] = ()
    orders_day: date | None = None
    orders_today: int = 0
    version: int = 0  # 0: never stored
    updated_at: datetime | None = field(default=None, compare=False)

    def halted_at(self, now: datetime) -> Halt | None:
        """The lock in force at `now`, if any (a daily limit's lock lapses at the next trading day)."""
        return self.halt if self.halt is not None and self.halt.holds_at(now) else None

    def orders_on(self, day: date) -> int:
        return self.orders_today if self.orders_day == day else 0

    def check_open(self, now: datetime) -> None:
        """Raises TradingHalted (why, by whom, until when) while the account is locked."""
        halt = self.halted_at(now)
        if halt is not None:
            raise TradingHalted(refusal(self.broker, halt))

    def locked(self, halt: Halt) -> AccountRisk:
        event = RiskEvent(RiskEventKind.LOCKED, halt.reason, halt.by, halt.at, halt.kind)
        return replace(self, halt=halt, history=(*self.history, event)[-HISTORY_KEPT:], updated_at=halt.at)

    def reset(self, by: str, at: datetime) -> AccountRisk:
        event = RiskEvent(RiskEventKind.RESET, "kill switch reset", by, at, HaltKind.KILL_SWITCH)
        return replace(self, halt=None, history=(*self.history, event)[-HISTORY_KEPT:], updated_at=at)

    def with_limits(self, limits: AccountLimits, by: str, at: datetime) -> AccountRisk:
        event = RiskEvent(RiskEventKind.LIMITS_SET, describe(limits), by, at)
        return replace(self, limits=limits, history=(*self.history, event)[-HISTORY_KEPT:], updated_at=at)


def refusal(broker: str, halt: Halt) -> str:
    """What a refused order is told: the account, why, by whom and until when."""
    until = "until resetKillSwitch" if halt.until is None else f"until {halt.until.isoformat()}"
    return (
        f"trading on your {broker.upper()} account is halted {until}: {halt.reason} "
        f"(by {halt.by} at {halt.at.isoformat()})"
    )


def describe(limits: AccountLimits) -> str:
    parts = [
        f"daily loss limit {limits.daily_loss_limit}" if limits.daily_loss_limit is not None else None,
        f"daily profit target {limits.daily_profit_target}" if limits.daily_profit_target is not None else None,
        f"max {limits.max_orders_per_day} orders a day" if limits.max_orders_per_day is not None else None,
    ]
    return "; ".join(p for p in parts if p) or "no limits"
