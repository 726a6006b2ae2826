"""`ShoonyaBroker`: one user's Finvasia Shoonya session behind the `trading.ports.Broker` port.

Built on the official SDK (`from NorenRestApiPy.NorenApi import NorenApi`). Two of its habits are
contained here:

- it posts with `requests.post` and no timeout, and on a refusal returns None, dropping the
  `emsg` that says why. `NorenTransport` stands in for the SDK's `requests`: it adds a timeout and
  keeps the last refusal per thread, so the adapter can report the broker's own message.
- it logs every payload, session key (`jKey`) included, at DEBUG; its logger is held at WARNING.

The SDK keeps its host in a class attribute, so every `NorenApi` of a process talks to one host
(the last one configured): one Shoonya endpoint per deployment.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import NorenRestApiPy.NorenApi as noren_sdk
import requests
from NorenRestApiPy.NorenApi import NorenApi

from brokers.protection import as_protected_limit, change_request
from brokers.shoonya.mapping import fill_from_noren, order_arguments, order_update_from_noren
from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    NotSupported,
    RateLimited,
    ValidationError,
)
from trading.ids import BrokerOrderId

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trading.model import Fill, Order, OrderUpdate, Variety
    from trading.model.margin import BasketMargin, Charges, Funds, Segment
    from trading.ports import Instruments, MarkSource, OrderChange, OrderRequest

SHOONYA_ROOT = "https://api.shoonya.com/NorenWClientTP/"
SHOONYA_WEBSOCKET = "wss://api.shoonya.com/NorenWSTP/"
DEFAULT_TIMEOUT = 7.0
SESSION_INVALID = "Shoonya session expired or invalid; reconnect the broker account"
NO_DATA = "no data"
# The SDK has the calls (Noren span_calculator and get_limits); their payloads are not mapped yet.
NOT_WIRED = "margin, charges and funds estimates are not supported for Shoonya accounts yet"


def is_session_error(message: str) -> bool:
    """Noren's words for a refused session key ("Session Expired :  Invalid Session Key")."""
    text = message.lower()
    return text.startswith("session expired") or "invalid session key" in text


class NorenTransport:
    """What the SDK calls as `requests`: a POST with a timeout that remembers this thread's last refusal."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def post(self, url: str, data: Any = None, headers: Any = None, **kwargs: Any) -> requests.Response:
        self._local.refusal = None
        timeout = kwargs.pop("timeout", self.timeout)
        reply = requests.post(url, data=data, headers=headers, timeout=timeout, **kwargs)
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("stat") != "Ok":
            self._local.refusal = str(body.get("emsg") or "").strip()
        return reply

    def last_refusal(self) -> str | None:
        """The `emsg` of this thread's last refused request (None when it was not refused)."""
        refusal: str | None = getattr(self._local, "refusal", None)
        return refusal


transport = NorenTransport()
noren_sdk.requests = transport
logging.getLogger(noren_sdk.__name__).setLevel(logging.WARNING)


@contextmanager
def noren_errors_mapped(broker: str) -> Iterator[None]:
    """Turn requests and reply-parsing errors into the domain's broker errors."""
    try:
        yield
    except requests.Timeout as exc:
        raise BrokerUnavailable(f"{broker} did not answer in time; retry in a moment") from exc
    except requests.RequestException as exc:
        raise BrokerUnavailable(f"{broker} could not be reached; retry in a moment") from exc
    except (ValueError, KeyError, TypeError) as exc:  # the SDK parses every reply with json.loads and ['stat']
        raise BrokerUnavailable(f"{broker} sent an unreadable reply; retry in a moment") from exc


class ShoonyaBroker:
    """One user's account at Shoonya.

    Parameters
    ----------
    user_id
        The Shoonya user (and account) id the session belongs to.
    session_token
        The `susertoken` of the user's session.
    instruments
        The Kite instrument master, from which Noren's trading symbols are derived.
    root, websocket
        The Noren REST and WebSocket endpoints (Shoonya's by default).
    marks
        The latest marks: Noren takes no MARKET orders from algos, so they go as protected LIMITs priced
        from these (`brokers.protection`).
    """

    def __init__(
        self,
        user_id: str,
        session_token: str,
        instruments: Instruments,
        *,
        root: str | None = None,
        websocket: str | None = None,
        name: str = "shoonya",
        marks: MarkSource | None = None,
    ) -> None:
        self.name = name
        self.client: Any = NorenApi(host=root or SHOONYA_ROOT, websocket=websocket or SHOONYA_WEBSOCKET)
        self.client.set_session(userid=user_id, password="", usertoken=session_token)
        self._instruments = instruments
        self._marks = marks

    def place_order(self, request: OrderRequest) -> BrokerOrderId:
        """Place an order; raises BrokerRejected, BrokerUnavailable or BrokerNotConnected."""
        instrument = self._instruments.get(request.instrument)
        if instrument is None:
            raise ValidationError(f"unknown instrument {request.instrument}; Shoonya needs its master entry")
        request = as_protected_limit(request, instrument, self._marks)
        with noren_errors_mapped(self.name):
            reply = self.client.place_order(**order_arguments(request, instrument))
        if reply is None:
            raise self._refusal("refused the order")
        return BrokerOrderId(str(reply["norenordno"]))

    def cancel_order(self, broker_order_id: BrokerOrderId, variety: Variety) -> None:
        """Ask Shoonya to cancel a working order; the outcome arrives as an update."""
        with noren_errors_mapped(self.name):
            reply = self.client.cancel_order(orderno=broker_order_id)
        if reply is None:
            raise self._refusal(f"refused to cancel order {broker_order_id}")

    def modify_order(self, order: Order, change: OrderChange) -> None:
        """Change a working order (Noren `ModifyOrder`); MARKET goes as a protected LIMIT, as at placement."""
        instrument = self._instruments.get(order.instrument)
        if instrument is None or order.broker_order_id is None:
            raise ValidationError(f"order {order.id} cannot be modified at Shoonya (unknown instrument or order id)")
        terms = order_arguments(as_protected_limit(change_request(order, change), instrument, self._marks), instrument)
        with noren_errors_mapped(self.name):
            reply = self.client.modify_order(
                orderno=order.broker_order_id,
                exchange=terms["exchange"],
                tradingsymbol=terms["tradingsymbol"],
                newquantity=terms["quantity"],
                newprice_type=terms["price_type"],
                newprice=terms["price"],
                newtrigger_price=terms["trigger_price"],
            )
        if reply is None:
            raise self._refusal(f"refused to modify order {order.broker_order_id}")

    def order_update(self, broker_order_id: BrokerOrderId) -> OrderUpdate:
        """The order's latest state: the newest row of its history."""
        with noren_errors_mapped(self.name):
            history = self.client.single_order_history(orderno=broker_order_id)
        if not history:
            refusal = transport.last_refusal()
            if refusal and is_session_error(refusal):
                raise BrokerNotConnected(SESSION_INVALID)
            raise BrokerUnavailable(f"{self.name} returned no history for order {broker_order_id}")
        return order_update_from_noren(history[0])

    def order_fills(self, order: Order) -> list[Fill]:
        """The order's exact trades from the trade book, as fills of our order."""
        if order.broker_order_id is None:
            return []
        with noren_errors_mapped(self.name):
            trades = self.client.get_trade_book()
        if trades is None:
            refusal = transport.last_refusal() or ""
            if refusal.lower() == NO_DATA:  # Noren's answer for a day without trades
                return []
            raise self._refusal("refused the trade book")
        return [fill_from_noren(t, order) for t in trades if str(t.get("norenordno")) == order.broker_order_id]

    def basket_margin(self, requests: list[OrderRequest], consider_positions: bool = True) -> BasketMargin:
        """Not offered here yet: raises NotSupported (executeBasket then leaves the margin check to Shoonya)."""
        raise NotSupported(NOT_WIRED)

    def charges(self, requests: list[OrderRequest]) -> list[Charges]:
        """Not offered here yet: raises NotSupported."""
        raise NotSupported(NOT_WIRED)

    def funds(self, segment: Segment) -> Funds:
        """Not offered here yet: raises NotSupported."""
        raise NotSupported(NOT_WIRED)

    def order_book(self) -> None:
        """None: reconciliation asks for each order's history on its own (see `order_update`)."""
        return None

    def _refusal(self, what: str) -> BrokerNotConnected | BrokerRejected | BrokerUnavailable | RateLimited:
        refusal = transport.last_refusal()
        if refusal is None:
            return BrokerUnavailable(f"{self.name} {what} without saying why; retry in a moment")
        if is_session_error(refusal):
            return BrokerNotConnected(SESSION_INVALID)
        if "exceeds limit" in refusal.lower():  # "Order Recieved 11 in a current second exceeds Limit 10 for user"
            return RateLimited(f"{self.name} is rate limiting orders; retry in a moment")
        return BrokerRejected(refusal or f"{self.name} {what}")
