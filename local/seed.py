"""The local stack's demo data: a small instrument master (NSE equities, NIFTY/BANKNIFTY options) and demo baskets.

Lot sizes, tick sizes and freeze quantities are the exchange's (NIFTY lot 65, BANKNIFTY lot 30);
prices are a plausible starting point for the paper market. The demo baskets (demo_baskets.json) are
read by GraphiQL's examples, the dashboard's templates, examples/, the benchmarks and the tests.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from trading.model.instrument import Instrument

MONTHLY_EXPIRY = date(2026, 12, 29)
DEMO_BASKETS_FILE = Path(__file__).with_name("demo_baskets.json")

_EQUITIES = [
    # token, symbol, name, tick, price
    (738561, "RELIANCE", "RELIANCE INDUSTRIES", "0.10", "1542.30"),
    (408065, "INFY", "INFOSYS", "0.10", "1618.40"),
    (779521, "SBIN", "STATE BANK OF INDIA", "0.05", "962.15"),
    (341249, "HDFCBANK", "HDFC BANK", "0.05", "998.60"),
    (2953217, "TCS", "TATA CONSULTANCY SERVICES", "0.10", "3145.70"),
]

_OPTIONS = [
    # token, underlying, strike, type, lot, freeze, price
    (13100034, "NIFTY", 25500, "CE", 65, 1800, "642.35"),
    (13100290, "NIFTY", 25500, "PE", 65, 1800, "108.40"),
    (13100546, "NIFTY", 26000, "CE", 65, 1800, "318.65"),
    (13100802, "NIFTY", 26000, "PE", 65, 1800, "281.20"),
    (13101058, "NIFTY", 26500, "CE", 65, 1800, "121.55"),
    (13101314, "NIFTY", 26500, "PE", 65, 1800, "585.90"),
    (13201538, "BANKNIFTY", 59000, "CE", 30, 600, "912.80"),
    (13201794, "BANKNIFTY", 59000, "PE", 30, 600, "846.25"),
]


def instruments() -> list[tuple[Instrument, Decimal]]:
    """Every seeded instrument with its opening price."""
    seeded = [
        (
            Instrument(
                token=token,
                exchange="NSE",
                tradingsymbol=symbol,
                name=name,
                instrument_type="EQ",
                segment="NSE",
                lot_size=1,
                tick_size=Decimal(tick),
            ),
            Decimal(price),
        )
        for token, symbol, name, tick, price in _EQUITIES
    ]
    for token, underlying, strike, kind, lot, freeze, price in _OPTIONS:
        symbol = f"{underlying}{MONTHLY_EXPIRY:%y}{MONTHLY_EXPIRY:%b}".upper() + f"{strike}{kind}"
        instrument = Instrument(
            token=token,
            exchange="NFO",
            tradingsymbol=symbol,
            name=underlying,
            instrument_type=kind,
            segment="NFO-OPT",
            lot_size=lot,
            tick_size=Decimal("0.05"),
            expiry=MONTHLY_EXPIRY,
            strike=Decimal(strike),
            freeze_quantity=freeze,
        )
        seeded.append((instrument, Decimal(price)))
    return seeded


@cache
def _demo() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_BASKETS_FILE.read_text())
    return data


def demo_basket(template: str = "nifty-iron-condor", name: str | None = None) -> dict[str, Any]:
    """A CreateBasketInput of one demo basket (by its template id), renamed when `name` is given."""
    found = next((b["input"] for b in _demo()["baskets"] if b["id"] == template), None)
    if found is None:
        raise KeyError(f"no demo basket {template!r} in {DEMO_BASKETS_FILE.name}")
    basket: dict[str, Any] = copy.deepcopy(found)
    if name is not None:
        basket["name"] = name
    return basket


def demo_order(basket_id: str, **overrides: Any) -> dict[str, Any]:
    """A PlaceOrderInput (fresh clientRequestId): one lot of the 26500 call, bought at a LIMIT of 1.00 so it rests."""
    return {"basketId": basket_id, "clientRequestId": str(uuid.uuid4()), **_demo()["order"], **overrides}
