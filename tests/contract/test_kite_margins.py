"""Kite's margin, charges and funds payloads (the published samples) through `KiteBroker` and kiteconnect.

A loopback server answers kiteconnect's real requests with Kite's sample bodies and records what was asked.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from brokers.kite.broker import KiteBroker
from brokers.kite.margins import basket_margin_from_kite, charges_from_kite, funds_from_kite
from trading.model import InstrumentRef, OrderType, Product, Side, Validity, Variety
from trading.model.margin import Segment
from trading.ports import OrderRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

# The samples live beside the repository (`../shared/kite-mocks`); a worktree sits one level deeper.
MOCKS = next(
    p / "shared" / "kite-mocks" for p in Path(__file__).resolve().parents if (p / "shared" / "kite-mocks").is_dir()
)
ROUTES = {
    ("POST", "/margins/basket"): "basket_margins.json",
    ("POST", "/margins/orders"): "order_margins.json",
    ("POST", "/charges/orders"): "virtual_contract_note.json",
    ("GET", "/user/margins"): "margins.json",
    ("GET", "/user/margins/equity"): "margins_equity.json",
    ("GET", "/user/margins/commodity"): "margin_commodity.json",
}
SHORT = OrderRequest(
    instrument=InstrumentRef("NFO", "NIFTY23JUL20600CE"),
    side=Side.SELL,
    quantity=50,
    order_type=OrderType.LIMIT,
    product=Product.NRML,
    variety=Variety.REGULAR,
    validity=Validity.DAY,
    price=Decimal("10.45"),
    trigger_price=None,
    tag="ord-short",
)
LONG = OrderRequest(
    instrument=InstrumentRef("NFO", "NIFTY23JUL20700CE"),
    side=Side.BUY,
    quantity=50,
    order_type=OrderType.MARKET,
    product=Product.NRML,
    variety=Variety.REGULAR,
    validity=Validity.DAY,
    price=None,
    trigger_price=None,
    tag="ord-long",
)


def sample(name: str) -> Any:
    return json.loads((MOCKS / name).read_text())["data"]


class KiteSamples(BaseHTTPRequestHandler):
    asked: list[dict[str, Any]]

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.asked.append({"method": method, "path": url.path, "query": parse_qs(url.query), "body": body})
        name = ROUTES.get((method, url.path))
        reply = (MOCKS / name).read_bytes() if name else b'{"status": "error", "error_type": "GeneralException"}'
        self.send_response(200 if name else 404)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kite() -> Iterator[tuple[KiteBroker, list[dict[str, Any]]]]:
    asked: list[dict[str, Any]] = []
    handler = type("Handler", (KiteSamples,), {"asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KiteBroker("key", "token", root=f"http://127.0.0.1:{server.server_address[1]}"), asked
    finally:
        server.shutdown()
        server.server_close()


def test_the_basket_sample_parses_to_initial_final_and_each_order() -> None:
    margin = basket_margin_from_kite(sample("basket_margins.json"))
    assert margin.initial.total == Decimal("96504.975")
    assert (margin.initial.span, margin.initial.option_premium) == (Decimal("66832.5"), Decimal("521.25"))
    assert margin.final.total == Decimal("34786.725000000006")
    assert margin.final.option_premium == Decimal("-2152.5")
    assert margin.hedge_benefit == Decimal("96504.975") - Decimal("34786.725000000006")
    assert [(o.instrument.tradingsymbol, o.margin.total) for o in margin.orders] == [
        ("NIFTY23JUL20600CE", Decimal("95983.725")),
        ("NIFTY23JUL20700CE", Decimal("521.25")),
    ]
    # the sample's basket `charges.total` is 0: the orders' own charges are the estimate
    assert margin.charges.total == Decimal("26.851761274999998") + Decimal("23.908152575")
    assert margin.charges.brokerage == Decimal(40)


def test_the_order_margins_and_contract_note_samples_parse_their_charges() -> None:
    [order] = sample("order_margins.json")
    assert charges_from_kite(order["charges"]).total == Decimal("1.79255122")
    notes = [charges_from_kite(row["charges"]) for row in sample("virtual_contract_note.json")]
    assert [n.total for n in notes] == [Decimal("0.5826968"), Decimal("2.84811132"), Decimal("23.689427000000002")]
    assert notes[2].gst == Decimal("3.613527")


def test_the_margins_sample_parses_to_available_and_used_per_segment() -> None:
    margins = sample("margins.json")
    equity = funds_from_kite(Segment.EQUITY, margins["equity"])
    assert (equity.available, equity.used, equity.cash) == (
        Decimal("99725.05000000002"),
        Decimal("145706.55"),
        Decimal("245431.6"),
    )
    commodity = funds_from_kite(Segment.COMMODITY, sample("margin_commodity.json"))
    assert (commodity.available, commodity.used) == (Decimal("96426.33"), Decimal("871.17"))


def test_basket_margin_asks_kite_with_consider_positions_and_each_orders_fields(kite: Any) -> None:
    broker, asked = kite
    margin = broker.basket_margin([SHORT, LONG], consider_positions=True)
    [request] = asked
    assert (request["method"], request["path"]) == ("POST", "/margins/basket")
    assert request["query"]["consider_positions"] == ["True"]
    assert request["body"][0] == {
        "exchange": "NFO",
        "tradingsymbol": "NIFTY23JUL20600CE",
        "transaction_type": "SELL",
        "variety": "regular",
        "product": "NRML",
        "order_type": "LIMIT",
        "quantity": 50,
        "price": 10.45,
        "trigger_price": 0,
    }
    assert request["body"][1]["order_type"] == "MARKET"
    assert margin.final.total < sum(o.margin.total for o in margin.orders)


def test_charges_ask_the_contract_note_with_our_tag_and_the_price_as_average(kite: Any) -> None:
    broker, asked = kite
    charges = broker.charges([SHORT])
    [request] = asked
    assert (request["method"], request["path"]) == ("POST", "/charges/orders")
    assert request["body"][0]["order_id"] == "ord-short"
    assert request["body"][0]["average_price"] == 10.45
    assert "price" not in request["body"][0]
    assert len(charges) == 3  # one per row the broker returned (the sample's three)


def test_funds_read_one_segment(kite: Any) -> None:
    broker, asked = kite
    funds = broker.funds(Segment.COMMODITY)
    assert [a["path"] for a in asked] == ["/user/margins/commodity"]
    assert (funds.segment, funds.available) == (Segment.COMMODITY, Decimal("96426.33"))
