"""Kite's limit on order requests (place, modify, cancel): so many per rolling second per account, else HTTP 429."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING

from brokers.paper.errors import network_error

if TYPE_CHECKING:
    from collections.abc import Callable

ORDER_REQUESTS_PER_SECOND = 10  # Kite's limit on order placement, modification and cancellation per account
TOO_MANY_REQUESTS = "Too many requests"


class OrderRateLimit:
    """A rolling one-second window of order requests per account; `rate` None admits everything."""

    def __init__(self, rate: int | None, monotonic: Callable[[], float]) -> None:
        self.rate = rate
        self.refused = 0  # order requests refused with HTTP 429 so far
        self._monotonic = monotonic
        self._requests: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, user_id: str) -> None:
        """Count one request (refused ones count too, as at Kite); raises HTTP 429 beyond the rate."""
        if self.rate is None:
            return
        now = self._monotonic()
        window = self._requests[user_id]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.rate:
            self.refused += 1
            raise network_error(TOO_MANY_REQUESTS, 429)
        window.append(now)
