"""The market simulator: a random walk per instrument on its tick size, moving the paper exchange on every
tick (the exchange's ticker carries the moves to the mark feed, as Kite's carries the real market's)."""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from trading.model import InstrumentRef
    from trading.model.instrument import Instrument
    from trading.ports import Clock
    from trading.rules.calendar import MarketCalendar

log = logging.getLogger(__name__)

MAX_STEP_TICKS = 3


class MarketSimulator:
    """Moves prices every `interval` seconds; instruments with open positions move first.

    Parameters
    ----------
    instruments
        What trades, with its tick size.
    last_price
        The current price of an instrument (the paper exchange's).
    move
        Called with each tick's new prices (the exchange fills resting orders from them and ticks them).
    held
        The instruments someone holds an open position in, ticked before the rest.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        last_price: Callable[[InstrumentRef], Decimal | None],
        move: Callable[[dict[InstrumentRef, Decimal]], None],
        clock: Clock,
        calendar: MarketCalendar,
        held: Callable[[], set[InstrumentRef]] = set,
        interval: float = 0.25,
        seed: int | None = None,
    ) -> None:
        self.instruments = instruments
        self.last_price = last_price
        self.move = move
        self.clock = clock
        self.calendar = calendar
        self.held = held
        self.interval = interval
        self.random = random.Random(seed)  # noqa: S311 - a simulated market, not cryptography
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> dict[InstrumentRef, Decimal]:
        """One tick of every open market; returns the new prices."""
        now = self.clock.now()
        held = self.held()
        ordered = sorted(self.instruments, key=lambda i: i.ref not in held)
        prices: dict[InstrumentRef, Decimal] = {}
        for instrument in ordered:
            if not self.calendar.is_open(instrument.exchange, now):
                continue
            current = self.last_price(instrument.ref)
            if current is None:
                continue
            step = instrument.tick_size * self.random.randint(-MAX_STEP_TICKS, MAX_STEP_TICKS)
            prices[instrument.ref] = max(instrument.tick_size, current + step)
        if prices:
            self.move(prices)
        return prices

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.step()
                except Exception:  # a failed tick must not stop the market; the next one retries
                    log.exception("market simulator tick failed")

        self._thread = threading.Thread(target=run, name="market-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
