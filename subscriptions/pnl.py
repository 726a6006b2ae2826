"""P&L from the stream: position and mark records feed the incremental engine; due baskets are published."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from schema import shapes
from store.items.attributes import deserialize, parse_timestamp
from store.items.mark import close_of, mark_of
from store.items.position import position_of
from subscriptions.payloads import item_type
from trading.clock import IST
from trading.ports import LiveEvent

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from trading.model import InstrumentRef, Position
    from trading.pnl_engine import BasketPnlSnapshot, PnlEngine
    from trading.ports import Clock, Publisher


class PnlFeed:
    """Keeps the engine in step with the table's stream and publishes coalesced basket P&L."""

    def __init__(
        self,
        engine: PnlEngine,
        clock: Clock,
        wait_for_stragglers: bool = True,
        positions_of: Callable[[InstrumentRef], list[Position]] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        # A cold engine (a new Lambda instance) knows no positions: on an instrument's first mark it
        # loads the instrument's positions (ByInstrument) so that mark moves their baskets' P&L.
        self.positions_of = positions_of
        self._loaded: set[InstrumentRef] = set()
        # A Lambda has no timer: it waits out the coalescing interval so the last change is published.
        # A long-lived process (the local stack) drains on a timer instead and never blocks the stream.
        self.wait_for_stragglers = wait_for_stragglers
        self._lock = threading.Lock()  # the engine is not thread-safe; the stream and a timer share it
        # Called with every snapshot published (the risk watch); a failing one does not stop publishing.
        self.watchers: list[Callable[[BasketPnlSnapshot], Any]] = []

    def feed(self, record: dict[str, Any]) -> None:
        """Apply one stream record: a position's new counters, or a new mark."""
        with self._lock:
            self._feed(record)

    def _feed(self, record: dict[str, Any]) -> None:
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        kind = item_type(new) or item_type(old)
        if kind == "Position":
            if record.get("eventName") == "REMOVE":
                self.engine.remove(position_of(old).key, self.clock.now())
            else:
                self.engine.upsert(position_of(new), self.clock.now())
        elif kind == "Mark" and new:
            ref, price = mark_of(new)
            self._load(ref)
            close, at = close_of(new), parse_timestamp(deserialize(new)["at"])
            self.engine.mark(ref, price, at, None if close is None else close.price)

    def positions_in(self, ref: InstrumentRef) -> list[Position]:
        """The positions the engine holds in `ref` (the leg watch reads entries from them)."""
        with self._lock:
            return self.engine.positions_in(ref)

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        """The engine's last marks of `refs` (those it has)."""
        with self._lock:
            return self.engine.last_prices(refs)

    def _load(self, ref: InstrumentRef) -> None:
        """Learn the instrument's positions once per engine; images from the stream are newer, so kept."""
        if self.positions_of is None or ref in self._loaded:
            return
        positions = self.positions_of(ref)  # raises: the record is retried, nothing half-learnt
        for position in positions:
            if not self.engine.holds(position.key):
                self.engine.upsert(position)
        self._loaded.add(ref)

    def publish_due(self, publisher: Publisher, batch: str) -> int:
        """Publish every basket whose P&L changed, waiting out the coalescing interval for the last ones.

        `batch` (the batch's last sequence number) makes the event ids of a retried batch repeat, so
        a retry delivers nothing twice.
        """
        published = 0
        for drain in range(2):
            with self._lock:
                due = self.engine.due(self.clock.now())
                pending = self.engine.pending
            for snapshot in due:
                publisher.publish(pnl_event(snapshot, f"{batch}:{drain}", self.clock))
                published += 1
                self._watch(snapshot)
            if not pending or not self.wait_for_stragglers:
                break
            time.sleep(self.engine.min_interval.total_seconds())
        return published

    def _watch(self, snapshot: BasketPnlSnapshot) -> None:
        for watcher in self.watchers:
            try:
                watcher(snapshot)
            except Exception:  # a watcher's bug must not hold back anyone's P&L
                log.exception("P&L watcher failed on basket %s", snapshot.basket_id)


def pnl_event(snapshot: BasketPnlSnapshot, batch: str, clock: Clock) -> LiveEvent:
    day = clock.now().astimezone(IST).date()
    report = shapes.pnl(snapshot, day)  # type: ignore[arg-type]  # same fields as a PnlReport
    report.pop("basketId")
    report["asOf"] = shapes.timestamp(snapshot.as_of or clock.now())
    return LiveEvent(
        kind="pnl",
        event_id=f"pnl:{snapshot.basket_id}:{batch}",
        owner=snapshot.owner,
        basket_id=snapshot.basket_id,
        payload=report,
    )
