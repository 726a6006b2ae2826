"""The paper exchange's margin model (`brokers/paper/span.py`): each instrument type alone, and spreads together."""

from __future__ import annotations

from decimal import Decimal

from brokers.paper import span
from brokers.paper.span import Exposure
from tests.builders import an_instrument

LOT = 65


def option(kind: str, strike: int) -> Exposure:
    return Exposure(
        an_instrument(tradingsymbol=f"NIFTY26JAN{strike}{kind}", instrument_type=kind, strike=Decimal(strike)),
        0,
        Decimal(0),
    )


def leg(kind: str, strike: int, quantity: int, premium: str) -> Exposure:
    base = option(kind, strike)
    return Exposure(base.instrument, quantity, Decimal(premium))


FUTURE = an_instrument(tradingsymbol="NIFTY26JANFUT", instrument_type="FUT", strike=None)
STOCK = an_instrument(
    exchange="NSE", tradingsymbol="INFY", instrument_type="EQ", strike=None, expiry=None, segment="NSE", lot_size=1
)


def test_a_bought_option_blocks_its_premium() -> None:
    assert span.alone(leg("CE", 24000, LOT, "120.05")).total == Decimal("120.05") * LOT


def test_a_sold_option_blocks_span_and_exposure_on_its_strikes_notional() -> None:
    parts = span.alone(leg("CE", 24000, -LOT, "120.05"))
    notional = Decimal(24000) * LOT
    assert (parts.span, parts.exposure) == (notional * span.SPAN_RATE, notional * span.EXPOSURE_RATE)
    assert parts.option_premium == 0


def test_a_future_blocks_span_and_exposure_either_way() -> None:
    bought = span.alone(Exposure(FUTURE, LOT, Decimal(24100)))
    sold = span.alone(Exposure(FUTURE, -LOT, Decimal(24100)))
    assert bought == sold
    assert bought.total == Decimal(24100) * LOT * (span.SPAN_RATE + span.EXPOSURE_RATE)


def test_equity_delivery_blocks_its_value_and_intraday_a_fraction() -> None:
    cnc = span.alone(Exposure(STOCK, 10, Decimal("1498.00"), "CNC"))
    mis = span.alone(Exposure(STOCK, 10, Decimal("1498.00"), "MIS"))
    assert cnc.var == Decimal(14980)
    assert mis.var == Decimal(14980) * span.MIS_RATE


def test_a_bear_call_spread_blocks_its_largest_loss_far_below_its_legs_sum() -> None:
    # Given short 24000 CE at 120, long 24200 CE at 40: credit 80 a unit, width 200
    legs = [leg("CE", 24000, -LOT, "120"), leg("CE", 24200, LOT, "40")]
    # When
    initial, final = span.initial(legs), span.final(legs)
    # Then final = (width - credit) x quantity: the spread's maximum loss
    assert final.total == (200 - 80) * LOT
    assert final.option_premium == -80 * LOT
    assert initial.total == span.alone(legs[0]).total + 40 * LOT
    assert final.total < initial.total


def test_an_iron_condor_blocks_its_wider_wing_less_the_credit() -> None:
    legs = [
        leg("CE", 24000, -LOT, "100"),
        leg("PE", 24000, -LOT, "90"),
        leg("CE", 24500, LOT, "20"),
        leg("PE", 23500, LOT, "15"),
    ]
    credit = 100 + 90 - 20 - 15
    assert span.final(legs).total == (500 - credit) * LOT


def test_a_naked_short_call_gets_no_offset_and_a_debit_spread_blocks_its_debit() -> None:
    naked = [leg("CE", 24000, -LOT, "120"), leg("PE", 23500, LOT, "15")]
    assert span.final(naked) == span.initial(naked)
    debit = [leg("CE", 24000, LOT, "120"), leg("CE", 24200, -LOT, "40")]
    assert span.final(debit).total == 80 * LOT


def test_different_expiries_do_not_offset() -> None:
    far = an_instrument(tradingsymbol="NIFTY26FEB24200CE", strike=Decimal(24200), expiry=None)
    legs = [leg("CE", 24000, -LOT, "120"), Exposure(far, LOT, Decimal(40))]
    assert span.final(legs) == span.initial(legs)
