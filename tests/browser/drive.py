"""Runs the node scenarios in tests/browser (Debian's chromium through playwright-core) and moves the paper
market while they watch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from decimal import Decimal
    from types import TracebackType

    from local.stack import LocalStack
    from trading.model import InstrumentRef

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# Console noise GraphiQL's own dialogs make in a headless window; anything else fails the test.
BENIGN_CONSOLE = ("react-remove-scroll-bar",)

# CI installs chromium (.ci/run), so there a missing browser fails instead of skipping.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)


def run_scenario(script: str, payload: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
    """Run `node tests/browser/<script>` with `payload` (plus the artifacts dir); returns what it printed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    node = shutil.which("node")
    assert node is not None, "node is needed for the browser tests (npm ci installs playwright-core)"
    result = subprocess.run(  # noqa: S603 -- our own scenario script, loopback URLs
        [node, str(HERE / script)],
        input=json.dumps({"artifacts": str(ARTIFACTS), **payload}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
    )
    try:
        output: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"{script} printed no result:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}") from None
    for shot in output.get("screenshots", []):
        print(f"screenshot: {shot}")
    assert result.returncode == 0 and "failed" not in output, f"{output.get('failed')}\n{result.stderr[-3000:]}"
    return output


def real_problems(output: dict[str, Any]) -> list[str]:
    """Page errors and console errors the scenario saw, less known GraphiQL noise."""
    return [p for p in output.get("problems", []) if not any(benign in p for benign in BENIGN_CONSOLE)]


class MovingMarket:
    """While open, the stack's own market simulator ticks every `interval` seconds (the session stack runs it
    only when told): a random walk on each instrument's tick size, held instruments first, marks throttled as
    the feed writes them. On close the opening prices are put back for the tests that follow."""

    def __init__(self, stack: LocalStack, interval: float = 0.25) -> None:
        self.stack = stack
        self.interval = interval
        self.opening: dict[InstrumentRef, Decimal] = {}
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moving-market", daemon=True)

    def __enter__(self) -> MovingMarket:
        self.opening = dict(self.stack.exchange.prices())
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.stack.market.step()
            self.ticks += 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.stack.set_prices(self.opening)
