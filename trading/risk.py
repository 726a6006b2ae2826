"""Pre-trade checks as pure functions: lot and tick multiples, freeze slicing, market hours; basket limits
and schedule times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.errors import ValidationError
from trading.model import OrderType, Variety

if TYPE_CHECKING:
    from trading.instruments import Instrument
    from trading.model import RiskLimits, Schedule

MIS_SQUARE_OFF = time(15, 15)  # IST; brokers square intraday positions off from about 15:20
PAISA = Decimal("0.01")
MAX_SCHEDULE_LOOKAHEAD_DAYS = 15

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


def check_quantity(quantity: int, instrument: Instrument) -> None:
    """Quantity must be positive and a whole number of lots."""
    if quantity <= 0:
        raise ValidationError(f"quantity must be positive, got {quantity}")
    if quantity % instrument.lot_size:
        raise ValidationError(
            f"quantity {quantity} of {instrument.ref} is not a multiple of its lot size {instrument.lot_size}"
        )


def check_price(price: Decimal, instrument: Instrument, what: str = "price") -> None:
    """Price must be positive and a multiple of the instrument's tick size."""
    if not price.is_finite() or price <= 0:
        raise ValidationError(f"{what} must be a positive number, got {price}")
    if price % instrument.tick_size:
        raise ValidationError(
            f"{what} {price} of {instrument.ref} is not a multiple of its tick size {instrument.tick_size}"
        )


def check_order_prices(
    order_type: OrderType, price: Decimal | None, trigger_price: Decimal | None, instrument: Instrument
) -> None:
    """Each order type needs (and only then checks) its price and trigger price."""
    if order_type in (OrderType.LIMIT, OrderType.SL):
        if price is None:
            raise ValidationError(f"a {order_type} order needs a price")
        check_price(price, instrument)
    if order_type in (OrderType.SL, OrderType.SL_M):
        if trigger_price is None:
            raise ValidationError(f"a {order_type} order needs a trigger price")
        check_price(trigger_price, instrument, "trigger price")
    if order_type in (OrderType.MARKET, OrderType.SL_M) and price is not None:
        raise ValidationError(f"a {order_type} order takes no price")


def check_market_hours(variety: Variety, instrument: Instrument, now: datetime, calendar: MarketCalendar) -> None:
    """Regular orders only while the exchange is open; AMO orders only while it is closed."""
    is_open = calendar.is_open(instrument.exchange, now)
    opens, closes = calendar.session(instrument.exchange)
    hours = f"{opens:%H:%M}-{closes:%H:%M} IST on trading days"
    if variety is Variety.REGULAR and not is_open:
        raise ValidationError(f"{instrument.exchange} is closed (open {hours}); use variety AMO to queue the order")
    if variety is Variety.AMO and is_open:
        raise ValidationError(f"{instrument.exchange} is open ({hours}); AMO orders are taken only outside it")


def slice_quantity(quantity: int, instrument: Instrument) -> list[int]:
    """Split a quantity above the freeze limit into lot-multiple slices no larger than it."""
    freeze = instrument.freeze_quantity
    if not freeze or quantity <= freeze:
        return [quantity]
    largest = (freeze // instrument.lot_size) * instrument.lot_size
    if largest <= 0:
        raise ValidationError(f"freeze quantity of {instrument.ref} is below one lot")
    full, rest = divmod(quantity, largest)
    return [largest] * full + ([rest] if rest else [])


def check_risk_limits(limits: RiskLimits) -> RiskLimits:
    """Max loss and target are positive rupee amounts with at most paise."""
    for what, value in (("max loss", limits.max_loss), ("target", limits.target)):
        if value is None:
            continue
        if not value.is_finite() or value <= 0:
            raise ValidationError(f"{what} must be a positive amount in rupees, got {value}")
        if value != value.quantize(PAISA):
            raise ValidationError(f"{what} {value} has more than two decimals; give rupees and paise")
    return limits


def limit_breach(limits: RiskLimits, pnl: Decimal) -> str | None:
    """Why a basket at `pnl` must be exited (its max loss or target was reached), else None."""
    if limits.max_loss is not None and pnl <= -limits.max_loss:
        return f"max loss {limits.max_loss:.2f} reached (P&L {pnl:.2f}); exited automatically"
    if limits.target is not None and pnl >= limits.target:
        return f"target {limits.target:.2f} reached (P&L {pnl:.2f}); exited automatically"
    return None


def check_schedule(schedule: Schedule, exchanges: set[str], calendar: MarketCalendar) -> Schedule:
    """Entry and exit times must fall inside the session of every exchange the basket trades, exit after entry.

    A time of day always has a next occurrence on a trading day, so it is always in the future.
    """
    for what, at in (("entryAt", schedule.entry_at), ("exitAt", schedule.exit_at)):
        if at is None:
            continue
        for exchange in sorted(exchanges or {"NSE"}):
            opens, closes = calendar.session(exchange)
            if not opens <= at < closes:
                raise ValidationError(
                    f"schedule.{what} {at:%H:%M} is outside {exchange} hours ({opens:%H:%M}-{closes:%H:%M} IST)"
                )
    if schedule.entry_at and schedule.exit_at and schedule.exit_at <= schedule.entry_at:
        raise ValidationError(
            f"schedule.exitAt {schedule.exit_at:%H:%M} must be after entryAt {schedule.entry_at:%H:%M} (same day, IST)"
        )
    return schedule
