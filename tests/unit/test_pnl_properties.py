"""Average-cost P&L against an independent reference, over 10,000 generated fill sequences.

The reference below is written from the definitions (issue 11), not from `trading.model.position`:
it keeps the open quantity's total cost (not its average) and splits each fill into the part that
closes and the part that opens. Sequences are generated from fixed seeds (stable in CI) with partial
fills, flips through zero, multipliers 1-1000, ties in exchange time, trade ids shared across orders,
and arrivals reordered and duplicated; every figure is checked after every arrival.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from trading.ids import BasketId, ClientRequestId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import (
    Fill,
    InstrumentRef,
    Order,
    OrderType,
    Position,
    PositionKey,
    Product,
    Side,
    decide_fill,
)
from trading.money import shown_pnl, to_paise
from trading.pnl_engine import PnlEngine

SEQUENCES = 10_000
SEEDS = range(20)  # 20 x 500 sequences: parametrised so a failure names its seed
T0 = datetime(2026, 11, 23, 3, 45, tzinfo=UTC)
OWNER = OwnerId("alice")
REF = InstrumentRef("NFO", "NIFTY26DEC26000CE")
KEY = PositionKey(BasketId("b1"), StrategyId("s1"), REF, Product.NRML)


@dataclass
class Reference:
    """Average cost from the definitions: open quantity and its total cost; realised on closing."""

    multiplier: Fraction
    net: int = 0
    cost: Fraction = Fraction(0)  # of the open quantity, per unit of multiplier, always >= 0
    realised: Fraction = Fraction(0)
    bought: list[tuple[int, Fraction]] = field(default_factory=list)
    sold: list[tuple[int, Fraction]] = field(default_factory=list)

    def fill(self, side: Side, quantity: int, price: Fraction) -> None:
        (self.bought if side is Side.BUY else self.sold).append((quantity, price))
        direction = 1 if side is Side.BUY else -1
        closing = 0 if self.net == 0 or (self.net > 0) == (direction > 0) else min(quantity, abs(self.net))
        if closing:
            average = self.cost / abs(self.net)
            held = 1 if self.net > 0 else -1
            self.realised += closing * (price - average) * held * self.multiplier
            self.cost -= average * closing
            self.net -= held * closing
        opening = quantity - closing
        if opening:
            self.cost += price * opening
            self.net += direction * opening
        if self.net == 0:
            self.cost = Fraction(0)

    @property
    def average(self) -> Fraction:
        return self.cost / abs(self.net) if self.net else Fraction(0)

    def unrealised(self, mark: Fraction | None) -> Fraction:
        if mark is None or self.net == 0:
            return Fraction(0)
        held = 1 if self.net > 0 else -1
        return (mark * abs(self.net) - self.cost) * held * self.multiplier

    def kite_pnl(self, mark: Fraction) -> Fraction:
        """Kite's formula from the totals, which average cost must add up to."""
        buys = sum((q * p for q, p in self.bought), Fraction(0)) * self.multiplier
        sells = sum((q * p for q, p in self.sold), Fraction(0)) * self.multiplier
        return sells - buys + self.net * mark * self.multiplier


def reference_of(fills: list[Fill], multiplier: Decimal) -> Reference:
    reference = Reference(Fraction(multiplier))
    for f in sorted(fills, key=lambda f: (f.filled_at, f.trade_id, f.order_id)):
        reference.fill(f.side, f.quantity, Fraction(f.price))
    return reference


def half_even_paise(x: Fraction) -> Decimal:
    """Half-even rounding to paise, written out: floor, then compare the remainder with a half."""
    scaled = x * 100
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1)
    return Decimal(floor + up) / 100


@dataclass(frozen=True)
class Sequence:
    multiplier: Decimal
    orders: dict[OrderId, Order]
    fills: list[Fill]
    arrivals: list[Fill]
    marks: list[Decimal | None]


def a_price(rng: random.Random) -> Decimal:
    tick = rng.choice([Decimal("0.05"), Decimal("0.01"), Decimal("0.25"), Decimal(1)])
    return tick * rng.randint(1, 200_000)


def a_sequence(rng: random.Random) -> Sequence:
    multiplier = Decimal(rng.choice([1, 1, 15, 25, 50, 75, 100, 1000, rng.randint(1, 1000)]))
    order_ids = [OrderId(f"o{i}") for i in range(rng.randint(1, 4))]
    sides = {o: rng.choice([Side.BUY, Side.SELL]) for o in order_ids}
    fills: list[Fill] = []
    net = 0
    for n in range(rng.randint(1, 12)):
        order_id = rng.choice(order_ids)
        side = sides[order_id]
        opposite = net != 0 and (net > 0) != (side is Side.BUY)
        if opposite and rng.random() < 0.5:  # close exactly, or flip through zero
            quantity = abs(net) + rng.choice([0, 0, rng.randint(1, 150)])
        else:
            quantity = rng.randint(1, 150)
        net += quantity if side is Side.BUY else -quantity
        at = T0 + timedelta(seconds=rng.randint(0, 40))  # ties are common: the trade id decides
        trade = TradeId(f"{rng.randint(0, 30):03d}{n if rng.random() < 0.7 else ''}")
        if any((f.order_id, f.trade_id) == (order_id, trade) for f in fills):
            trade = TradeId(f"{trade}x{n}")
        fills.append(Fill(trade, order_id, side, quantity, a_price(rng), at))
    orders = {
        o: an_order(o, sides[o], sum(f.quantity for f in fills if f.order_id == o) or 1, multiplier) for o in order_ids
    }
    arrivals = fills[:]
    rng.shuffle(arrivals)
    for _ in range(rng.randint(0, 5)):  # replays, anywhere (even before the original)
        arrivals.insert(rng.randint(0, len(arrivals)), rng.choice(fills))
    marks = [None if rng.random() < 0.15 else a_price(rng) for _ in arrivals]
    return Sequence(multiplier, orders, fills, arrivals, marks)


def an_order(order_id: OrderId, side: Side, quantity: int, multiplier: Decimal) -> Order:
    return Order(
        id=order_id,
        owner=OWNER,
        basket_id=KEY.basket_id,
        client_request_id=ClientRequestId(f"r-{order_id}"),
        broker="paper",
        instrument=REF,
        side=side,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=KEY.product,
        created_at=T0,
        updated_at=T0,
        strategy_id=KEY.strategy_id,
        multiplier=multiplier,
    )


def disagreements(position: Position, reference: Reference, mark: Decimal | None) -> list[str]:
    exact_mark = None if mark is None else Fraction(mark)
    unrealised = reference.unrealised(exact_mark)
    pnl = reference.realised + unrealised
    checks: dict[str, tuple[object, object]] = {
        "net": (position.net_quantity, reference.net),
        "average": (position.average_price, reference.average),
        "realised": (position.realised, reference.realised),
        "unrealised": (position.unrealised(mark), unrealised),
        "pnl": (position.pnl(mark), pnl),
        "buy quantity": (position.buy_quantity, sum(q for q, _ in reference.bought)),
        "sell quantity": (position.sell_quantity, sum(q for q, _ in reference.sold)),
        "buy value": (position.buy_value, sum(q * p for q, p in reference.bought) * reference.multiplier),
        "sell value": (position.sell_value, sum(q * p for q, p in reference.sold) * reference.multiplier),
    }
    if exact_mark is not None:
        checks["kite formula"] = (position.pnl(mark), reference.kite_pnl(exact_mark))
    found = [f"{name}: {ours} vs {theirs}" for name, (ours, theirs) in checks.items() if ours != theirs]
    shown, realised, unrealised_shown = shown_pnl(position.pnl(mark), position.realised)
    if (shown, realised) != (half_even_paise(pnl), half_even_paise(reference.realised)):
        found.append(f"shown: {shown}, {realised} vs {pnl}, {reference.realised}")
    if shown != realised + unrealised_shown or any(
        str(v).startswith("-") and v == 0 for v in (shown, realised, unrealised_shown)
    ):
        found.append(f"shown does not add up or is negative zero: {shown} {realised} {unrealised_shown}")
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_every_arrival_agrees_with_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(SEQUENCES // len(SEEDS)):
        sequence = a_sequence(rng)
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
            assert disagreements(position, reference, mark) == [], (sequence, fill)
        # And each order's counters are its fills', once
        for order_id, order in orders.items():
            assert order.filled_quantity == sum(f.quantity for f in sequence.fills if f.order_id == order_id)


@pytest.mark.parametrize("seed", range(8))
def test_the_engine_equals_a_recompute_and_the_reference_under_interleaved_marks_and_fills(seed: int) -> None:
    # Given three baskets holding two instruments, fed fills (out of order, replayed) and marks interleaved
    rng = random.Random(1000 + seed)
    engine = PnlEngine()
    refs = [REF, InstrumentRef("MCX", "GOLDM26DECFUT")]
    multipliers = {refs[0]: Decimal(75), refs[1]: Decimal(10)}
    positions: dict[PositionKey, Position] = {}
    fills: dict[PositionKey, dict[tuple[OrderId, TradeId], Fill]] = {}
    marks: dict[InstrumentRef, Decimal] = {}
    clock = T0
    for step in range(1500):
        clock += timedelta(milliseconds=rng.randint(1, 20))
        ref = rng.choice(refs)
        if rng.random() < 0.5:
            key = PositionKey(BasketId(f"b{rng.randint(0, 2)}"), None, ref, Product.NRML)
            position = positions.get(key) or Position(key, OWNER, multipliers[ref])
            held = fills.setdefault(key, {})
            if held and rng.random() < 0.1:
                fill = rng.choice(list(held.values()))  # a replay
            else:
                at = T0 + timedelta(seconds=rng.randint(0, 600))  # exchange time, not arrival order
                side = rng.choice([Side.BUY, Side.SELL])
                fill = Fill(TradeId(f"t{step}"), OrderId("o"), side, rng.randint(1, 40), a_price(rng), at)
            position.apply(fill)
            held[(fill.order_id, fill.trade_id)] = fill
            positions[key] = position
            engine.upsert(position, clock)
        else:
            marks[ref] = a_price(rng)
            engine.mark(ref, marks[ref], clock)
        # Then, after every event, the running totals equal a from-scratch recompute, exactly
        basket = BasketId(f"b{rng.randint(0, 2)}")
        assert engine.snapshot(basket) == engine.recompute(basket)
    # And each basket's realised and total P&L are the reference's
    for basket in {k.basket_id for k in positions}:
        snapshot = engine.snapshot(basket)
        assert snapshot is not None
        references = {
            key: reference_of(list(fills[key].values()), multipliers[key.instrument])
            for key in positions
            if key.basket_id == basket
        }
        assert snapshot.realised == sum((r.realised for r in references.values()), Fraction(0))
        expected = sum(
            (r.realised + r.unrealised(None if k.instrument not in marks else Fraction(marks[k.instrument])))
            for k, r in references.items()
        )
        assert snapshot.pnl == expected


def test_the_reference_rounds_like_the_edge() -> None:
    # The two roundings agree on the halves that matter (independently written)
    for value in (Fraction(-25, 8), Fraction(25, 8), Fraction(1, 200), Fraction(3, 200), Fraction(-1, 300)):
        assert to_paise(value) == half_even_paise(value)
    assert str(to_paise(Fraction(-1, 300))) == "0.00"
