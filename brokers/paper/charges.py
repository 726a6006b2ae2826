"""The paper exchange's charges, in Kite's contract-note shape: Zerodha's published rates, rounded nowhere.

Brokerage ₹20 per F&O order (0.03 % capped at ₹20 for MIS, none for CNC); STT, exchange turnover, SEBI's ₹10 a
crore, stamp duty on buys, and 18 % GST on brokerage and fees, each a share of the order's turnover.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading.model.instrument import Instrument

FLAT_BROKERAGE = Decimal(20)
MIS_BROKERAGE = Decimal("0.0003")
SEBI = Decimal("0.000001")
GST = Decimal("0.18")
# (STT on buys, STT on sells, exchange turnover, stamp duty on buys) per kind of instrument.
RATES = {
    "option": (Decimal(0), Decimal("0.001"), Decimal("0.0003503"), Decimal("0.00003")),
    "future": (Decimal(0), Decimal("0.0002"), Decimal("0.0000173"), Decimal("0.00002")),
    "CNC": (Decimal("0.001"), Decimal("0.001"), Decimal("0.0000297"), Decimal("0.00015")),
    "MIS": (Decimal(0), Decimal("0.00025"), Decimal("0.0000297"), Decimal("0.00003")),
}


def kind_of(instrument: Instrument, product: str) -> str:
    if instrument.instrument_type in ("CE", "PE"):
        return "option"
    if instrument.instrument_type == "FUT":
        return "future"
    return "CNC" if product == "CNC" else "MIS"


def charges(instrument: Instrument, side: str, quantity: int, price: Decimal, product: str) -> dict[str, Any]:
    """One order's charges at `price`, as Kite's `charges` object (orders.charges, the contract note)."""
    kind = kind_of(instrument, product)
    stt_buy, stt_sell, turnover_rate, stamp_rate = RATES[kind]
    turnover = price * quantity * instrument.multiplier
    if kind in ("option", "future"):
        brokerage = FLAT_BROKERAGE if quantity else Decimal(0)
    elif kind == "MIS":
        brokerage = min(FLAT_BROKERAGE, MIS_BROKERAGE * turnover)
    else:
        brokerage = Decimal(0)
    tax = turnover * (stt_buy if side == "BUY" else stt_sell)
    exchange = turnover * turnover_rate
    sebi = turnover * SEBI
    stamp = turnover * stamp_rate if side == "BUY" else Decimal(0)
    gst = (brokerage + exchange + sebi) * GST
    return {
        "transaction_tax": tax,
        "transaction_tax_type": "ctt" if instrument.exchange == "MCX" else "stt",
        "exchange_turnover_charge": exchange,
        "sebi_turnover_charge": sebi,
        "brokerage": brokerage,
        "stamp_duty": stamp,
        "gst": {"igst": gst, "cgst": 0, "sgst": 0, "total": gst},
        "total": brokerage + tax + exchange + sebi + stamp + gst,
    }


def summed(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Charges added up (a basket's `charges`)."""
    names = ("transaction_tax", "exchange_turnover_charge", "sebi_turnover_charge", "brokerage", "stamp_duty", "total")
    total = {name: sum((Decimal(r[name]) for r in rows), Decimal(0)) for name in names}
    gst = sum((Decimal(r["gst"]["total"]) for r in rows), Decimal(0))
    return {**total, "transaction_tax_type": "", "gst": {"igst": gst, "cgst": 0, "sgst": 0, "total": gst}}
