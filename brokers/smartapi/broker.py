"""`SmartApiBroker`: one user's Angel One session behind the `trading.ports.Broker` port.

Built on the official SDK, loaded by `brokers.smartapi.sdk` (which contains its side effects).

Vendor errors become domain errors here, and only here.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests

from brokers.protection import as_protected_limit, change_request
from brokers.smartapi.mapping import fill_from_angel, funds_from_angel, order_params, order_update_from_angel
from brokers.smartapi.sdk import SmartSession, smart_errors
from trading.clock import IST, SystemClock
from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    NotSupported,
    RateLimited,
    ValidationError,
)
from trading.ids import BrokerOrderId
from trading.model import Validity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trading.model import Fill, Order, OrderUpdate, Variety
    from trading.model.margin import BasketMargin, Charges, Funds, Segment
    from trading.ports import Clock, Instruments, MarkSource, OrderChange, OrderRequest

log = logging.getLogger(__name__)

# The SDK has the calls (SmartAPI getMarginApi, estimateCharges); their payloads are not mapped yet.
NOT_WIRED = "margin and charges estimates are not supported for Angel One accounts yet"

ANGEL_ROOT = "https://apiconnect.angelone.in"
DEFAULT_TIMEOUT = 7.0
SESSION_INVALID = "Angel One session expired or invalid; reconnect the broker account"
HTTP_TOO_MANY_REQUESTS = 429
# Angel's codes for a refused session: invalid, expired or missing token; refresh token invalid or
# expired; session expired at the order system; client not logged in.
TOKEN_ERRORS = frozenset({"AG8001", "AG8002", "AG8003", "AB8050", "AB8051", "AB1010", "AB1011"})


@contextmanager
def angel_errors_mapped(broker: str) -> Iterator[None]:
    """Turn SDK and requests errors into the domain's broker errors (messages carry no secrets)."""
    try:
        yield
    except smart_errors.SmartAPIException as exc:
        if exc.code == HTTP_TOO_MANY_REQUESTS:
            raise RateLimited(f"{broker} is rate limiting requests; retry in a moment") from exc
        if isinstance(exc, smart_errors.TokenException | smart_errors.PermissionException):
            raise BrokerNotConnected(SESSION_INVALID) from exc
        if isinstance(exc, smart_errors.InputException | smart_errors.OrderException):
            raise BrokerRejected(str(exc) or f"{broker} refused the request") from exc
        raise BrokerUnavailable(f"{broker} is unavailable (HTTP {exc.code}); retry in a moment") from exc
    except requests.Timeout as exc:
        raise BrokerUnavailable(f"{broker} did not answer in time; retry in a moment") from exc
    except requests.RequestException as exc:
        raise BrokerUnavailable(f"{broker} could not be reached; retry in a moment") from exc


def checked(broker: str, reply: Any) -> dict[str, Any]:
    """A SmartAPI reply that succeeded, else the domain error its `errorcode` and `message` mean.

    Raises
    ------
    BrokerNotConnected, RateLimited, BrokerRejected, BrokerUnavailable
    """
    if not isinstance(reply, dict):
        raise BrokerUnavailable(f"{broker} sent an unreadable reply; retry in a moment")
    if reply.get("status") in (True, "true") or reply.get("success") in (True, "true"):
        return reply
    code = str(reply.get("errorcode") or reply.get("errorCode") or "")
    message = str(reply.get("message") or "").strip()
    if code in TOKEN_ERRORS:
        raise BrokerNotConnected(SESSION_INVALID)
    if "access rate" in message.lower():
        raise RateLimited(f"{broker} is rate limiting requests; retry in a moment")
    raise BrokerRejected(f"{message} ({code})" if message and code else message or code or f"{broker} refused")


class SmartApiBroker:
    """One user's account at Angel One.

    Parameters
    ----------
    api_key
        The SmartAPI app's key (sent as `X-PrivateKey`).
    access_token
        The session's JWT (with or without its `Bearer ` prefix).
    instruments
        The Kite instrument master, from which Angel's symbols and tokens are derived.
    root
        The API root; Angel's production endpoint by default.
    clock
        Dates the trade book's bare fill times (today, IST).
    marks
        The latest marks: Angel takes no MARKET orders from algos, so they go as protected LIMITs priced
        from these (`brokers.protection`).
    """

    def __init__(
        self,
        api_key: str,
        access_token: str,
        instruments: Instruments,
        *,
        root: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        name: str = "angel",
        marks: MarkSource | None = None,
    ) -> None:
        self.name = name
        self.client: Any = SmartSession(api_key, access_token, root or ANGEL_ROOT, timeout)
        self._instruments = instruments
        self._clock = clock or SystemClock()
        self._marks = marks

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        """Place an order; raises BrokerRejected, BrokerUnavailable, BrokerNotConnected or RateLimited."""
        instrument = self._instruments.get(request.instrument)
        if instrument is None:
            raise ValidationError(f"unknown instrument {request.instrument}; Angel needs its master entry")
        if request.validity is Validity.IOC:
            raise BrokerRejected("Angel One takes no IOC orders from algos (SEBI, April 2026); use DAY")
        request = as_protected_limit(request, instrument, self._marks)
        with angel_errors_mapped(self.name):
            reply = checked(self.name, self.client.placeOrderFullResponse(order_params(request, instrument)))
        order_id = (reply.get("data") or {}).get("orderid")
        if not order_id:
            raise BrokerUnavailable(f"{self.name} accepted the order but sent no order id; it will be reconciled")
        return BrokerOrderId(str(order_id))

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        """Ask Angel to cancel a working order, under the variety Angel booked it as (NORMAL, STOPLOSS, AMO)."""
        row = self._order_row(broker_order_id)
        with angel_errors_mapped(self.name):
            checked(self.name, self.client.cancelOrder(broker_order_id, row.get("variety") or "NORMAL"))

    def modify_order(self, order: Order, change: OrderChange) -> None:
        """Change a working order (SmartAPI `modifyOrder`); MARKET goes as a protected LIMIT, as at placement."""
        instrument = self._instruments.get(order.instrument)
        if instrument is None or order.broker_order_id is None:
            raise ValidationError(f"order {order.id} cannot be modified at Angel (unknown instrument or order id)")
        if change.validity is Validity.IOC:
            raise BrokerRejected("Angel One takes no IOC orders from algos (SEBI, April 2026); use DAY")
        params = order_params(as_protected_limit(change_request(order, change), instrument, self._marks), instrument)
        params.pop("ordertag", None)
        params["orderid"] = order.broker_order_id
        with angel_errors_mapped(self.name):
            checked(self.name, self.client.modifyOrder(params))

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        """The order's latest state, from its row in the order book."""
        return order_update_from_angel(self._order_row(broker_order_id))

    def order_fills(self, order: Order) -> list[Fill]:
        """The order's exact trades from today's trade book, as fills of our order."""
        if order.broker_order_id is None:
            return []
        with angel_errors_mapped(self.name):
            trades = checked(self.name, self.client.tradeBook()).get("data") or []
        today = self._clock.now().astimezone(IST).date()
        return [fill_from_angel(t, order, today) for t in trades if str(t.get("orderid")) == order.broker_order_id]

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        """Not offered here yet: raises NotSupported (executeBasket then leaves the margin check to Angel One)."""
        raise NotSupported(NOT_WIRED)

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        """Not offered here yet: raises NotSupported."""
        raise NotSupported(NOT_WIRED)

    def funds(self, segment: Segment) -> Funds:
        """Angel's RMS limits (`getRMS`), one pool for every segment: available (`net`), used (`utiliseddebits`)."""
        with angel_errors_mapped(self.name):
            data = checked(self.name, self.client.rmsLimit()).get("data") or {}
        return funds_from_angel(segment, data)

    def order_book(self) -> None:
        """None: reconciliation asks for each order's row on its own (see `order_update`)."""
        return None

    def _order_row(self, broker_order_id: BrokerOrderId) -> dict[str, Any]:
        with angel_errors_mapped(self.name):
            rows = checked(self.name, self.client.orderBook()).get("data") or []
        for row in rows:
            if str(row.get("orderid")) == broker_order_id:
                return dict(row)
        raise BrokerUnavailable(f"{self.name} has no order {broker_order_id} in today's order book")
