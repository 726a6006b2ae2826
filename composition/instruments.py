"""The instrument master's refresh: Kite's dump (a URL or a file) through the loader into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers.kite.instruments import open_dump, read_dump
from trading.usecases.instruments import load_instruments

if TYPE_CHECKING:
    from trading.usecases.instruments import InstrumentLoad, InstrumentWriter


def load_instrument_dump(source: str, writer: InstrumentWriter) -> InstrumentLoad:
    """Stream the dump at `source` (http(s) URL or file path, `.gz` too) into `writer`, in batches.

    Raises
    ------
    ValidationError
        The source is missing or unreachable, or is not a Kite instrument dump.
    """
    with open_dump(source) as lines:
        return load_instruments(read_dump(lines), writer)
