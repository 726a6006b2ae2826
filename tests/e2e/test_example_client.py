"""examples/live_pnl.py, the gql client example, run as a user runs it against the started local stack."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.drive import MovingMarket
from tests.helpers import invoke

if TYPE_CHECKING:
    from local.stack import LocalStack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "live_pnl.py"
PNL_LINE = re.compile(r"^pnl (-?\d+\.\d\d) \(realised (-?\d+\.\d\d), unrealised (-?\d+\.\d\d)\) at (\S+)$")


def test_python_example_queries_mutates_and_prints_live_pnl(stack: LocalStack) -> None:
    # Given the local stack with its demo user and a moving market
    demo = stack.add_user("demo")
    with MovingMarket(stack):
        # When the example runs with its one command (pointed at this stack's port)
        result = subprocess.run(  # noqa: S603 -- our own example script
            [sys.executable, str(EXAMPLE), "--url", f"{stack.url}/graphql", "--events", "3", "--timeout", "20"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # Then it printed the query, the mutations and three live P&L updates, and exited cleanly
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == f"signed in as demo (id {demo['sub']})"
    created = re.fullmatch(r"created basket (\w+): NIFTY iron condor, 4 legs, DRAFT", lines[1])
    assert created, lines[1]
    assert re.fullmatch(r"executed: basket LIVE, 4 orders \((\w+, ){3}\w+\)", lines[2]), lines[2]
    updates = [PNL_LINE.match(line) for line in lines[3:6]]
    assert all(updates), lines[3:6]
    for update in updates:
        assert update is not None
        pnl, realised, unrealised, _ = update.groups()
        assert Decimal(pnl) == Decimal(realised) + Decimal(unrealised)
    times = [update.group(4) for update in updates if update is not None]
    assert times == sorted(times), "asOf never goes back"
    assert re.fullmatch(r"exit requested: basket (EXITING|CLOSED), 4 exit orders", lines[6]), lines[6]
    assert len(lines) == 7
    # and the basket it made is the demo user's, exiting
    basket = invoke("Query", "basket", {"id": created.group(1)}, demo["sub"])
    assert basket["status"] in {"EXITING", "CLOSED"}
    assert len(basket["orders"]) == 8


def test_python_example_reports_a_refused_token_readably(stack: LocalStack) -> None:
    result = subprocess.run(  # noqa: S603 -- our own example script
        [sys.executable, str(EXAMPLE), "--url", f"{stack.url}/graphql", "--token", "not-a-token"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("the API refused: UnauthorizedException: ")
    assert "token" in result.stderr.lower() and "Traceback" not in result.stderr
