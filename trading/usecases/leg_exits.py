"""A leg's managed exit: its risk state moved by each mark, its trigger acted on once, and its re-entries.

The state is one versioned item per leg (`LegRisks`). Whoever's conditional save moves it to fired squares
the leg off; every other writer (a replayed stream batch, another handler instance) loses that save, re-reads
and finds it fired. The exit itself is `exits.exit_basket` scoped to the leg's position, under a clientRequestId
naming the leg and its entry cycle, so even a repeat after a crash between the save and the exit exits once.
A re-entry is claimed the same way (the save that starts the next cycle) and placed under its own
clientRequestId.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Protocol

from trading.errors import Conflict, DomainError
from trading.ids import LegId
from trading.model import BasketStatus, OrderStatus, PositionKey, Side
from trading.model.leg_risk import LegRiskState, Trigger
from trading.rules.leg_risk import (
    PRICE_PLACES,
    combined_trigger,
    evaluate,
    held_stop_filled,
    held_stop_lost,
    held_stop_reason,
    may_re_enter,
    re_entered,
    strategy_reason,
    trigger_reason,
)
from trading.usecases.exits import ExitPorts, exit_basket, note
from trading.usecases.held_stops import hold_stop
from trading.usecases.idempotency import Placed, check_client_request_id, fingerprint_of, run_once
from trading.usecases.orders import place_all
from trading.usecases.tickets import OrderTicket, checked_orders, instrument_of

if TYPE_CHECKING:
    from collections.abc import Mapping
    from fractions import Fraction

    from trading.ids import BasketId, StrategyId
    from trading.model import Basket, InstrumentRef, Leg, Order, Position, Strategy
    from trading.ports import LegRisks

log = logging.getLogger(__name__)
ATTEMPTS = 5


class LegExitPorts(ExitPorts, Protocol):
    @property
    def leg_risks(self) -> LegRisks | None: ...


def position_key(basket_id: BasketId, strategy_id: StrategyId, leg: Leg) -> PositionKey:
    """The position a leg's orders build (a leg's own: per strategy, instrument and product)."""
    return PositionKey(basket_id, strategy_id, leg.instrument, leg.product)


def entry_of(leg: Leg, position: Position | None) -> Decimal | None:
    """The leg's entry: its position's average price while open on the leg's side; None when flat or reversed."""
    if position is None or position.net_quantity == 0 or (position.net_quantity > 0) != (leg.side is Side.BUY):
        return None
    average = position.average_price
    return (Decimal(average.numerator) / Decimal(average.denominator)).quantize(PRICE_PLACES, ROUND_HALF_EVEN)


def watch_leg(
    ports: LegExitPorts,
    basket: Basket,
    strategy_id: StrategyId,
    leg: Leg,
    position: Position | None,
    mark: Decimal | None,
    known: LegRiskState | None = None,
) -> LegRiskState | None:
    """The leg's state after `mark`, saved when it moved; the save that fires it squares the leg off.

    `known` is the state the caller last saw (None: read it); `mark` None (a fill, no new price) only
    considers a re-entry. Returns the state as stored now, or None for a
    leg without managed exits or not entered. A fired leg that is flat is entered again when its re-entries allow.
    """
    risks = ports.leg_risks
    if risks is None or not leg.risk.watched or basket.status is not BasketStatus.LIVE:
        return known
    fresh = known is None
    state = known if known is not None else risks.get(basket.owner, basket.id, leg.id) or LegRiskState()
    for _ in range(ATTEMPTS):
        entry = entry_of(leg, position)
        if entry is None:
            return _maybe_re_enter(ports, basket, strategy_id, leg, position, state)
        if leg.risk.stop_at_broker and not state.stop_orders and state.fired is None and position is not None:
            try:
                state = hold_stop(ports, basket, strategy_id, leg, position, entry, state)
            except Conflict:  # another batch or instance recorded it (the same order, by its clientRequestId)
                state, fresh = risks.get(basket.owner, basket.id, leg.id) or LegRiskState(), True
                continue
        if mark is None:
            return state
        moved = evaluate(leg.risk, leg.side, entry, state, mark)
        if moved == state:
            if fresh and _ours(leg, state):  # fired before, this process did not see the exit: make sure
                exit_leg(ports, basket, strategy_id, leg, state)
            return state
        try:
            saved = risks.save(basket.owner, basket.id, leg.id, moved)
        except Conflict:  # another batch or instance moved it first: decide again on top of theirs
            state, fresh = risks.get(basket.owner, basket.id, leg.id) or LegRiskState(), True
            continue
        if saved.fired is not None:
            exit_leg(ports, basket, strategy_id, leg, saved)
        return saved
    log.warning("leg %s of basket %s kept changing; mark %s not applied", leg.id, basket.id, mark)
    return None


def _ours(leg: Leg, state: LegRiskState) -> bool:
    """Whether the state fired by a level we act on (a stop-loss held at the broker fired at the broker)."""
    return state.fired is not None and not (state.fired is Trigger.STOP_LOSS and not state.stop_is_ours(leg.risk))


def on_held_stop(
    ports: LegExitPorts,
    basket: Basket,
    strategy_id: StrategyId,
    leg: Leg,
    order: Order,
    position: Position | None,
    known: LegRiskState | None = None,
) -> LegRiskState | None:
    """An update of an order of the leg: once the leg's SL-M held at the broker has filled (all of it), its state
    fires by the stop-loss, at the fill's average price (the leg is flat: nothing is sent), and a flat leg is
    entered again when its re-entries allow. A SL-M the broker refused leaves that entry's stop to us
    (`stop_lost`). Other orders, and a state that fired already, change nothing."""
    risks = ports.leg_risks
    filled = order.filled_quantity >= order.quantity
    lost = order.status is OrderStatus.REJECTED and not order.filled_quantity
    if risks is None or not leg.risk.stop_at_broker or not (filled or lost):
        return known  # working, or its fills not all in yet (a COMPLETE status lands before its trades)
    state = known if known is not None and order.id in known.stop_orders else None
    for _ in range(ATTEMPTS):
        if state is None:
            state = risks.get(basket.owner, basket.id, leg.id) or LegRiskState()
        if order.id not in state.stop_orders:
            return known
        if filled:
            price = _held_stop_filled_at(ports, basket, order, state)
            if price is None:
                return state  # a slice of a stop sliced at the freeze quantity: the others are still filling
            fired = held_stop_filled(state, price)
        else:
            fired = held_stop_lost(state)
        if fired == state:
            break
        try:
            state = risks.save(basket.owner, basket.id, leg.id, fired)
        except Conflict:  # another batch or instance recorded it first
            state = None
            continue
        name = f"{leg.side} {leg.instrument.tradingsymbol}"
        why = held_stop_reason(name, state) if filled else f"leg {name}: {held_stop_lost_reason(order)}"
        note(ports, basket.owner, basket.id, why)
        break
    if state is None:
        return known
    if basket.status is not BasketStatus.LIVE:
        return state
    return _maybe_re_enter(ports, basket, strategy_id, leg, position, state)


def _held_stop_filled_at(ports: LegExitPorts, basket: Basket, order: Order, state: LegRiskState) -> Decimal | None:
    """The average price of the leg's SL-M once all of it filled: one order, or every slice of a stop above the
    freeze quantity (each slice fills on its own; the leg is flat only once the last has). None while any
    slice is still to fill."""
    if state.stop_orders == (order.id,):
        return order.average_price
    slices = [order if oid == order.id else ports.orders.get(basket.owner, oid) for oid in state.stop_orders]
    if any(s.filled_quantity < s.quantity for s in slices):
        return None
    return sum((s.filled_value for s in slices), Decimal(0)) / sum(s.filled_quantity for s in slices)


def held_stop_lost_reason(order: Order) -> str:
    said = f" ({order.status_message})" if order.status_message else ""
    return f"its SL-M was refused by the broker{said}; its stop-loss is managed by us this entry"


def exit_leg(ports: LegExitPorts, basket: Basket, strategy_id: StrategyId, leg: Leg, state: LegRiskState) -> None:
    """Square off the leg's position at market (protected), once per trigger; the basket stays LIVE."""
    crid = f"legexit-{leg.id}-{state.cycle}"
    try:
        exit_basket(
            ports,
            basket.owner,
            basket.id,
            crid,
            reason=trigger_reason(f"{leg.side} {leg.instrument.tradingsymbol}", state),
            positions=frozenset({position_key(basket.id, strategy_id, leg)}),
        )
    except DomainError as exc:
        log.warning("exit of leg %s of basket %s failed: %s", leg.id, basket.id, exc.message)


def _maybe_re_enter(
    ports: LegExitPorts,
    basket: Basket,
    strategy_id: StrategyId,
    leg: Leg,
    position: Position | None,
    state: LegRiskState,
) -> LegRiskState:
    """Enter a fired, flat leg again when its re-entries and cut-off allow; the save of the next cycle claims it."""
    risks = ports.leg_risks
    flat = position is None or position.net_quantity == 0
    if risks is None or not flat or not may_re_enter(leg.risk, state, ports.clock.now()):
        return state
    try:
        claimed = risks.save(basket.owner, basket.id, leg.id, re_entered(state))
    except Conflict:
        return risks.get(basket.owner, basket.id, leg.id) or state
    try:
        re_enter_leg(ports, basket, strategy_id, leg, claimed.cycle)
    except DomainError as exc:
        log.warning("re-entry of leg %s of basket %s failed: %s", leg.id, basket.id, exc.message)
    return claimed


def re_enter_leg(ports: LegExitPorts, basket: Basket, strategy_id: StrategyId, leg: Leg, cycle: int) -> list[Order]:
    """Place the leg's entry order again (its own ticket), once per cycle."""
    crid = check_client_request_id(f"reentry-{leg.id}-{cycle}")

    def prepare() -> list[Order]:
        current = ports.baskets.get(basket.owner, basket.id)
        if current.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {current.status}; a leg is entered again only in a LIVE basket")
        instrument = instrument_of(ports.instruments, leg.instrument.exchange, leg.instrument.tradingsymbol)
        broker = ports.brokers.for_owner(basket.owner, basket.broker).name
        ticket = OrderTicket.for_leg(strategy_id, leg, instrument)
        return checked_orders(ports, ticket, basket.owner, basket.id, crid, broker, ports.clock.now())

    def run(orders: list[Order]) -> Placed:
        ports.orders.add_all(orders)
        place_all(ports, basket.owner, orders)
        return Placed(basket.id, tuple(o.id for o in orders))

    fingerprint = fingerprint_of("reEnterLeg", basket.id, leg.id, cycle)
    placed = run_once(ports, basket.owner, crid, "reEnterLeg", fingerprint, prepare, run)
    return [o for o in ports.baskets.view(basket.owner, basket.id).orders if o.id in placed.order_ids]


def strategy_state_id(strategy_id: StrategyId) -> LegId:
    """The id a strategy's combined state is stored under, beside its legs'."""
    return LegId(f"strategy-{strategy_id}")


def _exact(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def watch_strategy(
    ports: LegExitPorts,
    basket: Basket,
    strategy: Strategy,
    positions: Mapping[PositionKey, Position],
    prices: Mapping[InstrumentRef, Decimal],
    known: LegRiskState | None = None,
) -> LegRiskState | None:
    """A strategy's combined stop-loss and target at the latest marks: once every leg is entered and marked, the
    save that records a level reached squares off the strategy's legs (once, as a leg's trigger does)."""
    risks, risk = ports.leg_risks, strategy.risk
    if risks is None or risk is None or basket.status is not BasketStatus.LIVE or not strategy.legs:
        return known
    keys = {position_key(basket.id, strategy.id, leg) for leg in strategy.legs}
    entered = all(entry_of(leg, positions.get(position_key(basket.id, strategy.id, leg))) for leg in strategy.legs)
    if not entered or any(leg.instrument not in prices for leg in strategy.legs):
        return known
    premium = sum((prices[leg.instrument] for leg in strategy.legs), Decimal(0))
    pnl = sum((_exact(positions[k].pnl(prices[k.instrument])) for k in keys), Decimal(0))
    fired = combined_trigger(risk, strategy.legs[0].side, premium, pnl)
    if fired is None:
        return known
    state_id = strategy_state_id(strategy.id)
    state = known if known is not None else risks.get(basket.owner, basket.id, state_id) or LegRiskState()
    reason = strategy_reason(strategy.name, risk, fired, premium, pnl)
    if state.fired is None:
        try:
            state = risks.save(basket.owner, basket.id, state_id, replace(state, fired=fired, fired_at=premium))
        except Conflict:  # another batch or instance recorded it first: theirs exits
            return risks.get(basket.owner, basket.id, state_id)
    elif known is not None:
        return state  # this process saw it fired and exited already
    try:
        exit_basket(
            ports,
            basket.owner,
            basket.id,
            f"stratexit-{strategy.id}-{state.cycle}",
            reason=reason,
            positions=frozenset(keys),
        )
    except DomainError as exc:
        log.warning("exit of strategy %s of basket %s failed: %s", strategy.id, basket.id, exc.message)
    return state
