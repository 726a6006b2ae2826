"""Margin types (a basket's margin before execution, an account's funds) and their shapes from the domain's values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from trading.model import margin
from trading.money import to_paise

if TYPE_CHECKING:
    from trading.usecases.margins import MarginReport

RUPEES = "Rupees, a decimal string rounded to paise"

strawberry.enum(margin.Segment, name="MarginSegment", description="equity (NSE, BSE, NFO, BFO, CDS) or commodity (MCX)")


@strawberry.type(description="Margin by component; total is their sum")
class MarginBreakdown:
    total: str = strawberry.field(description=RUPEES)
    span: str
    exposure: str
    option_premium: str = strawberry.field(description="Premium paid (positive) or received (negative)")
    var: str = strawberry.field(description="Equity VaR margin (a CNC order's full value)")
    additional: str


@strawberry.type(description="What trading costs besides the price")
class Charges:
    total: str = strawberry.field(description=RUPEES)
    brokerage: str
    transaction_tax: str = strawberry.field(description="STT (CTT on MCX)")
    exchange_turnover_charge: str
    sebi_turnover_charge: str
    stamp_duty: str
    gst: str


@strawberry.type(description="One order of the basket: its margin alone and its charges")
class LegMargin:
    exchange: str
    tradingsymbol: str
    margin: MarginBreakdown
    charges: Charges


@strawberry.type(description="An account's margin in one segment")
class Funds:
    segment: margin.Segment
    available: str = strawberry.field(description="Margin available to block now (Kite's net)")
    used: str = strawberry.field(description="Margin blocked by positions and working orders")
    cash: str = strawberry.field(description="The day's opening balance")


@strawberry.type(description="What executing a basket would block, at its broker's estimate now")
class BasketMargin:
    basket_id: strawberry.ID
    initial: MarginBreakdown = strawberry.field(description="The legs' margins summed")
    final: MarginBreakdown = strawberry.field(
        description="What the basket blocks together: hedges offset, open positions considered"
    )
    hedge_benefit: str = strawberry.field(description="initial.total less final.total")
    legs: list[LegMargin] = strawberry.field(description="Each order executeBasket would place, in placement order")
    charges: Charges = strawberry.field(description="The orders' charges, estimated at their prices or last marks")
    funds: list[Funds] = strawberry.field(description="The funds of every segment the basket trades in")
    available: str = strawberry.field(description="Those funds' available margin, summed")
    shortfall: str = strawberry.field(description="How much final.total exceeds available (0.00 when covered)")


def _rupees(value: Any) -> str:
    return format(to_paise(value), "f")


def breakdown_shape(parts: margin.MarginBreakdown) -> dict[str, Any]:
    return {
        "total": _rupees(parts.total),
        "span": _rupees(parts.span),
        "exposure": _rupees(parts.exposure),
        "optionPremium": _rupees(parts.option_premium),
        "var": _rupees(parts.var),
        "additional": _rupees(parts.additional),
    }


def charges_shape(charges: margin.Charges) -> dict[str, Any]:
    return {
        "total": _rupees(charges.total),
        "brokerage": _rupees(charges.brokerage),
        "transactionTax": _rupees(charges.transaction_tax),
        "exchangeTurnoverCharge": _rupees(charges.exchange_turnover_charge),
        "sebiTurnoverCharge": _rupees(charges.sebi_turnover_charge),
        "stampDuty": _rupees(charges.stamp_duty),
        "gst": _rupees(charges.gst),
    }


def funds_shape(funds: margin.Funds) -> dict[str, Any]:
    return {
        "segment": funds.segment.name,
        "available": _rupees(funds.available),
        "used": _rupees(funds.used),
        "cash": _rupees(funds.cash),
    }


def basket_margin_shape(report: MarginReport) -> dict[str, Any]:
    m = report.margin
    return {
        "basketId": report.basket_id,
        "initial": breakdown_shape(m.initial),
        "final": breakdown_shape(m.final),
        "hedgeBenefit": _rupees(m.hedge_benefit),
        "legs": [
            {
                "exchange": leg.instrument.exchange,
                "tradingsymbol": leg.instrument.tradingsymbol,
                "margin": breakdown_shape(leg.margin),
                "charges": charges_shape(leg.charges),
            }
            for leg in m.orders
        ],
        "charges": charges_shape(report.charges),
        "funds": [funds_shape(f) for f in report.funds],
        "available": _rupees(report.available),
        "shortfall": _rupees(report.shortfall),
    }
