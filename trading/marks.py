"""Throttling marks: the market moves many times a second; storage and subscribers need far fewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from trading.model import InstrumentRef


@dataclass
class MarkThrottle:
    """Lets through at most one mark per instrument per `interval`, and never loses the latest price.

    Feed `offer()` every tick; write what it returns. Call `flush(now)` periodically to write the
    latest price of instruments whose last tick was held back.
    """

    interval: timedelta = timedelta(milliseconds=500)
    _written: dict[InstrumentRef, datetime] = field(default_factory=dict)
    _held: dict[InstrumentRef, tuple[Decimal, datetime]] = field(default_factory=dict)

    def offer(self, ref: InstrumentRef, price: Decimal, at: datetime) -> bool:
        """True when this tick should be written now; otherwise it is held as the latest."""
        last = self._written.get(ref)
        if last is not None and at - last < self.interval:
            self._held[ref] = (price, at)
            return False
        self._written[ref] = at
        self._held.pop(ref, None)
        return True

    def flush(self, now: datetime) -> dict[InstrumentRef, tuple[Decimal, datetime]]:
        """The held ticks whose interval has passed, to be written now."""
        due = {ref: tick for ref, tick in self._held.items() if now - self._written[ref] >= self.interval}
        for ref in due:
            del self._held[ref]
            self._written[ref] = now
        return due
