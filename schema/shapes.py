"""Domain objects as the JSON AppSync expects (camelCase keys, decimals as strings)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from trading.clock import IST, SystemClock
from trading.model.account import BrokerName
from trading.model.day_view import DayView
from trading.model.leg_risk import NO_LEG_RISK
from trading.money import shown_pnl, to_paise, to_places

if TYPE_CHECKING:
    from datetime import date

    from trading.model import Basket, BookedFill, Order, Position
    from trading.model.instrument import Instrument
    from trading.model.leg_risk import LegRisk, Level, StrategyRisk
    from trading.usecases.risk_state import LegRiskView, RiskView
    from trading.valuation import PnlReport, PositionPnl

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


def average(value: Decimal | Fraction | None) -> str | None:
    """An average price, rounded half-even to 4 places (a division rarely ends)."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return price(to_places(value, 4))
    return price(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def rupees(value: Decimal | Fraction) -> str:
    """Money rounded half-even to paise, once (never "-0.00")."""
    return format(to_paise(value), "f")


def today() -> date:
    """The IST trading day a position's day figures are of, when the caller does not say."""
    return SystemClock().now().astimezone(IST).date()


def basket(
    b: Basket, orders: list[Order] | None = None, positions: list[Position] | None = None, day: date | None = None
) -> dict[str, Any]:
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
                "risk": strategy_risk(s.risk),
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
                        "risk": leg_risk(leg.risk),
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
        "positions": [position(p, day) for p in positions or []],
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


def fill(booked: BookedFill) -> dict[str, Any]:
    f = booked.fill
    return {
        "tradeId": f.trade_id,
        "orderId": f.order_id,
        "basketId": booked.basket_id,
        "exchange": booked.instrument.exchange,
        "tradingsymbol": booked.instrument.tradingsymbol,
        "side": f.side.value,
        "quantity": f.quantity,
        "price": price(f.price),
        "filledAt": timestamp(f.filled_at),
        "recordedAt": None if booked.recorded_at is None else timestamp(booked.recorded_at),
    }


def position(p: Position, day: date | None = None) -> dict[str, Any]:
    """A position with Kite's fields; the day figures are of `day` (default: today, IST)."""
    view = DayView.of(p, day or today())
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
        "averagePrice": average(p.average_price),
        "value": price(p.value),
        "overnightQuantity": view.overnight_quantity,
        "dayBuyQuantity": view.day_buy_quantity,
        "dayBuyValue": price(view.day_buy_value),
        "dayBuyPrice": average(view.day_buy_price),
        "daySellQuantity": view.day_sell_quantity,
        "daySellValue": price(view.day_sell_value),
        "daySellPrice": average(view.day_sell_price),
    }


def position_pnl(row: PositionPnl, day: date | None = None) -> dict[str, Any]:
    """One valued position: exact figures rounded once here, so pnl == realised + unrealised as shown.

    Its close and m2m are `day`'s: a close the feed saw on another day is another day's previous close.
    """
    day = day or today()
    close_price = None if row.close is None else row.close.on(day)
    shown, realised, unrealised = shown_pnl(row.pnl, row.realised)
    m2m = None if row.last_price is None else DayView.of(row.position, day).m2m(row.pnl, close_price)
    return {
        "position": position(row.position, day),
        "lastPrice": price(row.last_price),
        "closePrice": price(close_price),
        "pnl": format(shown, "f"),
        "realised": format(realised, "f"),
        "unrealised": format(unrealised, "f"),
        "m2m": None if m2m is None else rupees(m2m),
    }


def pnl(report: PnlReport, day: date | None = None) -> dict[str, Any]:
    """A basket's P&L: its totals rounded once (pnl == realised + unrealised as shown) and its rows."""
    shown, realised, unrealised = shown_pnl(report.pnl, report.realised)
    return {
        "basketId": report.basket_id,
        "pnl": format(shown, "f"),
        "realised": format(realised, "f"),
        "unrealised": format(unrealised, "f"),
        "asOf": None if report.as_of is None else timestamp(report.as_of),
        "positions": [position_pnl(row, day) for row in report.positions],
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


def _level(level: Level | None) -> dict[str, Any] | None:
    return None if level is None else {"basis": level.basis.value, "value": str(level.value)}


def leg_risk(risk: LegRisk) -> dict[str, Any] | None:
    """A leg's managed-exit settings (None when it has none)."""
    if risk == NO_LEG_RISK:
        return None
    trail, re_entry = risk.trail, risk.re_entry
    return {
        "stopLoss": _level(risk.stop_loss),
        "target": _level(risk.target),
        "trail": {"step": str(trail.step), "offset": str(trail.offset)} if trail else None,
        "moveToCostAt": _level(risk.move_to_cost_at),
        "reEntry": {"times": re_entry.times, "until": re_entry.until.strftime("%H:%M") if re_entry.until else None}
        if re_entry
        else None,
        "stopLossMode": risk.stop_loss_mode.value,
    }


def leg_risk_levels(view: LegRiskView) -> dict[str, Any]:
    """One watched leg's risk as `LegRiskLevels`."""
    state, leg = view.state, view.leg
    return {
        "legId": leg.id,
        "strategyId": view.strategy_id,
        "exchange": leg.instrument.exchange,
        "tradingsymbol": leg.instrument.tradingsymbol,
        "side": leg.side.value,
        "entry": price(state.entry),
        "stopLoss": price(state.stop),
        "target": price(state.target),
        "trailingPeak": price(state.peak),
        "movedToCost": state.moved_to_cost,
        "lastPrice": price(view.last_price),
        "distanceToStopLoss": price(view.to_stop),
        "distanceToTarget": price(view.to_target),
        "triggered": state.fired.value if state.fired else None,
        "triggeredAt": price(state.fired_at),
        "reEntriesUsed": state.re_entries,
        "reEntriesLeft": view.re_entries_left,
        "stopOrderIds": list(state.stop_orders),
    }


def risk_state(view: RiskView) -> dict[str, Any]:
    """A basket's `RiskState`, its legs (the resolver adds the account's report, `account`)."""
    return {"basketId": view.basket_id, "legs": [leg_risk_levels(leg) for leg in view.legs]}


def strategy_risk(risk: StrategyRisk | None) -> dict[str, Any] | None:
    if risk is None:
        return None
    return {"basis": risk.basis.value, "stopLoss": amount(risk.stop_loss), "target": amount(risk.target)}
