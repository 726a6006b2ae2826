"""The instrument loader: Kite's dump streamed through the contract tables into batches; indices skipped."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from brokers.kite.instruments import COLUMNS, open_dump, read_dump
from trading.errors import ValidationError
from trading.rules.contracts import shipped_tables
from trading.rules.pre_trade import check_price, check_quantity
from trading.usecases.instruments import load_instruments

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trading.model.instrument import Instrument

KITE_MOCKS = Path(__file__).resolve().parents[3] / "shared" / "kite-mocks"
HEADER = ",".join(COLUMNS)
ROWS = [
    "256265,1001,NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,NSE",  # an index: lot 0, tick 0
    "265,1,SENSEX,SENSEX,0.0,,0.0,0.0,0,EQ,INDICES,BSE",
    "13100034,51172,NIFTY26DEC25500CE,NIFTY,0.0,2026-12-29,25500.0,0.05,65,CE,NFO-OPT,NFO",
    "13201538,51568,BANKNIFTY26DEC59000CE,BANKNIFTY,0.0,2026-12-29,59000.0,0.05,30,CE,NFO-OPT,NFO",
    "283001,1105,SENSEX26DEC85000CE,SENSEX,0.0,2026-12-24,85000.0,0.05,20,CE,BFO-OPT,BFO",
    "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0.0,,0.0,0.1,1,EQ,NSE,NSE",
    "112001,437,CRUDEOIL26DECFUT,CRUDEOIL,0.0,2026-12-17,0.0,1.0,1,FUT,MCX-FUT,MCX",
    "112257,438,GOLDM26DECFUT,GOLDM,0.0,2026-12-04,0.0,1.0,1,FUT,MCX-FUT,MCX",
    "112513,439,CRUDEOIL26DEC6000CE,CRUDEOIL,0.0,2026-12-16,6000.0,0.1,1,CE,MCX-OPT,MCX",
    "112769,440,KAPAS26DECFUT,KAPAS,0.0,2026-12-30,0.0,0.5,1,FUT,MCX-FUT,MCX",  # not in the multiplier table
]


class Batches:
    """`InstrumentWriter` recording each batch it is handed."""

    def __init__(self) -> None:
        self.batches: list[list[Instrument]] = []

    def put_instruments(self, instruments: list[Instrument]) -> None:
        self.batches.append(list(instruments))

    @property
    def by_symbol(self) -> dict[str, Instrument]:
        return {i.tradingsymbol: i for batch in self.batches for i in batch}


def dump(*rows: str) -> list[str]:
    return [HEADER + "\n", *(row + "\n" for row in rows)]


def test_index_rows_are_skipped_and_the_rest_completed_from_the_contract_tables() -> None:
    # Given a dump with two indices, NFO/BFO options, an equity and MCX contracts (Kite's lot size 1)
    writer = Batches()
    # When it is loaded
    report = load_instruments(read_dump(dump(*ROWS)), writer)
    # Then the indices are skipped rather than stored (their lot size 0 would divide by zero in the checks)
    assert (report.loaded, report.skipped) == (8, 2)
    loaded = writer.by_symbol
    assert "NIFTY 50" not in loaded
    assert "SENSEX" not in loaded
    # and freeze limits and multipliers come from the shipped tables
    assert loaded["NIFTY26DEC25500CE"].freeze_quantity == 1800
    assert loaded["BANKNIFTY26DEC59000CE"].freeze_quantity == 600
    assert loaded["SENSEX26DEC85000CE"].freeze_quantity == 1000
    assert loaded["RELIANCE"].freeze_quantity is None
    assert loaded["CRUDEOIL26DECFUT"].multiplier == Decimal(100)
    assert loaded["CRUDEOIL26DEC6000CE"].multiplier == Decimal(100)  # options share the future's multiplier
    assert loaded["GOLDM26DECFUT"].multiplier == Decimal(10)
    assert loaded["CRUDEOIL26DECFUT"].lot_size == 1
    assert loaded["NIFTY26DEC25500CE"].multiplier == Decimal(1)
    assert loaded["NIFTY26DEC25500CE"].strike == Decimal(25500)
    # and an MCX commodity the table lacks loads at multiplier 1, named in the report
    assert loaded["KAPAS26DECFUT"].multiplier == Decimal(1)
    assert report.without_multiplier == {"KAPAS"}
    assert report.as_dict() == {"loaded": 8, "skipped": 2, "withoutMultiplier": ["KAPAS"]}


def test_an_index_is_refused_by_the_pre_trade_checks_instead_of_dividing_by_zero() -> None:
    (index,) = read_dump(dump(ROWS[0]))
    with pytest.raises(ValidationError, match="NSE:NIFTY 50 cannot be traded"):
        check_quantity(50, index)
    with pytest.raises(ValidationError, match="cannot be traded"):
        check_price(Decimal("24000"), index)


def test_the_dump_streams_one_batch_at_a_time() -> None:
    # Given a dump of 2,500 equities, read lazily
    read: list[int] = []

    def lines() -> Iterator[str]:
        yield HEADER
        for n in range(2500):
            read.append(n)
            yield f"{n + 1},{n},SYM{n},NAME {n},0.0,,0.0,0.05,1,EQ,NSE,NSE"

    seen_when_written: list[int] = []

    class Writer(Batches):
        def put_instruments(self, instruments: list[Instrument]) -> None:
            seen_when_written.append(len(read))
            super().put_instruments(instruments)

    writer = Writer()
    # When it is loaded in batches of 1,000
    report = load_instruments(read_dump(lines()), writer, batch_size=1000)
    # Then each batch was written as soon as it was full, before the rest of the file was read
    assert [len(b) for b in writer.batches] == [1000, 1000, 500]
    assert seen_when_written == [1000, 2000, 2500]
    assert report.loaded == 2500


def test_kites_published_sample_dump_loads_every_row() -> None:
    writer = Batches()
    with open_dump(str(KITE_MOCKS / "instruments_all.csv")) as lines:
        report = load_instruments(read_dump(lines), writer)
    assert report.loaded == 99
    assert report.skipped == 0
    assert writer.by_symbol["CENTRALBK-BE"].tick_size == Decimal("0.05")


def test_a_gzip_file_reads_as_the_plain_one(tmp_path: Path) -> None:
    path = tmp_path / "instruments.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(dump(*ROWS))
    with open_dump(str(path)) as lines:
        assert len(list(read_dump(lines))) == len(ROWS)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["token,symbol\n", "1,X\n"], "not a Kite instrument dump: no column instrument_token"),
        (dump("x,1,SYM,NAME,0.0,,0.0,0.05,1,EQ,NSE,NSE"), "instrument dump line 2"),
        (dump("1,1,SYM,NAME,0.0,2026-13-01,0.0,0.05,1,FUT,NFO-FUT,NFO"), "instrument dump line 2"),
        (dump("1,1,SYM,NAME,0.0,,0.0,abc,1,EQ,NSE,NSE"), "instrument dump line 2"),
    ],
)
def test_a_malformed_dump_is_a_validation_error_naming_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_instruments(read_dump(lines), Batches())


def test_a_missing_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no instrument dump at"), open_dump(str(tmp_path / "none.csv")):
        pass


def test_the_contract_tables_name_their_sources() -> None:
    tables = shipped_tables()
    for source in tables.sources.values():
        assert source["document"]
        assert source["dated"]
        assert source["checked_against_original"] is False  # written without network access; says so
    assert tables.freeze_quantities["NFO", "NIFTY"] == 1800
