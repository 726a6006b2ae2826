"""In-memory fakes of every port in trading/ports.py (domain and broker accounts), and a `Fakes` bundle of them.

Each fake satisfies its Protocol structurally (no inheritance) and keeps the stored semantics the
DynamoDB adapter has: objects are copied in and out (a caller's copy is not the stored one), saves
are conditional on the version, a fill is applied once, order updates never touch fill counters.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.kite.login import kite_token_expiry
from tests.builders import NIFTY_PUT, NOW, an_instrument
from trading.clock import IST
from trading.errors import BrokerNotConnected, BrokerRejected, BrokerUnavailable, Conflict, NotFound, NotSupported
from trading.ids import BrokerOrderId, OrderId, TradeId, new_id
from trading.model import BookedFill, Fill, OrderStatus, OrderType, OrderUpdate, Position, PositionKey, Product, Side
from trading.model.account import Session
from trading.model.account_risk import AccountRisk
from trading.model.margin import BasketMargin, Charges, Funds, MarginBreakdown, OrderMargin
from trading.ports import BasketView, Page, Ports
from trading.rules.calendar import MarketCalendar

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime

    from trading.ids import BasketId, ClientRequestId, LegId, OwnerId
    from trading.model import Basket, FillDecision, InstrumentRef, Order, Variety
    from trading.model.account import AppCredentials, BrokerAccount, BrokerName
    from trading.model.instrument import Instrument
    from trading.model.leg_risk import LegRiskState
    from trading.model.margin import Segment
    from trading.ports import OrderChange, OrderRequest, ScheduledAction, ScheduledJob
    from trading.valuation import PreviousClose


class FixedClock:
    """`Clock`: stands still at `at` until a test moves it."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def _page(items: list[Any], limit: int, next_token: str | None) -> Page[Any]:
    start = int(next_token or 0)
    end = start + limit
    return Page(items[start:end], str(end) if end < len(items) else None)


class MemoryOrders:
    """`Orders`: orders, their fills and the positions the fills build, as one store would keep them."""

    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self.orders: dict[OrderId, Order] = {}
        self.recorded_fills: dict[tuple[OrderId, TradeId], Fill] = {}
        self.positions: dict[PositionKey, Position] = {}
        self.first_fill_day: dict[PositionKey, date] = {}

    def add_all(self, orders: list[Order]) -> None:
        if any(o.id in self.orders for o in orders):
            raise Conflict("an order of this request already exists")
        for order in orders:
            self.orders[order.id] = copy.deepcopy(order)

    def get(self, owner: OwnerId, order_id: OrderId) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.owner != owner:
            raise NotFound(f"order {order_id} not found")
        return copy.deepcopy(order)

    def find(self, broker: str, broker_order_id: BrokerOrderId, tag: str | None) -> Order | None:
        tagged = self.orders.get(OrderId(tag)) if tag else None
        if tagged is not None and tagged.broker == broker and tagged.broker_order_id in (None, broker_order_id):
            return copy.deepcopy(tagged)
        if not broker_order_id:
            return None
        found = [o for o in self.orders.values() if o.broker == broker and o.broker_order_id == broker_order_id]
        return copy.deepcopy(found[0]) if found else None

    def save(self, order: Order, expected_version: int) -> None:
        stored = self.orders.get(order.id)
        if stored is None or stored.version != expected_version:
            raise Conflict(f"order {order.id} changed since version {expected_version}; re-read it and retry")
        # fill counters are the fills' to change, as in the table
        stored.status, stored.status_message, stored.version = order.status, order.status_message, order.version
        stored.updated_at = order.updated_at
        stored.broker_order_id = order.broker_order_id or stored.broker_order_id
        stored.order_type, stored.quantity, stored.validity = order.order_type, order.quantity, order.validity
        stored.price, stored.trigger_price = order.price, order.trigger_price
        stored.market_protection = order.market_protection

    def record_placement(self, order: Order) -> None:
        if not order.broker_order_id:
            raise ValueError(f"order {order.id} has no broker order id to record")
        if order.id not in self.orders:
            raise Conflict(f"order {order.id} does not exist; it cannot be marked placed")
        self.orders[order.id].broker_order_id = order.broker_order_id

    def intraday_positions(self, day: date) -> list[Position]:
        return [copy.deepcopy(self.positions[k]) for k, first in self.first_fill_day.items() if first == day]

    def position(self, order: Order) -> Position:
        key = order.position_key
        stored = self.positions.get(key)
        return copy.deepcopy(stored) if stored else Position(key, order.owner, multiplier=order.multiplier)

    def record_fill(self, order: Order, decision: FillDecision) -> bool:
        """As the table's transaction: write the decision only over the state it was decided from."""
        fill = decision.fill
        if (fill.order_id, fill.trade_id) in self.recorded_fills:
            return False
        stored = self.orders.get(order.id)
        key = order.position_key
        current = self.positions.get(key)
        version = current.version if current else 0
        if (
            stored is None
            or stored.filled_quantity != decision.expected_filled_quantity
            or version != decision.expected_position_version
        ):
            raise Conflict(f"order {order.id} or its position changed while fill {fill.trade_id} was decided")
        self.recorded_fills[(fill.order_id, fill.trade_id)] = fill
        stored.filled_quantity, stored.filled_value = decision.filled_quantity, decision.filled_value
        self.positions[key] = copy.deepcopy(decision.position)
        if order.product is Product.MIS:
            self.first_fill_day[key] = decision.position.fills[0].filled_at.astimezone(IST).date()
        return True

    def fills(self, owner: OwnerId, basket_id: BasketId, limit: int, next_token: str | None) -> Page[BookedFill]:
        mine = [
            BookedFill(f, basket_id, self.orders[f.order_id].instrument, self._clock.now())
            for f in self.recorded_fills.values()
            if self.orders[f.order_id].basket_id == basket_id and self.orders[f.order_id].owner == owner
        ]
        mine.sort(key=lambda b: (b.fill.filled_at, b.fill.trade_id), reverse=True)
        return _page(mine, limit, next_token)

    def of_basket(self, basket_id: BasketId) -> tuple[list[Order], list[Position]]:
        orders = sorted((o for o in self.orders.values() if o.basket_id == basket_id), key=lambda o: o.id)
        positions = [p for k, p in self.positions.items() if k.basket_id == basket_id]
        return copy.deepcopy(orders), copy.deepcopy(positions)

    def list(
        self,
        owner: OwnerId,
        limit: int,
        next_token: str | None,
        basket_id: BasketId | None = None,
        status: OrderStatus | None = None,
    ) -> Page[Order]:
        mine = [
            copy.deepcopy(o)
            for o in sorted(self.orders.values(), key=lambda o: (o.created_at, o.id), reverse=True)
            if o.owner == owner and basket_id in (None, o.basket_id) and status in (None, o.status)
        ]
        return _page(mine, limit, next_token)


class MemoryBaskets:
    """`Baskets`: a view joins the basket with its orders and positions from `MemoryOrders`."""

    def __init__(self, orders: MemoryOrders) -> None:
        self._orders = orders
        self.baskets: dict[BasketId, Basket] = {}

    def add(self, basket: Basket) -> None:
        if basket.id in self.baskets:
            raise Conflict(f"basket {basket.id} already exists")
        self.baskets[basket.id] = copy.deepcopy(basket)

    def get(self, owner: OwnerId, basket_id: BasketId) -> Basket:
        basket = self.baskets.get(basket_id)
        if basket is None or basket.owner != owner:
            raise NotFound(f"basket {basket_id} not found")
        return copy.deepcopy(basket)

    def view(self, owner: OwnerId, basket_id: BasketId) -> BasketView:
        basket = self.get(owner, basket_id)
        orders, positions = self._orders.of_basket(basket_id)
        return BasketView(basket, [o for o in orders if o.owner == owner], positions)

    def _check(self, basket: Basket, expected_version: int) -> None:
        stored = self.baskets.get(basket.id)
        if stored is None or stored.version != expected_version or stored.owner != basket.owner:
            raise Conflict(f"basket {basket.id} changed since version {expected_version}; re-read it and retry")

    def save(self, basket: Basket, expected_version: int) -> None:
        self._check(basket, expected_version)
        self.baskets[basket.id] = copy.deepcopy(basket)

    def delete(self, basket: Basket, expected_version: int) -> None:
        self._check(basket, expected_version)
        del self.baskets[basket.id]

    def list(self, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]:
        mine = sorted(
            (b for b in self.baskets.values() if b.owner == owner), key=lambda b: (b.created_at, b.id), reverse=True
        )
        return _page(copy.deepcopy(mine), limit, next_token)


class MemoryInstruments:
    """`Instruments`: an instrument master (by default the builders' NIFTY call and put)."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        listed = list(instruments) or [
            an_instrument(),
            an_instrument(token=12_345_679, tradingsymbol=NIFTY_PUT.tradingsymbol, instrument_type="PE"),
        ]
        self.by_ref = {i.ref: i for i in listed}

    def get(self, ref: InstrumentRef) -> Instrument | None:
        return self.by_ref.get(ref)

    def search(self, text: str, exchange: str | None, limit: int) -> list[Instrument]:
        found = [i for i in self.by_ref.values() if text in i.tradingsymbol and exchange in (None, i.exchange)]
        return sorted(found, key=lambda i: i.tradingsymbol)[:limit]


class MemoryMarks:
    """`MarkSource`: last prices a test sets."""

    def __init__(self, prices: dict[InstrumentRef, Decimal] | None = None) -> None:
        self.prices = dict(prices or {})
        self.at: dict[InstrumentRef, datetime] = {}
        self.previous_closes: dict[InstrumentRef, PreviousClose] = {}

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        return {r: self.prices[r] for r in refs if r in self.prices}

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        return {r: (self.prices[r], self.previous_closes.get(r)) for r in refs if r in self.prices}

    def marked_at(self, refs: list[InstrumentRef]) -> datetime | None:
        return max((self.at[r] for r in refs if r in self.at), default=None)


@dataclass
class _Request:
    operation: str
    fingerprint: str
    result: str | None = None  # JSON, as the table keeps it


class MemoryRequests:
    """`Requests`: idempotency records; a request still running is a Conflict (nothing here waits)."""

    def __init__(self) -> None:
        self.records: dict[tuple[OwnerId, ClientRequestId], _Request] = {}

    def claim(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        prior = self.find(owner, client_request_id, operation, fingerprint)
        if prior is None:
            self.records[(owner, client_request_id)] = _Request(operation, fingerprint)
        return prior

    def find(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        record = self.records.get((owner, client_request_id))
        if record is None:
            return None
        if (record.operation, record.fingerprint) != (operation, fingerprint):
            raise Conflict(f"clientRequestId {client_request_id} was already used for a different request")
        if record.result is None:
            raise Conflict(f"request {client_request_id} is still being processed; retry later")
        result: dict[str, Any] = json.loads(record.result)
        return result

    def complete(self, owner: OwnerId, client_request_id: ClientRequestId, result: dict[str, Any]) -> None:
        record = self.records.get((owner, client_request_id))
        if record is None:
            raise Conflict(f"request {client_request_id} is no longer claimed")
        record.result = json.dumps(result)

    def release(self, owner: OwnerId, client_request_id: ClientRequestId) -> None:
        record = self.records.get((owner, client_request_id))
        if record is not None and record.result is None:
            del self.records[(owner, client_request_id)]


class MemoryDeliveries:
    """`Deliveries`: the event ids already delivered."""

    def __init__(self) -> None:
        self.delivered: set[str] = set()

    def first(self, event_id: str) -> bool:
        if event_id in self.delivered:
            return False
        self.delivered.add(event_id)
        return True


@dataclass
class FakeBroker:
    """`Broker` (and the order book reconciliation reads): accepts, refuses and fills orders as a test tells it.

    Orders rest OPEN unless `fill_on_place`; symbols in `refuse` are rejected with their message and
    symbols in `unreachable` time out (BrokerUnavailable). `fill()` trades a resting order.
    """

    name: str = "paper"
    fill_on_place: bool = False
    market_price: Decimal = Decimal("100.00")
    refuse: dict[str, str] = field(default_factory=dict)
    cancel_refusals: int = 0  # how many next cancels fail as if the order had just filled
    disconnected: bool = False  # the session died (an expired token): every call is refused as not connected
    unreachable: set[str] = field(default_factory=set)
    placed: list[OrderRequest] = field(default_factory=list)
    cancelled: list[BrokerOrderId] = field(default_factory=list)
    modified: list[tuple[BrokerOrderId, OrderChange]] = field(default_factory=list)
    book: dict[BrokerOrderId, OrderUpdate] = field(default_factory=dict)
    trades: dict[BrokerOrderId, list[Fill]] = field(default_factory=dict)
    requests: dict[BrokerOrderId, OrderRequest] = field(default_factory=dict)
    available: Decimal = Decimal(10**9)  # margin left (`funds`)
    used: Decimal = Decimal(0)
    short_margin: Decimal = Decimal(1000)  # what a sold unit blocks alone
    hedge_benefit: Decimal = Decimal(0)  # how much less a basket blocks together than its legs' sum
    margin_supported: bool = True
    margin_asks: list[list[OrderRequest]] = field(default_factory=list)

    def _check_session(self) -> None:
        if self.disconnected:
            raise BrokerNotConnected(f"your {self.name.upper()} session expired; reconnect the broker account")

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        self._check_session()
        symbol = request.instrument.tradingsymbol
        if symbol in self.refuse:
            raise BrokerRejected(self.refuse[symbol])
        if symbol in self.unreachable:
            raise BrokerUnavailable(f"{self.name} did not answer")
        self.placed.append(request)
        broker_order_id = BrokerOrderId(f"B{len(self.placed):04d}")
        self.requests[broker_order_id] = request
        self.book[broker_order_id] = OrderUpdate(broker_order_id, OrderStatus.OPEN, tag=request.tag)
        if self.fill_on_place:
            self.fill(broker_order_id)
        return broker_order_id

    def fill(self, broker_order_id: BrokerOrderId, quantity: int | None = None, price: Decimal | None = None) -> Fill:
        """Trade `quantity` (the rest, by default) of a resting order at `price` (its limit or the market)."""
        request, before = self.requests[broker_order_id], self.book[broker_order_id]
        done = sum(t.quantity for t in self.trades.get(broker_order_id, []))
        quantity = quantity or request.quantity - done
        at = price or (request.price if request.order_type is OrderType.LIMIT else None) or self.market_price
        trade = Fill(TradeId(f"T{new_id()}"), request.tag, request.side, quantity, at, NOW)  # type: ignore[arg-type]
        self.trades.setdefault(broker_order_id, []).append(trade)
        filled = done + quantity
        status = OrderStatus.COMPLETE if filled == request.quantity else before.status
        self.book[broker_order_id] = replace(before, status=status, filled_quantity=filled, average_price=at)
        return trade

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        self._check_session()
        update = self.book[broker_order_id]
        if self.cancel_refusals and not (update.status is not None and update.status.is_terminal):
            self.cancel_refusals -= 1
            self.fill(broker_order_id)
            update = self.book[broker_order_id]
        if update.status is not None and update.status.is_terminal:
            raise BrokerRejected(f"order {broker_order_id} is {update.status}; it cannot be cancelled")
        self.cancelled.append(broker_order_id)
        self.book[broker_order_id] = replace(update, status=OrderStatus.CANCELLED)

    def modify_order(self, order: Order, change: OrderChange) -> None:
        assert order.broker_order_id is not None
        broker_order_id = order.broker_order_id
        update = self.book[broker_order_id]
        if update.status is not None and update.status.is_terminal:
            raise BrokerRejected(f"order {broker_order_id} is {update.status}; it cannot be modified")
        self.modified.append((broker_order_id, change))
        request = self.requests[broker_order_id]
        self.requests[broker_order_id] = replace(
            request,
            order_type=change.order_type,
            quantity=change.quantity,
            price=change.price,
            trigger_price=change.trigger_price,
            validity=change.validity,
            market_protection=change.market_protection,
        )

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        self._check_session()
        return self.book[broker_order_id]

    def order_fills(self, order: Order) -> list[Fill]:
        self._check_session()
        trades = self.trades.get(order.broker_order_id, []) if order.broker_order_id else []
        return [replace(t, order_id=order.id) for t in trades]

    def order_book(self) -> list[OrderUpdate]:
        self._check_session()
        return list(self.book.values())

    def _alone(self, request: OrderRequest) -> Decimal:
        if request.side is Side.BUY:
            return (request.price or self.market_price) * request.quantity
        return self.short_margin * request.quantity

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        """BUYs block their premium, SELLs `short_margin` a unit; together, `hedge_benefit` less."""
        self._check_session()
        if not self.margin_supported:
            raise NotSupported(f"{self.name} gives no margin estimate")
        self.margin_asks.append(list(requests))
        legs = [OrderMargin(r.instrument, MarginBreakdown(self._alone(r))) for r in requests]
        initial = sum((leg.margin.total for leg in legs), Decimal(0))
        final = max(Decimal(0), initial - self.hedge_benefit)
        return BasketMargin(MarginBreakdown(initial), MarginBreakdown(final), legs)

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        """₹20 brokerage an order, and 0.1 % of its value as tax."""
        self._check_session()
        if not self.margin_supported:
            raise NotSupported(f"{self.name} gives no charges estimate")
        taxes = [(r.price or Decimal(0)) * r.quantity / 1000 for r in requests]
        return [Charges(brokerage=Decimal(20), transaction_tax=t, total=20 + t) for t in taxes]

    def funds(self, segment: Segment) -> Funds:
        self._check_session()
        if not self.margin_supported:
            raise NotSupported(f"{self.name} gives no funds")
        return Funds(segment, self.available, self.used, self.available + self.used)


class FakeBrokers:
    """`Brokers`: one `FakeBroker` per adapter name; the first is the deployment's default."""

    def __init__(self, *brokers: FakeBroker) -> None:
        self.by_name = {b.name: b for b in brokers or (FakeBroker(),)}

    def for_owner(self, owner: OwnerId, broker: str | None = None) -> FakeBroker:
        name = broker or next(iter(self.by_name))
        if name not in self.by_name:
            raise BrokerNotConnected(f"{name.upper()} is not available on this deployment")
        return self.by_name[name]


class MemoryAccountRisk:
    """`AccountRiskBook`: versioned saves that leave the order count alone; the count taken under the same
    conditions as the store's (not locked at `now`, within the cap)."""

    def __init__(self) -> None:
        self.items: dict[tuple[OwnerId, str], AccountRisk] = {}
        self.reservations = 0

    def get(self, owner: OwnerId, broker: str) -> AccountRisk:
        return self.items.get((owner, broker)) or AccountRisk(owner, broker)

    def save(self, risk: AccountRisk, expected_version: int) -> None:
        stored = self.get(risk.owner, risk.broker)
        if stored.version != expected_version:
            raise Conflict(f"account {risk.broker} changed since version {expected_version}")
        self.items[(risk.owner, risk.broker)] = replace(
            risk, orders_day=stored.orders_day, orders_today=stored.orders_today, version=expected_version + 1
        )

    def reserve_orders(
        self, owner: OwnerId, broker: str, day: date, count: int, cap: int | None, now: datetime
    ) -> bool:
        stored = self.get(owner, broker)
        sent = stored.orders_on(day)
        if stored.halted_at(now) is not None or (cap is not None and sent + count > cap):
            return False
        self.reservations += 1
        self.items[(owner, broker)] = replace(stored, orders_day=day, orders_today=sent + count)
        return True


class MemoryScheduler:
    """`Scheduler`: the jobs that would fire, by name."""

    def __init__(self) -> None:
        self.jobs: dict[str, ScheduledJob] = {}

    def put(self, job: ScheduledJob) -> None:
        self.jobs[job.name] = job

    def cancel(self, action: ScheduledAction, basket_id: BasketId) -> None:
        self.jobs.pop(f"{action.value}-{basket_id}", None)


class MemoryLegRisks:
    """`LegRisks`: each leg's state, saved over its version like the store's conditional Put."""

    def __init__(self) -> None:
        self.states: dict[tuple[OwnerId, BasketId, LegId], LegRiskState] = {}

    def get(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId) -> LegRiskState | None:
        return self.states.get((owner, basket_id, leg_id))

    def of_basket(self, owner: OwnerId, basket_id: BasketId) -> dict[LegId, LegRiskState]:
        return {leg: s for (o, b, leg), s in self.states.items() if o == owner and b == basket_id}

    def save(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId, state: LegRiskState) -> LegRiskState:
        stored = self.states.get((owner, basket_id, leg_id))
        if (stored.version if stored else 0) != state.version:
            raise Conflict(f"leg {leg_id}'s risk state changed since version {state.version}")
        saved = replace(state, version=state.version + 1)
        self.states[(owner, basket_id, leg_id)] = saved
        return saved


@dataclass
class Fakes:
    """One of each fake, wired together; `ports` is the bundle the use cases take."""

    clock: FixedClock = field(default_factory=FixedClock)
    broker: FakeBroker = field(default_factory=FakeBroker)
    instruments: MemoryInstruments = field(default_factory=MemoryInstruments)
    marks: MemoryMarks = field(default_factory=MemoryMarks)
    requests: MemoryRequests = field(default_factory=MemoryRequests)
    deliveries: MemoryDeliveries = field(default_factory=MemoryDeliveries)
    scheduler: MemoryScheduler | None = field(default_factory=MemoryScheduler)
    leg_risks: MemoryLegRisks = field(default_factory=MemoryLegRisks)
    calendar: MarketCalendar = field(default_factory=MarketCalendar)
    account_risk: MemoryAccountRisk = field(default_factory=MemoryAccountRisk)
    orders: MemoryOrders = field(init=False)
    baskets: MemoryBaskets = field(init=False)
    brokers: FakeBrokers = field(init=False)

    def __post_init__(self) -> None:
        self.orders = MemoryOrders(self.clock)
        self.baskets = MemoryBaskets(self.orders)
        self.brokers = FakeBrokers(self.broker)

    @property
    def ports(self) -> Ports:
        return Ports(
            baskets=self.baskets,
            orders=self.orders,
            instruments=self.instruments,
            marks=self.marks,
            requests=self.requests,
            brokers=self.brokers,
            clock=self.clock,
            deliveries=self.deliveries,
            calendar=self.calendar,
            scheduler=self.scheduler,
            account_risk=self.account_risk,
            leg_risks=self.leg_risks,
        )


class MemoryAccounts:
    """`BrokerAccounts`, counting its writes."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, BrokerName], BrokerAccount] = {}
        self.puts = 0

    def get(self, owner: OwnerId, broker: BrokerName) -> BrokerAccount | None:
        return self.items.get((owner, broker))

    def put(self, account: BrokerAccount) -> None:
        self.puts += 1
        self.items[(account.owner, account.broker)] = account

    def list(self, owner: OwnerId) -> list[BrokerAccount]:
        return [a for (o, _), a in sorted(self.items.items()) if o == owner]


class MemorySecrets:
    """`Secrets`: named values."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


class FakeLogin:
    """`BrokerLogin`: every request token opens a session (`access-<token>`, dying at Kite's next 06:00)."""

    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self.opened: list[tuple[str, str, AppCredentials]] = []

    def login_url(self, api_key: str) -> str:
        return f"https://broker.example/login?api_key={api_key}"

    def open_session(self, owner: OwnerId, request_token: str, app: AppCredentials, user_id: str | None) -> Session:
        self.opened.append((owner, request_token, app))
        expiry = kite_token_expiry(self._clock.now())
        return Session(f"AB{owner}", f"access-{request_token}", expiry)


class MemorySessions:
    """`Sessions`: which cached sessions were dropped."""

    def __init__(self) -> None:
        self.forgotten: list[tuple[str, str]] = []

    def forget(self, owner: OwnerId, broker: str) -> None:
        self.forgotten.append((owner, broker))
