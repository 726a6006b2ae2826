"""Use cases. Each takes the ports it needs and the caller's id; nothing here knows AWS or HTTP."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    Conflict,
    RateLimited,
    ValidationError,
)
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId, StrategyId, new_id
from trading.instruments import EXCHANGES, Instrument
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
from trading.ports import (
    Baskets,
    BasketView,
    Brokers,
    Clock,
    Deliveries,
    Instruments,
    MarkSource,
    OrderRequest,
    Orders,
    Page,
    Requests,
)
from trading.risk import (
    MarketCalendar,
    check_market_hours,
    check_order_prices,
    check_quantity,
    slice_quantity,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

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


def _check_risk(risk: RiskLimits) -> RiskLimits:
    for what, value in (("max loss", risk.max_loss), ("target", risk.target)):
        if value is not None and (not value.is_finite() or value <= 0):
            raise ValidationError(f"{what} must be a positive amount, got {value}")
    return risk


def create_basket(
    ports: Ports,
    owner: OwnerId,
    name: str,
    strategies: Iterable[tuple[str, list[LegInput]]] = (),
    risk: RiskLimits = RiskLimits(),
    schedule: Schedule = Schedule(),
) -> Basket:
    now = ports.clock.now()
    basket = Basket(
        id=BasketId(new_id()),
        owner=owner,
        name=check_name(name, "basket name"),
        created_at=now,
        updated_at=now,
        risk=_check_risk(risk),
        schedule=schedule,
    )
    for strategy_name, legs in strategies:
        basket.put_strategy(_build_strategy(ports, strategy_name, legs))
    ports.baskets.add(basket)
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
) -> Basket:
    def change(basket: Basket) -> None:
        if basket.status in (BasketStatus.CLOSED, BasketStatus.FAILED):
            raise Conflict(f"basket is {basket.status}; it can no longer be changed")
        if name is not None:
            basket.name = check_name(name, "basket name")
        if risk is not None:
            basket.risk = _check_risk(risk)
        if schedule is not None:
            basket.schedule = schedule

    return _edit(ports, owner, basket_id, expected_version, change)


def delete_basket(ports: Ports, owner: OwnerId, basket_id: BasketId, expected_version: int) -> Basket:
    basket = ports.baskets.get(owner, basket_id)
    _check_version(basket, expected_version)
    if basket.status is not BasketStatus.DRAFT:
        raise Conflict(f"basket is {basket.status}; only a DRAFT basket can be deleted (executed ones are history)")
    ports.baskets.delete(basket, expected_version)
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


def _place_all(ports: Ports, owner: OwnerId, orders: list[Order]) -> list[str]:
    """Place orders in the given sequence; returns the reasons of those the broker refused.

    Orders are already stored as PENDING, so a placement whose outcome is unknown is kept
    and reconciled by its tag (our order id) rather than placed again.
    """
    broker = ports.brokers.for_owner(owner)
    rejected: list[str] = []
    for order in orders:
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
            order.broker_order_id = broker.place_order(request)
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
        broker = ports.brokers.for_owner(owner).name
        now = ports.clock.now()
        orders: list[Order] = []
        ordered = sorted(basket.legs, key=lambda sl: sl[1].side is not Side.BUY)
        for strategy, leg in ordered:
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
        rejected = _place_all(ports, owner, orders)
        basket.finish_execution(rejected)
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, _bump(basket))
        return {"basketId": basket.id, "orderIds": [o.id for o in orders]}

    result = _idempotent(ports, owner, client_request_id, "executeBasket", f"executeBasket:{basket_id}", prepare, run)
    return _execution(ports, owner, result)


def exit_basket(ports: Ports, owner: OwnerId, basket_id: BasketId, client_request_id: str) -> Execution:
    """Cancel the basket's working orders and square off every open position at market."""

    def prepare() -> tuple[Basket, list[Order], list[Order]]:
        view = ports.baskets.view(owner, basket_id)
        basket, orders, positions = view.basket, view.orders, view.positions
        basket.start_exit()
        crid = check_client_request_id(client_request_id)
        broker = ports.brokers.for_owner(owner).name
        now = ports.clock.now()
        exits: list[Order] = []
        for position in positions:
            if position.net_quantity == 0:
                continue
            instrument = _instrument(ports, position.key.instrument.exchange, position.key.instrument.tradingsymbol)
            side = Side.SELL if position.net_quantity > 0 else Side.BUY
            template = {
                "strategy_id": position.key.strategy_id,
                "side": side,
                "order_type": OrderType.MARKET,
                "product": position.key.product,
            }
            for order in _new_orders(
                owner, basket.id, crid, broker, instrument, abs(position.net_quantity), now, template
            ):
                _check_order(ports, order, instrument)
                exits.append(order)
        working = [o for o in orders if not o.status.is_terminal and o.broker_order_id]
        exits.sort(key=lambda o: o.side is not Side.BUY)  # buy back shorts before selling longs
        return basket, working, exits

    def run(plan: tuple[Basket, list[Order], list[Order]]) -> dict[str, Any]:
        basket, working, exits = plan
        for order in working:
            _cancel(ports, order)
        if not exits:
            basket.close()
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, _bump(basket))
        ports.orders.add_all(exits)
        rejected = _place_all(ports, owner, exits)
        if rejected:
            basket.status_message = "exit rejected: " + "; ".join(rejected)
            ports.baskets.save(basket, _bump(basket))
        return {"basketId": basket.id, "orderIds": [o.id for o in exits]}

    result = _idempotent(ports, owner, client_request_id, "exitBasket", f"exitBasket:{basket_id}", prepare, run)
    return _execution(ports, owner, result)


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
            ports.brokers.for_owner(owner).name,
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
    broker = ports.brokers.for_owner(order.owner)
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
    broker = ports.brokers.for_owner(order.owner)
    order = apply_order_update_to(ports, order, broker.order_update(order.broker_order_id))
    _apply_fills(ports, order)
    return order


def _apply_fills(ports: Ports, order: Order) -> None:
    fills = ports.brokers.for_owner(order.owner).order_fills(order)
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
