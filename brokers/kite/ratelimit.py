"""Keeping order requests under Kite's limit of 10 per second per account.

A rolling window rather than a token bucket: a bucket of capacity C refilling at r/s lets C + r requests
through in some one-second window, so C = r = 8 could send 16 and earn HTTP 429s. The window lets at
most `rate` requests start in any second, bursting up to `rate` at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_ORDER_RATE = 8  # below Kite's 10/s, leaving room for clock skew between us and Kite
WINDOW_SECONDS = 1.0


class OrderRateLimiter:
    """At most `rate` acquisitions in any rolling `window` seconds; `acquire` waits for a free slot."""

    def __init__(
        self,
        rate: int,
        window: float = WINDOW_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.window = window
        self._monotonic = monotonic
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, for benchmarks

    def acquire(self) -> None:
        """Block until a request may start, then count it."""
        while True:
            with self._lock:
                now = self._monotonic()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.rate:
                    self._starts.append(now)
                    return
                wait = self.window - (now - self._starts[0])
            self.waited += wait
            self._sleep(wait)


class Unlimited:
    """No limit (a rate of 0): for measuring what the limiter costs."""

    rate = 0

    def acquire(self) -> None:
        return None


_limiters: dict[str, OrderRateLimiter | Unlimited] = {}
_registry_lock = threading.Lock()


def limiter_for(account: str, rate: int = DEFAULT_ORDER_RATE) -> OrderRateLimiter | Unlimited:
    """The process's one limiter for an account, so every session object of that account shares it.

    `rate` order requests per second per account (settings' `kite_order_rate`; 0 turns the limiter off).
    """
    with _registry_lock:
        limiter = _limiters.get(account)
        if limiter is None or limiter.rate != rate:
            limiter = OrderRateLimiter(rate) if rate > 0 else Unlimited()
            _limiters[account] = limiter
        return limiter
