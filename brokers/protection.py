"""Market protection for brokers that forbid MARKET orders from algos (Angel One, Shoonya since April 2026).

A MARKET order is sent as a marketable LIMIT at its protection price, computed from the latest mark (the
marks the feed writes); an SL-M order as an SL (stop-limit) whose limit is the protection price from its
trigger. `trading.rules.protection` computes the price (tick rounding in the safe direction); the
instrument master carries no circuit limits, so the exchange's band applies at the broker, which refuses
a price outside it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from trading.errors import BrokerRejected
from trading.model import OrderType
from trading.ports import OrderRequest
from trading.rules.protection import protection_price

if TYPE_CHECKING:
    from trading.model import Order
    from trading.model.instrument import Instrument
    from trading.ports import MarkSource, OrderChange


def change_request(order: Order, change: OrderChange) -> OrderRequest:
    """A working order with its new terms, as a ticket (adapters map modifications with their placement mapping)."""
    return OrderRequest(
        instrument=order.instrument,
        side=order.side,
        quantity=change.quantity,
        order_type=change.order_type,
        product=order.product,
        variety=order.variety,
        validity=change.validity,
        price=change.price,
        trigger_price=change.trigger_price,
        tag=order.id,
        market_protection=change.market_protection,
    )


def as_protected_limit(request: OrderRequest, instrument: Instrument, marks: MarkSource | None) -> OrderRequest:
    """The request as a broker without MARKET orders takes it: MARKET -> LIMIT, SL-M -> SL at the protection price.

    Raises
    ------
    BrokerRejected
        A MARKET order with no mark yet for its instrument (nothing to protect it from).
    """
    tick = instrument.tick_size
    if request.order_type is OrderType.SL_M and request.trigger_price is not None:
        price = protection_price(request.side, request.trigger_price, request.market_protection, tick)
        return replace(request, order_type=OrderType.SL, price=price)
    if request.order_type is not OrderType.MARKET:
        return request
    last = (marks.last_prices([request.instrument]) if marks is not None else {}).get(request.instrument)
    if last is None:
        raise BrokerRejected(
            f"no last price for {request.instrument} yet: this broker takes no MARKET orders from algos, and a "
            "protected LIMIT needs the latest mark; place a LIMIT order or retry once prices arrive"
        )
    return replace(
        request, order_type=OrderType.LIMIT, price=protection_price(request.side, last, request.market_protection, tick)
    )
