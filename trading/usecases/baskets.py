"""Basket editing: create, update and delete a basket, its strategies, legs and schedule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from trading.errors import Conflict, ValidationError
from trading.ids import BasketId, LegId, StrategyId, new_id
from trading.model import (
    Basket,
    BasketStatus,
    Leg,
    OrderType,
    PartialFailurePolicy,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
    check_name,
)
from trading.model.leg_risk import NO_LEG_RISK, LegRisk, StrategyRisk
from trading.model.protection import AUTOMATIC
from trading.ports import ScheduledAction, ScheduledJob
from trading.rules.leg_risk import check_leg_risk, check_strategy_risk
from trading.rules.limits import check_risk_limits, check_schedule
from trading.rules.pre_trade import check_lots, check_order_prices, check_quantity, check_slices
from trading.usecases.tickets import instrument_of
from trading.usecases.versions import bump, check_version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from decimal import Decimal

    from trading.ids import OwnerId
    from trading.model.protection import MarketProtection
    from trading.ports import Baskets, Clock, Instruments, Scheduler
    from trading.rules.calendar import MarketCalendar


class LegPorts(Protocol):
    @property
    def instruments(self) -> Instruments: ...


class SchedulePorts(Protocol):
    @property
    def clock(self) -> Clock: ...
    @property
    def calendar(self) -> MarketCalendar: ...
    @property
    def scheduler(self) -> Scheduler | None: ...


class EditPorts(LegPorts, SchedulePorts, Protocol):
    @property
    def baskets(self) -> Baskets: ...


@dataclass(frozen=True)
class LegInput:
    exchange: str
    tradingsymbol: str
    side: Side
    lots: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.NRML
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    market_protection: MarketProtection = AUTOMATIC
    risk: LegRisk = NO_LEG_RISK


def build_leg(ports: LegPorts, spec: LegInput, leg_id: LegId | None = None) -> Leg:
    """Validate a leg against the instrument master and turn it into a domain leg."""
    check_lots(spec.lots)
    instrument = instrument_of(ports.instruments, spec.exchange, spec.tradingsymbol)
    check_quantity(spec.lots * instrument.lot_size, instrument)
    check_slices(spec.lots * instrument.lot_size, instrument)
    check_order_prices(spec.order_type, spec.price, spec.trigger_price, instrument)
    limit = spec.price if spec.order_type in (OrderType.LIMIT, OrderType.SL) else None
    check_leg_risk(spec.risk, spec.side, limit)
    return Leg(
        id=leg_id or LegId(new_id()),
        instrument=instrument.ref,
        side=spec.side,
        lots=spec.lots,
        order_type=spec.order_type,
        product=spec.product,
        price=spec.price,
        trigger_price=spec.trigger_price,
        market_protection=spec.market_protection,
        risk=spec.risk,
    )


def _build_strategy(ports: LegPorts, name: str, legs: Iterable[LegInput], risk: StrategyRisk | None = None) -> Strategy:
    built = tuple(build_leg(ports, spec) for spec in legs)
    if risk is not None:
        check_strategy_risk(risk, [leg.side for leg in built])
    return Strategy(
        id=StrategyId(new_id()),
        name=check_name(name, "strategy name"),
        risk=risk,
        legs=built,
    )


def _check_schedule(ports: SchedulePorts, basket: Basket, schedule: Schedule) -> Schedule:
    """A schedule the basket can take; it needs a scheduler, and an entry time only means something in DRAFT."""
    if schedule.entry_at is None and schedule.exit_at is None:
        return schedule
    if ports.scheduler is None:
        raise ValidationError("this deployment takes no schedules (no scheduler is configured); leave schedule out")
    if schedule.entry_at is not None and basket.status is not BasketStatus.DRAFT:
        raise ValidationError(f"basket is {basket.status}; schedule.entryAt can be set only on a DRAFT basket")
    return check_schedule(schedule, {leg.instrument.exchange for _, leg in basket.legs}, ports.calendar)


def _reschedule(ports: SchedulePorts, basket: Basket) -> None:
    """Put (or drop) the basket's entry and exit jobs: each at the next occurrence of its IST time on a trading day."""
    scheduler = ports.scheduler
    if scheduler is None:
        return
    now = ports.clock.now()
    entry_at, exit_at = basket.schedule.entry_at, basket.schedule.exit_at
    entry = ports.calendar.next_at(entry_at, now) if entry_at and basket.status is BasketStatus.DRAFT else None
    leave = ports.calendar.next_at(exit_at, entry or now) if exit_at else None
    for action, at in ((ScheduledAction.ENTRY, entry), (ScheduledAction.EXIT, leave)):
        if at is None:
            scheduler.cancel(action, basket.id)
        else:
            scheduler.put(ScheduledJob(action, basket.owner, basket.id, at))


def create_basket(
    ports: EditPorts,
    owner: OwnerId,
    name: str,
    strategies: Iterable[tuple[str, list[LegInput]] | tuple[str, list[LegInput], StrategyRisk | None]] = (),
    risk: RiskLimits = RiskLimits(),
    schedule: Schedule = Schedule(),
    on_partial_failure: PartialFailurePolicy = PartialFailurePolicy.EXIT_FILLED,
    broker: str | None = None,
) -> Basket:
    now = ports.clock.now()
    basket = Basket(
        id=BasketId(new_id()),
        owner=owner,
        name=check_name(name, "basket name"),
        created_at=now,
        updated_at=now,
        risk=check_risk_limits(risk),
        on_partial_failure=on_partial_failure,
        broker=broker,
    )
    for strategy_name, legs, *rest in strategies:
        basket.put_strategy(_build_strategy(ports, strategy_name, legs, rest[0] if rest else None))
    basket.schedule = _check_schedule(ports, basket, schedule)
    ports.baskets.add(basket)
    if basket.schedule != Schedule():
        _reschedule(ports, basket)
    return basket


def _edit(
    ports: EditPorts, owner: OwnerId, basket_id: BasketId, expected_version: int, change: Callable[[Basket], Any]
) -> Basket:
    basket = ports.baskets.get(owner, basket_id)
    check_version(basket, expected_version)
    change(basket)
    basket.updated_at = ports.clock.now()
    ports.baskets.save(basket, bump(basket))
    return basket


def update_basket(
    ports: EditPorts,
    owner: OwnerId,
    basket_id: BasketId,
    expected_version: int,
    name: str | None = None,
    risk: RiskLimits | None = None,
    schedule: Schedule | None = None,
    on_partial_failure: PartialFailurePolicy | None = None,
    broker: str | None = None,
) -> Basket:
    def change(basket: Basket) -> None:
        if basket.status in (BasketStatus.CLOSED, BasketStatus.FAILED):
            raise Conflict(f"basket is {basket.status}; it can no longer be changed")
        if name is not None:
            basket.name = check_name(name, "basket name")
        if risk is not None:
            basket.risk = check_risk_limits(risk)
        if schedule is not None:
            basket.schedule = _check_schedule(ports, basket, schedule)
        if on_partial_failure is not None:
            if basket.status is not BasketStatus.DRAFT:
                raise ValidationError(f"basket is {basket.status}; onPartialFailure can be set only on a DRAFT basket")
            basket.on_partial_failure = on_partial_failure
        if broker is not None:
            if basket.status is not BasketStatus.DRAFT:
                raise ValidationError(f"basket is {basket.status}; its broker can be chosen only while it is a DRAFT")
            basket.broker = broker

    updated = _edit(ports, owner, basket_id, expected_version, change)
    if schedule is not None:
        _reschedule(ports, updated)
    return updated


def delete_basket(ports: EditPorts, owner: OwnerId, basket_id: BasketId, expected_version: int) -> Basket:
    basket = ports.baskets.get(owner, basket_id)
    check_version(basket, expected_version)
    if basket.status is not BasketStatus.DRAFT:
        raise Conflict(f"basket is {basket.status}; only a DRAFT basket can be deleted (executed ones are history)")
    ports.baskets.delete(basket, expected_version)
    if ports.scheduler is not None and basket.schedule != Schedule():
        for action in (ScheduledAction.ENTRY, ScheduledAction.EXIT):
            ports.scheduler.cancel(action, basket.id)
    return basket


def add_strategy(
    ports: EditPorts,
    owner: OwnerId,
    basket_id: BasketId,
    expected_version: int,
    name: str,
    legs: list[LegInput],
    risk: StrategyRisk | None = None,
) -> Basket:
    strategy = _build_strategy(ports, name, legs, risk)
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.put_strategy(strategy))


def rename_strategy(
    ports: EditPorts,
    owner: OwnerId,
    basket_id: BasketId,
    expected_version: int,
    strategy_id: StrategyId,
    name: str,
) -> Basket:
    new_name = check_name(name, "strategy name")
    return _edit(
        ports,
        owner,
        basket_id,
        expected_version,
        lambda b: b.put_strategy(replace(b.strategy(strategy_id), name=new_name)),
    )


def remove_strategy(
    ports: EditPorts, owner: OwnerId, basket_id: BasketId, expected_version: int, strategy_id: StrategyId
) -> Basket:
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.remove_strategy(strategy_id))


def put_leg(
    ports: EditPorts,
    owner: OwnerId,
    basket_id: BasketId,
    expected_version: int,
    strategy_id: StrategyId,
    spec: LegInput,
    leg_id: LegId | None = None,
) -> Basket:
    """Add a leg to a strategy, or replace leg `leg_id` in it."""
    leg = build_leg(ports, spec, leg_id)

    def change(basket: Basket) -> None:
        if leg_id is not None and leg_id not in {x.id for x in basket.strategy(strategy_id).legs}:
            raise ValidationError(f"strategy {strategy_id} has no leg {leg_id}")
        basket.put_leg(strategy_id, leg)

    return _edit(ports, owner, basket_id, expected_version, change)


def remove_leg(ports: EditPorts, owner: OwnerId, basket_id: BasketId, expected_version: int, leg_id: LegId) -> Basket:
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.remove_leg(leg_id))
