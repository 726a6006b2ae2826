"""Order tickets: what an order is to be (instrument, quantity, side, type, prices), and the orders built from one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trading.errors import ValidationError
from trading.ids import OrderId, new_id
from trading.model import InstrumentRef, Order, OrderType, Product, Side, Validity, Variety
from trading.model.protection import AUTOMATIC
from trading.ports import OrderRequest
from trading.rules.pre_trade import (
    check_market_hours,
    check_order_prices,
    check_quantity,
    check_slices,
    check_validity,
    slice_quantity,
)

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from trading.ids import BasketId, ClientRequestId, LegId, OwnerId, StrategyId
    from trading.model import Leg, Position
    from trading.model.instrument import Instrument
    from trading.model.protection import MarketProtection
    from trading.ports import Clock, Instruments
    from trading.rules.calendar import MarketCalendar


class TicketPorts(Protocol):
    @property
    def instruments(self) -> Instruments: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def calendar(self) -> MarketCalendar: ...


@dataclass(frozen=True)
class OrderTicket:
    """One order as asked for, before it is sliced at the freeze quantity and stored."""

    instrument: Instrument
    quantity: int
    side: Side
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.NRML
    variety: Variety = Variety.REGULAR
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    strategy_id: StrategyId | None = None
    leg_id: LegId | None = None
    market_protection: MarketProtection = AUTOMATIC
    # An order (a leg, placeOrder) is capped at 10 freeze-size slices. A square-off is not: it flattens what is
    # open, and each of its slices is an order of its own within the freeze quantity.
    slice_cap: bool = True

    @classmethod
    def for_leg(cls, strategy_id: StrategyId, leg: Leg, instrument: Instrument) -> OrderTicket:
        """The ticket that enters a basket's leg: its lots in the instrument's lot size."""
        return cls(
            instrument=instrument,
            quantity=leg.lots * instrument.lot_size,
            side=leg.side,
            order_type=leg.order_type,
            product=leg.product,
            price=leg.price,
            trigger_price=leg.trigger_price,
            strategy_id=strategy_id,
            leg_id=leg.id,
            market_protection=leg.market_protection,
        )

    @classmethod
    def to_flatten(cls, position: Position, instrument: Instrument) -> OrderTicket:
        """The MARKET ticket that squares off an open position (automatic market protection)."""
        return cls(
            instrument=instrument,
            quantity=abs(position.net_quantity),
            side=Side.SELL if position.net_quantity > 0 else Side.BUY,
            order_type=OrderType.MARKET,
            product=position.key.product,
            strategy_id=position.key.strategy_id,
            slice_cap=False,
        )

    def orders(
        self, owner: OwnerId, basket_id: BasketId, crid: ClientRequestId, broker: str, now: datetime
    ) -> list[Order]:
        """One PENDING order per freeze-quantity slice of the ticket's quantity."""
        return [
            Order(
                id=OrderId(new_id()),
                owner=owner,
                basket_id=basket_id,
                client_request_id=crid,
                broker=broker,
                instrument=self.instrument.ref,
                side=self.side,
                quantity=part,
                order_type=self.order_type,
                product=self.product,
                created_at=now,
                updated_at=now,
                strategy_id=self.strategy_id,
                leg_id=self.leg_id,
                variety=self.variety,
                validity=self.validity,
                price=self.price,
                trigger_price=self.trigger_price,
                multiplier=self.instrument.multiplier,
                market_protection=self.market_protection,
            )
            for part in slice_quantity(self.quantity, self.instrument)
        ]


def instrument_of(instruments: Instruments, exchange: str, tradingsymbol: str) -> Instrument:
    """The instrument master's entry; unknown instruments are refused before anything is written."""
    ref = InstrumentRef(exchange.strip().upper(), tradingsymbol.strip().upper())
    instrument = instruments.get(ref) if ref.exchange and ref.tradingsymbol else None
    if instrument is None:
        raise ValidationError(f"unknown instrument {ref}; look it up with the instruments query")
    return instrument


def checked_orders(
    ports: TicketPorts,
    ticket: OrderTicket,
    owner: OwnerId,
    basket_id: BasketId,
    crid: ClientRequestId,
    broker: str,
    now: datetime,
) -> list[Order]:
    """The ticket's orders (created at `now`), each checked for quantity, prices and market hours.

    Raises ValidationError before anything is written, e.g. for more than 10 freeze-size slices (`check_slices`).
    """
    if ticket.slice_cap:
        check_slices(ticket.quantity, ticket.instrument)
    check_validity(ticket.validity, ticket.instrument)
    orders = ticket.orders(owner, basket_id, crid, broker, now)
    for order in orders:
        check_quantity(order.quantity, ticket.instrument)
        check_order_prices(order.order_type, order.price, order.trigger_price, ticket.instrument)
        check_market_hours(order.variety, ticket.instrument, ports.clock.now(), ports.calendar)
    return orders


def request_of(order: Order) -> OrderRequest:
    """The broker ticket of one of our orders (its tag is our order id)."""
    return OrderRequest(
        instrument=order.instrument,
        side=order.side,
        quantity=order.quantity,
        order_type=order.order_type,
        product=order.product,
        variety=order.variety,
        validity=order.validity,
        price=order.price,
        trigger_price=order.trigger_price,
        tag=order.id,
        market_protection=order.market_protection,
    )
