"""Contract data the instrument dump lacks, shipped as data naming its source: the exchanges' quantity freeze
limits (`freeze_quantities.json`) and MCX's contract multipliers (`mcx_multipliers.json`).

Kite's dump gives no freeze limit and lists MCX contracts with lot size 1 (the multiplier shows only on
positions); `ContractTables.complete` fills both in. Index rows (lot size 0, tick size 0) are not tradable.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading.model.instrument import Instrument

MCX = "MCX"


def is_tradable(instrument: Instrument) -> bool:
    """Whether orders can be placed in it: indices in the dump have lot size 0 and tick size 0."""
    return instrument.lot_size > 0 and instrument.tick_size > 0


@dataclass(frozen=True)
class ContractTables:
    """Freeze limits by (exchange, underlying name) and MCX multipliers by commodity name."""

    freeze_quantities: dict[tuple[str, str], int]
    mcx_multipliers: dict[str, Decimal]
    sources: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def freeze_quantity(self, instrument: Instrument) -> int | None:
        return self.freeze_quantities.get((instrument.exchange, instrument.name))

    def multiplier(self, instrument: Instrument) -> Decimal | None:
        """MCX's multiplier for the instrument's commodity (None: not in the table); 1 on other exchanges."""
        if instrument.exchange != MCX:
            return Decimal(1)
        return self.mcx_multipliers.get(instrument.name)

    def complete(self, instrument: Instrument) -> Instrument:
        """The instrument with its freeze limit and multiplier from the tables (those it has otherwise)."""
        multiplier = self.multiplier(instrument)
        return dataclasses.replace(
            instrument,
            freeze_quantity=self.freeze_quantity(instrument) or instrument.freeze_quantity,
            multiplier=instrument.multiplier if multiplier is None else multiplier,
        )


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
    return data


@cache
def shipped_tables() -> ContractTables:
    """The tables shipped in this package."""
    freeze, multipliers = _read("freeze_quantities.json"), _read("mcx_multipliers.json")
    return ContractTables(
        freeze_quantities={(row["exchange"], row["name"]): int(row["freeze_quantity"]) for row in freeze["limits"]},
        mcx_multipliers={name: Decimal(str(value)) for name, value in multipliers["multipliers"].items()},
        sources={"freeze_quantities": freeze["source"], "mcx_multipliers": multipliers["source"]},
    )
