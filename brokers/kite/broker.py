"""`KiteBroker`: one user's Kite Connect session behind the `trading.ports.Broker` port.

Vendor errors become domain errors here, and only here.
"""

from __future__ import annotations

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
    validity_to_kite,
    variety_to_kite,
)
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
    from trading.ports import OrderRequest

KITE_ROOT = "https://api.kite.trade"
DEFAULT_TIMEOUT = 7.0
SESSION_INVALID = "kite session expired or invalid; reconnect the broker account"
HTTP_TOO_MANY_REQUESTS = 429

# kiteconnect 5.x has no MarginException/HoldingException classes: Kite's error_type of those names
# arrives as GeneralException with the HTTP status Kite sent, so a 4xx GeneralException is a refusal too.
_REJECTIONS: tuple[type[Exception], ...] = tuple(
    getattr(kite_errors, name)
    for name in ("InputException", "OrderException", "MarginException", "HoldingException")
    if hasattr(kite_errors, name)
)
_SESSION_ERRORS = (kite_errors.TokenException, kite_errors.PermissionException)


@contextmanager
def kite_errors_mapped(broker: str) -> Iterator[None]:
    """Turn kiteconnect and requests errors into the domain's broker errors (messages carry no secrets)."""
    try:
        yield
    except kite_errors.KiteException as exc:
        raise _domain_error(broker, exc) from exc
    except requests.Timeout as exc:
        raise BrokerUnavailable(f"{broker} did not answer in time; retry in a moment") from exc
    except requests.RequestException as exc:
        raise BrokerUnavailable(f"{broker} could not be reached; retry in a moment") from exc


def _domain_error(broker: str, exc: Any) -> DomainError:
    if exc.code == HTTP_TOO_MANY_REQUESTS:
        return RateLimited(f"{broker} is rate limiting requests; retry in a moment")
    refused = isinstance(exc, kite_errors.GeneralException) and exc.code // 100 == 4
    if isinstance(exc, _REJECTIONS) or refused:
        return BrokerRejected(str(exc) or f"{broker} refused the request")
    if isinstance(exc, _SESSION_ERRORS):
        return BrokerNotConnected(SESSION_INVALID)
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
    ) -> None:
        self.name = name
        self.client: Any = KiteConnect(api_key, access_token=access_token, root=root or KITE_ROOT, timeout=timeout)

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        """Place an order; raises BrokerRejected, BrokerUnavailable, BrokerNotConnected or RateLimited."""
        with kite_errors_mapped(self.name):
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
            )
        return BrokerOrderId(str(order_id))

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        """Ask the broker to cancel a working order; the outcome arrives as an update."""
        with kite_errors_mapped(self.name):
            self.client.cancel_order(variety=variety_to_kite(variety), order_id=broker_order_id)

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
