"""Automatic exits from the stream: a LIVE basket whose P&L reaches its max loss or target is exited once.

The P&L engine's coalesced snapshots say when a basket's P&L moved; basket items on the same stream
keep each basket's status and limits current here. A breach seen here is only a hint: the exit itself
(`trading.automation.exit_on_limit`) re-reads the basket and its P&L from the store, and its versioned
save and clientRequestId make it happen once however many stream batches (retried, replayed, or on
other shards and Lambda instances) report the breach.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from store.items.basket import basket_of
from subscriptions.payloads import item_type
from trading.errors import DomainError, NotFound
from trading.model import BasketStatus, RiskLimits
from trading.rules.limits import limit_breach
from trading.usecases import automation

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ids import BasketId
    from trading.pnl_engine import BasketPnlSnapshot
    from trading.ports import Ports

log = logging.getLogger(__name__)


class RiskWatch:
    """Checks every P&L snapshot against its basket's limits and asks the domain to exit a breached basket."""

    def __init__(self, ports: Callable[[], Ports]) -> None:
        self._ports = ports
        self._lock = threading.Lock()
        self._limits: dict[BasketId, tuple[BasketStatus, RiskLimits]] = {}

    def feed(self, record: dict[str, Any]) -> None:
        """Learn a basket's status and limits from its stream record (other records are ignored)."""
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        if item_type(new or old) != "Basket":
            return
        with self._lock:
            if record.get("eventName") == "REMOVE" or not new:
                self._limits.pop(basket_of(old).id, None)
                return
            basket = basket_of(new)
            self._limits[basket.id] = (basket.status, basket.risk)

    def check(self, snapshot: BasketPnlSnapshot) -> bool:
        """Exit the snapshot's basket if it is LIVE and past a limit; True when it was exited (now or before)."""
        status, limits = self._known(snapshot)
        if status is not BasketStatus.LIVE or limit_breach(limits, snapshot.pnl) is None:
            return False
        with self._lock:  # ask once per process; the store decides across processes
            self._limits[snapshot.basket_id] = (BasketStatus.EXITING, limits)
        try:
            exited = automation.exit_on_limit(self._ports(), snapshot.owner, snapshot.basket_id) is not None
        except DomainError as exc:
            log.warning("automatic exit of basket %s failed: %s", snapshot.basket_id, exc.message)
            exited = False
        if not exited:  # the store saw no breach, or the exit failed: the next P&L change looks again
            with self._lock:
                self._limits.pop(snapshot.basket_id, None)
        return exited

    def _known(self, snapshot: BasketPnlSnapshot) -> tuple[BasketStatus, RiskLimits]:
        with self._lock:
            known = self._limits.get(snapshot.basket_id)
        if known is not None:
            return known
        try:  # a basket not seen on the stream since this process started: read it once
            basket = self._ports().baskets.get(snapshot.owner, snapshot.basket_id)
            known = (basket.status, basket.risk)
        except NotFound:
            known = (BasketStatus.CLOSED, RiskLimits())
        with self._lock:
            return self._limits.setdefault(snapshot.basket_id, known)
