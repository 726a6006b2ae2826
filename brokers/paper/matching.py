"""Matching: an order's life in the book (statuses, triggers, fills against the last price and liquidity)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING, Any

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
    PaperOrder,
    PaperPosition,
    PaperTrade,
)
from brokers.paper.market_day import waiting_amo
from brokers.paper.rules import AUTOMATIC_PROTECTION, LIMIT_TYPES, PROTECTED_TYPES, STOP_TYPES
from trading.clock import IST
from trading.model import InstrumentRef, Side
from trading.model.protection import AUTOMATIC, MarketProtection
from trading.rules.protection import protection_price

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from decimal import Decimal

    from brokers.paper.book import PaperAccount
    from brokers.paper.market_day import MarketDay
    from trading.model.instrument import Instrument
    from trading.ports import Clock

    Announce = Callable[[dict[str, Any], PaperOrder], None]

UPDATE = "UPDATE"  # the postback status of a partial fill (the order itself stays OPEN)


def _ref(order: PaperOrder) -> InstrumentRef:
    return InstrumentRef(order.exchange, order.tradingsymbol)


class MatchingEngine:
    """Every order by id and the working ones per instrument, moved and filled as prices and requests arrive.

    Parameters
    ----------
    liquidity
        Quantity available per price level and price tick; an order larger than that fills in parts
        (walking the price a tick at a time when it is marketable). None: unlimited.
    announce
        Told every order state change (the row, or a partial fill's `UPDATE`) after it is recorded.
    """

    def __init__(
        self,
        instruments: Mapping[InstrumentRef, Instrument],
        prices: Mapping[InstrumentRef, Decimal],
        market_day: MarketDay,
        clock: Clock,
        announce: Announce,
        liquidity: int | None,
    ) -> None:
        self.liquidity = liquidity
        self.orders: dict[str, tuple[PaperAccount, PaperOrder]] = {}
        # Working orders per instrument, in arrival order (time priority when a price crosses several).
        self._book: dict[InstrumentRef, dict[str, PaperOrder]] = defaultdict(dict)
        self._instruments = instruments
        self._prices = prices
        self._day = market_day
        self._clock = clock
        self._announce = announce
        # Ids count up from the time of day, so a restarted exchange does not reuse today's ids.
        now = clock.now().astimezone(IST)
        start = (now.hour * 3600 + now.minute * 60 + now.second) * 10_000
        self._order_seq = itertools.count(start)
        self._trade_seq = itertools.count(start)

    def next_order_id(self) -> str:
        return self._next_id(self._order_seq)

    def _next_id(self, sequence: itertools.count[int]) -> str:
        return f"{self._clock.now().astimezone(IST):%y%m%d}{next(sequence):09d}"

    def book(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> PaperOrder:
        """Record a checked order and send it to the book (or hold it, for AMO)."""
        order = PaperOrder(
            order_id=self.next_order_id(),
            placed_by=account.user_id,
            exchange=instrument.exchange,
            tradingsymbol=instrument.tradingsymbol,
            instrument_token=instrument.token,
            order_timestamp=kite_time(self._clock.now()),
            **terms,
        )
        account.orders[order.order_id] = order
        self.orders[order.order_id] = (account, order)
        self._record(order)
        self._move(order, VALIDATION_PENDING)
        if order.variety == "amo":
            self._move(order, AMO_REQ_RECEIVED)
            self.release_due_amo(instrument.ref)
        else:
            self._go_live(order)
        return order

    def on_price(self, ref: InstrumentRef) -> None:
        """A new last price: release due AMO orders, then fill or trigger the resting orders it crosses."""
        self.release_due_amo(ref)
        for order in list(self._book[ref].values()):
            self._work(order, aggressive=False)

    def release_all_amo(self) -> None:
        """Market open: after-market orders enter the book."""
        for order in waiting_amo(order for _, order in list(self.orders.values())):
            self._go_live(order)

    def release_due_amo(self, ref: InstrumentRef) -> None:
        orders = [order for _, order in list(self.orders.values())]
        for order in self._day.due_amo(orders, ref, self._clock.now()):
            self._go_live(order)

    def modify(self, order: PaperOrder, terms: dict[str, Any]) -> None:
        """Apply checked new terms through Kite's interim statuses, then work the order again."""
        was_stop_waiting = order.status == TRIGGER_PENDING or order.order_type not in STOP_TYPES
        after = order.status
        if after != AMO_REQ_RECEIVED:
            after = TRIGGER_PENDING if terms["order_type"] in STOP_TYPES and was_stop_waiting else OPEN
        self._move(order, MODIFY_VALIDATION_PENDING)
        order.order_type, order.quantity, order.price = terms["order_type"], terms["quantity"], terms["price"]
        order.trigger_price, order.validity, order.modified = terms["trigger_price"], terms["validity"], True
        order.market_protection = terms["market_protection"]
        order.order_timestamp = kite_time(self._clock.now())
        self._move(order, MODIFY_PENDING)
        self._move(order, MODIFIED)
        self._move(order, after)
        if after != AMO_REQ_RECEIVED:
            self._work(order, aggressive=True)

    def cancel(self, order: PaperOrder) -> None:
        """A cancellation request: CANCEL PENDING, then CANCELLED."""
        self._move(order, CANCEL_PENDING)
        self._cancel(order)

    def _go_live(self, order: PaperOrder) -> None:
        self._move(order, OPEN_PENDING)
        self._enter_book(order)

    def _enter_book(self, order: PaperOrder) -> None:
        order.exchange_order_id = f"1300{order.order_id[-12:]}"
        order.exchange_timestamp = kite_time(self._clock.now())
        self._book[_ref(order)][order.order_id] = order
        self._move(order, TRIGGER_PENDING if order.order_type in STOP_TYPES else OPEN)
        self._work(order, aggressive=True)

    def _work(self, order: PaperOrder, *, aggressive: bool) -> None:
        """Trigger and fill the order as far as the last price and liquidity allow; IOC cancels the rest.

        An aggressive order (just booked, triggered or modified) takes the last price when its limit
        allows, walking a tick at a time while each level's liquidity runs out; a resting limit order
        crossed by a later price fills at its own limit, one level's liquidity per price change.
        """
        last = self._prices.get(_ref(order))
        if order.status == TRIGGER_PENDING and last is not None and _triggered(order, last):
            self._move(order, OPEN)
            aggressive = True
        if order.status != OPEN:
            return
        if order.order_type in PROTECTED_TYPES and order.market_protection and last is not None:
            self._protect(order, last)
        fill_price = _fill_price(order, last, aggressive=aggressive) if last is not None else None
        if fill_price is not None:
            for level in self._levels(order, fill_price, aggressive=aggressive):
                remaining = order.quantity - order.filled_quantity
                self._fill(order, min(remaining, self.liquidity or remaining), level)
                if order.status == COMPLETE:
                    break
        if order.status == OPEN and order.validity == "IOC" and aggressive:
            self._cancel(order)

    def _protect(self, order: PaperOrder, last: Decimal) -> None:
        """A protected MARKET (or triggered SL-M) order becomes a LIMIT at the protection price, as at Kite."""
        value = order.market_protection
        protection = AUTOMATIC if value == AUTOMATIC_PROTECTION else MarketProtection(value)
        tick = self._instruments[_ref(order)].tick_size
        band = self._day.price_band(_ref(order))
        order.price = protection_price(Side(order.transaction_type), last, protection, tick, band)
        order.order_type = "LIMIT"

    def _levels(self, order: PaperOrder, first: Decimal, *, aggressive: bool) -> Iterable[Decimal]:
        """The prices an order takes liquidity at: `first`, then worse ticks up to its limit (aggressive only)."""
        yield first
        if not aggressive or self.liquidity is None:
            return
        tick = self._instruments[_ref(order)].tick_size
        step = tick if order.transaction_type == "BUY" else -tick
        price = first + step
        limit = order.price if order.order_type in LIMIT_TYPES else None
        band = self._day.price_band(_ref(order))
        while price > 0:
            if limit is not None and (price > limit if step > 0 else price < limit):
                return
            if band is not None and not band[0] <= price <= band[1]:
                return
            yield price
            price += step

    def _fill(self, order: PaperOrder, quantity: int, price: Decimal) -> None:
        account, _ = self.orders[order.order_id]
        ref = _ref(order)
        instrument = self._instruments[ref]
        trade = PaperTrade(self._next_id(self._trade_seq), order, quantity, price, kite_time(self._clock.now()))
        account.trades.append(trade)
        order.filled_quantity += quantity
        order.filled_value += price * quantity
        key = (order.exchange, order.tradingsymbol, order.product)
        position = account.positions.get(key)
        if position is None:
            position = PaperPosition(
                order.exchange, order.tradingsymbol, instrument.token, order.product, instrument.multiplier
            )
            account.positions[key] = position
        position.add(order.transaction_type, quantity, price)
        self._day.days[ref].trade(quantity, price, self._clock.now())
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
            self._book[_ref(order)].pop(order.order_id, None)
        self._record(order)

    def _record(self, order: PaperOrder) -> None:
        state = order.row()
        order.history.append(state)
        self._announce(state, order)


def _triggered(order: PaperOrder, last: Decimal) -> bool:
    if order.transaction_type == "BUY":
        return last >= order.trigger_price
    return last <= order.trigger_price


def _fill_price(order: PaperOrder, last: Decimal, *, aggressive: bool) -> Decimal | None:
    if order.order_type in ("MARKET", "SL-M"):
        return last
    limit = order.price
    crossed = last <= limit if order.transaction_type == "BUY" else last >= limit
    if not crossed:
        return None
    return last if aggressive else limit
