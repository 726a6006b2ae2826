"""The market calendar: every boundary minute of each segment's session and AMO window, the shipped holidays,
MCX's season, special sessions, and the calendar the deployment's settings make."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from composition.runtime import Composition
from composition.settings import Settings
from trading.clock import IST
from trading.errors import ValidationError
from trading.model import Variety
from trading.model.instrument import Instrument
from trading.rules import holidays
from trading.rules.calendar import MarketCalendar
from trading.rules.pre_trade import check_market_hours

SHIPPED = MarketCalendar.of(holidays.shipped_closures())
WINTER_MONDAY = date(2026, 11, 23)  # a trading day; New York on standard time
SUMMER_MONDAY = date(2026, 6, 22)  # a trading day; New York on daylight time
SATURDAY = date(2026, 11, 21)
REPUBLIC_DAY = date(2026, 1, 26)
HOLI = date(2026, 3, 3)  # NSE/BSE closed; MCX's evening session only

# (exchange, HH:MM, regular order taken, AMO taken) on a trading day; each window's first minute and the one before
TRADING_DAY = [
    *[
        (exchange, hhmm, regular, amo)
        for exchange in ("NSE", "BSE")
        for hhmm, regular, amo in [
            ("00:00", False, True),
            ("08:57", False, True),
            ("08:58", False, False),
            ("08:59", False, False),
            ("09:00", True, False),  # pre-open order entry
            ("09:07", True, False),
            ("09:08", False, False),  # pre-open matching: no orders
            ("09:14", False, False),
            ("09:15", True, False),
            ("15:29", True, False),
            ("15:30", False, False),
            ("15:59", False, False),
            ("16:00", False, True),
            ("23:59", False, True),
        ]
    ],
    *[
        (exchange, hhmm, regular, amo)
        for exchange in ("NFO", "BFO")
        for hhmm, regular, amo in [
            ("00:00", False, True),
            ("09:00", False, True),  # no pre-open in F&O
            ("09:09", False, True),
            ("09:10", False, False),
            ("09:14", False, False),
            ("09:15", True, False),
            ("15:29", True, False),
            ("15:30", False, False),
            ("15:44", False, False),
            ("15:45", False, True),
            ("23:59", False, True),
        ]
    ],
    *[
        (exchange, hhmm, regular, amo)
        for exchange in ("CDS", "BCD")
        for hhmm, regular, amo in [
            ("00:00", False, True),
            ("08:58", False, True),
            ("08:59", False, False),
            ("09:00", True, False),
            ("16:59", True, False),
            ("17:00", False, True),
            ("23:59", False, True),
        ]
    ],
]

MCX_WINTER = [
    ("00:00", False, True),
    ("08:57", False, True),
    ("08:58", False, False),
    ("08:59", False, False),
    ("09:00", True, False),
    ("23:29", True, False),
    ("23:30", True, False),
    ("23:54", True, False),
    ("23:55", False, True),
    ("23:59", False, True),
]
MCX_SUMMER = [
    ("00:00", False, True),
    ("08:57", False, True),
    ("08:58", False, False),
    ("08:59", False, False),
    ("09:00", True, False),
    ("23:29", True, False),
    ("23:30", False, True),
    ("23:54", False, True),
    ("23:55", False, True),
    ("23:59", False, True),
]


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), IST)


def instrument(exchange: str) -> Instrument:
    return Instrument(1, exchange, "X", "X", "EQ", exchange, 1, Decimal("0.05"))


def assert_taken(calendar: MarketCalendar, exchange: str, moment: datetime, regular: bool, amo: bool) -> None:
    """Through the pre-trade check the use cases run: taken, or refused with a ValidationError."""
    for variety, taken in ((Variety.REGULAR, regular), (Variety.AMO, amo)):
        if taken:
            check_market_hours(variety, instrument(exchange), moment, calendar)
        else:
            with pytest.raises(ValidationError, match=exchange):
                check_market_hours(variety, instrument(exchange), moment, calendar)


@pytest.mark.parametrize(("exchange", "hhmm", "regular", "amo"), TRADING_DAY)
def test_each_segments_session_and_amo_window_minute_by_minute(
    exchange: str, hhmm: str, regular: bool, amo: bool
) -> None:
    assert_taken(SHIPPED, exchange, at(WINTER_MONDAY, hhmm), regular, amo)


@pytest.mark.parametrize(("hhmm", "regular", "amo"), MCX_WINTER)
def test_mcx_closes_at_2355_while_new_york_keeps_standard_time(hhmm: str, regular: bool, amo: bool) -> None:
    assert_taken(SHIPPED, "MCX", at(WINTER_MONDAY, hhmm), regular, amo)


@pytest.mark.parametrize(("hhmm", "regular", "amo"), MCX_SUMMER)
def test_mcx_closes_at_2330_in_summer(hhmm: str, regular: bool, amo: bool) -> None:
    assert_taken(SHIPPED, "MCX", at(SUMMER_MONDAY, hhmm), regular, amo)


@pytest.mark.parametrize(
    ("day", "closes"),
    [
        (date(2026, 10, 30), time(23, 30)),  # Friday before New York's clocks go back (1 Nov 2026)
        (date(2026, 11, 2), time(23, 55)),
        (date(2027, 3, 12), time(23, 55)),  # Friday before they go forward (14 Mar 2027)
        (date(2027, 3, 15), time(23, 30)),
    ],
)
def test_mcx_season_changes_with_new_york(day: date, closes: time) -> None:
    assert SHIPPED.session("MCX", day) == (time(9, 0), closes)
    # and its last minute takes regular orders, its close starts the AMO window, on the days either side
    last = (datetime.combine(day, closes) - timedelta(minutes=1)).strftime("%H:%M")
    assert_taken(SHIPPED, "MCX", at(day, last), regular=True, amo=False)
    assert_taken(SHIPPED, "MCX", at(day, closes.strftime("%H:%M")), regular=False, amo=True)


@pytest.mark.parametrize("exchange", ["NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX"])
def test_on_republic_day_2026_only_amo_orders_are_taken(exchange: str) -> None:
    assert not SHIPPED.is_trading_day(REPUBLIC_DAY, exchange)
    for hhmm in ("00:00", "09:00", "09:15", "12:00", "15:29", "17:30", "23:59"):
        assert_taken(SHIPPED, exchange, at(REPUBLIC_DAY, hhmm), regular=False, amo=True)


@pytest.mark.parametrize("exchange", ["NSE", "NFO", "CDS", "MCX"])
def test_a_weekend_takes_amo_orders_all_day(exchange: str) -> None:
    for hhmm in ("00:00", "09:15", "12:00", "23:59"):
        assert_taken(SHIPPED, exchange, at(SATURDAY, hhmm), regular=False, amo=True)


@pytest.mark.parametrize(
    ("exchange", "hhmm", "regular", "amo"),
    [
        ("NSE", "10:00", False, True),
        ("NFO", "10:00", False, True),
        ("MCX", "08:57", False, True),
        ("MCX", "10:00", False, False),  # the morning session is closed, outside the AMO window
        ("MCX", "16:59", False, False),
        ("MCX", "17:00", True, False),  # the evening session
        ("MCX", "23:54", True, False),  # 3 March: New York still on standard time (until 8 March)
        ("MCX", "23:55", False, True),
    ],
)
def test_holi_closes_nse_and_mcxs_morning_session(exchange: str, hhmm: str, regular: bool, amo: bool) -> None:
    assert_taken(SHIPPED, exchange, at(HOLI, hhmm), regular, amo)


def test_a_configured_muhurat_session_opens_a_sunday_for_the_exchanges_it_names() -> None:
    muhurat = date(2026, 11, 8)
    calendar = MarketCalendar.of(
        holidays.shipped_closures(), special=holidays.parse_special_sessions("2026-11-08 NSE,NFO 18:00-19:00")
    )
    for hhmm, regular, amo in [("17:59", False, True), ("18:00", True, False), ("18:59", True, False)]:
        assert_taken(calendar, "NSE", at(muhurat, hhmm), regular, amo)
    assert_taken(calendar, "NFO", at(muhurat, "19:00"), regular=False, amo=True)
    assert_taken(calendar, "BSE", at(muhurat, "18:30"), regular=False, amo=True)  # not named
    assert_taken(SHIPPED, "NSE", at(muhurat, "18:30"), regular=False, amo=True)  # not configured


@pytest.mark.parametrize("entry", ["2026-11-08 NSE", "2026-11-08 NSE 19:00-18:00", "8 Nov NSE 18:00-19:00"])
def test_a_malformed_special_session_is_a_validation_error(entry: str) -> None:
    with pytest.raises(ValidationError, match="special session"):
        holidays.parse_special_sessions(entry)


def test_every_shipped_file_names_its_source_and_2027_says_it_is_provisional() -> None:
    files = holidays.shipped_files()
    assert {(f.exchange, f.year) for f in files} == {(e, y) for e in ("NSE", "BSE", "MCX") for y in (2026, 2027)}
    for file in files:
        assert file.source["note"]
        days = set().union(*file.closed.values(), *(opens.keys() for opens in file.late_opens.values()))
        assert all(day.year == file.year and day.weekday() < 5 for day in days)
        if file.year == 2026:
            assert file.status == "published"
            assert file.source["issuer"]
            assert file.source["document"]
        else:
            assert file.status == "provisional"
            assert "PROVISIONAL" in file.source["note"]
    nse = next(f for f in files if (f.exchange, f.year) == ("NSE", 2026))
    assert nse.source["reference"] == "NSE/CMTR/71775"
    assert len(nse.closed["NSE"]) == 16
    assert nse.closed["NSE"] == nse.closed["NFO"] == nse.closed["CDS"]


def test_the_encoded_calendar_decodes_to_the_same_closures() -> None:
    shipped = holidays.shipped_closures()
    again = holidays.decode(holidays.encode(shipped))
    assert again.closed == shipped.closed
    assert again.late_opens == shipped.late_opens
    with pytest.raises(ValidationError, match="SEGMENTS:DAYS"):
        holidays.decode("NSE 2026-01-26")
    with pytest.raises(ValidationError, match="market calendar"):
        holidays.decode("NSE:2026-13-01")


def test_the_deployments_settings_make_the_shipped_calendar_plus_its_own_days() -> None:
    # Given settings as a Lambda reads them: the deployed calendar, one more holiday and a Muhurat session
    deployed = Settings(
        market_calendar=holidays.encode(holidays.shipped_closures()),
        market_holidays="2026-12-31",
        market_special_sessions="2026-11-08 MCX 18:00-19:15",
    )
    calendar = Composition(deployed).calendar
    assert not calendar.is_trading_day(REPUBLIC_DAY, "NSE")
    assert not calendar.is_trading_day(date(2026, 12, 31), "MCX")
    assert calendar.is_open("MCX", at(date(2026, 11, 8), "18:30"))
    assert calendar.session("MCX", HOLI) == (time(17, 0), time(23, 55))
    # the local stack's settings (no MARKET_CALENDAR) read the same shipped files
    assert not Composition(Settings()).calendar.is_trading_day(REPUBLIC_DAY, "NFO")
    assert Composition(Settings(market_hours="always")).calendar.is_trading_day(REPUBLIC_DAY)
