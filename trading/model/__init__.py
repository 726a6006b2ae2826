"""The domain's vocabulary: baskets, orders, fills, positions and instruments, with their rules."""

from trading.model.basket import (
    MAX_LEGS,
    MAX_NAME_LENGTH,
    MAX_STRATEGIES,
    Basket,
    BasketStatus,
    Leg,
    OrderType,
    PartialFailurePolicy,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
    check_name,
)
from trading.model.instrument import InstrumentRef
from trading.model.order import Fill, FillDecision, Order, OrderStatus, OrderUpdate, Validity, Variety, decide_fill
from trading.model.position import Book, Position, PositionKey

__all__ = [
    "MAX_LEGS",
    "MAX_NAME_LENGTH",
    "MAX_STRATEGIES",
    "Basket",
    "BasketStatus",
    "Book",
    "Fill",
    "FillDecision",
    "InstrumentRef",
    "Leg",
    "Order",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "PartialFailurePolicy",
    "Position",
    "PositionKey",
    "Product",
    "RiskLimits",
    "Schedule",
    "Side",
    "Strategy",
    "Validity",
    "Variety",
    "check_name",
    "decide_fill",
]
