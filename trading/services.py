"""Use cases. Each takes the ports it needs and the caller's id; nothing here knows AWS or HTTP."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trading.clock import IST
from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    Conflict,
    DomainError,
    NotFound,
    RateLimited,
    ValidationError,
)
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId, StrategyId, new_id
from trading.model import (
    Basket,
    BasketStatus,
    Fill,
    InstrumentRef,
    Leg,
    Order,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PartialFailurePolicy,
    Position,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
    Validity,
    Variety,
    check_name,
)
from trading.model.instrument import EXCHANGES, Instrument
from trading.ports import (
    Baskets,
    BasketView,
    Broker,
    Brokers,
    Clock,
    Deliveries,
    Instruments,
    MarkSource,
    OrderRequest,
    Orders,
    Page,
    Requests,
    ScheduledAction,
    ScheduledJob,
    Scheduler,
)
from trading.rules.calendar import MarketCalendar, is_stale
from trading.rules.limits import check_risk_limits, check_schedule, limit_breach
from trading.rules.pre_trade import check_market_hours, check_order_prices, check_quantity, slice_quantity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import date, datetime

log = logging.getLogger(__name__)

MAX_PAGE = 100
MAX_CLIENT_REQUEST_ID = 64


@dataclass(frozen=True)
class Ports:
    """Everything the use cases reach outside the domain; one instance per composition root."""

    baskets: Baskets
    orders: Orders
    instruments: Instruments
    marks: MarkSource
    requests: Requests
    brokers: Brokers
    clock: Clock
    deliveries: Deliveries
    calendar: MarketCalendar = field(default_factory=MarketCalendar)
    scheduler: Scheduler | None = None  # None: this deployment takes no basket schedules


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


@dataclass(frozen=True)
class OrderInput:
    basket_id: BasketId
    exchange: str
    tradingsymbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.NRML
    variety: Variety = Variety.REGULAR
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    strategy_id: StrategyId | None = None


@dataclass(frozen=True)
class Execution:
    """The basket as it stands after the request, and the orders this request placed."""

    view: BasketView
    orders: list[Order]


@dataclass(frozen=True)
class PositionPnl:
    position: Position
    last_price: Decimal | None
    pnl: Decimal
    realised: Decimal
    unrealised: Decimal


@dataclass(frozen=True)
class PnlReport:
    basket_id: BasketId
    pnl: Decimal
    realised: Decimal
    unrealised: Decimal
    positions: list[PositionPnl]


def _instrument(ports: Ports, exchange: str, tradingsymbol: str) -> Instrument:
    ref = InstrumentRef(exchange.strip().upper(), tradingsymbol.strip().upper())
    instrument = ports.instruments.get(ref) if ref.exchange and ref.tradingsymbol else None
    if instrument is None:
        raise ValidationError(f"unknown instrument {ref}; look it up with the instruments query")
    return instrument


def _bump(obj: Basket | Order) -> int:
    """Advance the version for a conditional save; returns the version the store must still hold."""
    expected = obj.version
    obj.version += 1
    return expected


def _check_version(basket: Basket, expected_version: int) -> None:
    if basket.version != expected_version:
        raise Conflict(
            f"basket {basket.id} is at version {basket.version}, not {expected_version}; re-read it and retry"
        )


def build_leg(ports: Ports, spec: LegInput, leg_id: LegId | None = None) -> Leg:
    """Validate a leg against the instrument master and turn it into a domain leg."""
    instrument = _instrument(ports, spec.exchange, spec.tradingsymbol)
    if spec.lots <= 0:
        raise ValidationError(f"lots must be positive, got {spec.lots}")
    check_quantity(spec.lots * instrument.lot_size, instrument)
    check_order_prices(spec.order_type, spec.price, spec.trigger_price, instrument)
    return Leg(
        id=leg_id or LegId(new_id()),
        instrument=instrument.ref,
        side=spec.side,
        lots=spec.lots,
        order_type=spec.order_type,
        product=spec.product,
        price=spec.price,
        trigger_price=spec.trigger_price,
    )


def _build_strategy(ports: Ports, name: str, legs: Iterable[LegInput]) -> Strategy:
    return Strategy(
        id=StrategyId(new_id()),
        name=check_name(name, "strategy name"),
        legs=tuple(build_leg(ports, spec) for spec in legs),
    )


def _check_schedule(ports: Ports, basket: Basket, schedule: Schedule) -> Schedule:
    """A schedule the basket can take; it needs a scheduler, and an entry time only means something in DRAFT."""
    if schedule.entry_at is None and schedule.exit_at is None:
        return schedule
    if ports.scheduler is None:
        raise ValidationError("this deployment takes no schedules (no scheduler is configured); leave schedule out")
    if schedule.entry_at is not None and basket.status is not BasketStatus.DRAFT:
        raise ValidationError(f"basket is {basket.status}; schedule.entryAt can be set only on a DRAFT basket")
    return check_schedule(schedule, {leg.instrument.exchange for _, leg in basket.legs}, ports.calendar)


def _reschedule(ports: Ports, basket: Basket) -> None:
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
    ports: Ports,
    owner: OwnerId,
    name: str,
    strategies: Iterable[tuple[str, list[LegInput]]] = (),
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
    for strategy_name, legs in strategies:
        basket.put_strategy(_build_strategy(ports, strategy_name, legs))
    basket.schedule = _check_schedule(ports, basket, schedule)
    ports.baskets.add(basket)
    if basket.schedule != Schedule():
        _reschedule(ports, basket)
    return basket


def _edit(
    ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int, change: Callable[[Basket], Any]
) -> Basket:
    basket = ports.baskets.get(owner, basket_id)
    _check_version(basket, expected_version)
    change(basket)
    basket.updated_at = ports.clock.now()
    ports.baskets.save(basket, _bump(basket))
    return basket


def update_basket(
    ports: Ports,
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


def delete_basket(ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int) -> Basket:
    basket = ports.baskets.get(owner, basket_id)
    _check_version(basket, expected_version)
    if basket.status is not BasketStatus.DRAFT:
        raise Conflict(f"basket is {basket.status}; only a DRAFT basket can be deleted (executed ones are history)")
    ports.baskets.delete(basket, expected_version)
    if ports.scheduler is not None and basket.schedule != Schedule():
        for action in (ScheduledAction.ENTRY, ScheduledAction.EXIT):
            ports.scheduler.cancel(action, basket.id)
    return basket


def add_strategy(
    ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int, name: str, legs: list[LegInput]
) -> Basket:
    strategy = _build_strategy(ports, name, legs)
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.put_strategy(strategy))


def rename_strategy(
    ports: Ports,
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
    ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int, strategy_id: StrategyId
) -> Basket:
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.remove_strategy(strategy_id))


def put_leg(
    ports: Ports,
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


def remove_leg(ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int, leg_id: LegId) -> Basket:
    return _edit(ports, owner, basket_id, expected_version, lambda b: b.remove_leg(leg_id))


def check_client_request_id(client_request_id: str) -> ClientRequestId:
    value = client_request_id.strip()
    if not value or len(value) > MAX_CLIENT_REQUEST_ID or not value.isprintable():
        raise ValidationError(f"clientRequestId must be 1-{MAX_CLIENT_REQUEST_ID} printable characters")
    return ClientRequestId(value)


def _new_orders(
    owner: OwnerId,
    basket_id: BasketId,
    crid: ClientRequestId,
    broker: str,
    instrument: Instrument,
    quantity: int,
    now: Any,
    template: dict[str, Any],
) -> list[Order]:
    """One order per freeze-quantity slice of `quantity`."""
    return [
        Order(
            id=OrderId(new_id()),
            owner=owner,
            basket_id=basket_id,
            client_request_id=crid,
            broker=broker,
            instrument=instrument.ref,
            quantity=part,
            multiplier=instrument.multiplier,
            created_at=now,
            updated_at=now,
            **template,
        )
        for part in slice_quantity(quantity, instrument)
    ]


def _check_order(ports: Ports, order: Order, instrument: Instrument) -> None:
    check_quantity(order.quantity, instrument)
    check_order_prices(order.order_type, order.price, order.trigger_price, instrument)
    check_market_hours(order.variety, instrument, ports.clock.now(), ports.calendar)


def _place_all(ports: Ports, owner: OwnerId, orders: list[Order], stop_on_refusal: bool = False) -> list[str]:
    """Place orders in the given sequence; returns the reasons of those the broker refused.

    Orders are already stored as PENDING, so a placement whose outcome is unknown is kept
    and reconciled by its tag (our order id) rather than placed again. With `stop_on_refusal`,
    the orders after the first refusal are not sent; they are stored as CANCELLED with the reason.
    """
    sessions: dict[str, Broker] = {}
    rejected: list[str] = []
    for order in orders:
        if rejected and stop_on_refusal:
            skipped = OrderUpdate(BrokerOrderId(""), OrderStatus.CANCELLED, message="not placed: an earlier leg failed")
            apply_order_update_to(ports, order, skipped)
            continue
        request = OrderRequest(
            instrument=order.instrument,
            side=order.side,
            quantity=order.quantity,
            order_type=order.order_type,
            product=order.product,
            variety=order.variety,
            validity=order.validity,
            price=order.price,
            trigger_price=order.trigger_price,
            tag=order.id,
        )
        try:
            session = sessions.get(order.broker)
            if session is None:
                session = sessions[order.broker] = ports.brokers.for_owner(owner, order.broker)
            order.broker_order_id = session.place_order(request)
        except (BrokerRejected, BrokerNotConnected, RateLimited) as exc:
            rejected.append(f"{order.side} {order.quantity} {order.instrument}: {exc.message}")
            rejection = OrderUpdate(BrokerOrderId(""), OrderStatus.REJECTED, message=exc.message)
            apply_order_update_to(ports, order, rejection)
            continue
        except BrokerUnavailable as exc:
            log.warning("placement outcome unknown for order %s: %s", order.id, exc.message)
            rejected.append(f"{order.side} {order.quantity} {order.instrument}: outcome unknown ({exc.message})")
            continue
        ports.orders.record_placement(order)
    return rejected


def _idempotent(
    ports: Ports,
    owner: OwnerId,
    client_request_id: str,
    operation: str,
    fingerprint: str,
    prepare: Callable[[], Any],
    run: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Run a request once per clientRequestId; a repeat returns the first result and does nothing."""
    crid = check_client_request_id(client_request_id)
    prior = ports.requests.find(owner, crid, operation, fingerprint)
    if prior is not None:
        return prior  # a repeat: the first result, even if the basket has moved on since
    plan = prepare()  # validates everything before the first write
    prior = ports.requests.claim(owner, crid, operation, fingerprint)
    if prior is not None:
        return prior
    try:
        result = run(plan)
    except BaseException:
        ports.requests.release(owner, crid)
        raise
    ports.requests.complete(owner, crid, result)
    return result


def _execution(ports: Ports, owner: OwnerId, result: dict[str, Any]) -> Execution:
    view = ports.baskets.view(owner, BasketId(result["basketId"]))
    orders = {o.id: o for o in view.orders}
    return Execution(view, [orders[i] for i in result["orderIds"] if i in orders])


def execute_basket(ports: Ports, owner: OwnerId, basket_id: BasketId, client_request_id: str) -> Execution:
    """Place every leg of a DRAFT basket, BUY legs before SELL legs (hedges first, less margin)."""

    def prepare() -> tuple[Basket, list[Order]]:
        basket = ports.baskets.get(owner, basket_id)
        basket.start_execution()  # state checks only; saved in run()
        crid = check_client_request_id(client_request_id)
        broker = ports.brokers.for_owner(owner, basket.broker).name
        now = ports.clock.now()
        orders: list[Order] = []
        for strategy, leg in basket.placement_order():
            instrument = _instrument(ports, leg.instrument.exchange, leg.instrument.tradingsymbol)
            template = {
                "strategy_id": strategy.id,
                "leg_id": leg.id,
                "side": leg.side,
                "order_type": leg.order_type,
                "product": leg.product,
                "price": leg.price,
                "trigger_price": leg.trigger_price,
            }
            for order in _new_orders(
                owner, basket.id, crid, broker, instrument, leg.lots * instrument.lot_size, now, template
            ):
                _check_order(ports, order, instrument)
                orders.append(order)
        return basket, orders

    def run(plan: tuple[Basket, list[Order]]) -> dict[str, Any]:
        basket, orders = plan
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, _bump(basket))
        ports.orders.add_all(orders)
        exit_filled = basket.on_partial_failure is PartialFailurePolicy.EXIT_FILLED
        rejected = _place_all(ports, owner, orders, stop_on_refusal=exit_filled)
        accepted = [o for o in orders if o.broker_order_id]
        basket.finish_execution(rejected, len(accepted))
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, _bump(basket))
        exits = _unwind(ports, basket, accepted, orders[0].client_request_id) if rejected and exit_filled else []
        return {"basketId": basket.id, "orderIds": [o.id for o in orders + exits]}

    result = _idempotent(ports, owner, client_request_id, "executeBasket", f"executeBasket:{basket_id}", prepare, run)
    return _execution(ports, owner, result)


def _exit_orders(
    ports: Ports, basket: Basket, positions: list[Position], crid: ClientRequestId, products: frozenset[Product] | None
) -> list[Order]:
    """MARKET orders that flatten the open positions (of `products`, when given): shorts bought back first."""
    broker = ports.brokers.for_owner(basket.owner, basket.broker).name
    now = ports.clock.now()
    exits: list[Order] = []
    for position in positions:
        if position.net_quantity == 0 or (products is not None and position.key.product not in products):
            continue
        instrument = _instrument(ports, position.key.instrument.exchange, position.key.instrument.tradingsymbol)
        template = {
            "strategy_id": position.key.strategy_id,
            "side": Side.SELL if position.net_quantity > 0 else Side.BUY,
            "order_type": OrderType.MARKET,
            "product": position.key.product,
        }
        for order in _new_orders(
            basket.owner, basket.id, crid, broker, instrument, abs(position.net_quantity), now, template
        ):
            _check_order(ports, order, instrument)
            exits.append(order)
    exits.sort(key=lambda o: o.side is not Side.BUY)  # buy back shorts before selling longs
    return exits


def _cancel_quietly(ports: Ports, order: Order) -> None:
    """Cancel a working order during an exit; one that finished meanwhile is only brought up to date."""
    try:
        _cancel(ports, order)
    except DomainError as exc:
        log.warning("could not cancel order %s while exiting: %s", order.id, exc.message)
        try:
            sync_order(ports, order)
        except DomainError:
            log.warning("order %s is left for reconciliation", order.id)


def _note(ports: Ports, owner: OwnerId, basket_id: BasketId, message: str, attempts: int = 5) -> None:
    """Append to the basket's status message, re-reading it while postbacks move it on."""
    for _ in range(attempts):
        basket = ports.baskets.get(owner, basket_id)
        basket.status_message = f"{basket.status_message}; {message}" if basket.status_message else message
        basket.updated_at = ports.clock.now()
        try:
            ports.baskets.save(basket, _bump(basket))
            return
        except Conflict:
            continue
    log.warning("basket %s kept changing; not noted: %s", basket_id, message)


def _unwind(ports: Ports, basket: Basket, accepted: list[Order], crid: ClientRequestId) -> list[Order]:
    """After a partly failed execution: stop what still works, square off what filled; returns the exit orders."""
    for order in accepted:
        try:
            current = sync_order(ports, order)  # the fills may not have been posted back yet
        except DomainError as exc:
            log.warning("could not sync order %s while unwinding: %s", order.id, exc.message)
            continue
        if not current.status.is_terminal:
            _cancel_quietly(ports, current)
    positions = ports.baskets.view(basket.owner, basket.id).positions
    exits = _exit_orders(ports, basket, positions, crid, None)
    if not exits:
        _note(ports, basket.owner, basket.id, "nothing had filled")
        return []
    ports.orders.add_all(exits)
    rejected = _place_all(ports, basket.owner, exits)
    note = f"filled legs exited ({len(exits)} order{'s' if len(exits) > 1 else ''})"
    _note(ports, basket.owner, basket.id, note + ("; exit rejected: " + "; ".join(rejected) if rejected else ""))
    return exits


def exit_basket(
    ports: Ports,
    owner: OwnerId,
    basket_id: BasketId,
    client_request_id: str,
    *,
    reason: str | None = None,
    products: frozenset[Product] | None = None,
    only_live: bool = False,
) -> Execution:
    """Cancel the basket's working orders and square off its open positions at market.

    Parameters
    ----------
    reason
        Why (an automatic exit); kept as the basket's status message.
    products
        Only positions and working orders of these products (the MIS square-off); the basket
        stays LIVE while other positions remain open.
    only_live
        Refuse (Conflict) unless the basket is LIVE: automatic exits never repeat a running exit.

    Raises
    ------
    Conflict
        The basket is not in a state to exit, or another exit changed it first.
    """

    def prepare() -> tuple[Basket, list[Order], list[Order]]:
        view = ports.baskets.view(owner, basket_id)
        basket, orders, positions = view.basket, view.orders, view.positions
        if only_live and basket.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {basket.status}; only a LIVE basket is exited automatically")
        crid = check_client_request_id(client_request_id)
        working_now = [o for o in orders if not o.status.is_terminal]
        if basket.status is BasketStatus.EXITING and working_now:
            # its exit orders are still on their way: squaring off again would overshoot the positions
            raise Conflict(
                f"basket is already exiting and {len(working_now)} of its orders are still working; "
                "exit again once they have finished (or cancel them)"
            )
        open_positions = [p for p in positions if p.net_quantity]
        partial = products is not None and any(p.key.product not in products for p in open_positions)
        if partial:
            if basket.status is not BasketStatus.LIVE:
                raise Conflict(f"basket is {basket.status}; only a LIVE basket is squared off in part")
            basket.status_message = reason
        elif only_live:
            basket.start_limit_exit(reason or "exited automatically")
        else:
            basket.start_exit()
            basket.status_message = reason or basket.status_message
        exits = _exit_orders(ports, basket, positions, crid, products)
        working = [
            o
            for o in orders
            if not o.status.is_terminal and o.broker_order_id and (products is None or o.product in products)
        ]
        return basket, working, exits

    def run(plan: tuple[Basket, list[Order], list[Order]]) -> dict[str, Any]:
        basket, working, exits = plan
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, _bump(basket))  # the gate: of two racing exits, one writes and the other fails
        for order in working:
            _cancel_quietly(ports, order)
        if not exits and basket.status is BasketStatus.EXITING:
            settle_basket(ports, owner, basket.id)
        ports.orders.add_all(exits)
        rejected = _place_all(ports, owner, exits)
        if rejected:
            _note(ports, owner, basket.id, "exit rejected: " + "; ".join(rejected))
        return {"basketId": basket.id, "orderIds": [o.id for o in exits]}

    scope = "" if products is None else ":" + ",".join(sorted(products))
    fingerprint = f"exitBasket:{basket_id}{scope}"
    result = _idempotent(ports, owner, client_request_id, "exitBasket", fingerprint, prepare, run)
    return _execution(ports, owner, result)


def exit_on_limit(ports: Ports, owner: OwnerId, basket_id: BasketId) -> Execution | None:
    """Exit a LIVE basket whose P&L (from the store, at the latest marks) reached its max loss or target.

    Exactly once however often it is called, concurrently or not: the exit's clientRequestId is the
    basket's own and the basket's versioned save admits one exit. Returns None when nothing was done.
    """
    view = ports.baskets.view(owner, basket_id)
    basket = view.basket
    if basket.status is not BasketStatus.LIVE or (basket.risk.max_loss is None and basket.risk.target is None):
        return None
    reason = limit_breach(basket.risk, pnl_of(ports.marks, basket_id, view.positions).pnl)
    if reason is None:
        return None
    try:
        return exit_basket(ports, owner, basket_id, f"limit-exit-{basket_id}", reason=reason, only_live=True)
    except Conflict as exc:
        log.info("limit exit of basket %s not needed: %s", basket_id, exc.message)
        return None


def run_scheduled(
    ports: Ports, action: ScheduledAction, owner: OwnerId, basket_id: BasketId, scheduled_at: datetime | None = None
) -> Execution | None:
    """Carry out a basket's scheduled entry, exit or MIS square-off; None when it no longer applies.

    A repeat (timers deliver at least once) finds the first run's result by its clientRequestId.

    Raises
    ------
    NotFound
        The basket is not the owner's.
    """
    now = ports.clock.now()
    when = scheduled_at or now
    if is_stale(when, now):
        log.warning("scheduled %s of basket %s is stale (due %s); skipped", action, basket_id, when.isoformat())
        return None
    basket = ports.baskets.get(owner, basket_id)
    local = when.astimezone(IST)
    try:
        if action is ScheduledAction.ENTRY:
            if basket.status is not BasketStatus.DRAFT:
                return None
            return execute_basket(ports, owner, basket_id, f"scheduled-entry-{basket_id}")
        if action is ScheduledAction.EXIT:
            reason = f"scheduled exit at {local:%H:%M} IST"
            return exit_basket(ports, owner, basket_id, f"scheduled-exit-{basket_id}", reason=reason, only_live=True)
        return square_off(ports, owner, basket_id, local.date())
    except Conflict as exc:
        log.info("scheduled %s of basket %s not needed: %s", action, basket_id, exc.message)
        return None


def square_off(ports: Ports, owner: OwnerId, basket_id: BasketId, day: date) -> Execution | None:
    """Square off the basket's open MIS (intraday) positions; others stay open. None when it has none."""
    view = ports.baskets.view(owner, basket_id)
    if view.basket.status not in (BasketStatus.LIVE, BasketStatus.FAILED):
        return None  # an EXITING basket's exit orders are already on their way
    if not any(p.net_quantity and p.key.product is Product.MIS for p in view.positions):
        return None
    return exit_basket(
        ports,
        owner,
        basket_id,
        f"squareoff-{basket_id}-{day:%Y%m%d}",
        reason="MIS positions squared off at 15:15 IST",
        products=frozenset({Product.MIS}),
    )


def square_off_all(ports: Ports, day: date) -> list[BasketId]:
    """The 15:15 IST square-off: every basket of every user with an MIS position opened on `day` (IST).

    Returns the baskets it squared off; one failing basket does not stop the others.
    """
    if not ports.calendar.is_trading_day(day):
        return []
    baskets = {(p.owner, p.key.basket_id) for p in ports.orders.intraday_positions(day) if p.net_quantity}
    done: list[BasketId] = []
    for owner, basket_id in sorted(baskets):
        try:
            if square_off(ports, owner, basket_id, day) is not None:
                done.append(basket_id)
        except (Conflict, NotFound) as exc:
            log.info("square-off of basket %s skipped: %s", basket_id, exc.message)
        except DomainError as exc:
            log.error("square-off of basket %s failed: %s", basket_id, exc.message)
    return done


def place_order(ports: Ports, owner: OwnerId, spec: OrderInput, client_request_id: str) -> Order:
    """Place one order (sliced above the freeze quantity: the first slice is returned) in a LIVE basket."""

    def prepare() -> list[Order]:
        basket = ports.baskets.get(owner, spec.basket_id)
        if basket.status is not BasketStatus.LIVE:
            raise Conflict(f"basket is {basket.status}; orders can be added only to a LIVE basket (execute it first)")
        if spec.strategy_id is not None:
            basket.strategy(spec.strategy_id)
        if spec.quantity <= 0:
            raise ValidationError(f"quantity must be positive, got {spec.quantity}")
        instrument = _instrument(ports, spec.exchange, spec.tradingsymbol)
        check_quantity(spec.quantity, instrument)
        template = {
            "strategy_id": spec.strategy_id,
            "side": spec.side,
            "order_type": spec.order_type,
            "product": spec.product,
            "variety": spec.variety,
            "validity": spec.validity,
            "price": spec.price,
            "trigger_price": spec.trigger_price,
        }
        orders = _new_orders(
            owner,
            basket.id,
            check_client_request_id(client_request_id),
            ports.brokers.for_owner(owner, basket.broker).name,
            instrument,
            spec.quantity,
            ports.clock.now(),
            template,
        )
        for order in orders:
            _check_order(ports, order, instrument)
        return orders

    def run(orders: list[Order]) -> dict[str, Any]:
        ports.orders.add_all(orders)
        _place_all(ports, owner, orders)
        return {"basketId": spec.basket_id, "orderIds": [o.id for o in orders]}

    result = _idempotent(ports, owner, client_request_id, "placeOrder", _fingerprint(spec), prepare, run)
    return _execution(ports, owner, result).orders[0]  # a consistent read: the basket's collection


def _fingerprint(spec: OrderInput) -> str:
    return "placeOrder:" + "|".join(str(v) for v in spec.__dict__.values())


def _cancel(ports: Ports, order: Order) -> Order:
    if order.status.is_terminal:
        raise Conflict(f"order {order.id} is {order.status}; it can no longer be cancelled")
    if order.broker_order_id is None:
        raise Conflict(f"order {order.id} has not reached the broker yet; retry in a moment")
    broker = ports.brokers.for_owner(order.owner, order.broker)
    broker.cancel_order(order.broker_order_id, order.variety)
    return sync_order(ports, order)


def cancel_order(ports: Ports, owner: OwnerId, order_id: OrderId) -> Order:
    return _cancel(ports, ports.orders.get(owner, order_id))


def cancel_all_orders(ports: Ports, owner: OwnerId, basket_id: BasketId) -> list[Order]:
    """Cancel every working order of the basket; returns the orders it cancelled."""
    orders = ports.baskets.view(owner, basket_id).orders
    return [_cancel(ports, o) for o in orders if not o.status.is_terminal and o.broker_order_id]


def apply_order_update_to(ports: Ports, order: Order, update: OrderUpdate, attempts: int = 5) -> Order:
    """Apply a broker report to an order; stale or out-of-order reports change nothing."""
    for _ in range(attempts):
        if update.broker_order_id and order.broker_order_id is None:
            order.broker_order_id = update.broker_order_id
        if not order.apply_update(update):
            return order
        order.updated_at = ports.clock.now()
        try:
            ports.orders.save(order, _bump(order))
            return order
        except Conflict:
            order = ports.orders.get(order.owner, order.id)
    raise Conflict(f"order {order.id} kept changing while applying a broker update; retry")


def apply_fill(ports: Ports, order: Order, fill: Fill) -> bool:
    """Apply one fill to its order and position in one atomic write; a replay is a no-op."""
    order.check_fill(fill)
    applied = ports.orders.apply_fill(order, fill)
    if applied:
        order.apply_fill(fill)
    return applied


def sync_order(ports: Ports, order: Order) -> Order:
    """Bring an order up to date from its broker: status first, then its exact fills."""
    if order.broker_order_id is None:
        return order
    broker = ports.brokers.for_owner(order.owner, order.broker)
    order = apply_order_update_to(ports, order, broker.order_update(order.broker_order_id))
    _apply_fills(ports, order)
    return order


def _apply_fills(ports: Ports, order: Order) -> None:
    fills = ports.brokers.for_owner(order.owner, order.broker).order_fills(order)
    for fill in sorted(fills, key=lambda f: (f.filled_at, f.trade_id)):
        apply_fill(ports, order, fill)


def on_broker_update(ports: Ports, broker: str, update: OrderUpdate) -> Order | None:
    """A postback or feed update: apply it and the order's fills; None when the order is not ours."""
    order = ports.orders.find(broker, update.broker_order_id, update.tag)
    if order is None:
        return None
    order = apply_order_update_to(ports, order, update)
    if update.filled_quantity > order.filled_quantity:
        _apply_fills(ports, order)
    if order.status.is_terminal:  # only a finished order can let an exiting basket close
        settle_basket(ports, order.owner, order.basket_id)
    return order


def settle_basket(ports: Ports, owner: OwnerId, basket_id: BasketId) -> Basket:
    """Close an EXITING basket once no order is working and every position is flat."""
    view = ports.baskets.view(owner, basket_id)
    basket, orders, positions = view.basket, view.orders, view.positions
    flat = all(p.net_quantity == 0 for p in positions)
    idle = all(o.status.is_terminal for o in orders)
    if basket.status is BasketStatus.EXITING and flat and idle:
        basket.close()
        basket.updated_at = ports.clock.now()
        try:
            ports.baskets.save(basket, _bump(basket))
        except Conflict:
            log.info("basket %s changed while settling; the next update settles it", basket.id)
    return basket


def basket_pnl(ports: Ports, owner: OwnerId, basket_id: BasketId) -> PnlReport:
    """P&L of every position of the basket at the latest marks, and their total."""
    positions = ports.baskets.view(owner, basket_id).positions
    return pnl_of(ports.marks, basket_id, positions)


def pnl_of(marks: MarkSource, basket_id: BasketId, positions: list[Position]) -> PnlReport:
    prices = marks.last_prices(list({p.key.instrument for p in positions}))
    rows = []
    for position in positions:
        last = prices.get(position.key.instrument)
        if last is None:  # no mark yet: value the open quantity at its own average cost
            avg = position.buy_price if position.net_quantity > 0 else position.sell_price
            pnl = position.pnl(avg)
        else:
            pnl = position.pnl(last)
        rows.append(PositionPnl(position, last, pnl, position.realised, pnl - position.realised))
    return PnlReport(
        basket_id=basket_id,
        pnl=sum((r.pnl for r in rows), Decimal(0)),
        realised=sum((r.realised for r in rows), Decimal(0)),
        unrealised=sum((r.unrealised for r in rows), Decimal(0)),
        positions=rows,
    )


def list_baskets(ports: Ports, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]:
    return ports.baskets.list(owner, _limit(limit), next_token)


def list_orders(
    ports: Ports,
    owner: OwnerId,
    limit: int,
    next_token: str | None,
    basket_id: BasketId | None = None,
    status: OrderStatus | None = None,
) -> Page[Order]:
    return ports.orders.list(owner, _limit(limit), next_token, basket_id, status)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit


def search_instruments(ports: Ports, text: str, exchange: str | None, limit: int) -> list[Instrument]:
    text = text.strip().upper()
    if not text or len(text) > 50:
        raise ValidationError("search must be 1-50 characters, e.g. NIFTY or RELIANCE")
    if exchange is not None:
        exchange = exchange.strip().upper()
        if exchange not in EXCHANGES:
            raise ValidationError(f"exchange must be one of {', '.join(EXCHANGES)}")
    return ports.instruments.search(text, exchange, _limit(limit))
