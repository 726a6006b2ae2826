"""What the use cases need from the outside world, and the bundles of it. Adapters satisfy these without inheriting."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from trading.model.protection import AUTOMATIC, MarketProtection
from trading.rules.calendar import MarketCalendar

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime
    from decimal import Decimal

    from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId
    from trading.model import (
        Basket,
        BookedFill,
        Fill,
        FillDecision,
        InstrumentRef,
        Order,
        OrderStatus,
        OrderType,
        OrderUpdate,
        Position,
        Product,
        Side,
        Validity,
        Variety,
    )
    from trading.model.account import AppCredentials, BrokerAccount, BrokerName, Session
    from trading.model.account_risk import AccountRisk
    from trading.model.instrument import Instrument
    from trading.model.leg_risk import LegRiskState
    from trading.model.margin import BasketMargin, Charges, Funds, Segment
    from trading.valuation import PreviousClose

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None = None


@dataclass(frozen=True)
class BasketView:
    """A basket with everything in its item collection (one Query per 1 MB page of it)."""

    basket: Basket
    orders: list[Order]
    positions: list[Position]


class Baskets(Protocol):
    def add(self, basket: Basket) -> None: ...
    def get(self, owner: OwnerId, basket_id: BasketId) -> Basket: ...
    def view(self, owner: OwnerId, basket_id: BasketId) -> BasketView: ...
    def save(self, basket: Basket, expected_version: int) -> None: ...
    def delete(self, basket: Basket, expected_version: int) -> None: ...
    def list(self, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]: ...


class LegRisks(Protocol):
    """Each leg's risk state, one versioned item per leg: the conditional save is what makes a trigger act once."""

    def get(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId) -> LegRiskState | None: ...
    def of_basket(self, owner: OwnerId, basket_id: BasketId) -> dict[LegId, LegRiskState]: ...
    def save(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId, state: LegRiskState) -> LegRiskState:
        """Store `state` if the store still holds `state.version` (0: none yet); returns it at its new version.

        Raises `Conflict`, writing nothing, when another writer saved first.
        """
        ...


class Orders(Protocol):
    def add_all(self, orders: list[Order]) -> None: ...
    def get(self, owner: OwnerId, order_id: OrderId) -> Order: ...
    def find(self, broker: str, broker_order_id: BrokerOrderId, tag: str | None) -> Order | None: ...
    def save(self, order: Order, expected_version: int) -> None: ...
    def record_placement(self, order: Order) -> None: ...
    def intraday_positions(self, day: date) -> list[Position]:
        """Every user's MIS positions whose first fill was on `day` (IST), open or not."""
        ...

    def list(
        self,
        owner: OwnerId,
        limit: int,
        next_token: str | None,
        basket_id: BasketId | None = None,
        status: OrderStatus | None = None,
    ) -> Page[Order]: ...
    def position(self, order: Order) -> Position:
        """The order's position as stored now (strongly consistent); a new one (version 0) before its first fill."""
        ...

    def record_fill(self, order: Order, decision: FillDecision) -> bool:
        """Write a decided fill in one transaction: the fill, the order's counters, the position.

        Returns False, writing nothing, when the fill is stored already. Raises `Conflict`, writing
        nothing, when the order's fill counters or the position moved since the decision was made.
        """
        ...

    def fills(self, owner: OwnerId, basket_id: BasketId, limit: int, next_token: str | None) -> Page[BookedFill]:
        """One page of the basket's fills (its trade book), newest order first; each page in exchange time."""
        ...


class Instruments(Protocol):
    def get(self, ref: InstrumentRef) -> Instrument | None: ...
    def search(self, text: str, exchange: str | None, limit: int) -> list[Instrument]: ...


class MarkSource(Protocol):
    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]: ...
    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        """Of these instruments' marks (those that have one): the price and the previous close it came with."""
        ...

    def marked_at(self, refs: list[InstrumentRef]) -> datetime | None:
        """When the latest of these instruments' marks was taken (None: none has a mark)."""
        ...


class Requests(Protocol):
    """Idempotency records for requests carrying a clientRequestId."""

    def claim(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """Claim the id; returns None when claimed now, else the first request's stored result."""
        ...

    def find(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """The first request's result (waiting while it runs), or None when the id is unused."""
        ...

    def complete(self, owner: OwnerId, client_request_id: ClientRequestId, result: dict[str, Any]) -> None: ...
    def release(self, owner: OwnerId, client_request_id: ClientRequestId) -> None: ...


@dataclass(frozen=True)
class LiveEvent:
    """Something a subscriber hears about: an order change, a fill or a basket's P&L.

    `kind` is "order", "fill", "pnl" or "basket"; `payload` holds the event's fields as the API shapes them.
    """

    kind: str
    event_id: str
    owner: OwnerId
    basket_id: BasketId
    payload: dict[str, Any]


class Publisher(Protocol):
    def publish(self, event: LiveEvent) -> None:
        """Deliver the event to its subscribers once; a repeat of the same event id is not delivered again."""
        ...


class Deliveries(Protocol):
    """Makes publishing a live event idempotent: each event id is delivered once."""

    def first(self, event_id: str) -> bool:
        """Record the event id; False when it was already recorded (a retried publish)."""
        ...


@dataclass(frozen=True)
class OrderRequest:
    """A neutral order ticket for a broker; `tag` is our order id, for reconciliation."""

    instrument: InstrumentRef
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    variety: Variety
    validity: Validity
    price: Decimal | None
    trigger_price: Decimal | None
    tag: str
    market_protection: MarketProtection = AUTOMATIC  # applies to MARKET and SL-M orders only


@dataclass(frozen=True)
class OrderChange:
    """A working order's new terms, all of them (what is not changing keeps the order's value)."""

    order_type: OrderType
    quantity: int
    price: Decimal | None
    trigger_price: Decimal | None
    validity: Validity
    market_protection: MarketProtection = AUTOMATIC


class Broker(Protocol):
    """One user's account at one broker."""

    name: str

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        """Place an order; raises BrokerRejected, BrokerUnavailable, BrokerNotConnected or RateLimited."""
        ...

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None: ...
    def modify_order(self, order: Order, change: OrderChange) -> None:
        """Ask the broker to change a working order (it has a broker order id); raises as `place_order`.

        The outcome arrives as an update.
        """
        ...

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate: ...
    def order_fills(self, order: Order) -> list[Fill]:
        """The order's exact trades at the broker, as fills of our order."""
        ...

    def order_book(self) -> list[OrderUpdate] | None:
        """Every order of the day, latest state each (Kite's `GET /orders`); None: this broker lists none.

        Reconciliation reads the book once per pass when there is one, else syncs order by order.
        """
        ...

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        """What the orders would block together (Kite's `POST /margins/basket`), each order's own margin too.

        With `consider_positions`, the final margin counts offsets against the account's open positions.
        Raises NotSupported when the broker has no such estimate, else as `place_order`.
        """
        ...

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        """Each order's charges if it traded at its price (Kite's `POST /charges/orders`); raises as `basket_margin`."""
        ...

    def funds(self, segment: Segment) -> Funds:
        """The account's margin in a segment: available and used (Kite's `GET /user/margins/{segment}`)."""
        ...


class Brokers(Protocol):
    def for_owner(self, owner: OwnerId, broker: str | None = None) -> Broker:
        """The owner's session at `broker` (an adapter name; None: the deployment's default broker)."""
        ...


class ScheduledAction(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    SQUARE_OFF = "squareoff"


@dataclass(frozen=True)
class ScheduledJob:
    """One future call of the scheduler entrypoint: `action` on a basket at `at` (aware)."""

    action: ScheduledAction
    owner: OwnerId
    basket_id: BasketId
    at: datetime

    @property
    def name(self) -> str:
        """Unique per basket and action, so setting a schedule again replaces it."""
        return job_name(self.action, self.basket_id)


def job_name(action: ScheduledAction, basket_id: BasketId) -> str:
    return f"{action.value}-{basket_id}"


class Scheduler(Protocol):
    """Timers that call the scheduler entrypoint (EventBridge Scheduler on AWS)."""

    def put(self, job: ScheduledJob) -> None:
        """Create or replace the job named `job.name`."""
        ...

    def cancel(self, action: ScheduledAction, basket_id: BasketId) -> None:
        """Drop the basket's job for `action`, if any."""
        ...


class BrokerAccounts(Protocol):
    def get(self, owner: OwnerId, broker: BrokerName) -> BrokerAccount | None: ...
    def put(self, account: BrokerAccount) -> None: ...
    def list(self, owner: OwnerId) -> list[BrokerAccount]: ...


class AccountRiskBook(Protocol):
    """Each account's limits, lock and order count of the day (one record per owner and broker)."""

    def get(self, owner: OwnerId, broker: str) -> AccountRisk:
        """The account's record; a fresh one (version 0, no limits) when none was stored."""
        ...

    def save(self, risk: AccountRisk, expected_version: int) -> None:
        """Write limits, lock and history at `expected_version` + 1 (the order count is left alone).

        Raises Conflict when the stored version is no longer `expected_version`.
        """
        ...

    def reserve_orders(
        self, owner: OwnerId, broker: str, day: date, count: int, cap: int | None, now: datetime
    ) -> bool:
        """Add `count` to `day`'s order count in one conditional write, unless the account is locked at `now`
        or the count would pass `cap`; False (nothing written) when refused."""
        ...


class Secrets(Protocol):
    """Named secrets (SSM SecureStrings on AWS); names are relative to the deployment's prefix."""

    def get(self, name: str) -> str | None: ...
    def put(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class BrokerLogin(Protocol):
    """A broker's login flow: a URL the user opens, then an exchange of what it hands back for a session."""

    def login_url(self, api_key: str) -> str: ...

    def open_session(self, owner: OwnerId, request_token: str, app: AppCredentials, user_id: str | None) -> Session:
        """Raises BrokerRejected (a bad or used token), BrokerUnavailable or ValidationError.

        The session carries its expiry as the broker's rule sets it (the adapter knows the rule).
        """
        ...


class Sessions(Protocol):
    """The process's cached broker sessions, dropped when an account changes."""

    def forget(self, owner: OwnerId, broker: str) -> None: ...


@dataclass(frozen=True)
class Ports:
    """Everything the trading use cases reach outside the domain; one instance per composition root.

    Each use case types its `ports` with a narrower Protocol naming only what it uses; this bundle
    satisfies every one of them.
    """

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
    account_risk: AccountRiskBook | None = None  # None: no account-level limits or kill switch here
    leg_risks: LegRisks | None = None  # None: legs' managed exits are not watched here


@dataclass(frozen=True)
class AccountPorts:
    """What the broker-account use cases reach outside the domain."""

    accounts: BrokerAccounts
    secrets: Secrets
    logins: Mapping[BrokerName, BrokerLogin]
    apps: Mapping[BrokerName, AppCredentials]
    sessions: Sessions
    clock: Clock
