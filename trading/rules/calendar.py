"""The market calendar: exchange sessions in IST, trading days less holidays, and when a scheduled event is due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from trading.clock import IST
from trading.errors import ValidationError

MIS_SQUARE_OFF = time(15, 15)  # IST; brokers square intraday positions off from about 15:20
MAX_SCHEDULE_LOOKAHEAD_DAYS = 15
# A timer delivered later than this after its time is stale; acting on it would surprise.
SCHEDULED_EVENT_LATENESS_LIMIT = timedelta(minutes=5)

_SESSIONS: dict[str, tuple[time, time]] = {
    "NSE": (time(9, 15), time(15, 30)),
    "BSE": (time(9, 15), time(15, 30)),
    "NFO": (time(9, 15), time(15, 30)),
    "BFO": (time(9, 15), time(15, 30)),
    "CDS": (time(9, 0), time(17, 0)),
    "MCX": (time(9, 0), time(23, 30)),
}


@dataclass(frozen=True)
class MarketCalendar:
    """Weekday sessions in IST per exchange, less a configurable list of holidays."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False  # a practice market (paper exchange) that never closes

    def session(self, exchange: str) -> tuple[time, time]:
        return _SESSIONS.get(exchange, _SESSIONS["NSE"])

    def is_open(self, exchange: str, at: datetime) -> bool:
        if at.tzinfo is None:
            raise ValueError("market hours need a timezone-aware time")
        if self.always_open:
            return True
        local = at.astimezone(IST)
        if local.weekday() >= 5 or local.date() in self.holidays:
            return False
        opens, closes = self.session(exchange)
        return opens <= local.time() < closes

    def is_trading_day(self, day: date) -> bool:
        """A weekday that is not a holiday (every day, for a market that never closes)."""
        return self.always_open or (day.weekday() < 5 and day not in self.holidays)

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
