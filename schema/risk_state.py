"""Risk state types: each watched leg's levels now (the riskState query, the onRiskState subscription)."""

from __future__ import annotations

import strawberry

from schema.account_risk import AccountRisk
from schema.aws import AWSDateTime
from schema.types import BOTH, DECIMAL
from trading import model
from trading.model import leg_risk


@strawberry.type(
    description="A watched leg's risk now: levels from its entry, the trailing peak, distances", directives=BOTH
)
class LegRiskLevels:
    leg_id: strawberry.ID
    strategy_id: strawberry.ID
    exchange: str
    tradingsymbol: str
    side: model.Side
    entry: str | None = strawberry.field(description=DECIMAL + "; the position's average price, null until entered")
    stop_loss: str | None = strawberry.field(description=DECIMAL + "; the active stop (trailed, or moved to cost)")
    target: str | None = strawberry.field(description=DECIMAL)
    trailing_peak: str | None = strawberry.field(description=DECIMAL + "; the best price since the entry")
    moved_to_cost: bool
    last_price: str | None = strawberry.field(description=DECIMAL)
    distance_to_stop_loss: str | None = strawberry.field(description=DECIMAL + "; points, positive until reached")
    distance_to_target: str | None = strawberry.field(description=DECIMAL + "; points, positive until reached")
    triggered: leg_risk.Trigger | None = strawberry.field(description="Which level squared the leg off, this entry")
    triggered_at: str | None = strawberry.field(description=DECIMAL + "; the mark that reached it")
    re_entries_used: int
    re_entries_left: int
    stop_order_ids: list[strawberry.ID] = strawberry.field(
        description="The SL-M order(s) holding this entry's stop-loss at the broker (stopLossMode AT_BROKER)"
    )


@strawberry.type(description="A basket's risk: each watched leg's levels (riskState, onRiskState)")
class RiskState:
    basket_id: strawberry.ID
    legs: list[LegRiskLevels]
    account: AccountRisk | None = strawberry.field(
        description="The account the basket trades through: its daily limits, how close it is to each, its lock "
        "(null: no broker session for it, or no account limits on this deployment)"
    )


@strawberry.type(description="A leg's risk state moved (onRiskState): its levels, peak or trigger", directives=BOTH)
class RiskStateEvent:
    event_id: strawberry.ID
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    as_of: AWSDateTime
    legs: list[LegRiskLevels]
