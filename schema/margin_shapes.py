"""A basket's margin and an account's funds as GraphQL dicts (no strawberry: the resolver Lambda imports this)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trading.money import to_paise

if TYPE_CHECKING:
    from trading.model import margin
    from trading.usecases.margins import MarginReport


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
