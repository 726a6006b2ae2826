"""The previous close: the paper exchange's sessions, the mark item, the engine's rows, and Kite's m2m."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from brokers.paper.market_day import MarketDay
from local.seed import instruments
from schema import shapes
from store.items.mark import close_of, mark_item, mark_of
from trading.clock import IST
from trading.ids import BasketId, OrderId, OwnerId, TradeId
from trading.model import Fill, Position, PositionKey, Product, Side
from trading.pnl_engine import PnlEngine
from trading.valuation import PositionPnl, PreviousClose

SEEDED = {i.ref: i for i, _ in instruments()}
REF = next(iter(SEEDED))
DAY_ONE = datetime(2026, 11, 23, 10, 0, tzinfo=IST)
DAY_TWO = DAY_ONE + timedelta(days=1)


def a_market() -> MarketDay:
    return MarketDay(SEEDED, band=None, market_open=None)


def test_the_first_session_knows_no_previous_close() -> None:
    market = a_market()
    market.mark(REF, Decimal("100.05"), DAY_ONE)
    assert market.days[REF].tick(SEEDED[REF], Decimal("100.05"), None, DAY_ONE).close == 0  # Kite's "unknown"


def test_a_new_ist_day_opens_a_session_whose_close_is_the_last_price_of_the_one_before() -> None:
    # Given day 1 trading from 100.05 to a last price of 97.50
    market = a_market()
    for price in ("100.05", "103.00", "97.50"):
        market.mark(REF, Decimal(price), DAY_ONE)
    # When day 2 trades (even a minute after midnight IST)
    market.mark(REF, Decimal("99.00"), DAY_ONE.replace(hour=0, minute=1) + timedelta(days=1))
    market.mark(REF, Decimal("98.00"), DAY_TWO)
    # Then its ticker close is day 1's last price, and its open/high/low are day 2's own
    day = market.days[REF]
    tick = day.tick(SEEDED[REF], Decimal("98.00"), None, DAY_TWO)
    assert (tick.close, tick.open, tick.high, tick.low) == (
        Decimal("97.50"),
        Decimal("99.00"),
        Decimal("99.00"),
        Decimal("98.00"),
    )


def test_a_configured_previous_close_is_the_tickers_close_for_the_session() -> None:
    market = a_market()
    market.mark(REF, Decimal("100.05"), DAY_ONE)
    market.set_previous_close(REF, Decimal("101.10"))
    market.mark(REF, Decimal("100.10"), DAY_ONE)
    assert market.days[REF].tick(SEEDED[REF], Decimal("100.10"), None, DAY_ONE).close == Decimal("101.10")


def test_the_mark_item_keeps_the_close_as_of_the_ist_day_it_was_seen() -> None:
    at = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 00:30 IST on the 24th
    item = mark_item(REF, Decimal("98.00"), at, Decimal("97.50"))
    assert mark_of(item) == (REF, Decimal("98.00"))
    assert close_of(item) == PreviousClose(Decimal("97.50"), date(2026, 11, 24))
    assert close_of(mark_item(REF, Decimal("98.00"), at)) is None


def carried(net: int, average: str, multiplier: int = 1) -> Position:
    """A position bought on day 1 and held into day 2."""
    key = PositionKey(BasketId("b1"), None, REF, Product.NRML)
    fill = Fill(TradeId("t1"), OrderId("o1"), Side.BUY, net, Decimal(average), DAY_ONE.astimezone(UTC))
    return Position(key, OwnerId("alice"), Decimal(multiplier), (fill,))


def test_m2m_values_the_carried_quantity_at_the_previous_close() -> None:
    # Given 50 units bought at 100 on day 1 (multiplier 10), day 1 closing at 97.50, and 98.00 on day 2
    position = carried(50, "100.00", multiplier=10)
    close = PreviousClose(Decimal("97.50"), DAY_TWO.date())
    row = shapes.position_pnl(PositionPnl.of(position, Decimal("98.00"), close), DAY_TWO.date())
    # Then pnl is since the buy and m2m since the close: 50 * (98 - 97.50) * 10
    assert (row["closePrice"], row["pnl"], row["m2m"]) == ("97.50", "-1000.00", "250.00")
    assert row["position"]["overnightQuantity"] == 50


def test_a_close_seen_on_another_day_is_not_this_days_previous_close() -> None:
    # A mark from day 1 carries day 0's close: on day 2 it says nothing, so m2m of a carried position is unknown
    stale = PreviousClose(Decimal("97.50"), DAY_ONE.date())
    row = shapes.position_pnl(PositionPnl.of(carried(50, "100.00"), Decimal("98.00"), stale), DAY_TWO.date())
    assert (row["closePrice"], row["m2m"]) == (None, None)


def test_the_engine_rows_take_a_new_close_at_an_unchanged_price_and_the_basket_is_republished() -> None:
    # Given the engine holding the carried position, marked on day 2 without a close
    engine = PnlEngine(min_interval=timedelta(0))
    engine.upsert(carried(50, "100.00"))
    engine.mark(REF, Decimal("98.00"), DAY_TWO)
    assert [s.positions[0].close for s in engine.due(DAY_TWO)] == [None]
    # When the same price comes again with the previous close
    engine.mark(REF, Decimal("98.00"), DAY_TWO + timedelta(seconds=1), Decimal("97.50"))
    # Then the basket is due again, its row carries the close, and it equals a recompute
    snapshots = engine.due(DAY_TWO + timedelta(seconds=1))
    assert [s.positions[0].close for s in snapshots] == [PreviousClose(Decimal("97.50"), DAY_TWO.date())]
    assert engine.snapshot(BasketId("b1")) == engine.recompute(BasketId("b1"))
    assert engine.quotes([REF]) == {REF: (Decimal("98.00"), PreviousClose(Decimal("97.50"), DAY_TWO.date()))}


def test_m2m_leaves_out_what_was_realised_before_the_day() -> None:
    # Given BUY 3@790, SELL 8@747 (x15) on day 1 (realised 3 * -43 * 15), carried short 5@747 into day 2
    key = PositionKey(BasketId("b1"), None, REF, Product.NRML)
    day_one = DAY_ONE.astimezone(UTC)
    fills = (
        Fill(TradeId("t1"), OrderId("o1"), Side.BUY, 3, Decimal(790), day_one),
        Fill(TradeId("t2"), OrderId("o2"), Side.SELL, 8, Decimal(747), day_one + timedelta(seconds=1)),
    )
    position = Position(key, OwnerId("alice"), Decimal(15), fills)
    close = PreviousClose(Decimal(750), DAY_TWO.date())
    row = shapes.position_pnl(PositionPnl.of(position, Decimal(740), close), DAY_TWO.date())
    # Then pnl holds the realised -1935 and the open +525; m2m is day 2's move alone: -5 * (740 - 750) * 15
    assert (row["realised"], row["pnl"], row["m2m"]) == ("-1935.00", "-1410.00", "750.00")
