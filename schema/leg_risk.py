"""A leg's managed-exit settings: on the leg and on its input."""

from __future__ import annotations

import strawberry

from trading.model import leg_risk

DECIMAL = 'Decimal string, exact (e.g. "123.45")'

strawberry.enum(
    leg_risk.Basis,
    description="How a level is given: POINTS from the entry (average price), PERCENT of the entry, or the "
    "PREMIUM (price) itself",
)
strawberry.enum(
    leg_risk.CombinedBasis,
    description="PREMIUM: the legs' combined premium (the sum of their prices; every leg on one side); PNL: the "
    "strategy's P&L in rupees",
)
strawberry.enum(leg_risk.Trigger, description="Which of a leg's levels was reached")
strawberry.enum(
    leg_risk.StopLossMode,
    description="Where a leg's stop-loss lives: MANAGED by us (a protected MARKET exit when a mark reaches it), or "
    "AT_BROKER: a protected SL-M order for the leg's quantity, placed once its entry has filled, at the stop-loss "
    "level on the tick (rounded toward the entry), which fills at the broker even when we are down. Our target "
    "and every exit cancel it first; it neither trails nor moves to cost",
)

LEG_RISK = (
    "A leg's managed exit, watched from its entry (the average price of its position) at every mark: a stop-loss "
    "and a target (each in POINTS, PERCENT of the entry or the PREMIUM itself), a trailing stop (every `step` points "
    "the price moves in the leg's favour the stop follows by `offset`), the stop moved to the entry price once the "
    "profit reaches `moveToCostAt`, and re-entries after a stop-loss or target. A level reached squares off that "
    "leg alone, once, with a protected MARKET order; the basket stays LIVE"
)


@strawberry.type
class Level:
    basis: leg_risk.Basis
    value: str = strawberry.field(description=DECIMAL)


@strawberry.type
class Trail:
    step: str = strawberry.field(description=DECIMAL + "; points in the leg's favour")
    offset: str = strawberry.field(description=DECIMAL + "; points the stop moves per step (at most step)")


@strawberry.type
class ReEntry:
    times: int = strawberry.field(description="At most this many re-entries (1-10)")
    until: str | None = strawberry.field(description="HH:MM IST; none at or after it")


@strawberry.type(description=LEG_RISK)
class LegRisk:
    stop_loss: Level | None
    target: Level | None
    trail: Trail | None
    move_to_cost_at: Level | None
    re_entry: ReEntry | None
    stop_loss_mode: leg_risk.StopLossMode


@strawberry.input
class LevelInput:
    basis: leg_risk.Basis
    value: str = strawberry.field(description='A positive decimal string, e.g. "20" (points), "25" (percent)')


@strawberry.input
class TrailInput:
    step: str = strawberry.field(description="Points in the leg's favour, positive")
    offset: str = strawberry.field(description="Points the stop follows per step, positive, at most step")


@strawberry.input
class ReEntryInput:
    times: int = strawberry.field(description="1 to 10")
    until: str | None = strawberry.field(default=None, description="HH:MM IST cut-off; null: none")


@strawberry.input(description=LEG_RISK)
class LegRiskInput:
    stop_loss: LevelInput | None = None
    target: LevelInput | None = None
    trail: TrailInput | None = strawberry.field(default=None, description="Needs a stopLoss")
    move_to_cost_at: LevelInput | None = None
    re_entry: ReEntryInput | None = strawberry.field(default=None, description="Needs a stopLoss or target")
    stop_loss_mode: leg_risk.StopLossMode = strawberry.field(
        default=leg_risk.StopLossMode.MANAGED,
        description="AT_BROKER needs a stopLoss, and takes no trail or moveToCostAt",
    )


STRATEGY_RISK = (
    "A stop-loss and target on the strategy's legs together, watched at every mark once every leg is entered. "
    "PREMIUM: a short strategy (every leg SELL, e.g. a straddle) is exited when its combined premium rises to "
    "stopLoss and when it falls to target (a long one the reverse); PNL: when its P&L falls to -stopLoss or rises "
    "to target. The strategy's legs are squared off, once; the basket stays LIVE"
)


@strawberry.type(description=STRATEGY_RISK)
class StrategyRisk:
    basis: leg_risk.CombinedBasis
    stop_loss: str | None = strawberry.field(description=DECIMAL)
    target: str | None = strawberry.field(description=DECIMAL)


@strawberry.input(description=STRATEGY_RISK)
class StrategyRiskInput:
    basis: leg_risk.CombinedBasis
    stop_loss: str | None = strawberry.field(default=None, description="A positive decimal: premium or rupees")
    target: str | None = strawberry.field(default=None, description="A positive decimal: premium or rupees")
