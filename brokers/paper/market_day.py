"""The market day: each instrument's session so far (open, high, low, volume, price band, the previous session's
close) and AMO release at the open."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from brokers.paper.book import AMO_REQ_RECEIVED, ZERO
from brokers.paper.ticker import DepthLevel, Tick
from trading.clock import IST
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import date, datetime

    from brokers.paper.book import PaperOrder
    from brokers.paper.rules import Band
    from trading.model.instrument import Instrument


@dataclass
class TradingDay:
    """An instrument's trading day so far, for ticker packets and the price band."""

    reference: Decimal  # the first price of the day: the band's centre
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int = 0
    turnover: Decimal = ZERO
    last_quantity: int = 0
    last_trade_time: datetime | None = None
    day: date | None = None  # the IST date of the session (None: saved before sessions were dated; renewed)
    last: Decimal = ZERO  # its latest price: the session's close once the next one opens
    previous_close: Decimal = ZERO  # the ticker's `close`, as Kite's: the previous session's close (0: unknown)

    def trade(self, quantity: int, price: Decimal, at: datetime) -> None:
        self.volume += quantity
        self.turnover += price * quantity
        self.last_quantity = quantity
        self.last_trade_time = at

    def tick(self, instrument: Instrument, last: Decimal, liquidity: int | None, now: datetime) -> Tick:
        """The instrument's ticker state; depth shows `liquidity` a tick either side of the last price."""
        depth = liquidity or 0
        tick = instrument.tick_size
        orders = 1 if depth else 0
        bids = tuple(DepthLevel(last - tick * i, depth, orders) for i in range(1, 6) if last > tick * i)
        asks = tuple(DepthLevel(last + tick * i, depth, orders) for i in range(1, 6))
        traded = self.last_trade_time
        return Tick(
            token=instrument.token,
            last_price=last,
            last_quantity=self.last_quantity,
            average_price=(self.turnover / self.volume).quantize(tick) if self.volume else ZERO,
            volume=self.volume,
            buy_quantity=depth * len(bids),
            sell_quantity=depth * len(asks),
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.previous_close,
            last_trade_time=int(traded.timestamp()) if traded else 0,
            timestamp=int(now.timestamp()),
            bids=bids,
            asks=asks,
        )


class MarketDay:
    """Today's days per instrument, the daily band (a fraction of the first price), and when the market is open.

    A price on a later IST date than an instrument's session opens a new session whose previous close is the
    last price of the one before (or a close set with `set_previous_close`, e.g. a real one for a practice day).

    Parameters
    ----------
    band
        The band as a fraction of the day's first price (0.2 = ±20 %); None: no band.
    market_open
        Whether the market is open for an exchange at a time; None: AMO orders wait for a manual release.
    """

    def __init__(
        self,
        instruments: Mapping[InstrumentRef, Instrument],
        band: Decimal | None,
        market_open: Callable[[str, datetime], bool] | None,
    ) -> None:
        self.band = band
        self.days: dict[InstrumentRef, TradingDay] = {}
        self._instruments = instruments
        self._market_open = market_open

    def mark(self, ref: InstrumentRef, price: Decimal, now: datetime) -> None:
        """A new last price: the first of the day opens it, later ones move its high, low and last."""
        today = now.astimezone(IST).date()
        day = self.days.get(ref)
        if day is None or day.day is None or day.day < today:
            close = day.last if day is not None else ZERO
            self.days[ref] = TradingDay(price, price, price, price, day=today, last=price, previous_close=close)
        else:
            day.high, day.low, day.last = max(day.high, price), min(day.low, price), price

    def set_previous_close(self, ref: InstrumentRef, close: Decimal) -> None:
        """Give the instrument's current session a previous close (it has no earlier session to take one from).

        Raises
        ------
        KeyError
            The instrument has no price yet (no session).
        """
        self.days[ref].previous_close = close

    def price_band(self, ref: InstrumentRef) -> Band | None:
        """Today's (lower, upper) circuit limits, on the tick grid; None without a band or a price."""
        day = self.days.get(ref)
        if self.band is None or day is None:
            return None
        tick = self._instruments[ref].tick_size
        lower = (day.reference * (1 - self.band) / tick).to_integral_value(ROUND_CEILING) * tick
        upper = (day.reference * (1 + self.band) / tick).to_integral_value(ROUND_FLOOR) * tick
        return lower, upper

    def due_amo(self, orders: Iterable[PaperOrder], ref: InstrumentRef, now: datetime) -> list[PaperOrder]:
        """The instrument's after-market orders that enter the book now (none while its market is closed)."""
        if self._market_open is None or not self._market_open(ref.exchange, now):
            return []
        return [o for o in waiting_amo(orders) if InstrumentRef(o.exchange, o.tradingsymbol) == ref]


def waiting_amo(orders: Iterable[PaperOrder]) -> list[PaperOrder]:
    """The after-market orders still waiting for the open."""
    return [order for order in orders if order.status == AMO_REQ_RECEIVED]
