"""Kite's margin and charges payloads (`/margins/basket`, `/margins/orders`, `/charges/orders`, `/user/margins`)
to the domain's values, and our order tickets to the order list those calls take."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.kite.mapping import order_type_to_kite, price_to_kite, product_to_kite, variety_to_kite
from trading.model import InstrumentRef
from trading.model.margin import BasketMargin, Charges, Funds, MarginBreakdown, OrderMargin

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.model.margin import Segment
    from trading.ports import OrderRequest


def money(value: Any) -> Decimal:
    """A Kite amount (a JSON number, parsed as a float) as the Decimal of its shortest repr; absent is 0."""
    return Decimal(str(value)) if value is not None and value != "" else Decimal(0)


def margin_order_to_kite(request: OrderRequest) -> dict[str, Any]:
    """One order of a margin request (Kite's order fields; a MARKET order is priced by Kite at its last price)."""
    return {
        "exchange": request.instrument.exchange,
        "tradingsymbol": request.instrument.tradingsymbol,
        "transaction_type": request.side.value,
        "variety": variety_to_kite(request.variety),
        "product": product_to_kite(request.product),
        "order_type": order_type_to_kite(request.order_type),
        "quantity": request.quantity,
        "price": price_to_kite(request.price) or 0,
        "trigger_price": price_to_kite(request.trigger_price) or 0,
    }


def contract_order_to_kite(request: OrderRequest) -> dict[str, Any]:
    """One order of a charges request: the margin fields, our tag as `order_id`, the price as `average_price`."""
    order = margin_order_to_kite(request)
    average = order.pop("price")
    return {**order, "order_id": request.tag, "average_price": average}


def charges_from_kite(row: Mapping[str, Any] | None) -> Charges:
    row = row or {}
    gst = row.get("gst") or {}
    return Charges(
        brokerage=money(row.get("brokerage")),
        transaction_tax=money(row.get("transaction_tax")),
        exchange_turnover_charge=money(row.get("exchange_turnover_charge")),
        sebi_turnover_charge=money(row.get("sebi_turnover_charge")),
        stamp_duty=money(row.get("stamp_duty")),
        gst=money(gst.get("total")),
        total=money(row.get("total")),
    )


def breakdown_from_kite(row: Mapping[str, Any]) -> MarginBreakdown:
    return MarginBreakdown(
        total=money(row.get("total")),
        span=money(row.get("span")),
        exposure=money(row.get("exposure")),
        option_premium=money(row.get("option_premium")),
        var=money(row.get("var")),
        additional=money(row.get("additional")),
    )


def order_margin_from_kite(row: Mapping[str, Any]) -> OrderMargin:
    """One row of `orders` (basket) or of `/margins/orders`."""
    return OrderMargin(
        instrument=InstrumentRef(str(row["exchange"]), str(row["tradingsymbol"])),
        margin=breakdown_from_kite(row),
        charges=charges_from_kite(row.get("charges")),
    )


def basket_margin_from_kite(data: Mapping[str, Any]) -> BasketMargin:
    """`POST /margins/basket`'s data: initial, final, each order, and charges (the orders' own, summed, when Kite's
    basket `charges.total` is 0 as in its sample)."""
    orders = [order_margin_from_kite(row) for row in data.get("orders") or []]
    charges = charges_from_kite(data.get("charges"))
    if not charges.total:
        charges = sum((o.charges for o in orders), Charges())
    return BasketMargin(
        initial=breakdown_from_kite(data["initial"]),
        final=breakdown_from_kite(data["final"]),
        orders=orders,
        charges=charges,
    )


def funds_from_kite(segment: Segment, data: Mapping[str, Any]) -> Funds:
    """`GET /user/margins/{segment}`'s data: `net` is what is available, `utilised.debits` what is blocked."""
    available, utilised = data.get("available") or {}, data.get("utilised") or {}
    return Funds(
        segment=segment,
        available=money(data.get("net")),
        used=money(utilised.get("debits")),
        cash=money(available.get("opening_balance", available.get("cash"))),
    )
