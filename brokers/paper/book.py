"""The paper exchange's records, each able to render itself in Kite's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trading.model import Book, Side
from trading.money import to_places

ZERO = Decimal(0)


def plain_json(value: Any) -> Any:
    """Decimals as JSON numbers (ints when whole, as Kite writes them), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value


# Kite's order statuses as the paper exchange writes them.
PUT_ORDER_REQ_RECEIVED = "PUT ORDER REQ RECEIVED"
VALIDATION_PENDING = "VALIDATION PENDING"
OPEN_PENDING = "OPEN PENDING"
AMO_REQ_RECEIVED = "AMO REQ RECEIVED"
OPEN = "OPEN"
TRIGGER_PENDING = "TRIGGER PENDING"
COMPLETE = "COMPLETE"
CANCELLED = "CANCELLED"
REJECTED = "REJECTED"
CANCEL_PENDING = "CANCEL PENDING"
MODIFY_VALIDATION_PENDING = "MODIFY VALIDATION PENDING"
MODIFY_PENDING = "MODIFY PENDING"
MODIFIED = "MODIFIED"

WORKING = frozenset({OPEN, TRIGGER_PENDING, AMO_REQ_RECEIVED})
FINAL = frozenset({COMPLETE, CANCELLED, REJECTED})


@dataclass
class PaperOrder:
    order_id: str
    placed_by: str
    variety: str
    exchange: str
    tradingsymbol: str
    instrument_token: int
    transaction_type: str
    order_type: str
    product: str
    validity: str
    quantity: int
    price: Decimal
    trigger_price: Decimal
    tag: str | None
    order_timestamp: str
    status: str = PUT_ORDER_REQ_RECEIVED
    status_message: str | None = None
    exchange_order_id: str | None = None
    exchange_timestamp: str | None = None
    exchange_update_timestamp: str | None = None
    filled_quantity: int = 0
    filled_value: Decimal = ZERO
    cancelled_quantity: int = 0
    modified: bool = False
    modifications: int = 0
    market_protection: Decimal = ZERO  # Kite's value: -1 automatic, 0 < p <= 100, 0 none
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def average_price(self) -> Decimal:
        return self.filled_value / self.filled_quantity if self.filled_quantity else ZERO

    @property
    def pending_quantity(self) -> int:
        if self.status in (COMPLETE, REJECTED):
            return 0
        return self.quantity - self.filled_quantity

    def row(self) -> dict[str, Any]:
        """The order as a row of Kite's `GET /orders` (orders.json)."""
        return {
            "placed_by": self.placed_by,
            "order_id": self.order_id,
            "exchange_order_id": self.exchange_order_id,
            "parent_order_id": None,
            "status": self.status,
            "status_message": self.status_message,
            "status_message_raw": self.status_message,
            "order_timestamp": self.order_timestamp,
            "exchange_update_timestamp": self.exchange_update_timestamp,
            "exchange_timestamp": self.exchange_timestamp,
            "variety": self.variety,
            "modified": self.modified,
            "exchange": self.exchange,
            "tradingsymbol": self.tradingsymbol,
            "instrument_token": self.instrument_token,
            "order_type": self.order_type,
            "transaction_type": self.transaction_type,
            "validity": self.validity,
            "validity_ttl": 0,
            "product": self.product,
            "quantity": self.quantity,
            "disclosed_quantity": 0,
            "price": self.price,
            "trigger_price": self.trigger_price,
            "average_price": self.average_price,
            "filled_quantity": self.filled_quantity,
            "pending_quantity": self.pending_quantity,
            "cancelled_quantity": self.cancelled_quantity,
            "market_protection": self.market_protection,
            "meta": {},
            "tag": self.tag,
            "tags": [self.tag] if self.tag else [],
            "guid": f"paper-{self.order_id}",
        }


@dataclass(frozen=True)
class PaperTrade:
    trade_id: str
    order: PaperOrder
    quantity: int
    price: Decimal
    fill_timestamp: str

    def row(self) -> dict[str, Any]:
        """The trade as a row of Kite's `GET /trades` (trades.json)."""
        return {
            "trade_id": self.trade_id,
            "order_id": self.order.order_id,
            "exchange": self.order.exchange,
            "tradingsymbol": self.order.tradingsymbol,
            "instrument_token": self.order.instrument_token,
            "product": self.order.product,
            "average_price": self.price,
            "quantity": self.quantity,
            "exchange_order_id": self.order.exchange_order_id,
            "transaction_type": self.order.transaction_type,
            "fill_timestamp": self.fill_timestamp,
            "order_timestamp": self.fill_timestamp[-8:],
            "exchange_timestamp": self.fill_timestamp,
        }


@dataclass
class PaperPosition:
    """One (instrument, product) as the domain's `Book` of its trades; values include the multiplier, as Kite's do."""

    exchange: str
    tradingsymbol: str
    instrument_token: int
    product: str
    multiplier: Decimal
    book: Book = field(default_factory=Book)  # realised and average by the domain's average cost

    def add(self, side: str, quantity: int, price: Decimal) -> None:
        """Count one trade (the simulator trades in time order)."""
        self.book = self.book.trade(Side(side), quantity, price, self.multiplier)

    @property
    def buy_quantity(self) -> int:
        return self.book.buy_quantity

    @property
    def sell_quantity(self) -> int:
        return self.book.sell_quantity

    @property
    def buy_value(self) -> Decimal:
        return self.book.buy_value

    @property
    def sell_value(self) -> Decimal:
        return self.book.sell_value

    def row(self, last_price: Decimal | None) -> dict[str, Any]:
        """The position as a row of Kite's `GET /portfolio/positions` (positions.json); no overnight carry.

        Realised and unrealised split by average cost (Zerodha's definition), rounded to paise; averages to 4 places.
        """
        net = self.book.net_quantity
        mark = last_price if last_price is not None else ZERO
        buy_price = self.buy_value / (self.buy_quantity * self.multiplier) if self.buy_quantity else ZERO
        sell_price = self.sell_value / (self.sell_quantity * self.multiplier) if self.sell_quantity else ZERO
        value = self.sell_value - self.buy_value
        pnl = value + net * mark * self.multiplier
        realised = to_places(self.book.realised, 2)
        average = to_places(self.book.average, 4)
        return {
            "tradingsymbol": self.tradingsymbol,
            "exchange": self.exchange,
            "instrument_token": self.instrument_token,
            "product": self.product,
            "quantity": net,
            "overnight_quantity": 0,
            "multiplier": self.multiplier,
            "average_price": average,
            "close_price": 0,
            "last_price": mark,
            "value": value,
            "pnl": pnl,
            "m2m": pnl,
            "unrealised": pnl - realised,
            "realised": realised,
            "buy_quantity": self.buy_quantity,
            "buy_price": buy_price,
            "buy_value": self.buy_value,
            "buy_m2m": self.buy_value,
            "sell_quantity": self.sell_quantity,
            "sell_price": sell_price,
            "sell_value": self.sell_value,
            "sell_m2m": self.sell_value,
            "day_buy_quantity": self.buy_quantity,
            "day_buy_price": buy_price,
            "day_buy_value": self.buy_value,
            "day_sell_quantity": self.sell_quantity,
            "day_sell_price": sell_price,
            "day_sell_value": self.sell_value,
        }


@dataclass
class PaperAccount:
    user_id: str
    orders: dict[str, PaperOrder] = field(default_factory=dict)
    trades: list[PaperTrade] = field(default_factory=list)
    positions: dict[tuple[str, str, str], PaperPosition] = field(default_factory=dict)
