"""Marks per second through the incremental P&L engine, against recomputing every position per tick.

    python -m bench.pnl_engine [--marks 200000] [--baseline-marks 200] [--seed 7]

10,000 open positions over 500 instruments in 2,000 baskets; a random walk of marks on the tick
size (0.05), arriving at 36,000 a second of simulated time; `due()` drained every 250 ms of it,
as the stream handler would. Both runs consume the same stream; the baseline only its first ticks.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.ids import BasketId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import Fill, InstrumentRef, Position, PositionKey, Product, Side
from trading.pnl_engine import PnlEngine

POSITIONS = 10_000
INSTRUMENTS = 500
BASKETS = 2_000
TICK = Decimal("0.05")
LOT = 65
FEED_RATE = 36_000  # marks/s: one Kite API key's full feed, 3 connections x 3,000 instruments at ~4 ticks/s
GOAL_RATIO = 20
DRAIN_EVERY = timedelta(milliseconds=250)
T0 = datetime(2026, 1, 5, 3, 45, tzinfo=UTC)

Tick = tuple[InstrumentRef, Decimal, datetime]


class Stopwatch:
    """CPU seconds of this process (what the engine costs, whatever else the host runs) and wall seconds."""

    cpu: float
    wall: float

    def __enter__(self) -> Stopwatch:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu, self.wall = time.process_time() - self._cpu, time.perf_counter() - self._wall


@dataclass
class Book:
    positions: list[Position]
    opening: dict[InstrumentRef, Decimal]
    stream: list[Tick]


def build(seed: int, marks: int) -> Book:
    """Positions (a few fills each, near the opening price) and a random-walk stream of marks."""
    rng = random.Random(seed)
    refs = [InstrumentRef("NFO", f"SYN{i:03d}") for i in range(INSTRUMENTS)]
    ticks = {ref: rng.randint(20, 20_000) for ref in refs}  # price in ticks
    positions: list[Position] = []
    trade = 0
    per_basket = POSITIONS // BASKETS
    for b in range(BASKETS):
        for ref in rng.sample(refs, per_basket):
            key = PositionKey(BasketId(f"basket-{b:04d}"), StrategyId("s1"), ref, Product.NRML)
            position = Position(key, OwnerId(f"owner-{b % 300}"))
            for _ in range(rng.randint(1, 3)):
                trade += 1
                price = max(1, ticks[ref] + rng.randint(-20, 20)) * TICK
                side = rng.choice((Side.BUY, Side.SELL))
                position.apply(Fill(TradeId(f"T{trade}"), OrderId("o"), side, LOT * rng.randint(1, 4), price, T0))
            positions.append(position)
    opening = {ref: n * TICK for ref, n in ticks.items()}
    stream: list[Tick] = []
    for i in range(marks):
        ref = refs[rng.randrange(INSTRUMENTS)]
        ticks[ref] = max(1, ticks[ref] + rng.choice((-2, -1, -1, 1, 1, 2)))
        stream.append((ref, ticks[ref] * TICK, T0 + timedelta(microseconds=i * 1_000_000 // FEED_RATE)))
    return Book(positions, opening, stream)


def loaded_engine(book: Book) -> PnlEngine:
    engine = PnlEngine()
    for position in book.positions:
        engine.upsert(position)
    for ref, price in book.opening.items():
        engine.mark(ref, price, T0 - timedelta(seconds=1))
    engine.due(T0 - timedelta(seconds=1))
    return engine


def run_engine(engine: PnlEngine, stream: list[Tick]) -> int:
    """Feed every mark, draining `due()` each 250 ms of simulated time; returns the snapshots emitted."""
    emitted = 0
    drain_at = stream[0][2] + DRAIN_EVERY
    mark, due = engine.mark, engine.due
    for ref, price, at in stream:
        mark(ref, price, at)
        if at >= drain_at:
            emitted += len(due(at))
            drain_at = at + DRAIN_EVERY
    return emitted + len(due(stream[-1][2] + DRAIN_EVERY))


def run_baseline(book: Book, stream: list[Tick]) -> dict[BasketId, Decimal]:
    """The naive way: on every tick, revalue every position and total it per basket."""
    prices = dict(book.opening)
    totals: dict[BasketId, Decimal] = {}
    for ref, price, _ in stream:
        prices[ref] = price
        totals = {}
        for position in book.positions:
            basket = position.key.basket_id
            totals[basket] = totals.get(basket, Decimal(0)) + position.marked_pnl(prices[position.key.instrument])
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--marks", type=int, default=200_000, help="marks through the engine")
    parser.add_argument("--baseline-marks", type=int, default=200, help="marks through the baseline")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    book = build(args.seed, max(args.marks, args.baseline_marks))
    engine = loaded_engine(book)
    with Stopwatch() as engine_time:
        emitted = run_engine(engine, book.stream[: args.marks])
    baseline_stream = book.stream[: args.baseline_marks]
    with Stopwatch() as baseline_time:
        naive = run_baseline(book, baseline_stream)
    engine_rate, engine_wall = args.marks / engine_time.cpu, args.marks / engine_time.wall
    baseline_rate, baseline_wall = args.baseline_marks / baseline_time.cpu, args.baseline_marks / baseline_time.wall

    check = loaded_engine(book)
    run_engine(check, baseline_stream)
    mismatched = [b for b, total in naive.items() if (s := check.snapshot(b)) is None or s.pnl != total]
    drifted = [b for b in naive if engine.snapshot(b) != engine.recompute(b)]

    tracemalloc.start()
    traced = loaded_engine(book)
    run_engine(traced, book.stream[: min(args.marks, 50_000)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced

    simulated = (book.stream[args.marks - 1][2] - book.stream[0][2]).total_seconds()
    ratio = engine_rate / baseline_rate
    print(f"P&L engine: {POSITIONS:,} positions, {INSTRUMENTS} instruments, {BASKETS:,} baskets")
    print(
        f"  python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.2f}, seed {args.seed}"
    )
    print("  rates are marks per CPU-second of this process (wall-clock rate in brackets; it suffers from other load)")
    print(
        f"  engine   (mark + due() every 250 ms simulated): {engine_rate:>9,.0f} marks/s ({engine_wall:,.0f} wall)"
        f"  {args.marks:,} marks, {simulated:,.1f} s simulated, {emitted / simulated:,.0f} snapshots/s emitted"
    )
    print(
        f"  baseline (revalue all positions per tick):      {baseline_rate:>9,.0f} marks/s ({baseline_wall:,.0f} wall)"
        f"  {args.baseline_marks:,} marks"
    )
    print(f"  ratio engine/baseline: {ratio:,.0f}x")
    print(f"  engine peak memory (tracemalloc, load + 50,000 marks): {peak / 2**20:,.1f} MiB")
    print(f"  baseline totals == engine totals after the same ticks: {not mismatched} ({len(naive):,} baskets)")
    print(f"  incremental == recompute after the engine run:         {not drifted}")
    print(
        f"  goal >= {FEED_RATE:,} marks/s: {'met' if engine_rate >= FEED_RATE else 'NOT met'};"
        f"  goal >= {GOAL_RATIO}x baseline: {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    )
    print(
        "  reproduce: .venv/bin/python -m bench.pnl_engine"
        f" --marks {args.marks} --baseline-marks {args.baseline_marks} --seed {args.seed}"
    )


if __name__ == "__main__":
    main()
