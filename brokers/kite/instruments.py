"""Kite's instrument dump (`https://api.kite.trade/instruments`, or a saved copy) read as a stream of instruments.

The dump is a CSV of about 90,000 rows; it is read row by row (the csv module over a line iterator), never
held whole. A file may be gzip-compressed (`.gz`); a URL is fetched with `requests`, streamed.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
from decimal import InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from brokers.kite.mapping import instrument_from_kite
from trading.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests

    from trading.model.instrument import Instrument

KITE_INSTRUMENTS_URL = "https://api.kite.trade/instruments"
COLUMNS = (
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
)
DOWNLOAD_TIMEOUT_SECONDS = 120


def read_dump(lines: Iterable[str]) -> Iterator[Instrument]:
    """The instruments of a dump's lines (its header first), one row at a time.

    Raises
    ------
    ValidationError
        The header lacks Kite's columns, or a row's number or date does not parse (the line is named).
    """
    reader = csv.DictReader(lines)
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise ValidationError(f"not a Kite instrument dump: no column {', '.join(missing)}")
    for row in reader:
        try:
            yield instrument_from_kite(row)
        except (ValueError, InvalidOperation, TypeError) as exc:
            raise ValidationError(f"instrument dump line {reader.line_num}: {exc}") from exc


@contextlib.contextmanager
def open_dump(source: str, session: requests.Session | None = None) -> Iterator[Iterator[str]]:
    """The lines of a dump at `source`: an http(s) URL, or a file path (gzip when it ends in `.gz`).

    Raises
    ------
    ValidationError
        The file does not exist, or the URL answers with an error.
    """
    if source.startswith(("http://", "https://")):
        import requests  # only a download needs it (the settings import this module for its URL)

        http = session or requests.Session()
        try:
            reply = http.get(source, stream=True, timeout=DOWNLOAD_TIMEOUT_SECONDS)
            reply.raise_for_status()
        except requests.RequestException as exc:
            raise ValidationError(f"could not download the instrument dump from {source}: {exc}") from exc
        with contextlib.closing(reply):
            reply.encoding = reply.encoding or "utf-8"
            yield (line for line in reply.iter_lines(decode_unicode=True) if line is not None)
        return
    path = Path(source)
    if not path.is_file():
        raise ValidationError(f"no instrument dump at {source}")
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
            yield iter(text)
    else:
        with path.open(encoding="utf-8", newline="") as text:
            yield iter(text)
