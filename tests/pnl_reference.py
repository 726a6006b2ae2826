"""Average cost written from its definitions (issue 11), and hypothesis strategies for fill sequences.

Independent of `trading.model.position`: the reference keeps the open quantity's total cost (not its
average) and splits each fill into the part that closes and the part that opens; Kite's pnl is checked
from the buy and sell totals. Shared by the unit properties and the store's property against moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from trading.ids import BasketId, ClientRequestId, OrderId, OwnerId, StrategyId, TradeId
from trading.model import Fill, InstrumentRef, Order, OrderType, Position, PositionKey, Product, Side
from trading.money import shown_pnl
from trading.valuation import PositionPnl

T0 = datetime(2026, 11, 23, 3, 45, tzinfo=UTC)
OWNER = OwnerId("alice")
REF = InstrumentRef("NFO", "NIFTY26DEC26000CE")
KEY = PositionKey(BasketId("b1"), StrategyId("s1"), REF, Product.NRML)


def deterministic(max_examples: int, *also_suppress: HealthCheck) -> settings:
    """Hypothesis settings that are deterministic and bounded: the same examples on every run, none remembered."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, *also_suppress],
    )


@dataclass
class Reference:
    """Average cost from the definitions: open quantity and its total cost; realised on closing."""

    multiplier: Fraction
    net: int = 0
    cost: Fraction = Fraction(0)  # of the open quantity, per unit of multiplier, always >= 0
    realised: Fraction = Fraction(0)
    bought: list[int | Fraction] = field(default_factory=lambda: [0, Fraction(0)])  # quantity, cost per unit
    sold: list[int | Fraction] = field(default_factory=lambda: [0, Fraction(0)])  # of multiplier
    flips: int = 0  # fills that crossed zero
    flats: int = 0  # fills that closed it exactly

    def fill(self, side: Side, quantity: int, price: Fraction) -> None:
        totals = self.bought if side is Side.BUY else self.sold
        totals[0] += quantity
        totals[1] += quantity * price
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
            self.flips += bool(closing)
            self.cost += price * opening
            self.net += direction * opening
        if self.net == 0:
            self.flats += 1
            self.cost = Fraction(0)

    @property
    def average(self) -> Fraction:
        return self.cost / abs(self.net) if self.net else Fraction(0)

    def unrealised(self, mark: Fraction | None) -> Fraction:
        if mark is None or self.net == 0:
            return Fraction(0)
        held = 1 if self.net > 0 else -1
        return (mark * abs(self.net) - self.cost) * held * self.multiplier

    @staticmethod
    def side_average(totals: list[int | Fraction]) -> Fraction:
        quantity, cost = totals
        return Fraction(cost) / quantity if quantity else Fraction(0)

    def kite_pnl(self, mark: Fraction) -> Fraction:
        """Kite's formula from the totals, which average cost must add up to."""
        buys = self.bought[1] * self.multiplier
        sells = self.sold[1] * self.multiplier
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


TICKS = (Decimal("0.05"), Decimal("0.01"), Decimal("0.25"), Decimal(1))
# one draw per price (draws are what generation costs): its tick, then how many ticks, up to 200,000
prices = st.integers(0, 4 * 200_000 - 1).map(lambda n: TICKS[n % 4] * (n // 4 + 1))
multipliers = st.one_of(st.sampled_from([1, 15, 25, 50, 75, 100, 1000]), st.integers(1, 1000)).map(Decimal)


def fill_steps(orders: int) -> st.SearchStrategy[list[tuple[int, int | None, int, int, Decimal]]]:
    """Per fill, in five draws (draws are what generation costs): its order; by how much it goes past zero
    when it can close (None: it does not close exactly or flip); its quantity otherwise; its seconds after
    the previous fill (0-3) and trade number (0-30) as one integer; its price."""
    return st.lists(
        st.tuples(
            st.integers(0, orders - 1),
            st.sampled_from([None, None, None, None, None, 0, 0, 1, 7, 150]),
            st.integers(1, 150),
            st.integers(0, 4 * 31 - 1),
            prices,
        ),
        min_size=1,
        max_size=12,
    )


# a mark (or none, one time in five) in one draw
marks_or_none = st.integers(0, 5 * 200_000 - 1).map(lambda n: None if n % 5 == 4 else TICKS[n % 4] * (n // 20 + 1))


@st.composite
def sequences(draw: st.DrawFn) -> Sequence:
    """Fills of 1-4 orders on one position (closing exactly and flipping often), their arrivals and marks."""
    multiplier = draw(multipliers)
    sides = draw(st.lists(st.sampled_from(Side), min_size=1, max_size=4))
    order_ids = [OrderId(f"o{i}") for i in range(len(sides))]
    fills: list[Fill] = []
    net, at = 0, T0
    for n, (order, past_zero, quantity, when, price) in enumerate(draw(fill_steps(len(sides)))):
        side = sides[order]
        opposite = net != 0 and (net > 0) != (side is Side.BUY)
        if opposite and past_zero is not None:  # close exactly, or flip through zero
            quantity = abs(net) + past_zero
        net += quantity if side is Side.BUY else -quantity
        at += timedelta(seconds=when % 4)  # ties are common: the trade id decides
        trade = TradeId(f"{when // 4:03d}")  # shared across orders
        if any((f.order_id, f.trade_id) == (order_ids[order], trade) for f in fills):
            trade = TradeId(f"{trade}x{n}")
        fills.append(Fill(trade, order_ids[order], side, quantity, price, at))
    orders = {
        o: an_order(o, side, sum(f.quantity for f in fills if f.order_id == o) or 1, multiplier)
        for o, side in zip(order_ids, sides, strict=True)
    }
    arrivals = list(draw(st.permutations(fills)))
    for where, which in draw(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(fills)), max_size=5)):
        arrivals.insert(where % (len(arrivals) + 1), which)  # replays, anywhere (even before the original)
    marks = draw(st.lists(marks_or_none, min_size=len(arrivals), max_size=len(arrivals)))
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
    row = PositionPnl.of(position, mark)
    checks: dict[str, tuple[object, object]] = {
        "net": (position.net_quantity, reference.net),
        "average": (position.average_price, reference.average),
        "buy average": (position.buy_price, reference.side_average(reference.bought)),
        "sell average": (position.sell_price, reference.side_average(reference.sold)),
        "realised": (position.realised, reference.realised),
        "unrealised": (position.unrealised(mark), unrealised),
        "pnl": (position.pnl(mark), pnl),
        "row": ((row.pnl, row.realised, row.unrealised), (pnl, reference.realised, unrealised)),
        "buy quantity": (position.buy_quantity, reference.bought[0]),
        "sell quantity": (position.sell_quantity, reference.sold[0]),
        "buy value": (position.buy_value, reference.bought[1] * reference.multiplier),
        "sell value": (position.sell_value, reference.sold[1] * reference.multiplier),
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
