"""The market-data feed service: a KiteTicker consumer writing throttled marks (`python -m brokers.kite.feed`).

Each mark carries the instrument's previous close (the ticks' `ohlc.close`, quote mode).

Runs as a small Fargate service on AWS and against the paper exchange's ticker locally. Settings
(composition/settings.py; environment variables of the same names in capitals):

- table_name: the table the marks go to (through the store's marks repository).
- kite_api_key: the Kite app's key.
- feed_secret_path: the SSM parameter holding the access token (re-read when the session dies).
- feed_instruments: comma-separated `EXCHANGE:SYMBOL`s to follow (looked up in the instrument master).
- kite_ticker_root: optional, the ticker's WebSocket root (default Kite's `wss://ws.kite.trade`).
- feed_mark_interval_ms: optional, at most one mark per instrument per interval (default 500).
"""

from __future__ import annotations

import logging
import signal
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from trading.clock import SystemClock
from trading.marks import MarkThrottle

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from trading.model import InstrumentRef
    from trading.ports import Clock

log = logging.getLogger("basketgraph.feed")

FLUSH_SECONDS = 0.25


class MarkWriter(Protocol):
    def put_mark(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> bool: ...


def previous_close(payload: Mapping[str, Any]) -> Decimal | None:
    """Kite's `ohlc.close` of a tick (quote/full mode) or a quote: the previous trading day's close.

    None when the payload has no ohlc (ltp mode) or Kite sends 0 (no close known, e.g. a new listing).
    """
    close = (payload.get("ohlc") or {}).get("close")
    if not close:
        return None
    return Decimal(str(close))  # the float's shortest repr: the paise Kite sent


class MarkFeed:
    """Turns ticks into marks: at most one per instrument per throttle interval, the latest never lost.

    Each mark carries the latest previous close its instrument's ticks brought (quote and full modes).
    """

    def __init__(
        self,
        marks: MarkWriter,
        tokens: Mapping[int, InstrumentRef],
        throttle: MarkThrottle | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._marks = marks
        self._tokens = dict(tokens)
        self._throttle = throttle or MarkThrottle()
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._closes: dict[InstrumentRef, Decimal] = {}
        self.ticks = 0
        self.written = 0

    @property
    def tokens(self) -> list[int]:
        return list(self._tokens)

    def on_ticks(self, ticks: list[dict[str, Any]]) -> None:
        """KiteTicker's `on_ticks` payload: write the ticks the throttle lets through."""
        now = self._clock.now()
        due = []
        with self._lock:
            for tick in ticks:
                ref = self._tokens.get(int(tick["instrument_token"]))
                if ref is None or tick.get("last_price") is None:
                    continue
                self.ticks += 1
                close = previous_close(tick)
                if close is not None:
                    self._closes[ref] = close
                price = Decimal(str(tick["last_price"]))  # the float's shortest repr: the paise Kite sent
                if self._throttle.offer(ref, price, now):
                    due.append((ref, price, now))
        self._write(due)

    def flush(self) -> None:
        """Write the held-back latest prices whose interval has passed."""
        with self._lock:
            due = [(ref, price, at) for ref, (price, at) in self._throttle.flush(self._clock.now()).items()]
        self._write(due)

    def _write(self, due: list[tuple[InstrumentRef, Decimal, datetime]]) -> None:
        for ref, price, at in due:
            if self._marks.put_mark(ref, price, at, self._closes.get(ref)):
                self.written += 1


def on_reactor(call: Any, *args: Any, **kwargs: Any) -> None:
    """Run a KiteTicker call on twisted's reactor thread (starting the reactor on first use)."""
    from twisted.internet import reactor

    if reactor.running:
        reactor.callFromThread(call, *args, **kwargs)
    else:
        call(*args, **kwargs)


def ticker_for(feed: MarkFeed, api_key: str, access_token: str, root: str | None = None, mode: str = "quote") -> Any:
    """A KiteTicker wired to the feed: subscribe on connect, marks from ticks.

    Quote mode (44 bytes a packet, against ltp's 8) is the least that carries `ohlc.close`, the previous close.
    """
    from kiteconnect import KiteTicker

    ticker = KiteTicker(api_key, access_token, root=root, reconnect_max_tries=300)

    def on_connect(ws: Any, response: Any) -> None:
        ws.subscribe(feed.tokens)
        ws.set_mode(mode, feed.tokens)

    def on_ticks(ws: Any, ticks: list[dict[str, Any]]) -> None:
        feed.on_ticks(ticks)

    ticker.on_connect = on_connect
    ticker.on_ticks = on_ticks
    return ticker


def instrument_tokens(instruments: Any, names: list[str]) -> dict[int, InstrumentRef]:
    from trading.model import InstrumentRef

    tokens = {}
    for name in names:
        exchange, _, symbol = name.strip().partition(":")
        instrument = instruments.get(InstrumentRef(exchange.upper(), symbol.upper()))
        if instrument is None:
            raise SystemExit(f"FEED_INSTRUMENTS: {name} is not in the instrument master")
        tokens[instrument.token] = instrument.ref
    return tokens


def main() -> int:
    """Run until SIGTERM/SIGINT: connect, follow the settings' feed_instruments, write throttled marks."""
    from brokers.secrets import SsmSecretStore
    from composition.feed import mark_feed
    from composition.runtime import bootstrap

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    composed = bootstrap()
    settings = composed.settings
    if not settings.feed_names:
        raise SystemExit("set FEED_INSTRUMENTS, e.g. NFO:NIFTY26DEC26000CE,NSE:INFY")
    if not settings.feed_secret_path or not settings.kite_api_key:
        raise SystemExit("set FEED_SECRET_PATH and KITE_API_KEY")
    secret_path = settings.feed_secret_path
    feed = mark_feed(composed)
    secrets = SsmSecretStore(composed.aws.client("ssm"), prefix="")  # FEED_SECRET_PATH is a full parameter name

    def access_token() -> str:
        return secrets.require(secret_path)

    api_key, root = settings.kite_api_key, settings.kite_ticker_root
    token = access_token()
    ticker = ticker_for(feed, api_key, token, root)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    on_reactor(ticker.connect, threaded=True)
    log.info("feed following %d instruments", len(feed.tokens))
    checks = 0
    while not stop.wait(FLUSH_SECONDS):
        feed.flush()
        checks += 1
        if checks % 240 == 0:  # about a minute: a new morning's access token means a new session
            fresh = access_token()
            if fresh != token:
                log.info("access token changed; reconnecting")
                on_reactor(ticker.close)
                token, ticker = fresh, ticker_for(feed, api_key, fresh, root)
                on_reactor(ticker.connect, threaded=True)
    on_reactor(ticker.close)
    feed.flush()
    log.info("feed stopped after %d ticks, %d marks", feed.ticks, feed.written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
