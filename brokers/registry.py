"""`AccountBrokers`: the `trading.ports.Brokers` of a deployment, over every broker a user may connect.

Each (owner, broker) session is built once per process from the owner's secrets and cached. Every
adapter is wrapped so that a refused session (`BrokerNotConnected` from the broker) drops the cache,
tells the accounts side (which marks the account DISCONNECTED with the reason), and reaches the
caller as an error that says to reconnect.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from trading.errors import BrokerNotConnected
from trading.model.account import secret_name

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from trading.ids import BrokerOrderId, OwnerId
    from trading.model import Fill, Order, OrderUpdate, Variety
    from trading.model.margin import BasketMargin, Charges, Funds, Segment
    from trading.ports import Broker, OrderChange, OrderRequest, Secrets

    SecretReader = Callable[[str], str | None]
    BrokerFactory = Callable[[OwnerId, SecretReader], Broker | None]
    RefusalListener = Callable[[OwnerId, str, str], None]

log = logging.getLogger(__name__)


def reconnect_message(broker: str, reason: str) -> str:
    return (
        f"your {broker.upper()} session was refused by the broker ({reason}); the account is now DISCONNECTED: "
        "reconnect it with connectBroker and completeBrokerLogin"
    )


class WatchedBroker:
    """A broker adapter whose refused sessions are reported once to `on_refused(reason)`."""

    def __init__(self, inner: Broker, on_refused: Callable[[str], None]) -> None:
        self.inner = inner
        self.name = inner.name
        self._on_refused = on_refused

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except BrokerNotConnected as exc:
            try:
                self._on_refused(exc.message)
            except Exception:  # recording the refusal must not hide it from the caller
                log.exception("could not mark the %s account disconnected", self.name)
            raise BrokerNotConnected(reconnect_message(self.name, exc.message)) from exc

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        placed: BrokerOrderId = self._call(self.inner.place_order, request)
        return placed

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        self._call(self.inner.cancel_order, broker_order_id, variety)

    def modify_order(self, order: Order, change: OrderChange) -> None:
        self._call(self.inner.modify_order, order, change)

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        update: OrderUpdate = self._call(self.inner.order_update, broker_order_id)
        return update

    def order_fills(self, order: Order) -> list[Fill]:
        fills: list[Fill] = self._call(self.inner.order_fills, order)
        return fills

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        margin: BasketMargin = self._call(self.inner.basket_margin, requests, consider_positions)
        return margin

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        charges: list[Charges] = self._call(self.inner.charges, requests)
        return charges

    def funds(self, segment: Segment) -> Funds:
        funds: Funds = self._call(self.inner.funds, segment)
        return funds

    def order_book(self) -> list[OrderUpdate] | None:
        # Unwatched: a refused read of the book during reconciliation is one of its reported problems.
        return self.inner.order_book()


class AccountBrokers:
    """Each owner's session at each broker.

    Parameters
    ----------
    factories
        Per broker name ("kite", "paper", "angel", "shoonya"): builds the adapter from the owner's
        secrets, or returns None when no session is stored.
    secrets
        The secret store (names from `trading.model.account.secret_name`).
    default
        The broker an order goes to when the caller names none: PAPER locally, KITE on AWS.
    """

    def __init__(self, factories: Mapping[str, BrokerFactory], secrets: Secrets, default: str) -> None:
        self._factories = dict(factories)
        self._secrets = secrets
        self.default = default
        self._on_refused: RefusalListener | None = None
        self._cache: dict[tuple[str, str], Broker] = {}
        self._lock = threading.Lock()

    def on_refused(self, listener: RefusalListener) -> None:
        """Who to tell when a broker refuses an owner's session: `listener(owner, broker, reason)`."""
        self._on_refused = listener

    def for_owner(self, owner: OwnerId, broker: str | None = None) -> Broker:
        """The owner's session at `broker` (default: the deployment's default broker).

        Raises
        ------
        BrokerNotConnected
            The owner has no session there (never connected, disconnected, or refused since).
        """
        name = (broker or self.default).lower()
        with self._lock:
            cached = self._cache.get((owner, name))
        if cached is not None:
            return cached
        factory = self._factories.get(name)
        if factory is None:
            raise BrokerNotConnected(f"{name.upper()} is not available on this deployment")
        built = factory(owner, lambda what: self._secrets.get(secret_name(owner, name, what)))
        if built is None:
            raise BrokerNotConnected(
                f"your {name.upper()} account is not connected; connect it with connectBroker and completeBrokerLogin"
            )
        watched = WatchedBroker(built, lambda reason: self._refused(owner, name, reason))
        with self._lock:
            return self._cache.setdefault((owner, name), watched)

    def forget(self, owner: OwnerId, broker: str) -> None:
        """Drop the cached session (the owner reconnected or disconnected, or the broker refused it)."""
        with self._lock:
            self._cache.pop((owner, broker.lower()), None)

    def _refused(self, owner: OwnerId, broker: str, reason: str) -> None:
        self.forget(owner, broker)
        log.info("%s refused a session; marking the account disconnected", broker)
        if self._on_refused is not None:
            self._on_refused(owner, broker, reason)
