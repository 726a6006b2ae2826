"""Legs' managed exits from the stream: each mark moves the risk state of the watched legs holding it.

Basket records keep each basket's status and legs' settings current here; position images reach the P&L
engine first, so a mark is judged against the leg's latest entry (its position's average price); a
position going flat after a trigger is when a re-entry is considered. What this process saw of each leg's
state is a cache: `trading.usecases.leg_exits` saves over the stored version, so a replayed batch or another
instance acts on a trigger once.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from schema import shapes
from store.items.basket import basket_of
from store.items.leg_risk import leg_risk_state_of
from store.items.mark import mark_of
from store.items.order import order_of
from store.items.position import position_of
from subscriptions.payloads import item_type
from trading.errors import DomainError, NotFound
from trading.model import BasketStatus, OrderType
from trading.ports import LiveEvent
from trading.usecases.leg_exits import on_held_stop, position_key, strategy_state_id, watch_leg, watch_strategy
from trading.usecases.risk_state import leg_view

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from subscriptions.pnl import PnlFeed
    from trading.ids import BasketId, LegId, OwnerId, StrategyId
    from trading.model import Basket, Order, Position
    from trading.model.leg_risk import LegRiskState
    from trading.ports import Ports, Publisher

log = logging.getLogger(__name__)


class LegWatch:
    """Feeds marks and positions to the legs' managed exits; one per stream handler instance."""

    def __init__(self, ports: Callable[[], Ports], pnl: PnlFeed) -> None:
        self._ports = ports
        self._pnl = pnl
        self._lock = threading.Lock()
        self._baskets: dict[BasketId, Basket | None] = {}
        self._states: dict[tuple[BasketId, LegId], LegRiskState] = {}
        # onRiskState is coalesced per leg: only its latest state since the last publish is sent
        self._pending: dict[tuple[BasketId, LegId], LiveEvent] = {}

    def feed(self, record: dict[str, Any]) -> None:
        """Apply one stream record (after the P&L feed has): basket, leg state, position or mark. A leg's new
        state waits, as its onRiskState event, for `publish_due` (a newer state of the leg replaces it)."""
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        kind = item_type(new or old)
        if kind == "Basket":
            basket = basket_of(new) if new else None
            with self._lock:
                self._baskets[basket_of(new or old).id] = basket
            if basket is not None and basket.status is BasketStatus.LIVE:
                self._hold_stops(basket)
        elif kind == "LegRisk" and new:
            owner, basket_id, leg_id, state = leg_risk_state_of(new)
            with self._lock:
                known = self._states.get((basket_id, leg_id))
                if known is None or known.version < state.version:
                    self._states[(basket_id, leg_id)] = state
            for event in self._event(owner, basket_id, leg_id, state):
                with self._lock:
                    self._pending[(basket_id, leg_id)] = event
        elif kind == "Position" and new:
            self._watch(position_of(new), None)
        elif kind == "Order" and new:
            self._held_stop(order_of(new))
        elif kind == "Mark" and new:
            ref, price = mark_of(new)
            held = self._pnl.positions_in(ref)
            for position in held:
                self._watch(position, price)
            self._watch_strategies(held)

    def publish_due(self, publisher: Publisher) -> int:
        """Publish each leg's latest state heard since the last call (its id is the state's version, so a retried
        batch delivers nothing twice); one that fails stays for the next call."""
        with self._lock:
            due = list(self._pending.items())
        for key, event in due:
            publisher.publish(event)
            with self._lock:
                if self._pending.get(key) is event:
                    del self._pending[key]
        return len(due)

    def _watch_strategies(self, held: list[Position]) -> None:
        """The combined levels of every strategy with a leg among `held` (each once per mark)."""
        seen: set[tuple[BasketId, StrategyId]] = set()
        for position in held:
            basket = self._basket(position.owner, position.key.basket_id)
            strategy_id = position.key.strategy_id
            if basket is None or strategy_id is None or (basket.id, strategy_id) in seen:
                continue
            seen.add((basket.id, strategy_id))
            strategy = next((s for s in basket.strategies if s.id == strategy_id and s.risk is not None), None)
            if strategy is None:
                continue
            refs = sorted({leg.instrument for leg in strategy.legs}, key=str)
            positions = {p.key: p for ref in refs for p in self._pnl.positions_in(ref) if p.key.basket_id == basket.id}
            state_id = strategy_state_id(strategy.id)
            with self._lock:
                known = self._states.get((basket.id, state_id))
            try:
                state = watch_strategy(self._ports(), basket, strategy, positions, self._pnl.last_prices(refs), known)
            except DomainError as exc:
                log.warning("strategy %s of basket %s not watched: %s", strategy.id, basket.id, exc.message)
                continue
            if state is not None:
                with self._lock:
                    self._states[(basket.id, state_id)] = state

    def _event(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId, state: LegRiskState) -> list[LiveEvent]:
        basket = self._basket(owner, basket_id)
        found = [(s, leg) for s, leg in basket.legs if leg.id == leg_id] if basket is not None else []
        if not found:
            return []
        strategy, leg = found[0]
        last = self._pnl.last_prices([leg.instrument]).get(leg.instrument)
        payload = {
            "asOf": shapes.timestamp(self._pnl.clock.now()),
            "legs": [shapes.leg_risk_levels(leg_view(strategy.id, leg, state, last))],
        }
        event_id = f"risk:{basket_id}:{leg_id}:{state.version}"
        return [LiveEvent(kind="risk", event_id=event_id, owner=owner, basket_id=basket_id, payload=payload)]

    def _watch(self, position: Position, mark: Decimal | None) -> None:
        basket = self._basket(position.owner, position.key.basket_id)
        if basket is None:
            return
        for strategy, leg in basket.legs:
            if not leg.risk.watched or position_key(basket.id, strategy.id, leg) != position.key:
                continue
            with self._lock:
                known = self._states.get((basket.id, leg.id))
            holding = leg.risk.stop_at_broker and (known is None or not known.stop_orders)
            if mark is None and not holding and (known is None or known.fired is None):
                continue  # a fill: the next mark judges it; only a fired leg going flat (or a stop to hold) matters
            try:
                state = watch_leg(self._ports(), basket, strategy.id, leg, position, mark, known)
            except DomainError as exc:
                log.warning("leg %s of basket %s not watched: %s", leg.id, basket.id, exc.message)
                continue
            if state is not None:
                with self._lock:
                    self._states[(basket.id, leg.id)] = state

    def _hold_stops(self, basket: Basket) -> None:
        """A basket turning LIVE after its entries filled: the stops its legs hold at the broker are placed."""
        for strategy, leg in basket.legs:
            if not leg.risk.stop_at_broker:
                continue
            key = position_key(basket.id, strategy.id, leg)
            for position in self._pnl.positions_in(leg.instrument):
                if position.key == key:
                    self._watch(position, None)

    def _held_stop(self, order: Order) -> None:
        """A leg's SL-M held at the broker that filled fires the leg's stop-loss (and its re-entry)."""
        if order.leg_id is None or order.strategy_id is None or order.order_type is not OrderType.SL_M:
            return
        basket = self._basket(order.owner, order.basket_id)
        found = [leg for s, leg in basket.legs if leg.id == order.leg_id] if basket is not None else []
        if basket is None or not found or not found[0].risk.stop_at_broker:
            return
        leg = found[0]
        key = position_key(basket.id, order.strategy_id, leg)
        position = next((p for p in self._pnl.positions_in(leg.instrument) if p.key == key), None)
        with self._lock:
            known = self._states.get((basket.id, leg.id))
        try:
            state = on_held_stop(self._ports(), basket, order.strategy_id, leg, order, position, known)
        except DomainError as exc:
            log.warning("held stop of leg %s of basket %s not recorded: %s", leg.id, basket.id, exc.message)
            return
        if state is not None:
            with self._lock:
                self._states[(basket.id, leg.id)] = state

    def _basket(self, owner: OwnerId, basket_id: BasketId) -> Basket | None:
        with self._lock:
            if basket_id in self._baskets:
                return self._baskets[basket_id]
        try:  # not seen on the stream since this process started: read it once
            found: Basket | None = self._ports().baskets.get(owner, basket_id)
        except NotFound:
            found = None
        with self._lock:
            return self._baskets.setdefault(basket_id, found)
