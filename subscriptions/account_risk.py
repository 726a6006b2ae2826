"""Account limits from the stream: the day's P&L of each account kept from the basket P&L snapshots the engine
publishes (a running total per account, never a rescan), and the account locked once a daily limit is reached.

As with the basket risk watch, what is seen here is a hint: `account_risk.enforce_limits` re-reads the account
and its baskets' P&L from the store, and its versioned lock makes it happen once however many batches, replays
or handlers see it. A locked account's LIVE basket seen here (one that was EXECUTING when the lock came) is
exited too.
"""

from __future__ import annotations

import logging
import threading
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from store.items.account_risk import ITEM_TYPE, account_risk_of
from store.items.basket import basket_of
from subscriptions.payloads import item_type
from trading.errors import DomainError, NotFound
from trading.model import BasketStatus
from trading.rules.account_limits import day_breach, trading_day
from trading.usecases import account_risk

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from trading.ids import BasketId, OwnerId
    from trading.model import Basket
    from trading.model.account_risk import AccountRisk
    from trading.pnl_engine import BasketPnlSnapshot
    from trading.ports import Ports

log = logging.getLogger(__name__)

Account = tuple["OwnerId", str]


class AccountWatch:
    """Sums each account's baskets' P&L as snapshots arrive and asks the domain to lock an account past a limit."""

    def __init__(self, ports: Callable[[], Ports]) -> None:
        self._ports = ports
        self._lock = threading.Lock()
        self._baskets: dict[BasketId, Basket] = {}
        self._risks: dict[Account, AccountRisk] = {}
        self._pnls: dict[Account, dict[BasketId, Fraction]] = {}
        self._totals: dict[Account, Fraction] = {}
        self._asked: set[tuple[BasketId, datetime]] = set()

    def feed(self, record: dict[str, Any]) -> None:
        """Learn baskets' status and accounts' limits and locks from their stream records."""
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        kind = item_type(new or old)
        if kind == "Basket":
            with self._lock:
                if record.get("eventName") == "REMOVE" or not new:
                    self._baskets.pop(basket_of(old).id, None)
                else:
                    basket = basket_of(new)
                    self._baskets[basket.id] = basket
        elif kind == ITEM_TYPE and new:
            risk = account_risk_of(new)
            with self._lock:
                self._risks[(risk.owner, risk.broker)] = risk

    def check(self, snapshot: BasketPnlSnapshot) -> bool:
        """Lock the snapshot's account if its day's P&L reached a limit, or exit the basket if the account is locked;
        True when the account is locked."""
        ports = self._ports()
        basket = self._basket(ports, snapshot)
        if basket is None or ports.account_risk is None:
            return False
        broker = account_risk.broker_of(ports, basket)
        if broker is None:
            return False
        account = (snapshot.owner, broker)
        now = ports.clock.now()
        risk = self._risk(ports, account)
        halt = risk.halted_at(now)
        if halt is not None:
            if basket.status is not BasketStatus.LIVE or (basket.id, halt.at) in self._asked:
                return True
            with self._lock:
                self._asked.add((basket.id, halt.at))
            return self._enforce(ports, account) is not None
        limits = risk.limits
        if limits.daily_loss_limit is None and limits.daily_profit_target is None:
            return False
        if not account_risk.counts_today(basket, trading_day(now)):
            return False
        total = self._total(ports, account, snapshot.basket_id, snapshot.pnl, now)
        if day_breach(limits, total) is None:
            return False
        locked = self._enforce(ports, account) is not None
        if not locked:  # the store saw no breach: learn the account again from it on the next snapshot
            with self._lock:
                self._pnls.pop(account, None)
                self._totals.pop(account, None)
        return locked

    def _enforce(self, ports: Ports, account: Account) -> object:
        try:
            return account_risk.enforce_limits(ports, *account)
        except DomainError as exc:
            log.warning("account limits of %s/%s not enforced: %s", *account, exc.message)
            return None

    def _total(self, ports: Ports, account: Account, basket_id: BasketId, pnl: Fraction, now: datetime) -> Fraction:
        """The account's running total with this basket at `pnl`: warmed from the store once, then moved by deltas."""
        with self._lock:
            known = self._pnls.get(account)
        if known is None:
            warm = account_risk.basket_day_pnls(ports, account[0], account[1], now)
            with self._lock:
                known = self._pnls.setdefault(account, warm)
                self._totals.setdefault(account, sum(known.values(), Fraction(0)))
        with self._lock:
            before = known.get(basket_id, Fraction(0))
            known[basket_id] = Fraction(pnl)
            self._totals[account] += Fraction(pnl) - before
            return self._totals[account]

    def _risk(self, ports: Ports, account: Account) -> AccountRisk:
        with self._lock:
            known = self._risks.get(account)
        if known is not None:
            return known
        assert ports.account_risk is not None  # noqa: S101  # checked by the caller
        risk = ports.account_risk.get(*account)
        with self._lock:
            return self._risks.setdefault(account, risk)

    def _basket(self, ports: Ports, snapshot: BasketPnlSnapshot) -> Basket | None:
        with self._lock:
            known = self._baskets.get(snapshot.basket_id)
        if known is not None:
            return known
        try:  # a basket not seen on the stream since this process started: read it once
            basket = ports.baskets.get(snapshot.owner, snapshot.basket_id)
        except NotFound:
            return None
        with self._lock:
            return self._baskets.setdefault(basket.id, basket)
