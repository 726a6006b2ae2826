"""The market-data feed's composition: the instruments it follows, the throttle, and where its marks go."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brokers.kite.feed import MarkFeed
    from composition.runtime import Composition


def mark_feed(composed: Composition, names: list[str] | None = None) -> MarkFeed:
    """A MarkFeed over the store's marks, following `names` (`EXCHANGE:SYMBOL`; default the settings'
    feed_instruments), looked up in the instrument master, at the settings' mark interval.

    Raises
    ------
    SystemExit
        An instrument is not in the master (the service cannot follow it).
    """
    from brokers.kite.feed import MarkFeed, instrument_tokens
    from trading.marks import MarkThrottle

    store = composed.store
    chosen = composed.settings.feed_names if names is None else names
    throttle = MarkThrottle(composed.settings.feed_mark_interval)
    return MarkFeed(store.marks, instrument_tokens(store.instruments, chosen), throttle, composed.clock)
