"""Incremental P&L: basket totals kept up to date tick by tick, and coalesced for publishing.

A mark moves only the baskets holding that instrument, by `net_quantity * (new - old) * multiplier`
per position; nothing rescans all positions. A mark itself only records the price: the baskets move
(and become dirty) when something next reads them (`due`, `snapshot`, `pending`, a position image),
by the instrument's whole move since they last did, so an instrument ticking many times between two
drains costs its baskets one multiplication, not one per tick (exact arithmetic makes the sum of the
moves and the whole move the same number). Marked positions' P&L is summed in an exact decimal
context (a mark's move is a product of decimals); realised P&L and unmarked positions (worth their
realised P&L) are exact fractions. So totals equal a from-scratch `trading.valuation.pnl_of` however
long the stream runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation, getcontext, setcontext
from fractions import Fraction
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.errors import ValidationError
from trading.valuation import PositionPnl, PreviousClose, pnl_of

if TYPE_CHECKING:
    from datetime import datetime

    from trading.ids import BasketId, OwnerId
    from trading.model import InstrumentRef, Position, PositionKey

DEFAULT_MIN_INTERVAL = timedelta(milliseconds=250)
_ZERO = Decimal(0)
_NONE = Fraction(0)


def _exact_context() -> Context:
    """Additions and multiplications never round here; a rounding would raise `Inexact` rather than drift."""
    return Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])


def _same_fills(a: Position, b: Position) -> bool:
    return (a.multiplier, a.fills) == (b.multiplier, b.fills)


@dataclass(frozen=True)
class BasketPnlSnapshot:
    """A basket's P&L at one moment: totals kept incrementally, rows valued as `pnl_of` values them."""

    basket_id: BasketId
    owner: OwnerId
    pnl: Fraction
    realised: Fraction
    unrealised: Fraction
    positions: tuple[PositionPnl, ...]
    as_of: datetime | None


@dataclass(eq=False, slots=True)
class _Quote:
    """An instrument's last mark (none until its first) and the baskets holding it."""

    price: Decimal | None = None
    at: datetime | None = None
    exposures: dict[BasketId, _Exposure] = field(default_factory=dict)
    settled: Decimal | None = None  # the price its baskets' totals are at (behind `price` until settled)
    close: PreviousClose | None = None  # the previous close that came with the latest mark


@dataclass(eq=False, slots=True)
class _Held:
    """The engine's copy of a position, with what its snapshot row needs worked out once per image."""

    position: Position
    quote: _Quote
    cached: PositionPnl | None = None  # the last row, reused while its instrument's price is unchanged

    def row(self) -> PositionPnl:
        cached, price, close = self.cached, self.quote.price, self.quote.close
        if (
            cached is None
            or cached.last_price != price
            or (cached.last_price is None) != (price is None)
            or cached.close != close
        ):
            cached = self.cached = PositionPnl.of(self.position, price, close)
        return cached


@dataclass(eq=False, slots=True)
class _Basket:
    id: BasketId
    owner: OwnerId
    held: dict[PositionKey, _Held] = field(default_factory=dict)
    marked: Decimal = _ZERO  # Kite's P&L of the positions whose instrument has a mark
    unmarked: Fraction = _NONE  # the realised P&L of those without
    realised: Fraction = _NONE
    changed_at: datetime | None = None
    emitted_at: datetime | None = None

    def as_of(self) -> datetime | None:
        """The latest of its own changes and the marks it is valued at."""
        latest = self.changed_at
        for held in self.held.values():
            at = held.quote.at
            if at is not None and (latest is None or at > latest):
                latest = at
        return latest


@dataclass(eq=False, slots=True)
class _Exposure:
    """One basket's positions in one instrument, and their summed `net_quantity * multiplier`."""

    basket: _Basket
    held: dict[PositionKey, _Held] = field(default_factory=dict)
    weight: Decimal = _ZERO


class PnlEngine:
    """Open positions in memory, indexed by instrument and by basket, with running P&L per basket.

    Feed it position images (`upsert`, `remove`) and marks (`mark`); drain `due(now)` periodically for
    the baskets to publish. One engine per process and thread: it holds no locks.
    """

    def __init__(self, min_interval: timedelta = DEFAULT_MIN_INTERVAL) -> None:
        """Start empty.

        Parameters
        ----------
        min_interval
            The least time between two snapshots of the same basket from `due`.

        Raises
        ------
        ValidationError
            `min_interval` is negative.
        """
        if min_interval < timedelta(0):
            raise ValidationError(f"min_interval must not be negative, got {min_interval}")
        self._min_interval = min_interval
        self._exact = _exact_context()
        self._quotes: dict[InstrumentRef, _Quote] = {}
        self._baskets: dict[BasketId, _Basket] = {}
        self._dirty: dict[BasketId, None] = {}  # an ordered set: snapshots come out in the order baskets changed
        self._moved: dict[InstrumentRef, _Quote] = {}  # marked at a new price since their baskets last moved

    def upsert(self, position: Position, at: datetime | None = None) -> None:
        """Hold `position`'s counters in place of any earlier image of the same key.

        Parameters
        ----------
        position
            The position as the store now has it (a stream's new image); the engine keeps a copy.
        at
            When it changed, if known; the basket's `as_of` is at least this.

        Raises
        ------
        ValidationError
            The basket is already held for another owner.
        """
        key = position.key
        basket = self._baskets.get(key.basket_id)
        if basket is None:
            basket = self._baskets[key.basket_id] = _Basket(key.basket_id, position.owner)
        elif basket.owner != position.owner:
            raise ValidationError(f"basket {key.basket_id} belongs to another owner than position {key}")
        old = basket.held.get(key)
        if old is not None:
            if _same_fills(old.position, position):
                return  # a replayed image: nothing moved
            self._account(basket, old, add=False)
        copy = replace(position)  # the caller may go on applying fills to its own object
        quote = self._quotes.get(key.instrument)
        if quote is None:
            quote = self._quotes[key.instrument] = _Quote()
        held = _Held(copy, quote)
        self._account(basket, held, add=True)
        basket.held[key] = held
        self._touch(basket, at)

    def holds(self, key: PositionKey) -> bool:
        """Whether the engine has an image of this position (from the stream or a load)."""
        basket = self._baskets.get(key.basket_id)
        return basket is not None and key in basket.held

    def remove(self, key: PositionKey, at: datetime | None = None) -> bool:
        """Stop holding a position; its basket's next snapshot leaves it out.

        Parameters
        ----------
        key
            The position to drop.
        at
            When it was removed, if known.

        Returns
        -------
        bool
            False when no such position was held.
        """
        basket = self._baskets.get(key.basket_id)
        held = basket.held.pop(key, None) if basket is not None else None
        if basket is None or held is None:
            return False
        self._account(basket, held, add=False)
        self._touch(basket, at)
        return True

    def mark(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> None:
        """Take a new last price; only the baskets holding `ref` move and become dirty.

        A mark older than the instrument's current one is stale and ignored; an unchanged price
        and close dirty nothing.

        Parameters
        ----------
        ref
            The instrument.
        price
            Its last traded price.
        at
            When it traded.
        close
            The previous trading day's close that came with it, if known (seen on `at`'s IST day).

        Raises
        ------
        ValidationError
            `price` is not a finite number.
        """
        if not price.is_finite():
            raise ValidationError(f"mark for {ref} must be a finite price, got {price}")
        seen = None if close is None else PreviousClose(close, at.astimezone(IST).date())
        quote = self._quotes.get(ref)
        if quote is None:  # nobody holds it yet; kept for whoever opens it
            self._quotes[ref] = _Quote(price, at, settled=price, close=seen)
            return
        old = quote.price
        if old is None:
            quote.close = seen
            self._first_mark(quote, price, at)
            return
        if quote.at is not None and at < quote.at:
            return
        quote.price, quote.at = price, at
        if seen != quote.close:
            quote.close = seen
            for basket_id in quote.exposures:  # their rows' m2m moves, not their totals
                self._dirty[basket_id] = None
        if price == old:
            return
        if quote.exposures:
            self._moved[ref] = quote  # its baskets move when next read (`_settle`)
        else:
            quote.settled = price  # nobody's total is at an older price

    @property
    def min_interval(self) -> timedelta:
        """The least time between two snapshots of one basket."""
        return self._min_interval

    @property
    def pending(self) -> bool:
        """Whether some basket changed and has not been emitted since."""
        self._settle()
        return bool(self._dirty)

    def positions_in(self, ref: InstrumentRef) -> list[Position]:
        """The positions held in `ref` (the engine's copies, as of the latest images)."""
        quote = self._quotes.get(ref)
        if quote is None:
            return []
        return [held.position for exposure in list(quote.exposures.values()) for held in exposure.held.values()]

    def held_instruments(self) -> set[InstrumentRef]:
        """The instruments some basket holds a position in."""
        return {ref for ref, quote in list(self._quotes.items()) if quote.exposures}

    def due(self, now: datetime) -> list[BasketPnlSnapshot]:
        """Snapshots of the dirty baskets last emitted at least `min_interval` before `now`.

        Those emitted are no longer dirty; baskets changed too recently stay dirty for a later
        call, so their latest state is never lost. A basket left without positions is emitted once
        more (at zero) and then forgotten.

        Parameters
        ----------
        now
            The caller's clock.
        """
        self._settle()
        ready: list[BasketPnlSnapshot] = []
        for basket_id in list(self._dirty):
            basket = self._baskets[basket_id]
            if basket.emitted_at is not None and now - basket.emitted_at < self._min_interval:
                continue
            del self._dirty[basket_id]
            basket.emitted_at = now
            ready.append(self._snapshot(basket))
            if not basket.held:
                del self._baskets[basket_id]
        return ready

    def snapshot(self, basket_id: BasketId) -> BasketPnlSnapshot | None:
        """The basket's P&L now, from the running totals; None when no position of it is held.

        Parameters
        ----------
        basket_id
            The basket.
        """
        self._settle()
        basket = self._baskets.get(basket_id)
        return self._snapshot(basket) if basket is not None else None

    def recompute(self, basket_id: BasketId) -> BasketPnlSnapshot | None:
        """The basket's P&L from scratch with `pnl_of`, totals summed exactly: what `snapshot` must equal.

        Parameters
        ----------
        basket_id
            The basket.
        """
        basket = self._baskets.get(basket_id)
        if basket is None:
            return None
        report = pnl_of(self, basket_id, [held.position for held in basket.held.values()])
        return BasketPnlSnapshot(
            basket_id,
            basket.owner,
            report.pnl,
            report.realised,
            report.unrealised,
            tuple(report.positions),
            basket.as_of(),
        )

    def marked_at(self, refs: list[InstrumentRef]) -> datetime | None:
        """When the latest of these instruments' marks was taken (the `MarkSource` port)."""
        times = [quote.at for ref in refs if (quote := self._quotes.get(ref)) is not None and quote.at is not None]
        return max(times, default=None)

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        """The latest marks of those of `refs` that have one (the `MarkSource` port)."""
        prices = {}
        for ref in refs:
            quote = self._quotes.get(ref)
            if quote is not None and quote.price is not None:
                prices[ref] = quote.price
        return prices

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        """The latest marks of those of `refs` that have one, with their previous closes (the `MarkSource` port)."""
        quotes = {}
        for ref in refs:
            quote = self._quotes.get(ref)
            if quote is not None and quote.price is not None:
                quotes[ref] = (quote.price, quote.close)
        return quotes

    def _settle(self) -> None:
        """Move the baskets of every instrument marked since they last moved, by its whole move, exactly."""
        if not self._moved:
            return
        dirty = self._dirty
        ambient = getcontext()
        setcontext(self._exact)  # plain operators below, never rounding; cheaper than context methods
        try:
            for quote in self._moved.values():
                move = quote.price - quote.settled  # type: ignore[operator]  # both set once marked
                quote.settled = quote.price
                for basket_id, exposure in quote.exposures.items():
                    exposure.basket.marked += exposure.weight * move
                    dirty[basket_id] = None
        finally:
            setcontext(ambient)
        self._moved.clear()

    def _account(self, basket: _Basket, held: _Held, *, add: bool) -> None:
        """Add a position's contribution to its basket and instrument, or take it away."""
        self._settle()  # its instrument's baskets must be at its price before its weight changes
        exact = self._exact
        op = exact.add if add else exact.subtract
        position, quote = held.position, held.quote
        sign = 1 if add else -1
        if quote.price is None:
            basket.unmarked += sign * position.realised
        else:
            basket.marked = op(basket.marked, position.marked_pnl(quote.price))
        basket.realised += sign * position.realised
        exposure = quote.exposures.get(basket.id)
        if exposure is None:
            exposure = quote.exposures[basket.id] = _Exposure(basket)
        exposure.weight = op(exposure.weight, exact.multiply(position.net_quantity, position.multiplier))
        if add:
            exposure.held[position.key] = held
            return
        del exposure.held[position.key]
        if not exposure.held:
            del quote.exposures[basket.id]
            if not quote.exposures and quote.price is None:
                del self._quotes[position.key.instrument]

    def _first_mark(self, quote: _Quote, price: Decimal, at: datetime) -> None:
        """Move positions from their realised P&L to their marked P&L (the delta rule needs a previous mark)."""
        quote.price, quote.at, quote.settled = price, at, price
        exact = self._exact
        for basket_id, exposure in quote.exposures.items():
            basket = exposure.basket
            for held in exposure.held.values():
                basket.unmarked -= held.position.realised
                basket.marked = exact.add(basket.marked, held.position.marked_pnl(price))
            self._dirty[basket_id] = None

    def _touch(self, basket: _Basket, at: datetime | None) -> None:
        if at is not None and (basket.changed_at is None or at > basket.changed_at):
            basket.changed_at = at
        self._dirty[basket.id] = None

    def _snapshot(self, basket: _Basket) -> BasketPnlSnapshot:
        rows = tuple(held.row() for held in basket.held.values())
        pnl = Fraction(basket.marked) + basket.unmarked
        return BasketPnlSnapshot(
            basket.id, basket.owner, pnl, basket.realised, pnl - basket.realised, rows, basket.as_of()
        )
