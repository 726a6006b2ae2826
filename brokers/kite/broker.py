"""`KiteBroker`: one user's Kite Connect session behind the `trading.ports.Broker` port.

Vendor errors become domain errors here, and only here.
"""

from __future__ import annotations

import hashlib
import logging
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from brokers.kite.mapping import (
    fill_from_kite,
    order_type_to_kite,
    order_update_from_kite,
    price_to_kite,
    product_to_kite,
    protection_to_kite,
    validity_to_kite,
    variety_to_kite,
)
from brokers.kite.margins import (
    basket_margin_from_kite,
    charges_from_kite,
    contract_order_to_kite,
    funds_from_kite,
    margin_order_to_kite,
)
from brokers.kite.ratelimit import DEFAULT_ORDER_RATE, limiter_for
from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    DomainError,
    RateLimited,
)
from trading.ids import BrokerOrderId

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trading.model import Fill, Order, OrderUpdate, Variety
    from trading.model.margin import BasketMargin, Charges, Funds, Segment
    from trading.ports import OrderChange, OrderRequest

log = logging.getLogger(__name__)

KITE_ROOT = "https://api.kite.trade"
DEFAULT_TIMEOUT = 7.0
SESSION_INVALID = "{broker} session expired or invalid; reconnect the broker account"
HTTP_TOO_MANY_REQUESTS = 429
# After a placement whose answer was lost, how long to look for the order in the book (by its tag).
LOOKUP_DELAYS = (0.0, 0.5, 1.5)

# kiteconnect 5.x has no MarginException/HoldingException classes: Kite's error_type of those names
# arrives as GeneralException with the HTTP status Kite sent, so a 4xx GeneralException is a refusal too.
_REJECTIONS: tuple[type[Exception], ...] = tuple(
    getattr(kite_errors, name)
    for name in ("InputException", "OrderException", "MarginException", "HoldingException")
    if hasattr(kite_errors, name)
)
_SESSION_ERRORS = (kite_errors.TokenException, kite_errors.PermissionException)


@contextmanager
def kite_errors_mapped(broker: str, *, network: bool = True) -> Iterator[None]:
    """Turn kiteconnect and requests errors into the domain's broker errors (messages carry no secrets).

    With `network=False`, timeouts and connection errors pass through for the caller to resolve.
    """
    try:
        yield
    except kite_errors.KiteException as exc:
        raise _domain_error(broker, exc) from exc
    except requests.Timeout as exc:
        if not network:
            raise
        raise BrokerUnavailable(f"{broker} did not answer in time; retry in a moment") from exc
    except requests.RequestException as exc:
        if not network and isinstance(exc, requests.ConnectionError):
            raise
        raise BrokerUnavailable(f"{broker} could not be reached; retry in a moment") from exc


def _domain_error(broker: str, exc: Any) -> DomainError:
    if exc.code == HTTP_TOO_MANY_REQUESTS:
        return RateLimited(f"{broker} is rate limiting requests; retry in a moment")
    refused = isinstance(exc, kite_errors.GeneralException) and exc.code // 100 == 4
    if isinstance(exc, _REJECTIONS) or refused:
        return BrokerRejected(str(exc) or f"{broker} refused the request")
    if isinstance(exc, _SESSION_ERRORS):
        return BrokerNotConnected(SESSION_INVALID.format(broker=broker))
    # NetworkException, DataException, GeneralException: the broker side failed, not the request.
    return BrokerUnavailable(f"{broker} is unavailable (HTTP {exc.code}); retry in a moment")


class KiteBroker:
    """One user's account at Kite (or at the Kite-compatible paper exchange, with `name="paper"`)."""

    def __init__(
        self,
        api_key: str,
        access_token: str,
        *,
        root: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        name: str = "kite",
        account: str | None = None,
        lookup_delays: tuple[float, ...] = LOOKUP_DELAYS,
        order_rate: int = DEFAULT_ORDER_RATE,
    ) -> None:
        self.name = name
        self.client: Any = KiteConnect(api_key, access_token=access_token, root=root or KITE_ROOT, timeout=timeout)
        # One limiter per account and process; without an account name the session stands for it.
        session = hashlib.sha256(f"{root}|{api_key}|{access_token}".encode()).hexdigest()[:16]
        self.limiter = limiter_for(f"{name}:{account or session}", order_rate)
        self._lookup_delays = lookup_delays

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        """Place an order once; raises BrokerRejected, BrokerUnavailable, BrokerNotConnected or RateLimited.

        The request's tag (our order id) makes placement safe to reason about: when the answer is lost
        (timeout, dropped connection) the order book is searched for the tag before giving up, and a
        BrokerUnavailable after that means "outcome unknown" — the order is reconciled later, never resent.
        """
        self.limiter.acquire()
        try:
            return self._place(request)
        except (requests.Timeout, requests.ConnectionError) as exc:
            log.warning("%s placement of %s unanswered (%s); looking it up by tag", self.name, request.tag, exc)
            found = self._find_by_tag(request.tag)
            if found is None:
                raise BrokerUnavailable(
                    f"{self.name} did not confirm the order in time; it will be reconciled, not placed again"
                ) from exc
            return found

    def _place(self, request: OrderRequest) -> BrokerOrderId:
        with kite_errors_mapped(self.name, network=False):
            order_id = self.client.place_order(
                variety=variety_to_kite(request.variety),
                exchange=request.instrument.exchange,
                tradingsymbol=request.instrument.tradingsymbol,
                transaction_type=request.side.value,
                quantity=request.quantity,
                product=product_to_kite(request.product),
                order_type=order_type_to_kite(request.order_type),
                price=price_to_kite(request.price),
                trigger_price=price_to_kite(request.trigger_price),
                validity=validity_to_kite(request.validity),
                tag=request.tag,
                market_protection=protection_to_kite(request.order_type, request.market_protection),
            )
        return BrokerOrderId(str(order_id))

    def _find_by_tag(self, tag: str) -> BrokerOrderId | None:
        for delay in self._lookup_delays:
            time.sleep(delay)
            try:
                book = self.order_book()
            except BrokerUnavailable:
                continue
            for update in book:
                if update.tag == tag:
                    return update.broker_order_id
        return None

    def order_book(self) -> list[OrderUpdate]:
        """Every order of the day at the broker, latest state each (for reconciliation by tag)."""
        with kite_errors_mapped(self.name):
            rows = self.client.orders()
        return [order_update_from_kite(row) for row in rows]

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        """Ask the broker to cancel a working order; the outcome arrives as an update."""
        self.limiter.acquire()
        with kite_errors_mapped(self.name):
            self.client.cancel_order(variety=variety_to_kite(variety), order_id=broker_order_id)

    def modify_order(self, order: Order, change: OrderChange) -> None:
        """Change a working order (Kite's PUT /orders/{variety}/{id}); MARKET and SL-M carry market protection."""
        self.limiter.acquire()
        with kite_errors_mapped(self.name):
            self.client.modify_order(
                variety=variety_to_kite(order.variety),
                order_id=order.broker_order_id,
                quantity=change.quantity,
                price=price_to_kite(change.price),
                order_type=order_type_to_kite(change.order_type),
                trigger_price=price_to_kite(change.trigger_price),
                validity=validity_to_kite(change.validity),
                market_protection=protection_to_kite(change.order_type, change.market_protection),
            )

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        """The order's latest state: the last row of its Kite history."""
        with kite_errors_mapped(self.name):
            history = self.client.order_history(broker_order_id)
        if not history:
            raise BrokerUnavailable(f"{self.name} returned no history for order {broker_order_id}")
        return order_update_from_kite(history[-1])

    def order_fills(self, order: Order) -> list[Fill]:
        """The order's exact trades at the broker, as fills of our order."""
        if order.broker_order_id is None:
            return []
        with kite_errors_mapped(self.name):
            trades = self.client.order_trades(order.broker_order_id)
        return [fill_from_kite(trade, order) for trade in trades]

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        """Kite's basket margin (`POST /margins/basket`): initial, final (hedges and positions offset), each order."""
        with kite_errors_mapped(self.name):
            data = self.client.basket_order_margins(
                [margin_order_to_kite(r) for r in requests], consider_positions=consider_positions
            )
        return basket_margin_from_kite(data)

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        """Kite's virtual contract note (`POST /charges/orders`): each order's charges at its price."""
        with kite_errors_mapped(self.name):
            rows = self.client.get_virtual_contract_note([contract_order_to_kite(r) for r in requests])
        return [charges_from_kite(row.get("charges")) for row in rows]

    def funds(self, segment: Segment) -> Funds:
        """Kite's margins of one segment (`GET /user/margins/{segment}`): available (`net`) and used (`debits`)."""
        with kite_errors_mapped(self.name):
            data = self.client.margins(segment.key)
        return funds_from_kite(segment, data)
