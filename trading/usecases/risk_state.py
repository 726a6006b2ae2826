"""What a basket's risk stands at: each watched leg's levels, trailing peak, distances and re-entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trading.model.leg_risk import LegRiskState
from trading.rules.leg_risk import distances

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from trading.ids import BasketId, LegId, OwnerId, StrategyId
    from trading.model import Basket, InstrumentRef, Leg
    from trading.ports import Baskets, LegRisks, MarkSource


class RiskStatePorts(Protocol):
    @property
    def baskets(self) -> Baskets: ...
    @property
    def marks(self) -> MarkSource: ...
    @property
    def leg_risks(self) -> LegRisks | None: ...


@dataclass(frozen=True)
class LegRiskView:
    strategy_id: StrategyId
    leg: Leg
    state: LegRiskState
    last_price: Decimal | None
    to_stop: Decimal | None
    to_target: Decimal | None

    @property
    def re_entries_left(self) -> int:
        chosen = self.leg.risk.re_entry
        return 0 if chosen is None else max(0, chosen.times - self.state.re_entries)


@dataclass(frozen=True)
class RiskView:
    """A basket's risk: its watched legs; `broker` (the basket's, None: the deployment's) names its account."""

    basket_id: BasketId
    owner: OwnerId
    legs: tuple[LegRiskView, ...]
    broker: str | None = None


def leg_view(strategy_id: StrategyId, leg: Leg, state: LegRiskState | None, last_price: Decimal | None) -> LegRiskView:
    state = state or LegRiskState()
    to_stop, to_target = distances(leg.side, last_price, state)
    return LegRiskView(strategy_id, leg, state, last_price, to_stop, to_target)


def risk_view(
    basket: Basket, states: Mapping[LegId, LegRiskState], prices: Mapping[InstrumentRef, Decimal]
) -> RiskView:
    """The basket's watched legs (those with a managed exit), in basket order, valued at `prices`."""
    legs = tuple(
        leg_view(strategy.id, leg, states.get(leg.id), prices.get(leg.instrument))
        for strategy, leg in basket.legs
        if leg.risk.watched
    )
    return RiskView(basket.id, basket.owner, legs, basket.broker)


def risk_state(ports: RiskStatePorts, owner: OwnerId, basket_id: BasketId) -> RiskView:
    """The caller's basket's risk now (at the latest marks).

    Raises
    ------
    NotFound
        No such basket, or it is another user's.
    """
    basket = ports.baskets.get(owner, basket_id)
    states = ports.leg_risks.of_basket(owner, basket_id) if ports.leg_risks is not None else {}
    refs = sorted({leg.instrument for _, leg in basket.legs if leg.risk.watched}, key=str)
    prices = ports.marks.last_prices(refs) if refs else {}
    return risk_view(basket, states, prices)
