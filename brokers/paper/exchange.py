"""`PaperExchange`: a Kite Connect-compatible exchange simulator, driven by the official kiteconnect client.

It speaks Kite's REST dialect (through `brokers.paper.http`: form-encoded requests, `{"status": ..., "data": ...}`
replies, Kite's error types and HTTP codes, IST timestamps) and fills orders against last prices set by a market
simulator (`set_price`, or `POST /paper/prices`). Every order state change is kept in the order's history and,
when a postback URL is configured, posted there in Kite's postback shape. This facade holds the lock and the
state; sessions, rules, margin, matching, the market day, the ticker, postbacks and fault knobs each have a module.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.paper import rules
from brokers.paper.book import WORKING
from brokers.paper.errors import PaperExchangeError, input_error, order_error
from brokers.paper.faults import Faults
from brokers.paper.margin import Margin
from brokers.paper.market_day import MarketDay
from brokers.paper.matching import MatchingEngine
from brokers.paper.persistence import BookCodec, load_book
from brokers.paper.postbacks import PostbackSender, postback_body
from brokers.paper.ratelimit import ORDER_REQUESTS_PER_SECOND, OrderRateLimit
from brokers.paper.sessions import Sessions
from brokers.paper.ticker import TickerHub
from trading.clock import SystemClock
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from brokers.paper.book import PaperAccount, PaperOrder
    from brokers.paper.persistence import BookFile
    from brokers.paper.rules import Band
    from brokers.paper.ticker import Tick
    from trading.model.instrument import Instrument
    from trading.ports import Clock


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
    book_file
        Where the book is kept (`brokers.paper.persistence.BookFile`): restored from it at start, written to it
        before the reply of any request that changed the book. None: the book lives in memory only.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        prices: Mapping[InstrumentRef, Decimal] | Mapping[str, Decimal] | None = None,
        *,
        api_key: str,
        api_secret: str,
        postback_url: str | None = None,
        postback_ca: str | None = None,
        clock: Clock | None = None,
        liquidity: int | None = None,
        funds: Decimal | None = None,
        band: Decimal | None = None,
        order_rate: int | None = ORDER_REQUESTS_PER_SECOND,
        market_open: Callable[[str, datetime], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        book_file: BookFile | None = None,
    ) -> None:
        self.api_key = api_key
        self.ticker = TickerHub(self._tick_of_token)
        self._api_secret = api_secret
        self._clock = clock or SystemClock()
        self._codec = BookCodec()
        self._lock = _BookLock(self._book_bytes if book_file is not None else None, book_file)
        self._instruments = {i.ref: i for i in instruments}
        self._prices: dict[InstrumentRef, Decimal] = {}
        self._faults = Faults()
        self._rate = OrderRateLimit(order_rate, monotonic)
        self._sessions = Sessions(api_key, api_secret, self._clock)
        self._margin = Margin(funds, self._prices, self._instruments)
        self._day = MarketDay(self._instruments, band, market_open)
        self._matching = MatchingEngine(
            self._instruments, self._prices, self._day, self._clock, self._announce, liquidity
        )
        self._postbacks = PostbackSender(postback_url, verify=postback_ca or True) if postback_url else None
        saved = load_book(book_file) if book_file is not None else None
        if saved is not None:
            self._restore(saved)
        for ref, price in (prices or {}).items():
            self.set_price(ref, Decimal(str(price)))

    # -- the book on disk (`book_file`): written before any reply that changed it ---------------------

    def _changes(self) -> None:
        self._lock.changed()

    def _book_bytes(self) -> bytes:
        return self._codec.dumps(self._state())

    def _state(self) -> dict[str, Any]:
        m = self._matching
        return {
            "accounts": self._sessions.accounts,
            "sessions": self._sessions._sessions,
            "orders": m.orders,
            "book": dict(m._book),
            "order_seq": m._order_seq,
            "trade_seq": m._trade_seq,
            "own_funds": self._margin._own,
            "days": self._day.days,
            "prices": dict(self._prices),
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        m = self._matching
        self._sessions.accounts.update(saved["accounts"])
        self._sessions._sessions.update(saved["sessions"])
        m.orders.update(saved["orders"])
        m._book.update(saved["book"])
        m._order_seq, m._trade_seq = saved["order_seq"], saved["trade_seq"]
        self._margin._own.update(saved["own_funds"])
        self._day.days.update(saved["days"])
        self._prices.update(saved["prices"])

    # The knobs tests and the benchmarks turn on a running exchange.
    @property
    def liquidity(self) -> int | None:
        return self._matching.liquidity

    @liquidity.setter
    def liquidity(self, value: int | None) -> None:
        self._matching.liquidity = value

    @property
    def funds(self) -> Decimal | None:
        return self._margin.funds

    @funds.setter
    def funds(self, value: Decimal | None) -> None:
        self._margin.funds = value

    @property
    def band(self) -> Decimal | None:
        return self._day.band

    @band.setter
    def band(self, value: Decimal | None) -> None:
        self._day.band = value

    @property
    def order_rate(self) -> int | None:
        return self._rate.rate

    @order_rate.setter
    def order_rate(self, value: int | None) -> None:
        self._rate.rate = value

    @property
    def too_many_requests(self) -> int:
        """Order requests refused with HTTP 429 so far."""
        return self._rate.refused

    @property
    def reply_delay(self) -> float:
        """Seconds every order placement reply is held back after booking (tests)."""
        return self._faults.reply_delay

    @reply_delay.setter
    def reply_delay(self, value: float) -> None:
        self._faults.reply_delay = value

    def set_price(self, ref: InstrumentRef | str, price: Decimal) -> None:
        """Set an instrument's last price and fill or trigger the orders it crosses."""
        with self._lock:
            key = self._instrument(ref).ref
            if not price.is_finite() or price <= 0:
                raise input_error(f"Invalid price {price} for {key}.")
            self._prices[key] = price
            self._day.mark(key, price, self._clock.now())
            self._matching.on_price(key)
            tick = self._tick(key)
        self.ticker.publish_ticks([tick])

    def set_previous_close(self, ref: InstrumentRef | str, close: Decimal) -> None:
        """Give an instrument's session a previous close (the ticker's `close`) when it simulated no earlier one.

        Raises
        ------
        PaperExchangeError
            Not a positive finite price, or the instrument has no price yet (no session).
        """
        with self._lock:
            key = self._instrument(ref).ref
            if not close.is_finite() or close <= 0 or key not in self._prices:
                raise input_error(f"Invalid previous close {close} for {key} (it needs a price first).")
            self._day.set_previous_close(key, close)
            tick = self._tick(key)
        self.ticker.publish_ticks([tick])

    def add_instruments(self, instruments: Iterable[Instrument]) -> None:
        """List more instruments (a loaded instrument dump); they trade once they have a price."""
        with self._lock:
            self._instruments.update((i.ref, i) for i in instruments)

    def set_prices(self, prices: Mapping[InstrumentRef, Decimal]) -> None:
        """Set several last prices at once; nothing changes if one of them is refused."""
        with self._lock:
            for ref, price in prices.items():
                self._instrument(ref)
                if not price.is_finite() or price <= 0:
                    raise input_error(f"Invalid price {price} for {ref}.")
            for ref, price in prices.items():
                self.set_price(ref, price)

    def last_price(self, ref: InstrumentRef | str) -> Decimal | None:
        with self._lock:
            return self._prices.get(self._instrument(ref).ref)

    def prices(self) -> dict[InstrumentRef, Decimal]:
        """Every last price set so far."""
        with self._lock:
            return dict(self._prices)

    def price_band(self, ref: InstrumentRef) -> Band | None:
        """Today's (lower, upper) circuit limits, on the tick grid; None without a band or a price."""
        with self._lock:
            return self._day.price_band(ref)

    def release_amo_orders(self) -> None:
        """Market open: after-market orders enter the book."""
        with self._lock:
            self._changes()
            self._matching.release_all_amo()

    def expire_sessions(self) -> None:
        """Invalidate every access token (as Kite does every morning)."""
        with self._lock:
            self._changes()
            self._sessions.expire_all()

    def expire_session(self, access_token: str) -> None:
        """Let one access token reach its expiry now (the morning's expiry, for one account)."""
        with self._lock:
            self._changes()
            self._sessions.expire(access_token)

    def hold_postbacks(self) -> None:
        """Keep postbacks instead of sending them, as if the receiver were down (tests deliver them by hand)."""
        with self._lock:
            self._faults.hold_postbacks()

    def resume_postbacks(self) -> list[dict[str, Any]]:
        """Send postbacks again; returns the signed ones held meanwhile (they are not sent)."""
        with self._lock:
            return self._faults.resume_postbacks()

    def set_funds(self, user_id: str, funds: Decimal | None) -> None:
        """One account's margin (None: the exchange-wide `funds`)."""
        with self._lock:
            self._changes()
            self._margin.set_funds(user_id, funds)

    def admit_order_request(self, account: PaperAccount) -> None:
        """Count an order request against the account's rate limit (refused ones count too, as at Kite).

        Raises
        ------
        PaperExchangeError
            HTTP 429 NetworkException "Too many requests" beyond `order_rate` in the last second.
        """
        with self._lock:
            self._rate.admit(account.user_id)

    def flush_postbacks(self, timeout: float = 10.0) -> bool:
        """Wait until queued postbacks are delivered (or given up); True when none is left."""
        return self._postbacks.flush(timeout) if self._postbacks else True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the postback worker after what it has queued (waiting at most `timeout` seconds)."""
        if self._postbacks:
            self._postbacks.close(timeout)

    def create_session(self, form: Mapping[str, str]) -> dict[str, Any]:
        """`POST /session/token`: exchange a `paper-{user_id}` request token for an access token."""
        with self._lock:
            self._changes()
            return self._sessions.create(form, (ref.exchange for ref in self._instruments))

    def invalidate_session(self, access_token: str) -> bool:
        with self._lock:
            self._changes()
            return self._sessions.invalidate(access_token)

    def account_for(self, authorization: str | None) -> PaperAccount:
        """The account of `Authorization: token api_key:access_token`."""
        with self._lock:
            return self._sessions.account_for(authorization)

    def place_order(self, account: PaperAccount, variety: str, form: Mapping[str, str]) -> str:
        """`POST /orders/{variety}`: validate as Kite does, then book the order; returns its id."""
        with self._lock:
            instrument, terms = self._order_terms(variety, form)
            rules.check_freeze(instrument, terms["quantity"])
            return self._book_order(account, instrument, terms).order_id

    def place_autoslice_order(self, account: PaperAccount, variety: str, form: Mapping[str, str]) -> dict[str, Any]:
        """`POST /orders/{variety}` with `autoslice=true`: one child order per freeze-quantity slice.

        Returns Kite's autoslice shape: a parent `order_id` and `children`, each an `order_id` or the
        `error` that refused that slice (the other slices stand).
        """
        children: list[dict[str, Any]] = []
        with self._lock:
            instrument, terms = self._order_terms(variety, form)
            parent = self._matching.next_order_id()
            for part in rules.autoslices(instrument, terms["quantity"]):
                try:
                    child = self._book_order(account, instrument, {**terms, "quantity": part})
                except PaperExchangeError as exc:
                    error = {"code": exc.status_code, "error_type": exc.error_type, "message": exc.message}
                    children.append({"error": {**error, "data": None}})
                else:
                    children.append({"order_id": child.order_id})
        return {"order_id": parent, "children": children}

    def _order_terms(self, variety: str, form: Mapping[str, str]) -> tuple[Instrument, dict[str, Any]]:
        instrument = self._instruments.get(rules.order_ref(variety, form))
        if instrument is None:
            raise input_error("The instrument you are placing an order for has either expired or does not exist.")
        return instrument, rules.order_terms(variety, instrument, form, self._day.price_band(instrument.ref))

    def _book_order(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> PaperOrder:
        """Check margin, then record the order and send it to the book (or hold it, for AMO); under the lock."""
        self._margin.check(account, instrument, terms)
        return self._matching.book(account, instrument, terms)

    def available_funds(self, account: PaperAccount) -> Decimal | None:
        """Margin left: funds less what working orders block and open positions hold (None: unlimited)."""
        with self._lock:
            return self._margin.available(account)

    def basket_margins(self, account: PaperAccount, body: Any, consider_positions: bool) -> dict[str, Any]:
        """`POST /margins/basket`: the orders' margin summed (initial) and together (final), with positions."""
        with self._lock:
            return self._margin.basket(account, rules.margin_tickets(body), consider_positions)

    def order_margins(self, body: Any) -> list[dict[str, Any]]:
        """`POST /margins/orders`: each order's margin on its own, with its charges."""
        with self._lock:
            return self._margin.order_margins(rules.margin_tickets(body))

    def contract_note(self, body: Any) -> list[dict[str, Any]]:
        """`POST /charges/orders`: each order's charges at its average price."""
        with self._lock:
            return self._margin.contract_note(rules.margin_tickets(body, priced_at="average_price"))

    def user_margins(self, account: PaperAccount) -> dict[str, Any]:
        """`GET /user/margins/{segment}`: funds, what positions and working orders block, and what is left."""
        with self._lock:
            return self._margin.segment(account)

    def modify_order(self, account: PaperAccount, order_id: str, form: Mapping[str, str]) -> str:
        """`PUT /orders/{variety}/{order_id}`: change a working order's type, quantity, prices or validity."""
        with self._lock:
            order = self._order_of(account, order_id)
            if order.status not in WORKING:
                raise order_error(f"Order cannot be modified as it is {order.status.lower()}.")
            if order.modifications >= rules.MAX_MODIFICATIONS:
                raise order_error("Maximum allowed order modifications exceeded.")
            instrument = self._instrument(InstrumentRef(order.exchange, order.tradingsymbol))
            terms = rules.modified_terms(order, instrument, form, self._day.price_band(instrument.ref))
            order.modifications += 1
            self._matching.modify(order, terms)
            return order.order_id

    def cancel_order(self, account: PaperAccount, order_id: str) -> str:
        """`DELETE /orders/{variety}/{order_id}`."""
        with self._lock:
            order = self._order_of(account, order_id)
            if order.status not in WORKING:
                raise order_error(f"Order cannot be cancelled as it is {order.status.lower()}.")
            self._matching.cancel(order)
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

    def _instrument(self, ref: InstrumentRef | str) -> Instrument:
        key = rules.parse_ref(ref) if isinstance(ref, str) else ref
        instrument = self._instruments.get(key)
        if instrument is None:
            raise input_error(f"Unknown instrument {key}.")
        return instrument

    def _order_of(self, account: PaperAccount, order_id: str) -> PaperOrder:
        order = account.orders.get(order_id)
        if order is None:
            raise input_error("Couldn't find that `order_id`.", status_code=404)
        return order

    def _announce(self, state: dict[str, Any], order: PaperOrder) -> None:
        """Tell the account about an order change: a signed postback and a ticker order update, sent once the
        book holding the change is on disk (a fill told before it is there could be lost by a crash)."""
        self._changes()
        payload = postback_body(order, state, self._api_secret)
        postbacks = None if self._faults.held(payload) else self._postbacks
        placed_by = order.placed_by

        def tell() -> None:
            if postbacks is not None:
                postbacks.send(payload)
            self.ticker.publish_order(placed_by, payload)

        self._lock.once_written(tell)

    def _tick(self, ref: InstrumentRef) -> Tick:
        return self._day.days[ref].tick(self._instruments[ref], self._prices[ref], self.liquidity, self._clock.now())

    def _tick_of_token(self, token: int) -> Tick | None:
        with self._lock:
            for ref, instrument in self._instruments.items():
                if instrument.token == token and ref in self._prices:
                    return self._tick(ref)
        return None


class _BookLock:
    """The exchange's re-entrant lock, and the book's group commit: leaving its outermost hold waits until
    every change made so far (by this holder or any other) is on disk, so no reply acts on a book a crash
    could still lose.

    A change bumps the book's generation. The first holder to leave while the disk is behind becomes the
    writer: it takes the lock again to serialize the book as it is then (every change so far), writes it
    outside the lock, and wakes everyone that generation covers; holders that leave meanwhile wait for it, or
    for the next write, so a burst of changes costs one serialization and one write, not one each.
    """

    def __init__(self, serialize: Callable[[], bytes] | None, file: BookFile | None) -> None:
        self._lock = threading.RLock()
        # what to tell once the change before it is on disk, in the order of the changes; told by one
        # outermost holder at a time (re-entrant: telling may take the exchange's lock again)
        self._untold: deque[tuple[int, Callable[[], None]]] = deque()
        self._telling = threading.RLock()
        self._depth = 0
        self._serialize = serialize
        self._file = file
        self._disk = threading.Condition(threading.Lock())
        self._generation = 0  # changes made (under `_lock`)
        self._written = 0  # the generation the file holds
        self._writing = False

    def changed(self) -> None:
        """The book changed (called holding the lock)."""
        if self._file is not None:
            self._generation += 1

    def __enter__(self) -> _BookLock:
        self._lock.acquire()
        self._depth += 1
        return self

    def once_written(self, action: Callable[[], None]) -> None:
        """Run `action` once every change so far is on disk, after the outermost hold is left (called holding
        the lock)."""
        self._untold.append((self._generation, action))

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        outermost = self._depth == 0
        seen = self._generation
        self._lock.release()
        if outermost:
            if self._file is not None:
                self._wait_written(seen)
            self._tell_written()

    def _tell_written(self) -> None:
        with self._telling:
            while True:
                with self._lock:
                    if not self._untold or (self._file is not None and self._untold[0][0] > self._written):
                        return
                    _, action = self._untold.popleft()
                action()

    def _wait_written(self, generation: int) -> None:
        with self._disk:
            while self._written < generation:
                if self._writing:
                    self._disk.wait()
                    continue
                self._writing = True
                self._disk.release()
                written = self._written
                try:
                    written = self._write()
                finally:
                    self._disk.acquire()
                    self._writing = False
                    self._written = max(self._written, written)
                    self._disk.notify_all()

    def _write(self) -> int:
        """Write the book as it is now; returns the generation written."""
        assert self._serialize is not None and self._file is not None  # noqa: S101 - only called with a file
        with self._lock:
            generation, data = self._generation, self._serialize()
        self._file.replace(data)
        return generation
