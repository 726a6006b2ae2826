"""Pure translations between Finvasia Shoonya (Noren) payloads and neutral domain objects.

Noren's field names and strings stop here. Symbols come from the Kite instrument master fields.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.symbols import DERIVATIVE_EXCHANGES, strike_text
from trading.clock import IST
from trading.errors import ValidationError
from trading.ids import BrokerOrderId, TradeId
from trading.model import Fill, OrderStatus, OrderType, OrderUpdate, Product, Side, Validity, Variety

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.model import Order
    from trading.model.instrument import Instrument
    from trading.ports import OrderRequest

log = logging.getLogger(__name__)

# Noren writes times both ways round ("13-12-2020 19:59:32", "19:59:32 13-12-2020"), and a time it
# does not have as 1980-01-01 00:00:00.
TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%H:%M:%S %d-%m-%Y")
PLACEHOLDER_YEAR = 1980

NOREN_STATUSES: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.PENDING,
    "OPEN": OrderStatus.OPEN,
    "TRIGGER_PENDING": OrderStatus.TRIGGER_PENDING,
    "COMPLETE": OrderStatus.COMPLETE,
    "CANCELED": OrderStatus.CANCELLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "REJECT": OrderStatus.REJECTED,
}
PRODUCTS = {Product.MIS: "I", Product.NRML: "M", Product.CNC: "C"}
PRICE_TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.SL: "SL-LMT", OrderType.SL_M: "SL-MKT"}
RETENTIONS = {Validity.DAY: "DAY", Validity.IOC: "IOC"}
SIDES = {Side.BUY: "B", Side.SELL: "S"}
_SIDES_FROM_NOREN = {v: k for k, v in SIDES.items()}
_OPTION_TYPES = {"CE": "C", "PE": "P"}


def status_from_noren(status: str | None) -> OrderStatus:
    """Noren's order status as ours; an unknown one (e.g. INVALID_STATUS_TYPE) counts as PENDING, logged."""
    mapped = NOREN_STATUSES.get((status or "").strip().upper())
    if mapped is None:
        log.warning("unknown Shoonya order status %r; treating it as PENDING", status)
        return OrderStatus.PENDING
    return mapped


def shoonya_symbol(instrument: Instrument) -> str:
    """Noren's trading symbol: `SBIN-EQ`, `NIFTY29DEC26C26000`, `NIFTY29DEC26F`.

    Raises
    ------
    ValidationError
        The instrument lacks the master fields the symbol is built from.
    """
    if instrument.exchange not in DERIVATIVE_EXCHANGES:
        if instrument.exchange == "NSE" and instrument.instrument_type == "EQ":
            return f"{instrument.tradingsymbol}-EQ"
        return instrument.tradingsymbol
    if instrument.expiry is None:
        raise ValidationError(f"{instrument.ref} has no expiry in the instrument master; Shoonya needs one")
    month = f"{instrument.expiry:%d%b%y}".upper()
    option = _OPTION_TYPES.get(instrument.instrument_type)
    if option is None:
        return f"{instrument.name}{month}F"
    if instrument.strike is None:
        raise ValidationError(f"{instrument.ref} has no strike in the instrument master")
    return f"{instrument.name}{month}{option}{strike_text(instrument.strike)}"


def order_arguments(request: OrderRequest, instrument: Instrument) -> dict[str, Any]:
    """Keyword arguments of `NorenApi.place_order` for a neutral ticket; our order id travels as `remarks`."""
    stop = request.order_type in (OrderType.SL, OrderType.SL_M)
    return {
        "buy_or_sell": SIDES[request.side],
        "product_type": PRODUCTS[request.product],
        "exchange": instrument.exchange,
        "tradingsymbol": shoonya_symbol(instrument),
        "quantity": request.quantity,
        "discloseqty": 0,
        "price_type": PRICE_TYPES[request.order_type],
        "price": str(request.price) if request.price is not None else "0",
        "trigger_price": str(request.trigger_price) if stop and request.trigger_price is not None else None,
        "retention": RETENTIONS[request.validity],
        "amo": "YES" if request.variety is Variety.AMO else "NO",
        "remarks": request.tag,
    }


def decimal_from_noren(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def noren_time(value: Any) -> datetime | None:
    """A Noren timestamp (IST, either order of date and time) as aware UTC; None when absent or a placeholder."""
    for pattern in TIME_FORMATS:
        try:
            moment = datetime.strptime(str(value or "").strip(), pattern).replace(tzinfo=IST)
        except ValueError:
            continue
        return None if moment.year <= PLACEHOLDER_YEAR else moment.astimezone(UTC)
    return None


def order_update_from_noren(row: Mapping[str, Any]) -> OrderUpdate:
    """A `single_order_history` row (the newest is first) or an order book row as a neutral update."""
    filled = int(row.get("fillshares") or 0)
    return OrderUpdate(
        broker_order_id=BrokerOrderId(str(row["norenordno"])),
        status=status_from_noren(row.get("status")),
        tag=row.get("remarks") or None,
        message=row.get("rejreason") or None,
        filled_quantity=filled,
        average_price=decimal_from_noren(row.get("avgprc")) if filled else None,
        at=noren_time(row.get("exch_tm")) or noren_time(row.get("norentm")),
    )


def fill_from_noren(trade: Mapping[str, Any], order: Order) -> Fill:
    """One trade book row of `order` as a fill of our order.

    Raises
    ------
    ValidationError
        The trade belongs to another broker order, or has no readable fill time.
    """
    if order.broker_order_id is not None and str(trade["norenordno"]) != order.broker_order_id:
        raise ValidationError(
            f"trade {trade['flid']} is of Shoonya order {trade['norenordno']}, not {order.broker_order_id}"
        )
    filled_at = noren_time(trade.get("fltm")) or noren_time(trade.get("exch_tm")) or noren_time(trade.get("norentm"))
    if filled_at is None:
        raise ValidationError(f"trade {trade['flid']} has no readable fill time")
    return Fill(
        trade_id=TradeId(str(trade["flid"])),
        order_id=order.id,
        side=_SIDES_FROM_NOREN[str(trade["trantype"])],
        quantity=int(trade["flqty"]),
        price=Decimal(str(trade["flprc"])),
        filled_at=filled_at,
    )
