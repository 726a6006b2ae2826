"""The production mark feed run inside the stack: the paper exchange's KiteTicker -> MarkFeed -> throttled marks."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from brokers.kite.feed import FLUSH_SECONDS, on_reactor, ticker_for

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from brokers.kite.feed import MarkFeed
    from trading.model import InstrumentRef
    from trading.ports import MarkSource

log = logging.getLogger(__name__)

CONNECT_SECONDS = 30.0
MARK_SECONDS = 10.0


class LocalMarkFeed:
    """Follows the paper exchange's ticker as the Fargate feed service follows Kite's, and flushes held marks."""

    def __init__(self, feed: MarkFeed, marks: MarkSource, api_key: str, access_token: str, ticker_root: str) -> None:
        self.feed = feed
        self._marks = marks
        self._ticker: Any = ticker_for(feed, api_key, access_token, ticker_root)
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def start(self) -> None:
        """Connect, and return once every instrument's first mark (the snapshot on subscribe) is written."""
        on_reactor(self._ticker.connect, threaded=True)
        self._until(lambda: self.feed.written >= len(self.feed.tokens), CONNECT_SECONDS, "the ticker's snapshot")
        self._flusher = threading.Thread(target=self._flush, name="mark-feed", daemon=True)
        self._flusher.start()

    def wait_for(self, prices: Mapping[InstrumentRef, Decimal]) -> None:
        """Return once the marks show `prices` (the feed holds a mark back for up to its interval)."""
        wanted = dict(prices)
        self._until(lambda: self._marks.last_prices(list(wanted)) == wanted, MARK_SECONDS, f"marks {wanted}")

    def _flush(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self.feed.flush()
            except Exception:  # a failed write must not stop the feed; the next flush retries
                log.exception("mark flush failed")

    @staticmethod
    def _until(done: Any, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the mark feed did not deliver {what} within {seconds:.0f} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        on_reactor(self._ticker.close)
        if self._flusher is not None:
            self._flusher.join(timeout=5)
