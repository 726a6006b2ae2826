"""A leg's managed exit: its stop-loss and target, trailing stop, move-to-cost and re-entries, and its live state."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import time
    from decimal import Decimal

    from trading.ids import OrderId


class Basis(enum.StrEnum):
    """How a level is given: points from the entry, a percent of the entry, or the premium (price) itself."""

    POINTS = "POINTS"
    PERCENT = "PERCENT"
    PREMIUM = "PREMIUM"


@dataclass(frozen=True)
class Level:
    basis: Basis
    value: Decimal


@dataclass(frozen=True)
class Trail:
    """Every `step` points the price moves in the leg's favour (from the entry), the stop follows by `offset`."""

    step: Decimal
    offset: Decimal


@dataclass(frozen=True)
class ReEntry:
    """After a stop-loss or target, enter the leg again, up to `times` times, not at or after `until` (IST)."""

    times: int
    until: time | None = None


class StopLossMode(enum.StrEnum):
    """Where a leg's stop-loss lives: MANAGED by us (a protected MARKET exit when a mark reaches it), or held
    AT_BROKER as a protected SL-M order placed once the entry fills (it survives an outage of ours)."""

    MANAGED = "MANAGED"
    AT_BROKER = "AT_BROKER"


@dataclass(frozen=True)
class LegRisk:
    """What watches a leg once it is entered; every part optional. `move_to_cost_at` is the profit (in the
    leg's favour, a level like the target's) at which the stop moves to the entry price."""

    stop_loss: Level | None = None
    target: Level | None = None
    trail: Trail | None = None
    move_to_cost_at: Level | None = None
    re_entry: ReEntry | None = None
    stop_loss_mode: StopLossMode = StopLossMode.MANAGED

    @property
    def watched(self) -> bool:
        return any((self.stop_loss, self.target, self.move_to_cost_at))

    @property
    def stop_at_broker(self) -> bool:
        return self.stop_loss is not None and self.stop_loss_mode is StopLossMode.AT_BROKER


NO_LEG_RISK = LegRisk()


class CombinedBasis(enum.StrEnum):
    """What a strategy's stop-loss and target watch: the legs' COMBINED premium (the sum of their prices, all
    legs on one side, e.g. a short straddle's), or the strategy's P&L in rupees."""

    PREMIUM = "PREMIUM"
    PNL = "PNL"


@dataclass(frozen=True)
class StrategyRisk:
    """A strategy's managed exit on its legs together. PREMIUM: a premium level (a short strategy stops when the
    combined premium rises to `stop_loss`, takes its target when it falls to `target`; a long one the reverse).
    PNL: rupees, `stop_loss` a loss and `target` a profit, both positive."""

    basis: CombinedBasis
    stop_loss: Decimal | None = None
    target: Decimal | None = None


class Trigger(enum.StrEnum):
    STOP_LOSS = "STOP_LOSS"
    TARGET = "TARGET"


@dataclass(frozen=True)
class LegRiskState:
    """A leg's risk as it stands: the entry (average price) its levels come from, the best price seen since
    (the trailing peak), and the levels that follow from both; `fired` once a level was crossed, until the
    leg is entered again (`cycle` counts entries from 0, `re_entries` those after a trigger)."""

    cycle: int = 0
    entry: Decimal | None = None
    peak: Decimal | None = None
    stop: Decimal | None = None
    target: Decimal | None = None
    moved_to_cost: bool = False
    fired: Trigger | None = None
    fired_at: Decimal | None = None  # the mark that crossed the level
    re_entries: int = 0
    stop_orders: tuple[OrderId, ...] = ()  # the SL-M order(s) held at the broker this cycle (AT_BROKER)
    stop_lost: bool = False  # the broker refused the SL-M: the stop is ours (MANAGED) for this cycle
    version: int = 0  # of the stored item; 0 before the first save

    def stop_is_ours(self, risk: LegRisk) -> bool:
        """Whether we fire the stop-loss: a MANAGED one, or one whose SL-M the broker refused."""
        return not risk.stop_at_broker or self.stop_lost

    @property
    def exit_reference(self) -> str:
        """The clientRequestId part that names this cycle's exit: one exit per trigger."""
        return f"{self.cycle}"
