"""The dashboard's pure helpers (web/src/format.js, pnlAxis.js, tradeBook.js) under node: Indian digit grouping
on the API's decimal strings, exact sums in paise, lots, IST times, the P&L chart's y-range, the trade book."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("web_format.mjs")
MINUS = "\u2212"
TIMES = "\u00d7"  # the multiplication sign of "2 lots x 65"


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(  # noqa: S603 -- our own script, no network
        [node, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def test_rupees_are_grouped_in_lakhs_and_crores_with_two_decimals(run: dict[str, Any]) -> None:
    shown = run["rupees"]
    assert shown["1215.5"] == shown["1215.50"] == "₹1,215.50"
    assert shown["1234567"] == "₹12,34,567.00"
    assert shown["100000"] == "₹1,00,000.00"
    assert shown["10000000"] == "₹1,00,00,000.00"
    assert shown["-60"] == f"{MINUS}₹60.00"
    assert shown["0"] == "₹0.00"
    assert run["bigPaise"] == "₹1,23,45,67,890.12"


def test_rounding_to_paise_is_half_even_on_the_string(run: dict[str, Any]) -> None:
    shown = run["rupees"]
    assert shown["0.125"] == "₹0.12" and shown["0.135"] == "₹0.14"
    assert shown["-1234567.891"] == f"{MINUS}₹12,34,567.89"
    assert shown["123456789.005"] == "₹12,34,56,789.00"
    assert shown["999.995"] == "₹1,000.00"
    assert shown["12.3456"] == "₹12.35"
    assert shown["-0.004"] == "₹0.00", "no minus on a zero"
    assert shown["5."] == "₹5.00" and shown[".5"] == "₹0.50"


def test_what_is_not_an_amount_shows_a_dash(run: dict[str, Any]) -> None:
    assert run["rupees"]["abc"] == run["rupees"][""] == run["rupees"]["null"] == "—"


def test_signed_amounts_and_prices(run: dict[str, Any]) -> None:
    assert run["signed"] == ["+₹60.00", f"{MINUS}₹60.00", "₹0.00"]
    assert run["prices"] == ["120.50", "26,000.02", "1,234.50"]


def test_sums_are_exact_in_paise(run: dict[str, Any]) -> None:
    assert run["paise"] == ["10", "20", "-121550", "9999999999999999999"]
    # 0.10 + 0.20 - 1215.50 + 99999999999999999.99: beyond a float's 15-16 digits, still exact
    assert run["sum"] == "99999999999998784.79"
    assert run["sumOfNone"] == "0.00"


def test_quantities_show_their_lots(run: dict[str, Any]) -> None:
    assert run["lots"] == [
        f"130 (2 lots {TIMES} 65)",
        f"{MINUS}65 (1 lot {TIMES} 65)",
        "70 (lot size 65)",
        "0 (lot size 65)",
        "130",
        f"15,00,000 (1,00,000 lots {TIMES} 15)",
    ]


def test_times_are_ist(run: dict[str, Any]) -> None:
    assert run["times"] == ["09:30:05", "—", "—"]
    assert run["dateTimes"] == ["15:15:00", "30 Nov 15:15:00"]
    assert run["negative"] == [True, False, False, False]


def test_the_chart_range_holds_zero_and_a_floor_span(run: dict[str, Any]) -> None:
    ranges = run["ranges"]
    # a ₹60 swing in a ₹1,000 range is not a cliff; zero is always on the chart
    assert ranges["small"] == {"min": 0, "max": 1000}
    assert ranges["smallLoss"] == {"min": -1000, "max": 0}
    assert ranges["flat"] == ranges["zero"] == {"min": -500, "max": 500}
    wide = ranges["wide"]
    assert wide["min"] < -5000 and wide["max"] > 12000 and wide["max"] - wide["min"] < 17000 * 1.2


def test_the_chart_history_starts_at_zero_at_the_first_fill(run: dict[str, Any]) -> None:
    first, live, loaded = run["history"]
    assert first == {"at": 1796097605000, "pnl": "0.00", "source": "first fill"}
    assert [live["pnl"], loaded["pnl"]] == ["12.00", "-60.00"], "in time order"
    assert [p["source"] for p in run["historyNoFills"]] == ["live"], "nothing invented without fills"


def test_the_trade_book_keeps_each_trade_once_newest_first(run: dict[str, Any]) -> None:
    assert [f["tradeId"] for f in run["book"]] == ["t3", "t2", "t1"], "+05:30 is compared as a time, not as text"
    assert run["book"][1]["recordedAt"] == "2026-12-01T04:00:06.5Z"
