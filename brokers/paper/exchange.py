"""`PaperExchange`: a Kite Connect-compatible exchange simulator, driven by the official kiteconnect client.

It speaks Kite's REST dialect (form-encoded requests, `{"status": ..., "data": ...}` replies, Kite's
error types and HTTP codes, IST timestamps) and fills orders against last prices set by a market
simulator (`set_price`, or `POST /paper/prices`). Every order state change is kept in the order's
history and, when a postback URL is configured, posted there in Kite's postback shape.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from brokers.kite.mapping import kite_time
from brokers.paper.book import (
    AMO_REQ_RECEIVED,
    CANCEL_PENDING,
    CANCELLED,
    COMPLETE,
    FINAL,
    MODIFIED,
    MODIFY_PENDING,
    MODIFY_VALIDATION_PENDING,
    OPEN,
    OPEN_PENDING,
    TRIGGER_PENDING,
    VALIDATION_PENDING,
    WORKING,
    ZERO,
    PaperAccount,
    PaperOrder,
    PaperPosition,
    PaperTrade,
)
from brokers.paper.postbacks import PostbackSender
from brokers.paper.ticker import DepthLevel, Tick, TickerHub
from trading.clock import IST, SystemClock
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from trading.instruments import Instrument
    from trading.ports import Clock

log = logging.getLogger(__name__)

VARIETIES = ("regular", "amo")
TRANSACTION_TYPES = ("BUY", "SELL")
ORDER_TYPES = ("MARKET", "LIMIT", "SL", "SL-M")
PRODUCTS = ("CNC", "NRML", "MIS")
VALIDITIES = ("DAY", "IOC")
STOP_TYPES = ("SL", "SL-M")
MAX_TAG_LENGTH = 20
REQUEST_TOKEN_PREFIX = "paper-"  # noqa: S105 - a prefix, not a secret
INVALID_SESSION = "Incorrect `api_key` or `access_token`."
TOO_MANY_REQUESTS = "Too many requests"
ORDER_REQUESTS_PER_SECOND = 10  # Kite's limit on order placement, modification and cancellation per account
SESSION_EXPIRES_AT = day_time(6, 0)  # Kite access tokens die at 06:00 IST the next morning
UPDATE = "UPDATE"  # the postback status of a partial fill (the order itself stays OPEN)

_HTTP_MESSAGES = {404: "Route not found", 405: "Method not allowed"}


class PaperExchangeError(Exception):
    """A refusal in Kite's terms: its error type, message and HTTP status."""

    def __init__(self, error_type: str, message: str, status_code: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status_code = status_code


def _input_error(message: str, status_code: int = 400) -> PaperExchangeError:
    return PaperExchangeError("InputException", message, status_code)


def _token_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("TokenException", message, 403)


def _order_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("OrderException", message, 400)


def _margin_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("MarginException", message, 400)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


@dataclass
class _Session:
    user_id: str
    expires_at: datetime


@dataclass
class _Day:
    """An instrument's trading day so far, for ticker packets and the price band."""

    reference: Decimal  # the first price of the day: the band's centre and the ticker's `close`
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int = 0
    turnover: Decimal = ZERO
    last_quantity: int = 0
    last_trade_time: datetime | None = None


def plain_json(value: Any) -> Any:
    """Decimals as JSON numbers (ints when whole, as Kite writes them), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value


def parse_ref(text: str) -> InstrumentRef:
    exchange, _, symbol = text.partition(":")
    return InstrumentRef(exchange.strip().upper(), symbol.strip())


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    return value.strip() if value is not None and value.strip() else None


def _whole(form: Mapping[str, str], name: str) -> int | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise _input_error(f"Invalid `{name}`.") from exc


def _price(form: Mapping[str, str], name: str) -> Decimal | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise _input_error(f"Invalid `{name}`.") from exc
    if not number.is_finite() or number < 0:
        raise _input_error(f"Invalid `{name}`.")
    return number


class PaperExchange:
    """The simulated exchange: accounts, sessions, orders, trades, positions and last prices.

    Parameters
    ----------
    instruments
        The tradable instruments (lot and tick sizes are enforced as Kite does).
    prices
        Initial last prices, keyed by `InstrumentRef` or `"EXCHANGE:SYMBOL"`.
    api_key, api_secret
        The one Kite app this exchange serves: sessions need its checksum; postbacks are signed with it.
    postback_url
        Where to POST every order state change (from a background thread), or None.
    clock
        The time source (UTC); the wall clock by default.
    liquidity
        Quantity available per price level and price tick; an order larger than that fills in parts
        (walking the price a tick at a time when it is marketable). None: unlimited.
    funds
        Every account's margin (cash); an order needing more is refused with Kite's MarginException.
        None: unlimited. `set_funds` changes one account's.
    band
        The daily price band as a fraction of the day's first price (0.2 = ±20 %); prices outside are
        refused. None: no band.
    order_rate
        Order requests (place, modify, cancel) per rolling second per account before HTTP 429; None: no limit.
    market_open
        Whether the market is open for an exchange at a time; after-market orders wait for it. None:
        AMO orders wait for `release_amo_orders`.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        prices: Mapping[InstrumentRef, Decimal] | Mapping[str, Decimal] | None = None,
        *,
        api_key: str,
        api_secret: str,
        postback_url: str | None = None,
        clock: Clock | None = None,
        liquidity: int | None = None,
        funds: Decimal | None = None,
        band: Decimal | None = None,
        order_rate: int | None = ORDER_REQUESTS_PER_SECOND,
        market_open: Callable[[str, datetime], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_key = api_key
        self.liquidity = liquidity
        self.funds = funds
        self.band = band
        self.order_rate = order_rate
        self.reply_delay = 0.0  # seconds every order placement reply is held back after booking (tests)
        self.too_many_requests = 0  # order requests refused with HTTP 429 so far
        self._held: list[dict[str, Any]] | None = None
        self._market_open = market_open
        self._monotonic = monotonic
        self._requests: dict[str, deque[float]] = defaultdict(deque)
        self._funds: dict[str, Decimal] = {}
        self._days: dict[InstrumentRef, _Day] = {}
        self.ticker = TickerHub(self._tick_of_token)
        self._api_secret = api_secret
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._instruments = {i.ref: i for i in instruments}
        self._prices: dict[InstrumentRef, Decimal] = {}
        self._accounts: dict[str, PaperAccount] = {}
        self._sessions: dict[str, _Session] = {}
        self._orders: dict[str, tuple[PaperAccount, PaperOrder]] = {}
        # Working orders per instrument, in arrival order (time priority when a price crosses several).
        self._book: dict[InstrumentRef, dict[str, PaperOrder]] = defaultdict(dict)
        self._postbacks = PostbackSender(postback_url) if postback_url else None
        # Ids count up from the time of day, so a restarted exchange does not reuse today's ids.
        now = self._clock.now().astimezone(IST)
        start = (now.hour * 3600 + now.minute * 60 + now.second) * 10_000
        self._order_seq = itertools.count(start)
        self._trade_seq = itertools.count(start)
        self._app: Starlette | None = None
        for ref, price in (prices or {}).items():
            self.set_price(ref, Decimal(str(price)))

    def set_price(self, ref: InstrumentRef | str, price: Decimal) -> None:
        """Set an instrument's last price and fill or trigger the orders it crosses."""
        with self._lock:
            key = self._instrument(ref).ref
            if not price.is_finite() or price <= 0:
                raise _input_error(f"Invalid price {price} for {key}.")
            self._prices[key] = price
            self._mark_day(key, price)
            self._release_due_amo(key)
            for order in list(self._book[key].values()):
                self._work(order, aggressive=False)
            tick = self._tick(key)
        self.ticker.publish_ticks([tick])

    def set_prices(self, prices: Mapping[InstrumentRef, Decimal]) -> None:
        """Set several last prices at once; nothing changes if one of them is refused."""
        with self._lock:
            for ref, price in prices.items():
                self._instrument(ref)
                if not price.is_finite() or price <= 0:
                    raise _input_error(f"Invalid price {price} for {ref}.")
            for ref, price in prices.items():
                self.set_price(ref, price)

    def last_price(self, ref: InstrumentRef | str) -> Decimal | None:
        with self._lock:
            return self._prices.get(self._instrument(ref).ref)

    def prices(self) -> dict[InstrumentRef, Decimal]:
        """Every last price set so far."""
        with self._lock:
            return dict(self._prices)

    def release_amo_orders(self) -> None:
        """Market open: after-market orders enter the book."""
        with self._lock:
            for _, order in list(self._orders.values()):
                if order.status == AMO_REQ_RECEIVED:
                    self._go_live(order)

    def _release_due_amo(self, ref: InstrumentRef) -> None:
        if self._market_open is None or not self._market_open(ref.exchange, self._clock.now()):
            return
        for _, order in list(self._orders.values()):
            if order.status == AMO_REQ_RECEIVED and InstrumentRef(order.exchange, order.tradingsymbol) == ref:
                self._go_live(order)

    def _go_live(self, order: PaperOrder) -> None:
        self._move(order, OPEN_PENDING)
        self._enter_book(order)

    def expire_sessions(self) -> None:
        """Invalidate every access token (as Kite does every morning)."""
        with self._lock:
            self._sessions.clear()

    def hold_postbacks(self) -> None:
        """Keep postbacks instead of sending them, as if the receiver were down (tests deliver them by hand)."""
        with self._lock:
            self._held = []

    def resume_postbacks(self) -> list[dict[str, Any]]:
        """Send postbacks again; returns the signed ones held meanwhile (they are not sent)."""
        with self._lock:
            held, self._held = self._held or [], None
            return held

    def expire_session(self, access_token: str) -> None:
        """Let one access token reach its expiry now (the morning's expiry, for one account)."""
        with self._lock:
            session = self._sessions.get(access_token)
            if session is not None:
                session.expires_at = self._clock.now()

    def set_funds(self, user_id: str, funds: Decimal | None) -> None:
        """One account's margin (None: the exchange-wide `funds`)."""
        with self._lock:
            if funds is None:
                self._funds.pop(user_id, None)
            else:
                self._funds[user_id] = funds

    def admit_order_request(self, account: PaperAccount) -> None:
        """Count an order request against the account's rate limit (refused ones count too, as at Kite).

        Raises
        ------
        PaperExchangeError
            HTTP 429 NetworkException "Too many requests" beyond `order_rate` in the last second.
        """
        if self.order_rate is None:
            return
        with self._lock:
            now = self._monotonic()
            window = self._requests[account.user_id]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.order_rate:
                self.too_many_requests += 1
                raise PaperExchangeError("NetworkException", TOO_MANY_REQUESTS, 429)
            window.append(now)

    def flush_postbacks(self, timeout: float = 10.0) -> bool:
        """Wait until queued postbacks are delivered (or given up); True when none is left."""
        return self._postbacks.flush(timeout) if self._postbacks else True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the postback worker after what it has queued (waiting at most `timeout` seconds)."""
        if self._postbacks:
            self._postbacks.close(timeout)

    def create_session(self, form: Mapping[str, str]) -> dict[str, Any]:
        """`POST /session/token`: exchange a `paper-{user_id}` request token for an access token."""
        api_key, request_token = _text(form, "api_key") or "", _text(form, "request_token") or ""
        checksum = _text(form, "checksum") or ""
        expected = hashlib.sha256(f"{api_key}{request_token}{self._api_secret}".encode()).hexdigest()
        if api_key != self.api_key:
            raise _token_error("Invalid `api_key`.")
        if not hmac.compare_digest(expected.encode(), checksum.encode()):
            raise _token_error("Invalid `checksum`.")
        user_id = request_token.removeprefix(REQUEST_TOKEN_PREFIX)
        if not request_token.startswith(REQUEST_TOKEN_PREFIX) or not user_id:
            raise _token_error("Token is invalid or has expired.")
        access_token = secrets.token_hex(16)
        with self._lock:
            self._accounts.setdefault(user_id, PaperAccount(user_id))
            self._sessions[access_token] = _Session(user_id, self._session_expiry())
        return {
            "user_type": "individual",
            "email": f"{user_id}@paper.invalid",
            "user_name": f"Paper {user_id}",
            "user_shortname": "Paper",
            "broker": "PAPER",
            "exchanges": sorted({ref.exchange for ref in self._instruments}),
            "products": list(PRODUCTS),
            "order_types": list(ORDER_TYPES),
            "avatar_url": None,
            "user_id": user_id,
            "api_key": api_key,
            "access_token": access_token,
            "public_token": secrets.token_hex(8),
            "enctoken": "",
            "refresh_token": "",
            "silo": "",
            "login_time": kite_time(self._clock.now()),
            "meta": {"demat_consent": "physical"},
        }

    def _session_expiry(self) -> datetime:
        """06:00 IST after now: the next morning's expiry (today's when logged in before 06:00)."""
        now = self._clock.now().astimezone(IST)
        expiry = datetime.combine(now.date(), SESSION_EXPIRES_AT, tzinfo=IST)
        return expiry if now < expiry else expiry + timedelta(days=1)

    def invalidate_session(self, access_token: str) -> bool:
        with self._lock:
            return self._sessions.pop(access_token, None) is not None

    def account_for(self, authorization: str | None) -> PaperAccount:
        """The account of `Authorization: token api_key:access_token`."""
        scheme, _, credentials = (authorization or "").partition(" ")
        api_key, _, access_token = credentials.partition(":")
        with self._lock:
            session = self._sessions.get(access_token) if scheme == "token" else None
            if api_key != self.api_key or session is None:
                raise _token_error(INVALID_SESSION)
            if self._clock.now() >= session.expires_at:
                del self._sessions[access_token]
                raise _token_error(INVALID_SESSION)
            return self._accounts[session.user_id]

    def place_order(self, account: PaperAccount, variety: str, form: Mapping[str, str]) -> str:
        """`POST /orders/{variety}`: validate as Kite does, then book the order; returns its id."""
        instrument, terms = self._order_terms(variety, form)
        freeze = instrument.freeze_quantity
        if freeze is not None and terms["quantity"] > freeze:
            raise _input_error(
                f"Quantity {terms['quantity']} exceeds the freeze quantity {freeze} of "
                f"{instrument.exchange}:{instrument.tradingsymbol}. Place smaller orders, or use autoslice."
            )
        with self._lock:
            return self._book_order(account, instrument, terms).order_id

    def place_autoslice_order(self, account: PaperAccount, variety: str, form: Mapping[str, str]) -> dict[str, Any]:
        """`POST /orders/{variety}` with `autoslice=true`: one child order per freeze-quantity slice.

        Returns Kite's autoslice shape: a parent `order_id` and `children`, each an `order_id` or the
        `error` that refused that slice (the other slices stand).
        """
        instrument, terms = self._order_terms(variety, form)
        freeze = instrument.freeze_quantity or terms["quantity"]
        quantity, slices = terms["quantity"], []
        while quantity > 0:
            slices.append(min(freeze, quantity))
            quantity -= slices[-1]
        children: list[dict[str, Any]] = []
        with self._lock:
            parent = self._next_id(self._order_seq)
            for part in slices:
                try:
                    child = self._book_order(account, instrument, {**terms, "quantity": part})
                except PaperExchangeError as exc:
                    error = {"code": exc.status_code, "error_type": exc.error_type, "message": exc.message}
                    children.append({"error": {**error, "data": None}})
                else:
                    children.append({"order_id": child.order_id})
        return {"order_id": parent, "children": children}

    def _order_terms(self, variety: str, form: Mapping[str, str]) -> tuple[Instrument, dict[str, Any]]:
        if variety not in VARIETIES:
            raise _input_error(f"Invalid `variety` {variety!r}; the paper exchange takes regular and amo.")
        ref = InstrumentRef(_text(form, "exchange") or "", _text(form, "tradingsymbol") or "")
        instrument = self._instruments.get(ref)
        if instrument is None:
            raise _input_error("The instrument you are placing an order for has either expired or does not exist.")
        transaction_type = _text(form, "transaction_type") or ""
        if transaction_type not in TRANSACTION_TYPES:
            raise _input_error("Invalid `transaction_type`.")
        product = _text(form, "product") or ""
        if product not in PRODUCTS:
            raise _input_error("Invalid `product`.")
        tag = _text(form, "tag")
        if tag is not None and len(tag) > MAX_TAG_LENGTH:
            raise _input_error(f"Invalid `tag`. It can be at most {MAX_TAG_LENGTH} characters long.")
        order_type = _text(form, "order_type") or ""
        quantity = _whole(form, "quantity")
        price, trigger = _price(form, "price"), _price(form, "trigger_price")
        validity = _text(form, "validity") or "DAY"
        price, trigger = self._check_terms(instrument, transaction_type, order_type, quantity, price, trigger, validity)
        terms = {
            "variety": variety,
            "transaction_type": transaction_type,
            "product": product,
            "tag": tag,
            "order_type": order_type,
            "quantity": quantity or 0,
            "price": price,
            "trigger_price": trigger,
            "validity": validity,
        }
        return instrument, terms

    def _book_order(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> PaperOrder:
        """Check margin, then record the order and send it to the book (or hold it, for AMO); under the lock."""
        self._check_margin(account, instrument, terms)
        order = PaperOrder(
            order_id=self._next_id(self._order_seq),
            placed_by=account.user_id,
            exchange=instrument.exchange,
            tradingsymbol=instrument.tradingsymbol,
            instrument_token=instrument.token,
            order_timestamp=kite_time(self._clock.now()),
            **terms,
        )
        account.orders[order.order_id] = order
        self._orders[order.order_id] = (account, order)
        self._record(order)
        self._move(order, VALIDATION_PENDING)
        if order.variety == "amo":
            self._move(order, AMO_REQ_RECEIVED)
            self._release_due_amo(instrument.ref)
        else:
            self._go_live(order)
        return order

    def available_funds(self, account: PaperAccount) -> Decimal | None:
        """Margin left: funds less what working orders block and open positions hold (None: unlimited)."""
        with self._lock:
            funds = self._funds.get(account.user_id, self.funds)
            if funds is None:
                return None
            working = [o for o in account.orders.values() if o.status in WORKING]
            blocked = sum((self._required(o, o.quantity - o.filled_quantity) for o in working), ZERO)
            open_positions = [p for p in account.positions.values() if p.buy_quantity != p.sell_quantity]
            held = sum((abs(p.buy_value - p.sell_value) for p in open_positions), ZERO)
            return funds - blocked - held

    def _required(self, order: PaperOrder | dict[str, Any], quantity: int) -> Decimal:
        """An order's margin on the paper exchange: its notional at its limit (or the last price)."""
        terms: dict[str, Any] = order if isinstance(order, dict) else vars(order)
        ref = InstrumentRef(str(terms["exchange"]), str(terms["tradingsymbol"]))
        price = terms["price"] or terms["trigger_price"] or self._prices.get(ref) or ZERO
        return Decimal(price) * quantity * self._instruments[ref].multiplier

    def _check_margin(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> None:
        available = self.available_funds(account)
        if available is None:
            return
        ticket = {**terms, "exchange": instrument.exchange, "tradingsymbol": instrument.tradingsymbol}
        required = self._required(ticket, terms["quantity"])
        if required > available:
            raise _margin_error(
                f"Insufficient funds. Required margin is {_money(required)} "
                f"but available margin is {_money(available)}."
            )

    def modify_order(self, account: PaperAccount, order_id: str, form: Mapping[str, str]) -> str:
        """`PUT /orders/{variety}/{order_id}`: change a working order's type, quantity, prices or validity."""
        with self._lock:
            order = self._order_of(account, order_id)
            if order.status not in WORKING:
                raise _order_error(f"Order cannot be modified as it is {order.status.lower()}.")
            instrument = self._instrument(InstrumentRef(order.exchange, order.tradingsymbol))
            order_type = _text(form, "order_type") or order.order_type
            quantity = _whole(form, "quantity") or order.quantity
            price = _price(form, "price")
            trigger = _price(form, "trigger_price")
            validity = _text(form, "validity") or order.validity
            price, trigger = self._check_terms(
                instrument,
                order.transaction_type,
                order_type,
                quantity,
                order.price if price is None else price,
                order.trigger_price if trigger is None else trigger,
                validity,
            )
            if quantity <= order.filled_quantity:
                raise _input_error(f"Quantity must exceed the {order.filled_quantity} already filled.")
            was_stop_waiting = order.status == TRIGGER_PENDING or order.order_type not in STOP_TYPES
            after = order.status
            if after != AMO_REQ_RECEIVED:
                after = TRIGGER_PENDING if order_type in STOP_TYPES and was_stop_waiting else OPEN
            self._move(order, MODIFY_VALIDATION_PENDING)
            order.order_type, order.quantity, order.price = order_type, quantity, price
            order.trigger_price, order.validity, order.modified = trigger, validity, True
            order.order_timestamp = kite_time(self._clock.now())
            self._move(order, MODIFY_PENDING)
            self._move(order, MODIFIED)
            self._move(order, after)
            if after != AMO_REQ_RECEIVED:
                self._work(order, aggressive=True)
            return order.order_id

    def cancel_order(self, account: PaperAccount, order_id: str) -> str:
        """`DELETE /orders/{variety}/{order_id}`."""
        with self._lock:
            order = self._order_of(account, order_id)
            if order.status not in WORKING:
                raise _order_error(f"Order cannot be cancelled as it is {order.status.lower()}.")
            self._move(order, CANCEL_PENDING)
            self._cancel(order)
            return order.order_id

    def orders(self, account: PaperAccount) -> list[dict[str, Any]]:
        with self._lock:
            return [order.row() for order in account.orders.values()]

    def order_history(self, account: PaperAccount, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(state) for state in self._order_of(account, order_id).history]

    def order_trades(self, account: PaperAccount, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._order_of(account, order_id)
            return [t.row() for t in account.trades if t.order.order_id == order_id]

    def trades(self, account: PaperAccount) -> list[dict[str, Any]]:
        with self._lock:
            return [t.row() for t in account.trades]

    def positions(self, account: PaperAccount) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            rows = [
                p.row(self._prices.get(InstrumentRef(p.exchange, p.tradingsymbol))) for p in account.positions.values()
            ]
        # No overnight carry on the paper exchange: today's positions are the net positions.
        return {"net": rows, "day": [dict(row) for row in rows]}

    def _check_terms(
        self,
        instrument: Instrument,
        transaction_type: str,
        order_type: str,
        quantity: int | None,
        price: Decimal | None,
        trigger: Decimal | None,
        validity: str,
    ) -> tuple[Decimal, Decimal]:
        """Kite's order checks; returns (price, trigger) with 0 where the type has none."""
        if order_type not in ORDER_TYPES:
            raise _input_error("Invalid `order_type`.")
        if validity not in VALIDITIES:
            raise _input_error("Invalid `validity`.")
        if quantity is None or quantity <= 0:
            raise _input_error("Invalid `quantity`.")
        if quantity % instrument.lot_size:
            raise _input_error(
                f"Quantity should be a multiple of the lot size ({instrument.lot_size}) "
                f"for {instrument.exchange}:{instrument.tradingsymbol}."
            )
        if order_type in ("LIMIT", "SL") and not price:
            raise _input_error(f"Invalid `price`. A {order_type} order needs a price.")
        if order_type in STOP_TYPES and not trigger:
            raise _input_error(f"Invalid `trigger_price`. A {order_type} order needs a trigger price.")
        price = (price or ZERO) if order_type in ("LIMIT", "SL") else ZERO
        trigger = (trigger or ZERO) if order_type in STOP_TYPES else ZERO
        for value in (price, trigger):
            if value and value % instrument.tick_size:
                raise _input_error(
                    f"Tick size for this script is {instrument.tick_size}. "
                    "Kindly enter price in the multiple of tick size for this script."
                )
        self._check_band(instrument, price, trigger)
        if order_type == "SL" and transaction_type == "BUY" and trigger > price:
            raise _input_error("Trigger price for stoploss buy orders should be lower than the limit price.")
        if order_type == "SL" and transaction_type == "SELL" and trigger < price:
            raise _input_error("Trigger price for stoploss sell orders should be higher than the limit price.")
        return price, trigger

    def price_band(self, ref: InstrumentRef) -> tuple[Decimal, Decimal] | None:
        """Today's (lower, upper) circuit limits, on the tick grid; None without a band or a price."""
        day = self._days.get(ref)
        if self.band is None or day is None:
            return None
        tick = self._instruments[ref].tick_size
        lower = (day.reference * (1 - self.band) / tick).to_integral_value(ROUND_CEILING) * tick
        upper = (day.reference * (1 + self.band) / tick).to_integral_value(ROUND_FLOOR) * tick
        return lower, upper

    def _check_band(self, instrument: Instrument, price: Decimal, trigger: Decimal) -> None:
        band = self.price_band(instrument.ref)
        if band is None:
            return
        lower, upper = band
        for value in (price, trigger):
            if value and value < lower:
                raise _input_error(
                    f"Your order price is lower than the current lower circuit limit of {lower}. "
                    "Place an order within the daily range."
                )
            if value and value > upper:
                raise _input_error(
                    f"Your order price is higher than the current upper circuit limit of {upper}. "
                    "Place an order within the daily range."
                )

    def _instrument(self, ref: InstrumentRef | str) -> Instrument:
        key = parse_ref(ref) if isinstance(ref, str) else ref
        instrument = self._instruments.get(key)
        if instrument is None:
            raise _input_error(f"Unknown instrument {key}.")
        return instrument

    def _order_of(self, account: PaperAccount, order_id: str) -> PaperOrder:
        order = account.orders.get(order_id)
        if order is None:
            raise _input_error("Couldn't find that `order_id`.", status_code=404)
        return order

    def _next_id(self, sequence: itertools.count[int]) -> str:
        return f"{self._clock.now().astimezone(IST):%y%m%d}{next(sequence):09d}"

    def _enter_book(self, order: PaperOrder) -> None:
        order.exchange_order_id = f"1300{order.order_id[-12:]}"
        order.exchange_timestamp = kite_time(self._clock.now())
        self._book[InstrumentRef(order.exchange, order.tradingsymbol)][order.order_id] = order
        self._move(order, TRIGGER_PENDING if order.order_type in STOP_TYPES else OPEN)
        self._work(order, aggressive=True)

    def _work(self, order: PaperOrder, *, aggressive: bool) -> None:
        """Trigger and fill the order as far as the last price and liquidity allow; IOC cancels the rest.

        An aggressive order (just booked, triggered or modified) takes the last price when its limit
        allows, walking a tick at a time while each level's liquidity runs out; a resting limit order
        crossed by a later price fills at its own limit, one level's liquidity per price change.
        """
        last = self._prices.get(InstrumentRef(order.exchange, order.tradingsymbol))
        if order.status == TRIGGER_PENDING and last is not None and self._triggered(order, last):
            self._move(order, OPEN)
            aggressive = True
        if order.status != OPEN:
            return
        fill_price = self._fill_price(order, last, aggressive=aggressive) if last is not None else None
        if fill_price is not None:
            for level in self._levels(order, fill_price, aggressive=aggressive):
                remaining = order.quantity - order.filled_quantity
                self._fill(order, min(remaining, self.liquidity or remaining), level)
                if order.status == COMPLETE:
                    break
        if order.status == OPEN and order.validity == "IOC" and aggressive:
            self._cancel(order)

    def _levels(self, order: PaperOrder, first: Decimal, *, aggressive: bool) -> Iterable[Decimal]:
        """The prices an order takes liquidity at: `first`, then worse ticks up to its limit (aggressive only)."""
        yield first
        if not aggressive or self.liquidity is None:
            return
        tick = self._instruments[InstrumentRef(order.exchange, order.tradingsymbol)].tick_size
        step = tick if order.transaction_type == "BUY" else -tick
        price = first + step
        limit = order.price if order.order_type in ("LIMIT", "SL") else None
        band = self.price_band(InstrumentRef(order.exchange, order.tradingsymbol))
        while price > 0:
            if limit is not None and (price > limit if step > 0 else price < limit):
                return
            if band is not None and not band[0] <= price <= band[1]:
                return
            yield price
            price += step

    @staticmethod
    def _triggered(order: PaperOrder, last: Decimal) -> bool:
        if order.transaction_type == "BUY":
            return last >= order.trigger_price
        return last <= order.trigger_price

    @staticmethod
    def _fill_price(order: PaperOrder, last: Decimal, *, aggressive: bool) -> Decimal | None:
        if order.order_type in ("MARKET", "SL-M"):
            return last
        limit = order.price
        crossed = last <= limit if order.transaction_type == "BUY" else last >= limit
        if not crossed:
            return None
        return last if aggressive else limit

    def _fill(self, order: PaperOrder, quantity: int, price: Decimal) -> None:
        account, _ = self._orders[order.order_id]
        ref = InstrumentRef(order.exchange, order.tradingsymbol)
        instrument = self._instruments[ref]
        trade = PaperTrade(self._next_id(self._trade_seq), order, quantity, price, kite_time(self._clock.now()))
        account.trades.append(trade)
        order.filled_quantity += quantity
        order.filled_value += price * quantity
        position = account.positions.get((order.exchange, order.tradingsymbol, order.product))
        if position is None:
            position = PaperPosition(
                order.exchange, order.tradingsymbol, instrument.token, order.product, instrument.multiplier
            )
            account.positions[(order.exchange, order.tradingsymbol, order.product)] = position
        position.add(order.transaction_type, quantity, price)
        day = self._days[ref]
        day.volume += quantity
        day.turnover += price * quantity
        day.last_quantity = quantity
        day.last_trade_time = self._clock.now()
        if order.filled_quantity == order.quantity:
            self._move(order, COMPLETE)
        else:  # history gains the new filled quantity; the postback says UPDATE, as Kite's do
            state = order.row()
            order.history.append(state)
            self._announce({**state, "status": UPDATE}, order)

    def _cancel(self, order: PaperOrder) -> None:
        order.cancelled_quantity = order.quantity - order.filled_quantity
        self._move(order, CANCELLED)

    def _move(self, order: PaperOrder, status: str, message: str | None = None) -> None:
        order.status = status
        order.status_message = message
        if order.exchange_order_id:
            order.exchange_update_timestamp = kite_time(self._clock.now())
        if status in FINAL:
            self._book[InstrumentRef(order.exchange, order.tradingsymbol)].pop(order.order_id, None)
        self._record(order)

    def _record(self, order: PaperOrder) -> None:
        state = order.row()
        order.history.append(state)
        self._announce(state, order)

    def _announce(self, state: dict[str, Any], order: PaperOrder) -> None:
        """Tell the account about an order change: a signed postback and a ticker order update."""
        payload = plain_json(self._postback(order, state))
        if self._held is not None:
            self._held.append(payload)
        elif self._postbacks is not None:
            self._postbacks.send(payload)
        self.ticker.publish_order(order.placed_by, payload)

    def _mark_day(self, ref: InstrumentRef, price: Decimal) -> None:
        day = self._days.get(ref)
        if day is None:
            self._days[ref] = _Day(reference=price, open=price, high=price, low=price)
        else:
            day.high, day.low = max(day.high, price), min(day.low, price)

    def _tick(self, ref: InstrumentRef) -> Tick:
        """The instrument's ticker state; depth shows `liquidity` a tick either side of the last price."""
        instrument, last, day = self._instruments[ref], self._prices[ref], self._days[ref]
        depth = self.liquidity or 0
        tick = instrument.tick_size
        orders = 1 if depth else 0
        bids = tuple(DepthLevel(last - tick * i, depth, orders) for i in range(1, 6) if last > tick * i)
        asks = tuple(DepthLevel(last + tick * i, depth, orders) for i in range(1, 6))
        traded = day.last_trade_time
        now = int(self._clock.now().timestamp())
        return Tick(
            token=instrument.token,
            last_price=last,
            last_quantity=day.last_quantity,
            average_price=(day.turnover / day.volume).quantize(tick) if day.volume else ZERO,
            volume=day.volume,
            buy_quantity=depth * len(bids),
            sell_quantity=depth * len(asks),
            open=day.open,
            high=day.high,
            low=day.low,
            close=day.reference,
            last_trade_time=int(traded.timestamp()) if traded else 0,
            timestamp=now,
            bids=bids,
            asks=asks,
        )

    def _tick_of_token(self, token: int) -> Tick | None:
        with self._lock:
            for ref, instrument in self._instruments.items():
                if instrument.token == token and ref in self._prices:
                    return self._tick(ref)
        return None

    def _postback(self, order: PaperOrder, state: dict[str, Any]) -> dict[str, Any]:
        checksum = hashlib.sha256(f"{order.order_id}{state['order_timestamp']}{self._api_secret}".encode())
        return {
            "user_id": order.placed_by,
            "unfilled_quantity": state["pending_quantity"],
            "app_id": 0,
            "checksum": checksum.hexdigest(),
            **state,
        }

    @property
    def app(self) -> Starlette:
        """The exchange as an ASGI app (Kite's REST routes plus `/paper/prices`)."""
        if self._app is None:
            self._app = _build_app(self)
        return self._app


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": plain_json(data)})


def _error(status_code: int, error_type: str, message: str) -> JSONResponse:
    body = {"status": "error", "message": message, "data": None, "error_type": error_type}
    return JSONResponse(body, status_code=status_code)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _build_app(exchange: PaperExchange) -> Starlette:
    def account(request: Request) -> PaperAccount:
        return exchange.account_for(request.headers.get("authorization"))

    async def session_token(request: Request) -> Response:
        return _ok(exchange.create_session(await _form(request)))

    async def delete_session(request: Request) -> Response:
        return _ok(exchange.invalidate_session(request.query_params.get("access_token", "")))

    async def place(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        form = await _form(request)
        variety = request.path_params["variety"]
        if (form.get("autoslice") or "").lower() == "true":
            reply = exchange.place_autoslice_order(user, variety, form)
        else:
            reply = {"order_id": exchange.place_order(user, variety, form)}
        if exchange.reply_delay:
            await anyio.sleep(exchange.reply_delay)  # booked, but the answer is late (a client timeout)
        return _ok(reply)

    async def modify(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        return _ok({"order_id": exchange.modify_order(user, request.path_params["order_id"], await _form(request))})

    async def cancel(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        return _ok({"order_id": exchange.cancel_order(user, request.path_params["order_id"])})

    async def margins(request: Request) -> Response:
        available = exchange.available_funds(account(request))
        net = available if available is not None else Decimal(10**12)
        segment = {"enabled": True, "net": net, "available": {"cash": net, "live_balance": net}, "utilised": {}}
        return _ok({"equity": segment, "commodity": segment})

    async def ticker(websocket: WebSocket) -> None:
        params = websocket.query_params
        try:
            user = exchange.account_for(f"token {params.get('api_key', '')}:{params.get('access_token', '')}")
        except PaperExchangeError:
            await websocket.close(code=1008)  # before accept: the handshake fails with HTTP 403, as at Kite
            return
        await websocket.accept()
        await exchange.ticker.serve(websocket, user.user_id)

    async def orders(request: Request) -> Response:
        return _ok(exchange.orders(account(request)))

    async def order_history(request: Request) -> Response:
        return _ok(exchange.order_history(account(request), request.path_params["order_id"]))

    async def order_trades(request: Request) -> Response:
        return _ok(exchange.order_trades(account(request), request.path_params["order_id"]))

    async def trades(request: Request) -> Response:
        return _ok(exchange.trades(account(request)))

    async def positions(request: Request) -> Response:
        return _ok(exchange.positions(account(request)))

    async def set_prices(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            prices = {parse_ref(ref): Decimal(str(price)) for ref, price in body.items()}
        except (ValueError, AttributeError, InvalidOperation) as exc:
            raise _input_error('Send a JSON object of prices, e.g. {"NSE:SBIN": "812.35"}.') from exc
        exchange.set_prices(dict(prices))
        return _ok({str(ref): str(price) for ref, price in prices.items()})

    async def get_prices(request: Request) -> Response:
        return _ok({str(ref): str(price) for ref, price in exchange.prices().items()})

    async def login(request: Request) -> Response:
        # Kite's login page: the paper exchange has no passwords, so it says which request token it honours.
        if request.query_params.get("api_key") != exchange.api_key:
            raise _input_error("Invalid `api_key`.")
        return PlainTextResponse(
            "Paper exchange login. Your request token is paper-<your user id>; with basketgraph, "
            'call completeBrokerLogin(broker: PAPER, requestToken: "paper-<your me.id>").\n'
        )

    async def exchange_error(request: Request, exc: Exception) -> Response:
        error = cast("PaperExchangeError", exc)
        return _error(error.status_code, error.error_type, error.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        error = cast("HTTPException", exc)
        message = _HTTP_MESSAGES.get(error.status_code, str(error.detail))
        return _error(error.status_code, "GeneralException", message)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("paper exchange failed on %s %s", request.method, request.url.path)
        return _error(500, "GeneralException", "The paper exchange failed; see its log.")

    routes = [
        Route("/connect/login", login, methods=["GET"]),
        Route("/session/token", session_token, methods=["POST"]),
        Route("/session/token", delete_session, methods=["DELETE"]),
        Route("/orders", orders, methods=["GET"]),
        Route("/orders/{order_id}/trades", order_trades, methods=["GET"]),
        Route("/orders/{order_id}", order_history, methods=["GET"]),
        Route("/orders/{variety}", place, methods=["POST"]),
        Route("/orders/{variety}/{order_id}", modify, methods=["PUT"]),
        Route("/orders/{variety}/{order_id}", cancel, methods=["DELETE"]),
        Route("/trades", trades, methods=["GET"]),
        Route("/portfolio/positions", positions, methods=["GET"]),
        Route("/user/margins", margins, methods=["GET"]),
        WebSocketRoute("/", ticker),
        Route("/paper/prices", set_prices, methods=["POST"]),
        Route("/paper/prices", get_prices, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            PaperExchangeError: exchange_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
