"""Mark throttling, the mark feed over ticks, and the market simulator's random walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.kite.feed import MarkFeed
from local.market import MAX_STEP_TICKS, MarketSimulator
from local.seed import instruments
from tests.fakes import FixedClock
from trading.clock import IST
from trading.marks import MarkThrottle
from trading.model import InstrumentRef
from trading.rules.calendar import MarketCalendar

REF = InstrumentRef("NFO", "NIFTY26DEC26000CE")
T0 = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_throttle_lets_one_mark_per_interval_and_keeps_the_latest() -> None:
    throttle = MarkThrottle(interval=timedelta(milliseconds=500))
    assert throttle.offer(REF, Decimal("100"), T0)
    assert not throttle.offer(REF, Decimal("101"), T0 + timedelta(milliseconds=100))
    assert not throttle.offer(REF, Decimal("102"), T0 + timedelta(milliseconds=200))
    assert throttle.flush(T0 + timedelta(milliseconds=300)) == {}
    assert throttle.flush(T0 + timedelta(milliseconds=600)) == {REF: (Decimal("102"), T0 + timedelta(milliseconds=200))}
    assert throttle.flush(T0 + timedelta(seconds=2)) == {}


class MarkLog:
    def __init__(self) -> None:
        self.marks: list[tuple[InstrumentRef, Decimal]] = []
        self.closes: list[Decimal | None] = []

    def put_mark(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> bool:
        self.marks.append((ref, price))
        self.closes.append(close)
        return True


def test_simulator_walks_on_tick_size_held_first_and_the_feed_throttles_its_marks() -> None:
    # Given the simulator moving a market whose ticks reach the mark feed (as the exchange's ticker carries them)
    seeded = dict(instruments())
    prices = {i.ref: p for i, p in seeded.items()}
    tokens = {i.token: i.ref for i in seeded}
    moved: list[dict[InstrumentRef, Decimal]] = []
    clock = FixedClock(datetime(2026, 11, 23, 11, 0, tzinfo=IST))
    written = MarkLog()
    feed = MarkFeed(written, tokens, clock=clock)

    def move(update: dict[InstrumentRef, Decimal]) -> None:
        moved.append(update)
        prices.update(update)
        by_ref = {ref: token for token, ref in tokens.items()}
        feed.on_ticks([{"instrument_token": by_ref[ref], "last_price": float(p)} for ref, p in update.items()])

    simulator = MarketSimulator(list(seeded), prices.get, move, clock, MarketCalendar(), held=lambda: {REF}, seed=7)
    before = dict(prices)
    first = simulator.step()
    assert next(iter(first)) == REF
    for instrument in seeded:
        change = first[instrument.ref] - before[instrument.ref]
        assert change % instrument.tick_size == 0
        assert abs(change) <= MAX_STEP_TICKS * instrument.tick_size
    assert len(written.marks) == len(seeded)
    simulator.step()  # same instant: the exchange moves, the marks are held back
    assert len(moved) == 2
    assert len(written.marks) == len(seeded)
    clock.at += timedelta(seconds=1)
    feed.flush()
    assert len(written.marks) == 2 * len(seeded)
    assert dict(written.marks[len(seeded) :]) == {ref: prices[ref] for ref in prices}


def test_simulator_is_still_while_the_market_is_closed() -> None:
    seeded = dict(instruments())
    night = FixedClock(datetime(2026, 11, 23, 22, 0, tzinfo=IST))
    simulator = MarketSimulator(
        list(seeded), {i.ref: p for i, p in seeded.items()}.get, lambda _: None, night, MarketCalendar()
    )
    assert simulator.step() == {}


def test_the_feed_writes_each_mark_with_the_ticks_previous_close() -> None:
    # Given a feed over one instrument
    clock = FixedClock(datetime(2026, 11, 23, 11, 0, tzinfo=IST))
    written = MarkLog()
    feed = MarkFeed(written, {408065: REF}, MarkThrottle(timedelta(0)), clock)
    # When a quote-mode tick, then an ltp-mode tick (no ohlc), then a tick whose close is Kite's 0 arrive
    feed.on_ticks([{"instrument_token": 408065, "last_price": 1573.15, "ohlc": {"close": 1567.8}}])
    feed.on_ticks([{"instrument_token": 408065, "last_price": 1573.2}])
    feed.on_ticks([{"instrument_token": 408065, "last_price": 1573.25, "ohlc": {"close": 0}}])
    # Then every mark carries the previous close the quote tick brought, exactly as Kite sent it
    assert written.closes == [Decimal("1567.8")] * 3
    assert [price for _, price in written.marks] == [Decimal("1573.15"), Decimal("1573.2"), Decimal("1573.25")]


def test_without_ohlc_no_close_is_written() -> None:
    written = MarkLog()
    feed = MarkFeed(written, {408065: REF}, MarkThrottle(timedelta(0)), FixedClock(T0))
    feed.on_ticks([{"instrument_token": 408065, "last_price": 100.05}])
    assert written.closes == [None]
