"""Valid domain objects with sensible defaults (NFO NIFTY options: lot 65, tick 0.05); override what a test is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId, StrategyId, TradeId, new_id
from trading.model import (
    Basket,
    Fill,
    InstrumentRef,
    Leg,
    Order,
    OrderType,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
)
from trading.model.instrument import Instrument
from trading.usecases.baskets import LegInput

OWNER = OwnerId("user-a")
OTHER_OWNER = OwnerId("user-b")
NOW = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)  # 09:30 IST, market open
NIFTY_CALL = InstrumentRef("NFO", "NIFTY26JAN24000CE")
NIFTY_PUT = InstrumentRef("NFO", "NIFTY26JAN24000PE")
NIFTY_LOT = 65


def an_instrument(**overrides: Any) -> Instrument:
    """A NIFTY weekly call on NFO."""
    defaults: dict[str, Any] = {
        "token": 12_345_678,
        "exchange": NIFTY_CALL.exchange,
        "tradingsymbol": NIFTY_CALL.tradingsymbol,
        "name": "NIFTY",
        "instrument_type": "CE",
        "segment": "NFO-OPT",
        "lot_size": NIFTY_LOT,
        "tick_size": Decimal("0.05"),
        "expiry": date(2026, 1, 27),
        "strike": Decimal(24000),
        "freeze_quantity": 1755,
        "multiplier": Decimal(1),
    }
    return Instrument(**{**defaults, **overrides})


def a_leg(**overrides: Any) -> Leg:
    defaults: dict[str, Any] = {
        "id": LegId(new_id()),
        "instrument": NIFTY_CALL,
        "side": Side.BUY,
        "lots": 1,
        "order_type": OrderType.LIMIT,
        "product": Product.NRML,
        "price": Decimal("120.05"),
    }
    return Leg(**{**defaults, **overrides})


def a_strategy(*legs: Leg, **overrides: Any) -> Strategy:
    """A strategy with the given legs (a long call and a short put by default)."""
    defaults: dict[str, Any] = {
        "id": StrategyId(new_id()),
        "name": "straddle",
        "legs": legs or (a_leg(), a_leg(instrument=NIFTY_PUT, side=Side.SELL, price=Decimal("98.35"))),
    }
    return Strategy(**{**defaults, **overrides})


def a_basket(*strategies: Strategy, **overrides: Any) -> Basket:
    """A DRAFT basket of `OWNER` with the given strategies (none by default)."""
    defaults: dict[str, Any] = {
        "id": BasketId(new_id()),
        "owner": OWNER,
        "name": "weekly straddle",
        "created_at": NOW,
        "updated_at": NOW,
        "strategies": list(strategies),
        "risk": RiskLimits(max_loss=Decimal("5000.00"), target=Decimal("2500.50")),
        "schedule": Schedule(entry_at=time(9, 20), exit_at=time(15, 15)),
    }
    return Basket(**{**defaults, **overrides})


def an_order(basket: Basket | None = None, **overrides: Any) -> Order:
    """A PENDING 2-lot LIMIT buy of the NIFTY call in `basket` (a new basket of `OWNER` by default)."""
    basket = basket or a_basket()
    defaults: dict[str, Any] = {
        "id": OrderId(new_id()),
        "owner": basket.owner,
        "basket_id": basket.id,
        "client_request_id": ClientRequestId(f"req-{new_id()}"),
        "broker": "paper",
        "instrument": NIFTY_CALL,
        "side": Side.BUY,
        "quantity": 2 * NIFTY_LOT,
        "order_type": OrderType.LIMIT,
        "product": Product.NRML,
        "created_at": NOW,
        "updated_at": NOW,
        "price": Decimal("120.05"),
    }
    return Order(**{**defaults, **overrides})


def a_fill(order: Order, **overrides: Any) -> Fill:
    """One lot of `order` at its limit price (or 120.05)."""
    defaults: dict[str, Any] = {
        "trade_id": TradeId(f"T{new_id()}"),
        "order_id": order.id,
        "side": order.side,
        "quantity": min(NIFTY_LOT, order.quantity),
        "price": order.price or Decimal("120.05"),
        "filled_at": NOW,
    }
    return Fill(**{**defaults, **overrides})


def placed(order: Order, broker_order_id: str = "") -> Order:
    """A copy of `order` as the broker accepted it."""
    return replace(order, broker_order_id=BrokerOrderId(broker_order_id or f"2601050{new_id()[-8:]}"))


def a_leg_input(**overrides: Any) -> LegInput:
    """A use case's leg input: one lot of the NIFTY call, bought at a LIMIT of 120.05."""
    defaults: dict[str, Any] = {
        "exchange": NIFTY_CALL.exchange,
        "tradingsymbol": NIFTY_CALL.tradingsymbol,
        "side": Side.BUY,
        "lots": 1,
        "order_type": OrderType.LIMIT,
        "price": Decimal("120.05"),
    }
    return LegInput(**{**defaults, **overrides})
