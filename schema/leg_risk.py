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
strawberry.enum(leg_risk.Trigger, description="Which of a leg's levels was reached")

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
