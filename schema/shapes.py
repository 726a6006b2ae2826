"""Domain objects as the JSON AppSync expects (camelCase keys, decimals as strings)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from trading.model.account import BrokerName

if TYPE_CHECKING:
    from trading.model import Basket, Order, Position
    from trading.model.instrument import Instrument
    from trading.valuation import PnlReport

PAISA = Decimal("0.01")


def amount(value: Decimal | None) -> str | None:
    """A price or quantity-like decimal, exact, without exponent."""
    if value is None:
        return None
    return format(value.normalize(), "f")


def price(value: Decimal | None) -> str | None:
    """A price or value: exact, with at least two decimals (paise) as traders write them."""
    if value is None:
        return None
    exact = value.normalize()
    return format(exact if exact.as_tuple().exponent < -2 else value.quantize(PAISA), "f")  # type: ignore[operator]


def average(value: Decimal | None) -> str | None:
    """An average price, rounded half-even to 4 places (a division rarely ends)."""
    return None if value is None else price(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def rupees(value: Decimal) -> str:
    """Money rounded half-even to paise."""
    return format(value.quantize(PAISA, rounding=ROUND_HALF_EVEN), "f")


def basket(b: Basket, orders: list[Order] | None = None, positions: list[Position] | None = None) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "status": b.status.value,
        "statusMessage": b.status_message,
        "version": b.version,
        "strategies": [
            {
                "id": s.id,
                "name": s.name,
                "legs": [
                    {
                        "id": leg.id,
                        "exchange": leg.instrument.exchange,
                        "tradingsymbol": leg.instrument.tradingsymbol,
                        "side": leg.side.value,
                        "lots": leg.lots,
                        "orderType": leg.order_type.value,
                        "product": leg.product.value,
                        "price": price(leg.price),
                        "triggerPrice": price(leg.trigger_price),
                        "marketProtection": str(leg.market_protection),
                    }
                    for leg in s.legs
                ],
            }
            for s in b.strategies
        ],
        "risk": {"maxLoss": price(b.risk.max_loss), "target": price(b.risk.target)},
        "schedule": {
            "entryAt": b.schedule.entry_at.strftime("%H:%M") if b.schedule.entry_at else None,
            "exitAt": b.schedule.exit_at.strftime("%H:%M") if b.schedule.exit_at else None,
        },
        "onPartialFailure": b.on_partial_failure.value,
        "broker": BrokerName.of(b.broker).value if b.broker else None,
        "orders": [order(o) for o in orders or []],
        "positions": [position(p) for p in positions or []],
        "createdAt": timestamp(b.created_at),
        "updatedAt": timestamp(b.updated_at),
    }


def timestamp(at: Any) -> str:
    return str(at.isoformat().replace("+00:00", "Z"))


def order(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "basketId": o.basket_id,
        "strategyId": o.strategy_id,
        "legId": o.leg_id,
        "clientRequestId": o.client_request_id,
        "broker": o.broker,
        "brokerOrderId": o.broker_order_id,
        "exchange": o.instrument.exchange,
        "tradingsymbol": o.instrument.tradingsymbol,
        "side": o.side.value,
        "quantity": o.quantity,
        "filledQuantity": o.filled_quantity,
        "pendingQuantity": o.pending_quantity,
        "averagePrice": average(o.average_price),
        "orderType": o.order_type.value,
        "product": o.product.value,
        "variety": o.variety.value,
        "validity": o.validity.value,
        "price": price(o.price),
        "triggerPrice": price(o.trigger_price),
        "marketProtection": str(o.market_protection),
        "status": o.status.value,
        "statusMessage": o.status_message,
        "version": o.version,
        "createdAt": timestamp(o.created_at),
        "updatedAt": timestamp(o.updated_at),
    }


def position(p: Position) -> dict[str, Any]:
    return {
        "basketId": p.key.basket_id,
        "strategyId": p.key.strategy_id,
        "exchange": p.key.instrument.exchange,
        "tradingsymbol": p.key.instrument.tradingsymbol,
        "product": p.key.product.value,
        "multiplier": amount(p.multiplier),
        "buyQuantity": p.buy_quantity,
        "sellQuantity": p.sell_quantity,
        "netQuantity": p.net_quantity,
        "buyValue": price(p.buy_value),
        "sellValue": price(p.sell_value),
        "buyPrice": average(p.buy_price),
        "sellPrice": average(p.sell_price),
    }


def pnl(report: PnlReport) -> dict[str, Any]:
    return {
        "basketId": report.basket_id,
        "pnl": rupees(report.pnl),
        "realised": rupees(report.realised),
        "unrealised": rupees(report.unrealised),
        "positions": [
            {
                "position": position(row.position),
                "lastPrice": price(row.last_price),
                "pnl": rupees(row.pnl),
                "realised": rupees(row.realised),
                "unrealised": rupees(row.unrealised),
            }
            for row in report.positions
        ],
    }


def instrument(i: Instrument) -> dict[str, Any]:
    return {
        "token": i.token,
        "exchange": i.exchange,
        "tradingsymbol": i.tradingsymbol,
        "name": i.name,
        "instrumentType": i.instrument_type,
        "segment": i.segment,
        "lotSize": i.lot_size,
        "tickSize": amount(i.tick_size),
        "expiry": i.expiry.isoformat() if i.expiry else None,
        "strike": amount(i.strike),
        "freezeQuantity": i.freeze_quantity,
    }
