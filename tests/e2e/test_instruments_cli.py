"""`basketgraph instruments load FILE` against the running local stack, then the instruments over GraphQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from local import cli
from tests.graphql_client import graphql_data
from tests.unit.test_instrument_loader import ROWS, dump

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

SEARCH = (
    "query($s: String!, $e: String) { instruments(search: $s, exchange: $e) "
    "{ tradingsymbol lotSize tickSize freezeQuantity } }"
)


def test_the_cli_loads_a_kite_dump_into_the_running_stack(
    stack: LocalStack, alice: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a saved Kite dump with MCX contracts, a BSE option and an index (rows the stack does not list yet)
    path = tmp_path / "instruments.csv"
    path.write_text("".join(dump(*(row for row in ROWS if row.endswith((",MCX", ",BFO", ",INDICES,BSE"))))))
    # When it is loaded with the CLI
    code = cli.main(["--state-dir", str(stack.state_dir), "instruments", "load", str(path)])
    # Then the CLI reports what was loaded and skipped, and names the commodity without a multiplier
    out = capsys.readouterr().out
    assert code == 0
    assert "loaded 5 instrument(s); skipped 1 row(s)" in out
    assert "KAPAS" in out
    # and GraphQL lists the new contracts (and no index), with the BSE freeze limit from the shipped table
    token = alice["token"]
    crude = graphql_data(stack, token, SEARCH, {"s": "CRUDEOIL26DEC", "e": "MCX"})["instruments"]
    assert sorted(i["tradingsymbol"] for i in crude) == ["CRUDEOIL26DEC6000CE", "CRUDEOIL26DECFUT"]
    sensex = graphql_data(stack, token, SEARCH, {"s": "SENSEX", "e": "BFO"})["instruments"]
    assert sensex == [
        {"tradingsymbol": "SENSEX26DEC85000CE", "lotSize": 20, "tickSize": "0.05", "freezeQuantity": 1000}
    ]
    assert graphql_data(stack, token, SEARCH, {"s": "SENSEX", "e": "BSE"})["instruments"] == []


def test_a_missing_file_is_reported_by_the_cli(stack: LocalStack, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no instrument dump at"):
        cli.main(["--state-dir", str(stack.state_dir), "instruments", "load", str(tmp_path / "none.csv")])
