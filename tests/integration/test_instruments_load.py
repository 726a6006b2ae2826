"""The instrument refresh Lambda against the embedded DynamoDB, fetching a Kite-shaped dump over real HTTP."""

from __future__ import annotations

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar, cast

import pytest

from composition.runtime import Composition
from composition.settings import Settings
from local.lambda_context import LambdaContext
from resolvers import instruments as instruments_lambda
from tests.requests_counter import RequestCounter
from tests.unit.test_instrument_loader import ROWS, dump
from trading.errors import ValidationError
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Iterator

    from store import DynamoStore


class DumpServer(BaseHTTPRequestHandler):
    """Serves the dump at /instruments as Kite does (text/csv); anything else is a 404."""

    body: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        if self.path != "/instruments":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def dump_url() -> Iterator[str]:
    DumpServer.body = "".join(dump(*ROWS)).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), DumpServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_refresh_lambda_loads_the_dump_into_the_store_in_batches(
    moto_endpoint: str, table_name: str, store: DynamoStore, dump_url: str
) -> None:
    # Given a deployment whose INSTRUMENTS_URL serves Kite's dump
    settings = Settings(
        table_name=table_name, endpoint_urls={"dynamodb": moto_endpoint}, instruments_url=f"{dump_url}/instruments"
    )
    composed = Composition(settings)
    lambda_requests = RequestCounter(composed.aws.dynamodb)
    # When the scheduled event invokes the Lambda
    handler = instruments_lambda.make_handler(lambda: composed)
    lambda_requests.start()
    result = handler({"action": "refreshInstruments"}, cast("Any", LambdaContext("basketgraph-instruments")))
    lambda_requests.stop()
    # Then every tradable row is in the instrument master, completed from the contract tables
    assert result == {"loaded": 8, "skipped": 2, "withoutMultiplier": ["KAPAS"]}
    crude = store.instruments.get(InstrumentRef("MCX", "CRUDEOIL26DECFUT"))
    assert crude is not None
    assert (crude.lot_size, crude.multiplier) == (1, Decimal(100))
    nifty = store.instruments.get(InstrumentRef("NFO", "NIFTY26DEC25500CE"))
    assert nifty is not None
    assert (nifty.freeze_quantity, nifty.lot_size, nifty.strike) == (1800, 65, Decimal(25500))
    assert store.instruments.get(InstrumentRef("NSE", "NIFTY 50")) is None
    # with batch writes only (8 items: one BatchWriteItem)
    assert lambda_requests.operations == ["BatchWriteItem"]


def test_an_unreachable_dump_is_a_validation_error_and_writes_nothing(
    moto_endpoint: str, table_name: str, dump_url: str
) -> None:
    settings = Settings(
        table_name=table_name, endpoint_urls={"dynamodb": moto_endpoint}, instruments_url=f"{dump_url}/missing"
    )
    composed = Composition(settings)
    lambda_requests = RequestCounter(composed.aws.dynamodb)
    lambda_requests.start()
    handler = instruments_lambda.make_handler(lambda: composed)
    with pytest.raises(ValidationError, match="could not download the instrument dump"):
        handler({}, cast("Any", LambdaContext("basketgraph-instruments")))
    lambda_requests.stop()
    assert lambda_requests.operations == []
