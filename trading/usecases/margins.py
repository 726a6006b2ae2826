"""Margin before execution: a basket's margin, charges and the funds to carry it; the refusal when they fall short."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    InsufficientMargin,
    NotSupported,
    RateLimited,
)
from trading.ids import ClientRequestId
from trading.model.margin import ZERO, Charges, Segment
from trading.money import to_paise
from trading.usecases.tickets import OrderTicket, instrument_of, request_of

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from trading.ids import BasketId, OwnerId
    from trading.model import Basket, Order
    from trading.model.margin import BasketMargin, Funds
    from trading.ports import Baskets, Broker, Brokers, Clock, Instruments, MarkSource, OrderRequest


class MarginPorts(Protocol):
    @property
    def baskets(self) -> Baskets: ...
    @property
    def instruments(self) -> Instruments: ...
    @property
    def marks(self) -> MarkSource: ...
    @property
    def brokers(self) -> Brokers: ...
    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True)
class MarginReport:
    """A basket's margin at its broker, its charges, the funds it would draw on and what they lack (≥ 0)."""

    basket_id: BasketId
    margin: BasketMargin
    charges: Charges
    funds: list[Funds]

    @property
    def available(self) -> Decimal:
        return sum((f.available for f in self.funds), ZERO)

    @property
    def shortfall(self) -> Decimal:
        return max(ZERO, self.margin.final.total - self.available)


def basket_margin(ports: MarginPorts, owner: OwnerId, basket_id: BasketId) -> MarginReport:
    """The margin, charges and funds of the owner's basket as its broker estimates them now.

    Another user's basket is NotFound, as one that does not exist; a broker without the estimate raises NotSupported.
    """
    basket = ports.baskets.get(owner, basket_id)
    broker = ports.brokers.for_owner(owner, basket.broker)
    orders = basket_orders(ports, basket, broker.name, ports.clock.now())
    requests = [request_of(o) for o in orders]
    margin = broker.basket_margin(requests, consider_positions=True)
    charges = sum(broker.charges(priced(ports.marks, requests)), Charges())
    return MarginReport(basket.id, margin, charges, funds_for(broker, requests))


def account_funds(ports: MarginPorts, owner: OwnerId, broker: str | None, segment: Segment) -> Funds:
    """The owner's funds at a broker (an adapter name; None: the default) in one segment."""
    return ports.brokers.for_owner(owner, broker).funds(segment)


def basket_orders(ports: MarginPorts, basket: Basket, broker: str, now: datetime) -> list[Order]:
    """The orders executing the basket would place (hedges first, sliced), unchecked and unsaved."""
    orders: list[Order] = []
    for strategy, leg in basket.placement_order():
        instrument = instrument_of(ports.instruments, leg.instrument.exchange, leg.instrument.tradingsymbol)
        ticket = OrderTicket.for_leg(strategy.id, leg, instrument)
        orders.extend(ticket.orders(basket.owner, basket.id, ClientRequestId("margin"), broker, now))
    return orders


def check_margin(broker: Broker, orders: list[Order]) -> None:
    """Refuse, before anything is sent, orders whose final margin exceeds the available funds, saying by how much.

    Only a shortfall the broker computed refuses: a broker that gives no estimate, cannot answer now (unreachable,
    session gone, rate limited) or refuses the estimate itself (e.g. an instrument it does not know) is left to
    placement, which reports each leg's refusal as it always has and applies the basket's `onPartialFailure`.
    """
    requests = [request_of(o) for o in orders]
    try:
        final = broker.basket_margin(requests, consider_positions=True).final.total
        available = sum((f.available for f in funds_for(broker, requests)), ZERO)
    except (NotSupported, BrokerUnavailable, BrokerNotConnected, RateLimited, BrokerRejected):
        return
    if final > available:
        raise InsufficientMargin(
            f"insufficient margin: the basket needs ₹{rupees(final)} but ₹{rupees(available)} is available "
            f"(short by ₹{rupees(final - available)}); nothing was sent"
        )


def funds_for(broker: Broker, requests: list[OrderRequest]) -> list[Funds]:
    """The funds of every segment the orders trade in (equity, commodity)."""
    segments = sorted({Segment.of_exchange(r.instrument.exchange) for r in requests})
    return [broker.funds(segment) for segment in segments or [Segment.EQUITY]]


def priced(marks: MarkSource, requests: list[OrderRequest]) -> list[OrderRequest]:
    """Requests with a price to estimate charges at: their own, else their trigger, else the last mark."""
    last = marks.last_prices([r.instrument for r in requests if r.price is None and r.trigger_price is None])
    return [replace(r, price=r.price or r.trigger_price or last.get(r.instrument)) for r in requests]


def rupees(value: Decimal) -> str:
    """An amount in rupees, two decimals (half-even), as a refusal quotes it."""
    return format(to_paise(value), "f")
