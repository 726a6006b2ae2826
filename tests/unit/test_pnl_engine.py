"""The incremental P&L engine: Kite's formula by hand, parity with a from-scratch sum, coalescing."""

from __future__ import annotations

import copy
import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from trading.errors import ValidationError
from trading.ids import BasketId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import Fill, InstrumentRef, Position, PositionKey, Product, Side
from trading.pnl_engine import PnlEngine
from trading.valuation import PreviousClose, pnl_of

T0 = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
OWNER = OwnerId("alice")
PE_23500 = InstrumentRef("NFO", "NIFTY26JAN23500PE")
PE_23800 = InstrumentRef("NFO", "NIFTY26JAN23800PE")
CE_24200 = InstrumentRef("NFO", "NIFTY26JAN24200CE")
CE_24500 = InstrumentRef("NFO", "NIFTY26JAN24500CE")
LOT = 65
_trades = itertools.count()


def ms(n: float) -> datetime:
    return T0 + timedelta(milliseconds=n)


def a_position(
    basket: str,
    ref: InstrumentRef,
    *fills: tuple[Side, int, str],
    strategy: str = "s1",
    multiplier: Decimal = Decimal(1),
    owner: OwnerId = OWNER,
) -> Position:
    """A position built the only way positions change: by applying fills."""
    key = PositionKey(BasketId(basket), StrategyId(strategy), ref, Product.NRML)
    position = Position(key, owner, multiplier)
    for side, quantity, price in fills:
        position.apply(Fill(TradeId(f"T{next(_trades)}"), OrderId("o"), side, quantity, Decimal(price), T0))
    return position


def a_condor(basket: str = "condor") -> list[Position]:
    """A NIFTY iron condor, one lot a leg: long 23500 PE, short 23800 PE, short 24200 CE, long 24500 CE."""
    return [
        a_position(basket, PE_23500, (Side.BUY, LOT, "40.00")),
        a_position(basket, PE_23800, (Side.SELL, LOT, "95.50")),
        a_position(basket, CE_24200, (Side.SELL, LOT, "88.25")),
        a_position(basket, CE_24500, (Side.BUY, LOT, "30.10")),
    ]


class Marks:
    """A `MarkSource` over a dict."""

    def __init__(self, prices: dict[InstrumentRef, Decimal]) -> None:
        self.prices = prices

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        return {r: self.prices[r] for r in refs if r in self.prices}

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        return {r: (self.prices[r], None) for r in refs if r in self.prices}  # no previous closes known


def assert_matches_recompute(engine: PnlEngine, basket_id: BasketId) -> None:
    assert engine.snapshot(basket_id) == engine.recompute(basket_id)


def test_condor_pnl_after_fills_is_zero_until_marked() -> None:
    # Given a condor just filled, with no marks yet
    engine = PnlEngine()
    for position in a_condor():
        engine.upsert(position)

    # When the basket is snapshotted
    snapshot = engine.snapshot(BasketId("condor"))

    # Then every leg is worth its realised P&L (none yet), never valued at cost
    assert snapshot is not None
    assert (snapshot.pnl, snapshot.realised, snapshot.unrealised) == (Fraction(0),) * 3
    assert [row.last_price for row in snapshot.positions] == [None] * 4
    assert_matches_recompute(engine, BasketId("condor"))


def test_condor_pnl_after_marks_follows_kites_formula() -> None:
    # Given a filled condor
    engine = PnlEngine()
    condor = a_condor()
    for position in condor:
        engine.upsert(position)

    # When every leg is marked (twice for one, so the delta rule runs too)
    engine.mark(PE_23500, Decimal("38.00"), ms(1))
    engine.mark(PE_23500, Decimal("35.00"), ms(2))
    engine.mark(PE_23800, Decimal("80.00"), ms(3))
    engine.mark(CE_24200, Decimal("100.25"), ms(4))
    engine.mark(CE_24500, Decimal("36.60"), ms(5))

    # Then each leg is (sell_value - buy_value) + net_qty * ltp * multiplier
    snapshot = engine.snapshot(BasketId("condor"))
    assert snapshot is not None
    assert [row.pnl for row in snapshot.positions] == [
        Decimal("-2600.00") + 65 * Decimal("35.00"),  # -325.00
        Decimal("6207.50") - 65 * Decimal("80.00"),  # 1007.50
        Decimal("5736.25") - 65 * Decimal("100.25"),  # -780.00
        Decimal("-1956.50") + 65 * Decimal("36.60"),  # 422.50
    ]
    assert snapshot.pnl == Decimal("325.00")
    assert (snapshot.realised, snapshot.unrealised) == (Fraction(0), Fraction("325.00"))
    assert snapshot.as_of == ms(5)
    prices = {PE_23500: Decimal(35), PE_23800: Decimal(80), CE_24200: Decimal("100.25"), CE_24500: Decimal("36.6")}
    assert snapshot.pnl == pnl_of(Marks(prices), BasketId("condor"), condor).pnl
    assert_matches_recompute(engine, BasketId("condor"))


def test_closing_a_leg_realises_its_pnl_and_later_marks_leave_it_alone() -> None:
    # Given a marked condor
    engine = PnlEngine()
    condor = a_condor()
    for position in condor:
        engine.upsert(position)
    for ref, price in ((PE_23500, "35"), (PE_23800, "80"), (CE_24200, "100.25"), (CE_24500, "36.60")):
        engine.mark(ref, Decimal(price), ms(1))

    # When the long 24500 CE is sold at 36.60 (a new stream image) and then rallies
    condor[3].apply(Fill(TradeId("exit-1"), OrderId("o"), Side.SELL, LOT, Decimal("36.60"), T0))
    engine.upsert(condor[3], ms(2))
    engine.mark(CE_24500, Decimal("50.00"), ms(3))

    # Then 422.50 is realised, the total is unchanged, and the flat leg ignores the rally
    snapshot = engine.snapshot(BasketId("condor"))
    assert snapshot is not None
    assert (snapshot.pnl, snapshot.realised, snapshot.unrealised) == (
        Fraction("325.00"),
        Fraction("422.50"),
        Fraction("-97.50"),
    )
    assert_matches_recompute(engine, BasketId("condor"))


def test_first_mark_replaces_an_average_cost_that_does_not_divide_evenly() -> None:
    # Given a position whose average cost is a repeating decimal (30.10 / 3)
    engine = PnlEngine()
    position = a_position("b", CE_24200, (Side.BUY, 1, "10.00"), (Side.BUY, 2, "10.05"))
    engine.upsert(position)
    assert_matches_recompute(engine, BasketId("b"))

    # When it is marked
    engine.mark(CE_24200, Decimal("11.00"), ms(1))

    # Then its P&L is Kite's, exactly, with no residue of the division
    snapshot = engine.snapshot(BasketId("b"))
    assert snapshot is not None
    assert snapshot.pnl == Decimal("2.90")
    assert_matches_recompute(engine, BasketId("b"))


@pytest.mark.parametrize("seed", [1, 7, 2026, 31337])
def test_incremental_totals_equal_a_recomputation_after_a_long_random_stream(seed: int) -> None:
    # Given a random mix of baskets, instruments, multipliers and fills
    rng = random.Random(seed)
    engine = PnlEngine()
    refs = [InstrumentRef("NFO", f"SYM{i}") for i in range(12)]
    multipliers = [Decimal(1), Decimal(10), Decimal(1000), Decimal("0.5")]
    held: dict[PositionKey, Position] = {}
    prices: dict[InstrumentRef, Decimal] = {}
    clock = T0

    def tick_price() -> str:
        return str(Decimal(rng.randint(1, 40_000)) * Decimal("0.05"))

    # When thousands of upserts, removals and marks (stale ones included) arrive in any order
    for step in range(4000):
        clock += timedelta(milliseconds=rng.randint(0, 5))
        action = rng.random()
        if action < 0.25:
            ref = rng.choice(refs)
            key = PositionKey(BasketId(f"b{rng.randint(0, 9)}"), StrategyId(f"s{rng.randint(0, 1)}"), ref, Product.NRML)
            position = held.get(key) or Position(key, OWNER, multipliers[refs.index(ref) % len(multipliers)])
            side = rng.choice([Side.BUY, Side.SELL])
            position.apply(
                Fill(TradeId(f"t{step}"), OrderId("o"), side, rng.randint(1, 300), Decimal(tick_price()), T0)
            )
            held[key] = position
            engine.upsert(position, clock)
        elif action < 0.28 and held:
            key = rng.choice(sorted(held, key=str))
            assert engine.remove(held.pop(key).key, clock)
        elif action < 0.30:
            engine.mark(rng.choice(refs), Decimal(tick_price()), clock - timedelta(seconds=1))  # stale or first
        else:
            ref = rng.choice(refs)
            price = max(Decimal("0.05"), prices.get(ref, Decimal(100)) + rng.randint(-3, 3) * Decimal("0.05"))
            prices[ref] = price
            engine.mark(ref, price, clock)
        if step % 500 == 0:
            for basket in {k.basket_id for k in held}:
                assert_matches_recompute(engine, basket)

    # Then every running total equals a from-scratch sum of pnl_of rows
    baskets = {k.basket_id for k in held}
    for basket in baskets:
        assert_matches_recompute(engine, basket)

    # And, once every instrument is marked, equals pnl_of's own totals
    for ref in refs:
        engine.mark(ref, Decimal("123.45"), clock + timedelta(seconds=1))
    for basket in baskets:
        snapshot = engine.snapshot(basket)
        report = pnl_of(engine, basket, [p for k, p in held.items() if k.basket_id == basket])
        assert snapshot is not None
        assert snapshot.pnl == report.pnl
        # Both are exact (fractions): equal, not merely close
        assert (snapshot.realised, snapshot.unrealised) == (report.realised, report.unrealised)


def test_many_marks_within_the_interval_give_one_snapshot_per_basket_and_the_last_value_wins() -> None:
    # Given two condors, already published once
    engine = PnlEngine(min_interval=timedelta(milliseconds=250))
    for position in [*a_condor("b1"), *a_condor("b2")]:
        engine.upsert(position)
    assert {s.basket_id for s in engine.due(ms(0))} == {"b1", "b2"}

    # When a leg they share ticks every millisecond for 100 ms
    for n in range(1, 101):
        engine.mark(CE_24200, Decimal("90.00") + n * Decimal("0.05"), ms(n))

    # Then nothing comes out within the interval, and one snapshot each, at the last price, after it
    assert engine.due(ms(100)) == []
    assert engine.due(ms(249)) == []
    snapshots = engine.due(ms(250))
    assert [s.basket_id for s in snapshots] == ["b1", "b2"]
    for snapshot in snapshots:
        assert snapshot.positions[2].last_price == Decimal("95.00")
        assert snapshot.pnl == Decimal("5736.25") - 65 * Decimal("95.00")
        assert snapshot.as_of == ms(100)
    assert engine.due(ms(1000)) == []


def test_a_steady_stream_is_published_at_most_once_per_interval_and_ends_on_the_final_state() -> None:
    # Given a condor marked every millisecond for two seconds, drained every 10 ms
    engine = PnlEngine()
    for position in a_condor():
        engine.upsert(position)
    emitted: list[datetime] = []
    last = Decimal(0)
    for n in range(2000):
        last = Decimal("30.00") + (n % 37) * Decimal("0.05")
        engine.mark(CE_24500, last, ms(n))
        if n % 10 == 0:
            emitted += [ms(n) for _ in engine.due(ms(n))]

    # When the stream stops and the handler drains once more
    final = engine.due(ms(2000 + 250))

    # Then emissions were at least 250 ms apart and the final one carries the last price
    gaps = [b - a for a, b in itertools.pairwise(emitted)]
    assert len(emitted) <= 2000 // 250 + 1
    assert all(gap >= timedelta(milliseconds=250) for gap in gaps)
    assert len(final) == 1
    assert final[0].positions[3].last_price == last
    assert final[0] == engine.recompute(BasketId("condor"))


def test_a_mark_on_an_instrument_nobody_holds_dirties_nothing() -> None:
    # Given a published condor
    engine = PnlEngine()
    for position in a_condor():
        engine.upsert(position)
    engine.due(ms(0))

    # When an instrument it does not hold ticks, twice
    other = InstrumentRef("NSE", "RELIANCE")
    engine.mark(other, Decimal("1300.10"), ms(1))
    engine.mark(other, Decimal("1300.20"), ms(2))

    # Then nothing is due, and the price is kept for a position that opens later
    assert engine.due(ms(1000)) == []
    engine.upsert(a_position("later", other, (Side.BUY, 1, "1300.00")), ms(3))
    snapshot = engine.snapshot(BasketId("later"))
    assert snapshot is not None
    assert snapshot.pnl == Decimal("0.20")


def test_untouched_baskets_never_appear() -> None:
    # Given three published baskets, only one of which holds the 23500 PE
    engine = PnlEngine()
    engine.upsert(a_position("puts", PE_23500, (Side.BUY, LOT, "40")))
    engine.upsert(a_position("calls", CE_24200, (Side.SELL, LOT, "88.25")))
    engine.upsert(a_position("idle", CE_24500, (Side.BUY, LOT, "30.10")))
    engine.due(ms(0))

    # When the 23500 PE ticks and the calls basket gets a fill
    engine.mark(PE_23500, Decimal("41"), ms(300))
    engine.upsert(a_position("calls", CE_24200, (Side.SELL, 2 * LOT, "88.25")), ms(300))

    # Then only those two baskets are due
    assert [s.basket_id for s in engine.due(ms(600))] == ["puts", "calls"]
    assert engine.due(ms(2000)) == []


def test_a_replayed_image_dirties_nothing() -> None:
    engine = PnlEngine()
    position = a_position("b", PE_23500, (Side.BUY, LOT, "40"))
    engine.upsert(position)
    engine.due(ms(0))

    engine.upsert(copy.deepcopy(position))  # the same stream image again: the same fills

    assert engine.due(ms(1000)) == []


def test_a_stale_mark_is_ignored() -> None:
    engine = PnlEngine()
    engine.upsert(a_position("b", PE_23500, (Side.BUY, LOT, "40")))
    engine.mark(PE_23500, Decimal("42"), ms(10))

    engine.mark(PE_23500, Decimal("1"), ms(5))

    assert engine.last_prices([PE_23500]) == {PE_23500: Decimal("42")}
    snapshot = engine.snapshot(BasketId("b"))
    assert snapshot is not None
    assert snapshot.pnl == 65 * 2


def test_removing_the_last_position_publishes_zero_once_then_forgets_the_basket() -> None:
    # Given a marked condor
    engine = PnlEngine()
    condor = a_condor()
    for position in condor:
        engine.upsert(position)
    engine.mark(CE_24200, Decimal("70"), ms(1))
    engine.due(ms(1))

    # When all its positions are removed (and one twice)
    for position in condor:
        assert engine.remove(position.key, ms(2))
    assert not engine.remove(condor[0].key)

    # Then it is published at exactly zero, once, and is then unknown
    [snapshot] = engine.due(ms(500))
    assert (snapshot.pnl, snapshot.realised, snapshot.positions) == (Fraction(0), Fraction(0), ())
    assert engine.snapshot(BasketId("condor")) is None
    assert engine.due(ms(1000)) == []


def test_the_engine_keeps_its_own_copy_of_a_position() -> None:
    engine = PnlEngine()
    position = a_position("b", PE_23500, (Side.BUY, LOT, "40"))
    engine.upsert(position)
    engine.mark(PE_23500, Decimal("41"), ms(1))

    position.apply(Fill(TradeId("late"), OrderId("o"), Side.BUY, LOT, Decimal("41"), T0))  # not upserted yet

    assert_matches_recompute(engine, BasketId("b"))
    snapshot = engine.snapshot(BasketId("b"))
    assert snapshot is not None
    assert snapshot.pnl == 65


def test_a_basket_is_held_for_one_owner() -> None:
    engine = PnlEngine()
    engine.upsert(a_position("b", PE_23500, (Side.BUY, LOT, "40")))

    with pytest.raises(ValidationError, match="another owner"):
        engine.upsert(a_position("b", CE_24200, (Side.BUY, LOT, "40"), owner=OwnerId("mallory")))


def test_refuses_a_negative_interval_and_a_price_that_is_not_a_number() -> None:
    with pytest.raises(ValidationError, match="min_interval"):
        PnlEngine(min_interval=timedelta(seconds=-1))
    with pytest.raises(ValidationError, match="finite"):
        PnlEngine().mark(PE_23500, Decimal("NaN"), T0)


def test_an_unknown_basket_has_no_snapshot() -> None:
    engine = PnlEngine()

    assert engine.snapshot(BasketId("nope")) is None
    assert engine.recompute(BasketId("nope")) is None
