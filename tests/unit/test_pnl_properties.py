"""Average-cost P&L against an independent reference, over hypothesis-generated fill sequences.

The reference (`tests.pnl_reference`) is written from the definitions (issue 11), not from
`trading.model.position`: it keeps the open quantity's total cost (not its average) and splits each
fill into the part that closes and the part that opens; Kite's pnl is checked from the buy and sell
totals. Hypothesis
generates at least 10,000 sequences (derandomized, no example database: the same run in CI every
time) with partial fills, flips through zero, multipliers 1-1000, ties in exchange time, trade ids
shared across orders, and arrivals reordered and duplicated; every figure is checked after every
arrival, through the production path (`decide_fill`, the order taking the decision).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tests.pnl_reference import (
    KEY,
    OWNER,
    REF,
    T0,
    Sequence,
    deterministic,
    disagreements,
    half_even_paise,
    prices,
    reference_of,
    sequences,
)
from trading.clock import IST
from trading.ids import BasketId, OrderId, TradeId
from trading.model import Fill, InstrumentRef, Order, Position, PositionKey, Product, Side, decide_fill
from trading.money import to_paise
from trading.pnl_engine import BasketPnlSnapshot, PnlEngine
from trading.valuation import PreviousClose, pnl_of

SEQUENCES = 10_000
ENGINE_RUNS = 400


def test_every_arrival_agrees_with_the_reference() -> None:
    seen: Counter[str] = Counter()

    @deterministic(SEQUENCES)
    @given(sequences())
    def every_arrival(sequence: Sequence) -> None:
        orders = {o: Order(**vars(order)) for o, order in sequence.orders.items()}
        position = Position(KEY, OWNER, sequence.multiplier)
        arrived: dict[tuple[OrderId, TradeId], Fill] = {}
        for fill, mark in zip(sequence.arrivals, sequence.marks, strict=True):
            # Given the fills so far, when one more arrives (perhaps again, perhaps early)
            decision = decide_fill(orders[fill.order_id], position, fill)
            if decision is not None:
                orders[fill.order_id].take(decision)
                position = decision.position
            replay = (fill.order_id, fill.trade_id) in arrived
            assert (decision is None) == replay
            arrived[(fill.order_id, fill.trade_id)] = fill
            # Then every figure is the reference's for those fills in exchange time order, once each
            reference = reference_of(list(arrived.values()), sequence.multiplier)
            assert disagreements(position, reference, mark) == [], fill
        # And each order's counters are its fills', once
        for order_id, order in orders.items():
            assert order.filled_quantity == sum(f.quantity for f in sequence.fills if f.order_id == order_id)
        seen["sequences"] += 1
        seen["flipped"] += reference.flips > 0
        seen["went flat"] += reference.flats > 0
        seen["replayed"] += len(sequence.arrivals) > len(sequence.fills)
        seen["reordered"] += sequence.arrivals[: len(sequence.fills)] != sequence.fills
        seen["multiplier > 1"] += sequence.multiplier > 1

    every_arrival()
    # And the generated sequences were as many and as varied as promised
    assert seen["sequences"] >= SEQUENCES
    for kind in ("flipped", "went flat", "replayed", "reordered", "multiplier > 1"):
        assert seen[kind] >= SEQUENCES // 10, seen


@dataclass(frozen=True)
class FillEvent:
    basket: int
    instrument: int
    side: Side
    quantity: int
    price: Decimal
    seconds: int  # exchange time, not arrival order
    replay: int | None  # replay the n-th fill held (modulo) instead, when the position holds some


@dataclass(frozen=True)
class MarkEvent:
    instrument: int
    price: Decimal
    late_ms: int  # how far behind the clock it was taken (a late one is stale and ignored)
    close: Decimal | None  # the previous close that came with it (the feed's ohlc.close), if any


@dataclass(frozen=True)
class ReadEvent:
    drain: bool  # `due()` as the stream handler drains it, else `snapshot()` of every basket


ENGINE_REFS = (REF, InstrumentRef("MCX", "GOLDM26DECFUT"), InstrumentRef("NSE", "INFY"))
ENGINE_MULTIPLIERS = {ENGINE_REFS[0]: Decimal(75), ENGINE_REFS[1]: Decimal(10), ENGINE_REFS[2]: Decimal(1)}
fill_events = st.builds(
    FillEvent,
    st.integers(0, 2),
    st.integers(0, len(ENGINE_REFS) - 1),
    st.sampled_from(Side),
    st.integers(1, 40),
    prices,
    st.integers(0, 600),
    st.none() | st.none() | st.none() | st.integers(0, 50),
)
mark_events = st.builds(
    MarkEvent, st.integers(0, len(ENGINE_REFS) - 1), prices, st.sampled_from([0, 0, 0, 5]), st.none() | prices
)


@dataclass
class Marks:
    """The latest mark of each instrument by the time it was taken: the `MarkSource` a recompute reads."""

    latest: dict[InstrumentRef, tuple[datetime, Decimal, Decimal | None]] = field(default_factory=dict)

    def take(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None) -> None:
        if ref not in self.latest or at >= self.latest[ref][0]:
            self.latest[ref] = (at, price, close)

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        return {ref: self.latest[ref][1] for ref in refs if ref in self.latest}

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        seen = {ref: self.latest[ref] for ref in refs if ref in self.latest}
        return {
            ref: (price, None if c is None else PreviousClose(c, at.astimezone(IST).date()))
            for ref, (at, price, c) in seen.items()
        }

    def marked_at(self, refs: list[InstrumentRef]) -> datetime | None:
        return max((self.latest[ref][0] for ref in refs if ref in self.latest), default=None)


@deterministic(ENGINE_RUNS)
@given(st.lists(fill_events | mark_events | mark_events | st.builds(ReadEvent, st.booleans()), min_size=1, max_size=80))
def test_the_engine_equals_a_recompute_and_the_reference_under_interleaved_marks_and_fills(
    events: list[FillEvent | MarkEvent | ReadEvent],
) -> None:
    # Given three baskets holding three instruments, fed fills (out of order, replayed) and marks interleaved
    engine = PnlEngine()
    fills: dict[PositionKey, dict[tuple[OrderId, TradeId], Fill]] = {}
    marks = Marks()
    clock = T0 + timedelta(minutes=20)
    for step, event in enumerate([*events, ReadEvent(drain=False)]):
        clock += timedelta(milliseconds=10)
        if isinstance(event, ReadEvent):
            # Then, whenever it is read, the running totals equal every position recomputed from its fills
            emitted = engine.due(clock + timedelta(seconds=1)) if event.drain else None
            check_engine(engine, fills, marks, emitted)
            continue
        ref = ENGINE_REFS[event.instrument]
        if isinstance(event, MarkEvent):
            marks.take(ref, event.price, clock - timedelta(milliseconds=event.late_ms), event.close)
            engine.mark(ref, event.price, clock - timedelta(milliseconds=event.late_ms), event.close)
        else:
            key = PositionKey(BasketId(f"b{event.basket}"), None, ref, Product.NRML)
            held = fills.setdefault(key, {})
            if held and event.replay is not None:
                fill = list(held.values())[event.replay % len(held)]
            else:
                at = T0 + timedelta(seconds=event.seconds)
                fill = Fill(TradeId(f"t{step}"), OrderId("o"), event.side, event.quantity, event.price, at)
            held[(fill.order_id, fill.trade_id)] = fill
            # the stream's new image: a position built from the fills the store holds
            engine.upsert(Position(key, OWNER, ENGINE_MULTIPLIERS[ref], tuple(held.values())), clock)


def check_engine(
    engine: PnlEngine,
    fills: dict[PositionKey, dict[tuple[OrderId, TradeId], Fill]],
    marks: Marks,
    emitted: list[BasketPnlSnapshot] | None,
) -> None:
    """Every basket's snapshot (or those `due()` emitted) against a recompute and the reference."""
    baskets = {k.basket_id for k in fills}
    snapshots = {b: engine.snapshot(b) for b in baskets} if emitted is None else {s.basket_id: s for s in emitted}
    prices_now = marks.last_prices(list(ENGINE_REFS))
    for basket, snapshot in snapshots.items():
        assert snapshot is not None
        mine = {k: f for k, f in fills.items() if k.basket_id == basket}
        scratch = [Position(k, OWNER, ENGINE_MULTIPLIERS[k.instrument], tuple(f.values())) for k, f in mine.items()]
        report = pnl_of(marks, basket, scratch)
        assert (snapshot.pnl, snapshot.realised, snapshot.unrealised) == (
            report.pnl,
            report.realised,
            report.unrealised,
        )
        assert snapshot == engine.recompute(basket)
        # And each row carries the previous close its instrument's latest mark came with
        closes = {r.position.key: r.close for r in report.positions}
        assert {r.position.key: r.close for r in snapshot.positions} == closes
        # And the realised and total P&L are the reference's
        references = {k: reference_of(list(f.values()), ENGINE_MULTIPLIERS[k.instrument]) for k, f in mine.items()}
        assert snapshot.realised == sum((r.realised for r in references.values()), Fraction(0))
        assert snapshot.pnl == sum(
            (
                r.realised + r.unrealised(Fraction(prices_now[k.instrument]) if k.instrument in prices_now else None)
                for k, r in references.items()
            ),
            Fraction(0),
        )


def test_the_reference_rounds_like_the_edge() -> None:
    # The two roundings agree on the halves that matter (independently written)
    for value in (Fraction(-25, 8), Fraction(25, 8), Fraction(1, 200), Fraction(3, 200), Fraction(-1, 300)):
        assert to_paise(value) == half_even_paise(value)
    assert str(to_paise(Fraction(-1, 300))) == "0.00"
