"""Kite's previous close as its mocks carry it: `ohlc.close` of ticks (JSON and binary) and of quotes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kiteconnect import KiteTicker

from brokers.kite.feed import MarkFeed, previous_close
from brokers.paper.ticker import encode_frame
from tests.fakes import FixedClock
from trading.marks import MarkThrottle
from trading.model import InstrumentRef

MOCKS = Path(__file__).resolve().parents[2].parent / "shared" / "kite-mocks"
INFY = InstrumentRef("NSE", "INFY")


def mock(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MOCKS / name).read_text())
    return data


@pytest.mark.parametrize(
    ("name", "close"), [("ticker_full.json", "1567.8"), ("ticker_quote.json", "1567.8"), ("ticker_ltp.json", None)]
)
def test_a_ticks_previous_close_is_its_ohlc_close(name: str, close: str | None) -> None:
    assert previous_close(mock(name)) == (None if close is None else Decimal(close))


@pytest.mark.parametrize(("name", "close"), [("quote.json", "1389.65"), ("ohlc.json", "1075.8")])
def test_a_quotes_previous_close_is_its_ohlc_close(name: str, close: str) -> None:
    assert previous_close(mock(name)["data"]["NSE:INFY"]) == Decimal(close)


def test_kites_change_is_measured_from_that_close() -> None:
    # Kite's own `change` is last_price - ohlc.close: the close is the previous day's, not today's open
    tick = mock("ticker_full.json")
    assert tick["change"] == pytest.approx(tick["last_price"] - tick["ohlc"]["close"])
    assert tick["ohlc"]["close"] != tick["ohlc"]["open"]


class Written:
    def __init__(self) -> None:
        self.marks: list[tuple[InstrumentRef, Decimal, Decimal | None]] = []

    def put_mark(self, ref: InstrumentRef, price: Decimal, at: datetime, close: Decimal | None = None) -> bool:
        self.marks.append((ref, price, close))
        return True


@pytest.mark.parametrize("name", ["ticker_quote.packet", "ticker_full.packet"])
def test_kites_binary_packet_parsed_by_kiteticker_gives_the_feed_its_close(name: str) -> None:
    # Given Kite's published packet, parsed by kiteconnect's own KiteTicker as the feed service receives it
    ticks = KiteTicker("key", "token")._parse_binary(encode_frame([base64.b64decode((MOCKS / name).read_text())]))
    # When the feed takes it
    written = Written()
    feed = MarkFeed(
        written, {408065: INFY}, MarkThrottle(timedelta(0)), FixedClock(datetime(2021, 7, 5, 5, tzinfo=UTC))
    )
    feed.on_ticks(ticks)
    # Then the mark carries the previous close to the paisa
    assert written.marks == [(INFY, Decimal(str(ticks[0]["last_price"])), Decimal("1567.8"))]
