"""Pre-trade checks: lots, ticks, freeze slicing, market hours."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trading.clock import IST
from trading.errors import ValidationError
from trading.model import OrderType, Variety
from trading.model.instrument import Instrument
from trading.rules.calendar import MarketCalendar
from trading.rules.pre_trade import check_market_hours, check_order_prices, check_quantity, slice_quantity

NIFTY_CE = Instrument(
    token=1,
    exchange="NFO",
    tradingsymbol="NIFTY26DEC26000CE",
    name="NIFTY",
    instrument_type="CE",
    segment="NFO-OPT",
    lot_size=65,
    tick_size=Decimal("0.05"),
    freeze_quantity=1800,
)


def test_quantity_must_be_a_positive_lot_multiple() -> None:
    check_quantity(130, NIFTY_CE)
    for bad in (0, -65, 100):
        with pytest.raises(ValidationError):
            check_quantity(bad, NIFTY_CE)


def test_prices_must_be_tick_multiples_and_present_for_their_order_type() -> None:
    check_order_prices(OrderType.LIMIT, Decimal("101.05"), None, NIFTY_CE)
    with pytest.raises(ValidationError, match=r"tick size 0\.05"):
        check_order_prices(OrderType.LIMIT, Decimal("101.03"), None, NIFTY_CE)
    with pytest.raises(ValidationError, match="needs a price"):
        check_order_prices(OrderType.LIMIT, None, None, NIFTY_CE)
    with pytest.raises(ValidationError, match="needs a trigger price"):
        check_order_prices(OrderType.SL, Decimal("100"), None, NIFTY_CE)
    with pytest.raises(ValidationError, match="needs a trigger price"):
        check_order_prices(OrderType.SL_M, None, None, NIFTY_CE)


def test_freeze_quantity_slices_into_lot_multiples() -> None:
    # 1800 // 65 = 27 lots = 1755 per slice
    assert slice_quantity(65 * 60, NIFTY_CE) == [1755, 1755, 390]
    assert slice_quantity(1755, NIFTY_CE) == [1755]
    assert sum(slice_quantity(65 * 61, NIFTY_CE)) == 65 * 61


@pytest.mark.parametrize(
    ("local", "is_open"),
    [
        (datetime(2026, 11, 23, 9, 14, tzinfo=IST), False),
        (datetime(2026, 11, 23, 9, 15, tzinfo=IST), True),
        (datetime(2026, 11, 23, 15, 29, tzinfo=IST), True),
        (datetime(2026, 11, 23, 15, 30, tzinfo=IST), False),
        (datetime(2026, 11, 22, 11, 0, tzinfo=IST), False),  # Sunday
        (datetime(2026, 11, 24, 11, 0, tzinfo=IST), False),  # holiday below
    ],
)
def test_nse_hours_in_ist_weekdays_less_holidays(local: datetime, is_open: bool) -> None:
    calendar = MarketCalendar(holidays=frozenset({date(2026, 11, 24)}))
    assert calendar.is_open("NFO", local.astimezone(UTC)) is is_open


def test_regular_orders_need_an_open_market_and_amo_a_closed_one() -> None:
    calendar = MarketCalendar()
    night = datetime(2026, 11, 23, 22, 0, tzinfo=IST)
    with pytest.raises(ValidationError, match="use variety AMO"):
        check_market_hours(Variety.REGULAR, NIFTY_CE, night, calendar)
    check_market_hours(Variety.AMO, NIFTY_CE, night, calendar)
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=IST)
    with pytest.raises(ValidationError, match="AMO orders are taken only outside"):
        check_market_hours(Variety.AMO, NIFTY_CE, noon, calendar)
    check_market_hours(Variety.REGULAR, NIFTY_CE, noon, MarketCalendar(always_open=True))
