"""The market calendar: each segment's session and AMO window in IST, its trading days less its holidays
(shipped as data in `trading.rules.holidays`), special sessions, and when a scheduled event is due.

Segments are Kite's exchange codes: equity (NSE, BSE), F&O (NFO, BFO), currency (CDS, BCD) and commodity (MCX).
Windows are half-open, `[from, to)`: an order at 15:30:00 on NSE is after the close.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from trading.clock import IST
from trading.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.rules.holidays import Closures, SpecialSession

MIS_SQUARE_OFF = time(15, 15)  # IST; brokers square intraday positions off from about 15:20
MAX_SCHEDULE_LOOKAHEAD_DAYS = 15
# A timer delivered later than this after its time is stale; acting on it would surprise.
SCHEDULED_EVENT_LATENESS_LIMIT = timedelta(minutes=5)

# MCX follows the US markets: it closes at 23:55 while New York is on standard time (from the first Sunday of
# November to the second Sunday of March), at 23:30 otherwise.
_NEW_YORK = ZoneInfo("America/New_York")
MCX_SUMMER_CLOSE = time(23, 30)
MCX_WINTER_CLOSE = time(23, 55)


@dataclass(frozen=True)
class Segment:
    """A segment's regular session, its pre-open order entry (equity) and its AMO window as Zerodha publishes it."""

    name: str
    opens: time
    closes: time
    amo_from: time | None  # None: from the close (MCX)
    amo_until: time
    pre_open: tuple[time, time] | None = None


EQUITY = Segment("equity", time(9, 15), time(15, 30), time(16, 0), time(8, 58), (time(9, 0), time(9, 8)))
FUTURES_AND_OPTIONS = Segment("F&O", time(9, 15), time(15, 30), time(15, 45), time(9, 10))
CURRENCY = Segment("currency", time(9, 0), time(17, 0), time(17, 0), time(8, 59))
COMMODITY = Segment("commodity", time(9, 0), MCX_SUMMER_CLOSE, None, time(8, 58))

SEGMENTS: dict[str, Segment] = {
    "NSE": EQUITY,
    "BSE": EQUITY,
    "NFO": FUTURES_AND_OPTIONS,
    "BFO": FUTURES_AND_OPTIONS,
    "CDS": CURRENCY,
    "BCD": CURRENCY,
    "MCX": COMMODITY,
}


def segment_of(exchange: str) -> Segment:
    return SEGMENTS.get(exchange, EQUITY)


def mcx_close(day: date) -> time:
    """MCX's closing time on `day`: 23:55 while New York keeps standard time, else 23:30."""
    noon = datetime.combine(day, time(12), _NEW_YORK)
    return MCX_SUMMER_CLOSE if noon.dst() else MCX_WINTER_CLOSE


@dataclass(frozen=True)
class MarketCalendar:
    """Sessions in IST per segment on weekdays, less the segment's holidays and `holidays` (every segment's),
    plus special sessions."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False  # a practice market (paper exchange) that never closes
    closed: Mapping[str, frozenset[date]] = field(default_factory=dict)  # exchange -> its holidays
    late_opens: Mapping[str, Mapping[date, time]] = field(default_factory=dict)  # exchange -> day -> opening
    special_sessions: tuple[SpecialSession, ...] = ()

    @classmethod
    def of(
        cls, closures: Closures, holidays: frozenset[date] = frozenset(), special: tuple[SpecialSession, ...] = ()
    ) -> MarketCalendar:
        """The calendar of shipped (or deployed) closures, more holidays and special sessions."""
        return cls(
            holidays=holidays,
            closed=closures.closed,
            late_opens=closures.late_opens,
            special_sessions=closures.special_sessions + special,
        )

    def session(self, exchange: str, day: date | None = None) -> tuple[time, time]:
        """The regular session's opening and close (on `day`: a late opening, MCX's close by season)."""
        segment = segment_of(exchange)
        opens, closes = segment.opens, segment.closes
        if segment is COMMODITY and day is not None:
            closes = mcx_close(day)
        if day is not None:
            opens = self.late_opens.get(exchange, {}).get(day, opens)
        return opens, closes

    def is_trading_day(self, day: date, exchange: str = "NSE") -> bool:
        """A weekday that is not a holiday of `exchange` (every day, for a market that never closes)."""
        if self.always_open:
            return True
        return day.weekday() < 5 and day not in self.holidays and day not in self.closed.get(exchange, frozenset())

    def _special(self, exchange: str, day: date) -> SpecialSession | None:
        return next((s for s in self.special_sessions if s.day == day and exchange in s.exchanges), None)

    def _hours(self, exchange: str, day: date) -> tuple[time, time] | None:
        """The hours `exchange` trades on `day` (a special session's, if any), None when it does not."""
        special = self._special(exchange, day)
        if special is not None:
            return special.opens, special.closes
        return self.session(exchange, day) if self.is_trading_day(day, exchange) else None

    def is_open(self, exchange: str, at: datetime) -> bool:
        """Whether the exchange's regular (or special) session is running at `at`."""
        if at.tzinfo is None:
            raise ValueError("market hours need a timezone-aware time")
        if self.always_open:
            return True
        local = at.astimezone(IST)
        hours = self._hours(exchange, local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def in_pre_open(self, exchange: str, at: datetime) -> bool:
        """Whether `at` is in the equity pre-open's order entry (09:00-09:08 IST) of a regular trading day."""
        local = at.astimezone(IST)
        window = segment_of(exchange).pre_open
        if window is None or self.always_open or self._special(exchange, local.date()):
            return False
        return self.is_trading_day(local.date(), exchange) and window[0] <= local.time() < window[1]

    def takes_regular(self, exchange: str, at: datetime) -> bool:
        """Whether a regular order is taken at `at`: in the session, or in the equity pre-open."""
        return self.is_open(exchange, at) or self.in_pre_open(exchange, at)

    def amo_window(self, exchange: str, day: date) -> tuple[time, time]:
        """The AMO window around `day`'s session: from (after the close) and until (before the next open)."""
        segment = segment_of(exchange)
        starts = segment.amo_from or self.session(exchange, day)[1]
        return starts, segment.amo_until

    def takes_amo(self, exchange: str, at: datetime) -> bool:
        """Whether an after-market order is taken at `at`: all day on a day without a session; on a trading
        day before the window's end (morning) or from its start (evening); never during a special session."""
        if at.tzinfo is None:
            raise ValueError("AMO windows need a timezone-aware time")
        if self.always_open:
            return False
        local = at.astimezone(IST)
        day, now = local.date(), local.time()
        special = self._special(exchange, day)
        if special is not None:
            return not special.opens <= now < special.closes and not self.is_trading_day(day, exchange)
        if not self.is_trading_day(day, exchange):
            return True
        starts, until = self.amo_window(exchange, day)
        return now < until or now >= starts

    def next_at(self, at: time, after: datetime) -> datetime:
        """The first moment strictly after `after` that is `at` (IST) on a trading day, in UTC.

        Raises
        ------
        ValidationError
            No trading day in the next few weeks (a holiday list that closes the market).
        """
        if after.tzinfo is None:
            raise ValueError("schedules need a timezone-aware time")
        local = after.astimezone(IST)
        for offset in range(MAX_SCHEDULE_LOOKAHEAD_DAYS):
            day = local.date() + timedelta(days=offset)
            moment = datetime.combine(day, at, IST)
            if moment > local and self.is_trading_day(day):
                return moment.astimezone(after.tzinfo)
        raise ValidationError(f"no trading day in the next {MAX_SCHEDULE_LOOKAHEAD_DAYS} days to schedule {at:%H:%M}")


def is_stale(scheduled_at: datetime, now: datetime) -> bool:
    """Whether a scheduled event due at `scheduled_at` is too late at `now` to act on."""
    return now - scheduled_at > SCHEDULED_EVENT_LATENESS_LIMIT
