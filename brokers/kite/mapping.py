"""Pure translations between Kite Connect payloads and neutral domain objects.

Kite's field names and strings stop here. Money and prices become `Decimal` through
`Decimal(str(value))`, so a JSON float such as 72.755 keeps the digits Kite sent.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trading.clock import IST
from trading.errors import ValidationError
from trading.ids import BrokerOrderId, TradeId
from trading.model import (
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Product,
    Side,
    Validity,
    Variety,
)
from trading.model.instrument import Instrument
from trading.rules.protection import needs_protection

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.model import Order
    from trading.model.protection import MarketProtection

log = logging.getLogger(__name__)

KITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

KITE_STATUSES: dict[str, OrderStatus | None] = {
    "OPEN": OrderStatus.OPEN,
    "COMPLETE": OrderStatus.COMPLETE,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "TRIGGER PENDING": OrderStatus.TRIGGER_PENDING,
    "PUT ORDER REQ RECEIVED": OrderStatus.PENDING,
    "VALIDATION PENDING": OrderStatus.PENDING,
    "OPEN PENDING": OrderStatus.PENDING,
    "AMO REQ RECEIVED": OrderStatus.PENDING,
    # In flight: the order is still what it was (OPEN or TRIGGER PENDING) until the exchange answers.
    "MODIFY VALIDATION PENDING": None,
    "MODIFY PENDING": None,
    "MODIFIED": None,
    "CANCEL PENDING": None,
    # A partial fill or other change that leaves the status as it was (postbacks, ticker order updates).
    "UPDATE": None,
}

_ORDER_TYPES_TO_KITE = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.SL: "SL",
    OrderType.SL_M: "SL-M",
}
_ORDER_TYPES_FROM_KITE = {v: k for k, v in _ORDER_TYPES_TO_KITE.items()}
_VARIETIES_TO_KITE = {Variety.REGULAR: "regular", Variety.AMO: "amo"}
_VARIETIES_FROM_KITE = {v: k for k, v in _VARIETIES_TO_KITE.items()}
_OPTION_TYPES = ("CE", "PE")


def status_from_kite(status: str | None) -> OrderStatus | None:
    """Kite's order status string as our status, or None for "no status change" (MODIFY…, CANCEL PENDING, UPDATE).

    An unknown status changes nothing either (and is logged): guessing could move an order the wrong way.
    """
    key = (status or "").strip().upper()
    if key not in KITE_STATUSES:
        log.warning("unknown Kite order status %r; keeping the order's status", status)
        return None
    return KITE_STATUSES[key]


def order_type_to_kite(order_type: OrderType) -> str:
    return _ORDER_TYPES_TO_KITE[order_type]


def order_type_from_kite(value: str) -> OrderType:
    return _ORDER_TYPES_FROM_KITE[value]


def variety_to_kite(variety: Variety) -> str:
    return _VARIETIES_TO_KITE[variety]


def variety_from_kite(value: str) -> Variety:
    return _VARIETIES_FROM_KITE[value]


def product_to_kite(product: Product) -> str:
    return product.value


# Cover and bracket orders are intraday (squared off like MIS); MTF is a margin-funded delivery.
_PRODUCTS_FROM_KITE = {"CNC": Product.CNC, "NRML": Product.NRML, "MIS": Product.MIS, "CO": Product.MIS}
_PRODUCTS_FROM_KITE |= {"BO": Product.MIS, "MTF": Product.CNC}


def product_from_kite(value: str) -> Product:
    """Kite's product as ours.

    Raises
    ------
    ValidationError
        A product Kite has not documented.
    """
    product = _PRODUCTS_FROM_KITE.get(value.strip().upper())
    if product is None:
        raise ValidationError(f"unknown Kite product {value!r}")
    return product


def validity_to_kite(validity: Validity) -> str:
    return validity.value


def side_from_kite(transaction_type: str) -> Side:
    return Side(transaction_type)


def decimal_from_kite(value: Any) -> Decimal | None:
    """A Kite number (int, float or string) as an exact Decimal; None for null or empty."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def protection_to_kite(order_type: OrderType, protection: MarketProtection) -> float | None:
    """Kite's `market_protection` for a MARKET or SL-M order (-1 automatic, else the percentage); None otherwise."""
    if not needs_protection(order_type):
        return None
    return -1 if protection.percent is None else float(str(protection.percent))


def price_to_kite(value: Decimal | None) -> float | None:
    """A price as kiteconnect wants it (a float), taken from the Decimal's own digits."""
    return None if value is None else float(str(value))


def utc_from_kite(value: str | datetime | None) -> datetime | None:
    """A Kite timestamp (IST; naive string, naive datetime or aware datetime) as an aware UTC time."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if len(value) != len("YYYY-MM-DD HH:MM:SS"):
            return None  # e.g. a trade's bare "16:00:36" order_timestamp carries no date
        moment = datetime.strptime(value, KITE_TIME_FORMAT).replace(tzinfo=IST)
    elif value.tzinfo is None:
        moment = value.replace(tzinfo=IST)
    else:
        moment = value
    return moment.astimezone(UTC)


def kite_time(moment: datetime) -> str:
    """An aware time as Kite writes it: IST, `YYYY-MM-DD HH:MM:SS`."""
    return moment.astimezone(IST).strftime(KITE_TIME_FORMAT)


def order_update_from_kite(row: Mapping[str, Any]) -> OrderUpdate:
    """An `orders` / `order_history` row, or a postback body, as a neutral order update."""
    filled = int(row.get("filled_quantity") or 0)
    average = decimal_from_kite(row.get("average_price")) if filled else None
    at = (
        utc_from_kite(row.get("exchange_update_timestamp"))
        or utc_from_kite(row.get("exchange_timestamp"))
        or utc_from_kite(row.get("order_timestamp"))
    )
    return OrderUpdate(
        broker_order_id=BrokerOrderId(str(row["order_id"])),
        status=status_from_kite(row.get("status")),
        tag=row.get("tag") or None,
        message=row.get("status_message") or None,
        filled_quantity=filled,
        average_price=average,
        at=at,
    )


def fill_from_kite(trade: Mapping[str, Any], order: Order) -> Fill:
    """One Kite trade of `order` as a fill of our order.

    Raises
    ------
    ValidationError
        The trade belongs to another broker order, or has no fill time.
    """
    broker_order_id = str(trade["order_id"])
    if order.broker_order_id is not None and broker_order_id != order.broker_order_id:
        raise ValidationError(
            f"trade {trade['trade_id']} is of broker order {broker_order_id}, not {order.broker_order_id}"
        )
    filled_at = utc_from_kite(trade.get("fill_timestamp")) or utc_from_kite(trade.get("exchange_timestamp"))
    if filled_at is None:
        raise ValidationError(f"trade {trade['trade_id']} has no fill time")
    return Fill(
        trade_id=TradeId(str(trade["trade_id"])),
        order_id=order.id,
        side=side_from_kite(trade["transaction_type"]),
        quantity=int(trade["quantity"]),
        price=Decimal(str(trade["average_price"])),
        filled_at=filled_at,
    )


def _expiry(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def instrument_from_kite(row: Mapping[str, Any]) -> Instrument:
    """A row of Kite's instrument master (CSV strings or kiteconnect's parsed values)."""
    instrument_type = str(row["instrument_type"])
    strike = decimal_from_kite(row.get("strike"))
    if instrument_type not in _OPTION_TYPES and not strike:
        strike = None  # Kite writes 0.0 for instruments that have no strike
    return Instrument(
        token=int(row["instrument_token"]),
        exchange=str(row["exchange"]),
        tradingsymbol=str(row["tradingsymbol"]),
        name=str(row.get("name") or ""),
        instrument_type=instrument_type,
        segment=str(row["segment"]),
        lot_size=int(row["lot_size"]),
        tick_size=Decimal(str(row["tick_size"])),
        expiry=_expiry(row.get("expiry")),
        strike=strike,
        freeze_quantity=None,
    )


def instruments_from_csv(text: str) -> list[Instrument]:
    """Kite's instrument master CSV (`/instruments`, `/instruments/{exchange}`) as instruments."""
    return [instrument_from_kite(row) for row in csv.DictReader(io.StringIO(text))]
