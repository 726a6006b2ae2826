"""The local stack's demo data: a small instrument master (NSE equities, NIFTY/BANKNIFTY options) and demo baskets.

The instruments are a Kite instrument dump (seed_instruments.csv, with an index row the loader skips), loaded by
the same loader as the real dump; lot and tick sizes are the exchange's (NIFTY lot 65, BANKNIFTY lot 30), freeze
quantities come from the shipped contract tables, and `last_price` is a plausible opening for the paper market.
The demo baskets (demo_baskets.json) are read by GraphiQL's examples, the dashboard's templates, examples/, the
benchmarks and the tests.
"""

from __future__ import annotations

import copy
import csv
import json
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brokers.kite.instruments import open_dump, read_dump
from trading.usecases.instruments import InstrumentLoad, InstrumentWriter, load_instruments

if TYPE_CHECKING:
    from trading.model.instrument import Instrument

DEMO_BASKETS_FILE = Path(__file__).with_name("demo_baskets.json")
SEED_INSTRUMENTS_FILE = Path(__file__).with_name("seed_instruments.csv")


@cache
def _seeded() -> tuple[tuple[Instrument, Decimal], ...]:
    instruments: list[Instrument] = []

    class Collect:
        def put_instruments(self, batch: list[Instrument]) -> None:
            instruments.extend(batch)

    with open_dump(str(SEED_INSTRUMENTS_FILE)) as lines:
        load_instruments(read_dump(lines), Collect())
    with open_dump(str(SEED_INSTRUMENTS_FILE)) as lines:
        prices = {(row["exchange"], row["tradingsymbol"]): Decimal(row["last_price"]) for row in csv.DictReader(lines)}
    return tuple((i, prices[i.exchange, i.tradingsymbol]) for i in instruments)


def instruments() -> list[tuple[Instrument, Decimal]]:
    """Every seeded instrument (the seed dump through the instrument loader) with its opening price."""
    return list(_seeded())


def load_seed_instruments(writer: InstrumentWriter) -> InstrumentLoad:
    """Write the seed dump into the store through the loader `basketgraph instruments load` runs."""
    with open_dump(str(SEED_INSTRUMENTS_FILE)) as lines:
        return load_instruments(read_dump(lines), writer)


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
