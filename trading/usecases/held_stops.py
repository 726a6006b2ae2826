"""A leg's stop-loss held at the broker: one protected SL-M order per entry, placed once the entry has filled.

The order is placed under a clientRequestId naming the leg and its entry cycle (`legstop-<leg>-<cycle>`), so
every handler instance and replayed batch that sees the entry places it once; its ids are recorded on the leg's
risk state. The watch never fires that leg's stop-loss itself (`rules.leg_risk.evaluate`), and every exit of the
leg or the basket cancels the SL-M first: it is a working order of the leg's position (`exits.run_exit`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from trading.model import BasketStatus, OrderType, Side
from trading.rules.leg_risk import broker_stop_trigger
from trading.usecases.idempotency import Placed, check_client_request_id, fingerprint_of, run_once
from trading.usecases.orders import place_all
from trading.usecases.tickets import OrderTicket, checked_orders, instrument_of

if TYPE_CHECKING:
    from decimal import Decimal

    from trading.ids import StrategyId
    from trading.model import Basket, Leg, Order, Position
    from trading.model.leg_risk import LegRiskState
    from trading.usecases.leg_exits import LegExitPorts

log = logging.getLogger(__name__)


def stop_request_id(leg: Leg, cycle: int) -> str:
    return f"legstop-{leg.id}-{cycle}"


def hold_stop(
    ports: LegExitPorts,
    basket: Basket,
    strategy_id: StrategyId,
    leg: Leg,
    position: Position,
    entry: Decimal,
    state: LegRiskState,
) -> LegRiskState:
    """Place the leg's SL-M at the broker once its entry filled (the position holds the leg's whole quantity),
    and record it on the state. A state that holds one, or fired, is returned as it is.

    Raises
    ------
    Conflict
        Another writer saved the leg's state first (the caller re-reads: it holds the same order).
    """
    risks = ports.leg_risks
    if risks is None or state.stop_orders or state.fired is not None or basket.status is not BasketStatus.LIVE:
        return state
    instrument = instrument_of(ports.instruments, leg.instrument.exchange, leg.instrument.tradingsymbol)
    quantity = leg.lots * instrument.lot_size
    if abs(position.net_quantity) < quantity:
        return state  # the entry is still filling: the stop covers the whole leg once it has
    trigger = broker_stop_trigger(leg.risk, leg.side, entry, instrument.tick_size)
    ticket = OrderTicket(
        instrument=instrument,
        quantity=quantity,
        side=Side.SELL if leg.side is Side.BUY else Side.BUY,
        order_type=OrderType.SL_M,
        product=leg.product,
        trigger_price=trigger,
        strategy_id=strategy_id,
        leg_id=leg.id,
        market_protection=leg.market_protection,
    )
    crid = check_client_request_id(stop_request_id(leg, state.cycle))

    def prepare() -> list[Order]:
        broker = ports.brokers.for_owner(basket.owner, basket.broker).name
        return checked_orders(ports, ticket, basket.owner, basket.id, crid, broker, ports.clock.now())

    def run(orders: list[Order]) -> Placed:
        ports.orders.add_all(orders)
        place_all(ports, basket.owner, orders)  # a refusal is the order's REJECTED status (`on_held_stop`)
        return Placed(basket.id, tuple(o.id for o in orders))

    fingerprint = fingerprint_of("holdStop", basket.id, leg.id, state.cycle)
    placed = run_once(ports, basket.owner, crid, "holdStop", fingerprint, prepare, run)
    held = replace(state, entry=entry, peak=state.peak or entry, stop=trigger, stop_orders=placed.order_ids)
    return risks.save(basket.owner, basket.id, leg.id, held)
