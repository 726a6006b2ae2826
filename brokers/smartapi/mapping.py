"""Pure translations between SmartAPI payloads and neutral domain objects.

Angel's field names and strings stop here. Symbols come from the Kite instrument master: Angel's
`symboltoken` is the exchange's own token, which Kite's `instrument_token` carries in its upper
bits (`instrument_token >> 8` is Kite's `exchange_token`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.symbols import DERIVATIVE_EXCHANGES, strike_text
from trading.clock import IST
from trading.errors import ValidationError
from trading.ids import BrokerOrderId, TradeId
from trading.model import Fill, OrderStatus, OrderType, OrderUpdate, Product, Side, Validity, Variety
from trading.model.margin import Funds

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.model import Order
    from trading.model.instrument import Instrument
    from trading.model.margin import Segment
    from trading.ports import OrderRequest

log = logging.getLogger(__name__)

ORDER_TIME_FORMAT = "%d-%b-%Y %H:%M:%S"  # "20-Oct-2020 13:10:59"
FILL_TIME_FORMAT = "%H:%M:%S"  # the trade book lists today's trades with a bare time of day

ANGEL_STATUSES: dict[str, OrderStatus] = {
    "open": OrderStatus.OPEN,
    "complete": OrderStatus.COMPLETE,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "trigger pending": OrderStatus.TRIGGER_PENDING,
    "open pending": OrderStatus.PENDING,
    "validation pending": OrderStatus.PENDING,
    "put order req received": OrderStatus.PENDING,
    "after market order req received": OrderStatus.PENDING,
    "modified": OrderStatus.OPEN,
    "modify pending": OrderStatus.OPEN,
    "modify validation pending": OrderStatus.OPEN,
    "not modified": OrderStatus.OPEN,
    "cancel pending": OrderStatus.OPEN,
    "not cancelled": OrderStatus.OPEN,
}

PRODUCTS = {Product.MIS: "INTRADAY", Product.NRML: "CARRYFORWARD", Product.CNC: "DELIVERY"}
ORDER_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.SL: "STOPLOSS_LIMIT",
    OrderType.SL_M: "STOPLOSS_MARKET",
}
DURATIONS = {Validity.DAY: "DAY", Validity.IOC: "IOC"}
_OPTION_TYPES = ("CE", "PE")


def status_from_angel(status: str | None) -> OrderStatus:
    """Angel's `orderstatus` as our status; an unknown one counts as PENDING (and is logged)."""
    mapped = ANGEL_STATUSES.get((status or "").strip().lower())
    if mapped is None:
        log.warning("unknown Angel order status %r; treating it as PENDING", status)
        return OrderStatus.PENDING
    return mapped


def _expiry(instrument: Instrument) -> date:
    if instrument.expiry is None:
        raise ValidationError(f"{instrument.ref} has no expiry in the instrument master; Angel needs one")
    return instrument.expiry


def angel_symbol(instrument: Instrument) -> str:
    """Angel's trading symbol: `SBIN-EQ`, `NIFTY29DEC2626000CE`, `NIFTY29DEC26FUT`.

    Raises
    ------
    ValidationError
        The instrument lacks the master fields the symbol is built from.
    """
    if instrument.exchange not in DERIVATIVE_EXCHANGES:
        if instrument.exchange == "NSE" and instrument.instrument_type == "EQ":
            return f"{instrument.tradingsymbol}-EQ"
        return instrument.tradingsymbol
    month = f"{_expiry(instrument):%d%b%y}".upper()
    if instrument.instrument_type in _OPTION_TYPES:
        if instrument.strike is None:
            raise ValidationError(f"{instrument.ref} has no strike in the instrument master")
        return f"{instrument.name}{month}{strike_text(instrument.strike)}{instrument.instrument_type}"
    return f"{instrument.name}{month}FUT"


def angel_token(instrument: Instrument) -> str:
    """Angel's `symboltoken`: the exchange token, Kite's `instrument_token >> 8`."""
    return str(instrument.token >> 8)


def _price(value: Decimal | None) -> str:
    return "0" if value is None else str(value)


def variety_to_angel(request: OrderRequest) -> str:
    if request.variety is Variety.AMO:
        return "AMO"
    return "STOPLOSS" if request.order_type in (OrderType.SL, OrderType.SL_M) else "NORMAL"


def order_params(request: OrderRequest, instrument: Instrument) -> dict[str, Any]:
    """The `placeOrder` body for a neutral order ticket; our order id travels as `ordertag`."""
    return {
        "variety": variety_to_angel(request),
        "tradingsymbol": angel_symbol(instrument),
        "symboltoken": angel_token(instrument),
        "transactiontype": request.side.value,
        "exchange": instrument.exchange,
        "ordertype": ORDER_TYPES[request.order_type],
        "producttype": PRODUCTS[request.product],
        "duration": DURATIONS[request.validity],
        "price": _price(request.price),
        "triggerprice": _price(request.trigger_price),
        "squareoff": "0",
        "stoploss": "0",
        "quantity": str(request.quantity),
        "ordertag": request.tag,
    }


def decimal_from_angel(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _order_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), ORDER_TIME_FORMAT).replace(tzinfo=IST).astimezone(UTC)
    except ValueError:
        return None


def order_update_from_angel(row: Mapping[str, Any]) -> OrderUpdate:
    """An order book row (or an individual order's details) as a neutral order update."""
    filled = int(row.get("filledshares") or 0)
    status = status_from_angel(row.get("orderstatus") or row.get("status"))
    return OrderUpdate(
        broker_order_id=BrokerOrderId(str(row["orderid"])),
        status=status,
        tag=row.get("ordertag") or None,
        message=row.get("text") or None,
        filled_quantity=filled,
        average_price=decimal_from_angel(row.get("averageprice")) if filled else None,
        at=_order_time(row.get("exchorderupdatetime")) or _order_time(row.get("updatetime")),
    )


def fill_from_angel(trade: Mapping[str, Any], order: Order, today: date) -> Fill:
    """One trade book row of `order` as a fill; the row's bare `filltime` is on `today` (IST).

    Raises
    ------
    ValidationError
        The trade belongs to another broker order or has no readable fill time.
    """
    if order.broker_order_id is not None and str(trade["orderid"]) != order.broker_order_id:
        raise ValidationError(
            f"trade {trade['fillid']} is of Angel order {trade['orderid']}, not {order.broker_order_id}"
        )
    try:
        at = time.fromisoformat(str(trade["filltime"]).strip())
    except ValueError:
        raise ValidationError(f"trade {trade['fillid']} has no readable fill time") from None
    return Fill(
        trade_id=TradeId(str(trade["fillid"])),
        order_id=order.id,
        side=Side(str(trade["transactiontype"]).upper()),
        quantity=int(trade["fillsize"]),
        price=Decimal(str(trade["fillprice"])),
        filled_at=datetime.combine(today, at, IST).astimezone(UTC),
    )


def funds_from_angel(segment: Segment, data: Mapping[str, Any]) -> Funds:
    """`getRMS`'s data (amounts as strings): `net` is what is available, `utiliseddebits` what is blocked."""
    return Funds(
        segment=segment,
        available=decimal_from_angel(data.get("net")) or Decimal(0),
        used=decimal_from_angel(data.get("utiliseddebits")) or Decimal(0),
        cash=decimal_from_angel(data.get("availablecash")) or Decimal(0),
    )
