"""The three venues the adapter contract suite runs against, each behind the same small interface.

- `PaperVenue`: the paper exchange over real loopback HTTP, driven by `KiteBroker` (the official kiteconnect).
- `AngelVenue`: recorded SmartAPI responses served on loopback; `SmartApiBroker` through the official SDK.
- `ShoonyaVenue`: recorded Noren responses served on loopback; `ShoonyaBroker` through the official SDK.

A recorded venue checks the session credential on every request, as the broker does, so expiring
the token there makes the SDK receive the broker's own refusal body.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from tests.fakes import FixedClock
from trading.model import InstrumentRef
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ports import Broker
    from trading.valuation import PreviousClose

FIXTURES = Path(__file__).parent / "fixtures"
CE = Instrument(
    token=13100546,
    exchange="NFO",
    tradingsymbol="NIFTY26DEC26000CE",
    name="NIFTY",
    instrument_type="CE",
    segment="NFO-OPT",
    lot_size=65,
    tick_size=Decimal("0.05"),
    expiry=date(2026, 12, 29),
    strike=Decimal(26000),
    freeze_quantity=1800,
)
LIMIT = Decimal("300.00")
QUANTITY = 130
LAST_PRICE = Decimal("318.65")  # every venue's latest mark of CE (the paper exchange's last price)
TODAY = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 10:30 IST, the recorded trading day


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


class StaticInstruments:
    """The `Instruments` port over a fixed list (the adapters look symbols up in it)."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self._by_ref = {i.ref: i for i in instruments}

    def get(self, ref: InstrumentRef) -> Instrument | None:
        return self._by_ref.get(ref)

    def search(self, text: str, exchange: str | None, limit: int) -> list[Instrument]:
        return [i for i in self._by_ref.values() if i.tradingsymbol.startswith(text)][:limit]


class StaticMarks:
    """The `MarkSource` port over fixed last prices (Angel's and Shoonya's protected LIMITs are priced from it)."""

    def __init__(self, prices: dict[InstrumentRef, Decimal]) -> None:
        self.prices = prices

    def last_prices(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, Decimal]:
        return {ref: self.prices[ref] for ref in refs if ref in self.prices}

    def quotes(self, refs: list[InstrumentRef]) -> dict[InstrumentRef, tuple[Decimal, PreviousClose | None]]:
        return {r: (self.prices[r], None) for r in refs if r in self.prices}  # no previous closes known


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class RecordedServer:
    """A loopback HTTP server answering with `respond(request) -> (status, body)`; keeps every request."""

    respond: Callable[[Received], tuple[int, Any]]
    requests: list[Received] = field(default_factory=list)

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    self.command, self.path, dict(self.headers), self.rfile.read(length).decode() if length else ""
                )
                server.requests.append(received)
                status, body = server.respond(received)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass(frozen=True)
class SentOrder:
    """An order as the venue received it, in the venue's own words."""

    symbol: str
    quantity: int
    side: str
    product: str
    order_type: str
    price: Decimal
    tag: str | None
    market_protection: Decimal | None = None  # Kite's field, as the order book shows it


@dataclass(frozen=True)
class SentChange:
    """A modification as the venue received it (or, at the paper exchange, the order it left)."""

    quantity: int
    order_type: str
    price: Decimal


class Venue:
    """What the contract suite needs from a venue."""

    name: str
    broker: Broker
    symbol: str  # how the venue spells CE
    product_nrml: str  # and NRML
    limit_type: str  # and LIMIT
    buy: str  # and BUY
    rejection: str  # a fragment of the venue's message when it refuses the 1-unit order
    takes_market_orders: bool  # False: MARKET goes as a protected LIMIT priced from our marks
    marks: StaticMarks | None = None

    def fill(self, broker_order_id: str) -> list[tuple[int, Decimal]]:
        """Let the resting BUY order fill; returns the venue's own trades (quantity, price)."""
        raise NotImplementedError

    def arm_rejection(self) -> None:
        """Make the venue refuse the next order (the paper exchange refuses the 1-unit quantity by itself)."""

    def expire_token(self) -> None:
        raise NotImplementedError

    def last_order(self) -> SentOrder:
        raise NotImplementedError

    def last_change(self) -> SentChange:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PaperVenue(Venue):
    name = "kite-paper"
    symbol = "NIFTY26DEC26000CE"
    product_nrml = "NRML"
    limit_type = "LIMIT"
    buy = "BUY"
    rejection = "multiple of the lot size"
    takes_market_orders = True

    def __init__(self) -> None:
        from kiteconnect import KiteConnect

        from brokers.kite.broker import KiteBroker
        from brokers.paper.exchange import PaperExchange
        from brokers.paper.http import PaperExchangeServer

        self.exchange = PaperExchange([CE], {CE.ref: LAST_PRICE}, api_key="contract", api_secret="s3cret")
        self.server = PaperExchangeServer(self.exchange)
        self.root = self.server.start()
        session = KiteConnect("contract", root=self.root).generate_session("paper-contract", api_secret="s3cret")
        self.kite = KiteConnect("contract", access_token=session["access_token"], root=self.root)
        self.broker = KiteBroker("contract", session["access_token"], root=self.root, name="paper")

    def fill(self, broker_order_id: str) -> list[tuple[int, Decimal]]:
        self.exchange.set_price(CE.ref, Decimal("295.00"))
        return [(int(t["quantity"]), Decimal(str(t["average_price"]))) for t in self.kite.order_trades(broker_order_id)]

    def expire_token(self) -> None:
        self.exchange.expire_sessions()

    def last_order(self) -> SentOrder:
        row = self.kite.orders()[-1]
        return SentOrder(
            row["tradingsymbol"],
            int(row["quantity"]),
            row["transaction_type"],
            row["product"],
            row["order_type"],
            Decimal(str(row["price"])),
            row["tag"],
            Decimal(str(row["market_protection"])),
        )

    def last_change(self) -> SentChange:
        row = self.kite.orders()[-1]
        return SentChange(int(row["quantity"]), row["order_type"], Decimal(str(row["price"])))

    def close(self) -> None:
        self.server.stop()
        self.exchange.close()


class AngelVenue(Venue):
    name = "angel"
    symbol = "NIFTY29DEC2626000CE"
    product_nrml = "CARRYFORWARD"
    limit_type = "LIMIT"
    buy = "BUY"
    rejection = "Symbol Not Found"
    takes_market_orders = False
    TOKEN = "eyJhbGciOiJIUzUxMiJ9.contract.jwt"

    def __init__(self) -> None:
        from brokers.smartapi.broker import SmartApiBroker

        self.recording = recorded("angel")
        self.state = "open"
        self.reject_next = False
        self.token_valid = True
        self.server = RecordedServer(self._respond)
        root = self.server.start()
        self.marks = StaticMarks({CE.ref: LAST_PRICE})
        self.broker = SmartApiBroker(
            "contract-key", self.TOKEN, StaticInstruments([CE]), root=root, clock=FixedClock(TODAY), marks=self.marks
        )

    def _respond(self, request: Received) -> tuple[int, Any]:
        if not self.token_valid or request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return 401, self.recording["tokenInvalid"]
        route = request.path.split("?")[0].rsplit("/", 1)[-1]
        if route == "placeOrder":
            if self.reject_next:
                self.reject_next = False
                return 200, self.recording["placeOrderRejected"]
            self.state = "open"
            return 200, self.recording["placeOrder"]
        if route == "getOrderBook":
            return 200, self.recording["orderBook"][self.state]
        if route == "getTradeBook":
            return 200, self.recording["tradeBook"]["filled" if self.state == "complete" else "empty"]
        if route == "cancelOrder":
            self.state = "cancelled"
            return 200, self.recording["cancelOrder"]
        if route == "modifyOrder":
            return 200, self.recording["modifyOrder"]
        if route == "getRMS":
            return 200, self.recording["rmsLimit"]
        return 404, {"status": False, "message": "not recorded", "errorcode": "", "data": None}

    def fill(self, broker_order_id: str) -> list[tuple[int, Decimal]]:
        self.state = "complete"
        rows = self.recording["tradeBook"]["filled"]["data"]
        return [(int(r["fillsize"]), Decimal(str(r["fillprice"]))) for r in rows if r["orderid"] == broker_order_id]

    def arm_rejection(self) -> None:
        self.reject_next = True

    def expire_token(self) -> None:
        self.token_valid = False

    def last_order(self) -> SentOrder:
        body = json.loads(next(r for r in reversed(self.server.requests) if r.path.endswith("placeOrder")).body)
        return SentOrder(
            body["tradingsymbol"],
            int(body["quantity"]),
            body["transactiontype"],
            body["producttype"],
            body["ordertype"],
            Decimal(body["price"]),
            body.get("ordertag"),
        )

    def last_change(self) -> SentChange:
        body = json.loads(next(r for r in reversed(self.server.requests) if r.path.endswith("modifyOrder")).body)
        assert body["orderid"] == self.recording["placeOrder"]["data"]["orderid"]
        return SentChange(int(body["quantity"]), body["ordertype"], Decimal(body["price"]))

    def close(self) -> None:
        self.server.stop()


class ShoonyaVenue(Venue):
    name = "shoonya"
    symbol = "NIFTY29DEC26C26000"
    product_nrml = "M"
    limit_type = "LMT"
    buy = "B"
    rejection = "Trading Symbol not found"
    takes_market_orders = False
    TOKEN = "5f2e8c1a9b7d4e3f6a0c2b1d8e9f7a6b"

    def __init__(self) -> None:
        from brokers.shoonya.broker import ShoonyaBroker

        self.recording = recorded("shoonya")
        self.state = "open"
        self.reject_next = False
        self.token_valid = True
        self.server = RecordedServer(self._respond)
        root = self.server.start()
        self.marks = StaticMarks({CE.ref: LAST_PRICE})
        self.broker = ShoonyaBroker(
            "FA12345",
            self.TOKEN,
            StaticInstruments([CE]),
            root=f"{root}/NorenWClientTP/",
            websocket="ws://127.0.0.1:9",
            marks=self.marks,
        )

    @staticmethod
    def _form(request: Received) -> tuple[dict[str, Any], str]:
        data, _, key = request.body.partition("&jKey=")
        return json.loads(data.removeprefix("jData=")), key

    def _respond(self, request: Received) -> tuple[int, Any]:
        _, key = self._form(request)
        if not self.token_valid or key != self.TOKEN:
            return 200, self.recording["sessionExpired"]
        route = request.path.rstrip("/").rsplit("/", 1)[-1]
        if route == "PlaceOrder":
            if self.reject_next:
                self.reject_next = False
                return 200, self.recording["placeOrderRejected"]
            self.state = "open"
            return 200, self.recording["placeOrder"]
        if route == "SingleOrdHist":
            return 200, self.recording["singleOrderHistory"][self.state]
        if route == "TradeBook":
            return 200, self.recording["tradeBook"] if self.state == "complete" else self.recording["noData"]
        if route == "CancelOrder":
            self.state = "cancelled"
            return 200, self.recording["cancelOrder"]
        if route == "ModifyOrder":
            return 200, self.recording["modifyOrder"]
        return 200, {"stat": "Not_Ok", "emsg": f"not recorded: {route}"}

    def fill(self, broker_order_id: str) -> list[tuple[int, Decimal]]:
        self.state = "complete"
        rows = self.recording["tradeBook"]
        return [(int(r["flqty"]), Decimal(r["flprc"])) for r in rows if r["norenordno"] == broker_order_id]

    def arm_rejection(self) -> None:
        self.reject_next = True

    def expire_token(self) -> None:
        self.token_valid = False

    def last_order(self) -> SentOrder:
        request = next(r for r in reversed(self.server.requests) if r.path.endswith("PlaceOrder"))
        values, _ = self._form(request)
        return SentOrder(
            unquote_plus(values["tsym"]),
            int(values["qty"]),
            values["trantype"],
            values["prd"],
            values["prctyp"],
            Decimal(values["prc"]),
            values.get("remarks"),
        )

    def last_change(self) -> SentChange:
        request = next(r for r in reversed(self.server.requests) if r.path.endswith("ModifyOrder"))
        values, _ = self._form(request)
        assert values["norenordno"] == self.recording["placeOrder"]["norenordno"]
        return SentChange(int(values["qty"]), values["prctyp"], Decimal(values["prc"]))

    def close(self) -> None:
        self.server.stop()


VENUES: dict[str, type[Venue]] = {"kite-paper": PaperVenue, "angel": AngelVenue, "shoonya": ShoonyaVenue}
REF = InstrumentRef(CE.exchange, CE.tradingsymbol)
