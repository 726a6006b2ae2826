"""Kite's validation rules for an order request: the form's fields, types, lots, ticks, the band, the freeze."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from brokers.paper.book import ZERO
from brokers.paper.errors import input_error
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.paper.book import PaperOrder
    from trading.model.instrument import Instrument

VARIETIES = ("regular", "amo")
TRANSACTION_TYPES = ("BUY", "SELL")
ORDER_TYPES = ("MARKET", "LIMIT", "SL", "SL-M")
PRODUCTS = ("CNC", "NRML", "MIS")
VALIDITIES = ("DAY", "IOC")
STOP_TYPES = ("SL", "SL-M")
LIMIT_TYPES = ("LIMIT", "SL")
PROTECTED_TYPES = ("MARKET", "SL-M")
MAX_TAG_LENGTH = 20
MAX_SLICES = 10  # autoslice's cap under the 2026 rules
MAX_MODIFICATIONS = 25  # Kite's cap on modifications of one order
AUTOMATIC_PROTECTION = Decimal(-1)  # Kite's `market_protection=-1`
NO_PROTECTION = "Market orders without market protection are not allowed via API"
BAD_PROTECTION = (
    "Invalid `market_protection`. Send -1 for automatic market protection, or a percentage above 0 up to 100."
)

Band = tuple[Decimal, Decimal]


def text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    return value.strip() if value is not None and value.strip() else None


def whole(form: Mapping[str, str], name: str) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise input_error(f"Invalid `{name}`.") from exc


def price(form: Mapping[str, str], name: str) -> Decimal | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise input_error(f"Invalid `{name}`.") from exc
    if not number.is_finite() or number < 0:
        raise input_error(f"Invalid `{name}`.")
    return number


def protection(form: Mapping[str, str], order_type: str, current: Decimal = ZERO) -> Decimal:
    """The order's `market_protection` (-1 automatic, or 0 < p <= 100; 0: none), refused where Kite refuses it.

    A MARKET or SL-M order without protection (absent or 0) is refused with Kite's own message.
    """
    sent = text(form, "market_protection")
    if sent is None:
        value = current
    else:
        try:
            value = Decimal(sent)
        except InvalidOperation as exc:
            raise input_error(BAD_PROTECTION) from exc
        if not value.is_finite() or not (value == AUTOMATIC_PROTECTION or 0 <= value <= 100):
            raise input_error(BAD_PROTECTION)
    if order_type in PROTECTED_TYPES and value == ZERO:
        raise input_error(NO_PROTECTION)
    return value


def parse_ref(text: str) -> InstrumentRef:
    """`"EXCHANGE:SYMBOL"` as an instrument reference."""
    exchange, _, symbol = text.partition(":")
    return InstrumentRef(exchange.strip().upper(), symbol.strip())


def order_ref(variety: str, form: Mapping[str, str]) -> InstrumentRef:
    """The instrument a placement names, once its variety is one the paper exchange takes."""
    if variety not in VARIETIES:
        raise input_error(f"Invalid `variety` {variety!r}; the paper exchange takes regular and amo.")
    return InstrumentRef(text(form, "exchange") or "", text(form, "tradingsymbol") or "")


def order_terms(variety: str, instrument: Instrument, form: Mapping[str, str], band: Band | None) -> dict[str, Any]:
    """A placement's terms, checked as Kite checks them (the fields `PaperOrder` takes besides its identity)."""
    transaction_type = text(form, "transaction_type") or ""
    if transaction_type not in TRANSACTION_TYPES:
        raise input_error("Invalid `transaction_type`.")
    product = text(form, "product") or ""
    if product not in PRODUCTS:
        raise input_error("Invalid `product`.")
    tag = text(form, "tag")
    if tag is not None and len(tag) > MAX_TAG_LENGTH:
        raise input_error(f"Invalid `tag`. It can be at most {MAX_TAG_LENGTH} characters long.")
    order_type = text(form, "order_type") or ""
    quantity = whole(form, "quantity")
    limit, trigger = price(form, "price"), price(form, "trigger_price")
    validity = text(form, "validity") or "DAY"
    limit, trigger = check_terms(instrument, transaction_type, order_type, quantity, limit, trigger, validity, band)
    market_protection = protection(form, order_type)
    return {
        "variety": variety,
        "transaction_type": transaction_type,
        "product": product,
        "tag": tag,
        "order_type": order_type,
        "quantity": quantity or 0,
        "price": limit,
        "trigger_price": trigger,
        "validity": validity,
        "market_protection": market_protection,
    }


def modified_terms(
    order: PaperOrder, instrument: Instrument, form: Mapping[str, str], band: Band | None
) -> dict[str, Any]:
    """A modification's terms (order type, quantity, price, trigger, validity), the order's own where not sent."""
    order_type = text(form, "order_type") or order.order_type
    quantity = whole(form, "quantity") or order.quantity
    limit, trigger = price(form, "price"), price(form, "trigger_price")
    validity = text(form, "validity") or order.validity
    limit, trigger = check_terms(
        instrument,
        order.transaction_type,
        order_type,
        quantity,
        order.price if limit is None else limit,
        order.trigger_price if trigger is None else trigger,
        validity,
        band,
    )
    if quantity <= order.filled_quantity:
        raise input_error(f"Quantity must exceed the {order.filled_quantity} already filled.")
    return {
        "order_type": order_type,
        "quantity": quantity,
        "price": limit,
        "trigger_price": trigger,
        "validity": validity,
        "market_protection": protection(form, order_type, order.market_protection),
    }


def check_freeze(instrument: Instrument, quantity: int) -> None:
    """Refuse one order above the instrument's freeze quantity (autoslice splits instead)."""
    freeze = instrument.freeze_quantity
    if freeze is not None and quantity > freeze:
        raise input_error(
            f"Quantity {quantity} exceeds the freeze quantity {freeze} of "
            f"{instrument.exchange}:{instrument.tradingsymbol}. Place smaller orders, or use autoslice."
        )


def autoslices(instrument: Instrument, quantity: int) -> list[int]:
    """The child quantities of an autoslice placement: freeze-quantity slices, the rest last.

    More than `MAX_SLICES` slices are refused before any is booked, naming the largest quantity that fits.
    """
    freeze = instrument.freeze_quantity or quantity
    needed = -(-quantity // freeze)
    if needed > MAX_SLICES:
        raise input_error(
            f"Quantity {quantity} needs {needed} slices of the freeze quantity {freeze} of "
            f"{instrument.exchange}:{instrument.tradingsymbol}; an order can be sliced into at most {MAX_SLICES}. "
            f"Place at most {freeze * MAX_SLICES}."
        )
    slices = []
    while quantity > 0:
        slices.append(min(freeze, quantity))
        quantity -= slices[-1]
    return slices


def check_terms(
    instrument: Instrument,
    transaction_type: str,
    order_type: str,
    quantity: int | None,
    limit: Decimal | None,
    trigger: Decimal | None,
    validity: str,
    band: Band | None,
) -> tuple[Decimal, Decimal]:
    """Kite's order checks; returns (price, trigger) with 0 where the type has none."""
    if order_type not in ORDER_TYPES:
        raise input_error("Invalid `order_type`.")
    if validity not in VALIDITIES:
        raise input_error("Invalid `validity`.")
    if validity == "IOC" and instrument.exchange == "MCX":
        raise input_error("IOC orders are not allowed for MCX. Place a DAY order instead.")
    if quantity is None or quantity <= 0:
        raise input_error("Invalid `quantity`.")
    if quantity % instrument.lot_size:
        raise input_error(
            f"Quantity should be a multiple of the lot size ({instrument.lot_size}) "
            f"for {instrument.exchange}:{instrument.tradingsymbol}."
        )
    if order_type in LIMIT_TYPES and not limit:
        raise input_error(f"Invalid `price`. A {order_type} order needs a price.")
    if order_type in STOP_TYPES and not trigger:
        raise input_error(f"Invalid `trigger_price`. A {order_type} order needs a trigger price.")
    limit = (limit or ZERO) if order_type in LIMIT_TYPES else ZERO
    trigger = (trigger or ZERO) if order_type in STOP_TYPES else ZERO
    for value in (limit, trigger):
        if value and value % instrument.tick_size:
            raise input_error(
                f"Tick size for this script is {instrument.tick_size}. "
                "Kindly enter price in the multiple of tick size for this script."
            )
    check_band(band, limit, trigger)
    if order_type == "SL" and transaction_type == "BUY" and trigger > limit:
        raise input_error("Trigger price for stoploss buy orders should be lower than the limit price.")
    if order_type == "SL" and transaction_type == "SELL" and trigger < limit:
        raise input_error("Trigger price for stoploss sell orders should be higher than the limit price.")
    return limit, trigger


def check_band(band: Band | None, limit: Decimal, trigger: Decimal) -> None:
    """Refuse a price or trigger outside today's circuit limits."""
    if band is None:
        return
    lower, upper = band
    for value in (limit, trigger):
        if value and value < lower:
            raise input_error(
                f"Your order price is lower than the current lower circuit limit of {lower}. "
                "Place an order within the daily range."
            )
        if value and value > upper:
            raise input_error(
                f"Your order price is higher than the current upper circuit limit of {upper}. "
                "Place an order within the daily range."
            )


def margin_tickets(body: Any, priced_at: str = "price") -> list[dict[str, Any]]:
    """The orders of a margin or charges request (a JSON list of Kite's order fields), checked; `priced_at` names the
    field to price at (the contract note's `average_price`)."""
    if not isinstance(body, list) or not body or not all(isinstance(item, dict) for item in body):
        raise input_error("Send a JSON list of orders.")
    tickets = []
    for item in body:
        form = {key: str(value) for key, value in item.items() if value is not None}
        if not text(form, "exchange") or not text(form, "tradingsymbol"):
            raise input_error("Invalid `exchange` or `tradingsymbol`.")
        if text(form, "transaction_type") not in TRANSACTION_TYPES:
            raise input_error("Invalid `transaction_type`.")
        quantity = whole(form, "quantity")
        if quantity is None or quantity <= 0:
            raise input_error("Invalid `quantity`.")
        product = text(form, "product") or "NRML"
        if product not in PRODUCTS:
            raise input_error("Invalid `product`.")
        tickets.append(
            {
                **form,
                "exchange": text(form, "exchange"),
                "tradingsymbol": text(form, "tradingsymbol"),
                "quantity": quantity,
                "product": product,
                "price": price(form, priced_at),
                "trigger_price": price(form, "trigger_price"),
            }
        )
    return tickets
