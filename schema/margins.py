"""Margin types: a basket's margin before execution and an account's funds (their shapes: `schema/margin_shapes.py`)."""

from __future__ import annotations

import strawberry

from trading.model import margin

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
