"""Loading the instrument master: a dump's instruments, completed from the contract tables, written in batches.

The dump streams in (an iterator of instruments); at most one batch is held at a time, so a 90,000-row dump
loads in constant memory. Rows that cannot be traded (indices) are counted and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from trading.rules.contracts import MCX, ContractTables, is_tradable, shipped_tables

if TYPE_CHECKING:
    from collections.abc import Iterable

    from trading.model.instrument import Instrument

DEFAULT_BATCH = 1000


class InstrumentWriter(Protocol):
    def put_instruments(self, instruments: list[Instrument]) -> None: ...


@dataclass
class InstrumentLoad:
    """What a load did: instruments written, rows skipped (not tradable), MCX commodities the table lacks."""

    loaded: int = 0
    skipped: int = 0
    without_multiplier: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {"loaded": self.loaded, "skipped": self.skipped, "withoutMultiplier": sorted(self.without_multiplier)}


def load_instruments(
    instruments: Iterable[Instrument],
    writer: InstrumentWriter,
    tables: ContractTables | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> InstrumentLoad:
    """Write every tradable instrument of `instruments`, completed from `tables` (default: the shipped ones).

    Raises
    ------
    RateLimited
        The store kept refusing a batch (what was written before stays; a rerun rewrites the same items).
    """
    tables = tables or shipped_tables()
    report = InstrumentLoad()
    batch: list[Instrument] = []
    for instrument in instruments:
        if not is_tradable(instrument):
            report.skipped += 1
            continue
        if instrument.exchange == MCX and tables.multiplier(instrument) is None:
            report.without_multiplier.add(instrument.name)
        batch.append(tables.complete(instrument))
        if len(batch) >= batch_size:
            writer.put_instruments(batch)
            report.loaded += len(batch)
            batch = []
    if batch:
        writer.put_instruments(batch)
        report.loaded += len(batch)
    return report
