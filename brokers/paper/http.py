"""The paper exchange over HTTP: Kite's REST routes and ticker WebSocket, Kite's error bodies, and a uvicorn server.

`PaperExchangeServer` runs the app on a background thread (tests, the local stack).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from brokers.paper.book import plain_json
from brokers.paper.errors import PaperExchangeError, input_error
from brokers.paper.rules import parse_ref

if TYPE_CHECKING:
    from types import TracebackType

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from brokers.paper.book import PaperAccount
    from brokers.paper.exchange import PaperExchange

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {404: "Route not found", 405: "Method not allowed"}


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": plain_json(data)})


def _error(status_code: int, error_type: str, message: str) -> JSONResponse:
    body = {"status": "error", "message": message, "data": None, "error_type": error_type}
    return JSONResponse(body, status_code=status_code)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise input_error("Send a JSON list of orders.") from exc


def build_app(exchange: PaperExchange) -> Starlette:
    """The exchange as an ASGI app (Kite's REST routes, its ticker at `/`, plus `/paper/prices`)."""

    def account(request: Request) -> PaperAccount:
        return exchange.account_for(request.headers.get("authorization"))

    async def session_token(request: Request) -> Response:
        return _ok(exchange.create_session(await _form(request)))

    async def delete_session(request: Request) -> Response:
        return _ok(exchange.invalidate_session(request.query_params.get("access_token", "")))

    async def place(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        form = await _form(request)
        variety = request.path_params["variety"]
        if (form.get("autoslice") or "").lower() == "true":
            reply = exchange.place_autoslice_order(user, variety, form)
        else:
            reply = {"order_id": exchange.place_order(user, variety, form)}
        if exchange.reply_delay:
            await anyio.sleep(exchange.reply_delay)  # booked, but the answer is late (a client timeout)
        return _ok(reply)

    async def modify(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        return _ok({"order_id": exchange.modify_order(user, request.path_params["order_id"], await _form(request))})

    async def cancel(request: Request) -> Response:
        user = account(request)
        exchange.admit_order_request(user)
        return _ok({"order_id": exchange.cancel_order(user, request.path_params["order_id"])})

    async def margins(request: Request) -> Response:
        segment = exchange.user_margins(account(request))
        return _ok({"equity": segment, "commodity": segment})

    async def segment_margins(request: Request) -> Response:
        if request.path_params["segment"] not in ("equity", "commodity"):
            raise input_error("Invalid segment.")
        return _ok(exchange.user_margins(account(request)))

    async def basket_margins(request: Request) -> Response:
        consider = request.query_params.get("consider_positions", "true").lower() == "true"
        return _ok(exchange.basket_margins(account(request), await _json(request), consider))

    async def order_margins(request: Request) -> Response:
        account(request)
        return _ok(exchange.order_margins(await _json(request)))

    async def contract_note(request: Request) -> Response:
        account(request)
        return _ok(exchange.contract_note(await _json(request)))

    async def ticker(websocket: WebSocket) -> None:
        params = websocket.query_params
        try:
            user = exchange.account_for(f"token {params.get('api_key', '')}:{params.get('access_token', '')}")
        except PaperExchangeError:
            await websocket.close(code=1008)  # before accept: the handshake fails with HTTP 403, as at Kite
            return
        await websocket.accept()
        await exchange.ticker.serve(websocket, user.user_id)

    async def orders(request: Request) -> Response:
        return _ok(exchange.orders(account(request)))

    async def order_history(request: Request) -> Response:
        return _ok(exchange.order_history(account(request), request.path_params["order_id"]))

    async def order_trades(request: Request) -> Response:
        return _ok(exchange.order_trades(account(request), request.path_params["order_id"]))

    async def trades(request: Request) -> Response:
        return _ok(exchange.trades(account(request)))

    async def positions(request: Request) -> Response:
        return _ok(exchange.positions(account(request)))

    async def set_prices(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            prices = {parse_ref(ref): Decimal(str(price)) for ref, price in body.items()}
        except (ValueError, AttributeError, InvalidOperation) as exc:
            raise input_error('Send a JSON object of prices, e.g. {"NSE:SBIN": "812.35"}.') from exc
        exchange.set_prices(dict(prices))
        return _ok({str(ref): str(price) for ref, price in prices.items()})

    async def get_prices(request: Request) -> Response:
        return _ok({str(ref): str(price) for ref, price in exchange.prices().items()})

    async def login(request: Request) -> Response:
        # Kite's login page: the paper exchange has no passwords, so it says which request token it honours.
        if request.query_params.get("api_key") != exchange.api_key:
            raise input_error("Invalid `api_key`.")
        return PlainTextResponse(
            "Paper exchange login. Your request token is paper-<your user id>; with basketgraph, "
            'call completeBrokerLogin(broker: PAPER, requestToken: "paper-<your me.id>").\n'
        )

    async def exchange_error(request: Request, exc: Exception) -> Response:
        error = cast("PaperExchangeError", exc)
        return _error(error.status_code, error.error_type, error.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        error = cast("HTTPException", exc)
        message = _HTTP_MESSAGES.get(error.status_code, str(error.detail))
        return _error(error.status_code, "GeneralException", message)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("paper exchange failed on %s %s", request.method, request.url.path)
        return _error(500, "GeneralException", "The paper exchange failed; see its log.")

    routes = [
        Route("/connect/login", login, methods=["GET"]),
        Route("/session/token", session_token, methods=["POST"]),
        Route("/session/token", delete_session, methods=["DELETE"]),
        Route("/orders", orders, methods=["GET"]),
        Route("/orders/{order_id}/trades", order_trades, methods=["GET"]),
        Route("/orders/{order_id}", order_history, methods=["GET"]),
        Route("/orders/{variety}", place, methods=["POST"]),
        Route("/orders/{variety}/{order_id}", modify, methods=["PUT"]),
        Route("/orders/{variety}/{order_id}", cancel, methods=["DELETE"]),
        Route("/trades", trades, methods=["GET"]),
        Route("/portfolio/positions", positions, methods=["GET"]),
        Route("/user/margins", margins, methods=["GET"]),
        Route("/user/margins/{segment}", segment_margins, methods=["GET"]),
        Route("/margins/basket", basket_margins, methods=["POST"]),
        Route("/margins/orders", order_margins, methods=["POST"]),
        Route("/charges/orders", contract_note, methods=["POST"]),
        WebSocketRoute("/", ticker),
        Route("/paper/prices", set_prices, methods=["POST"]),
        Route("/paper/prices", get_prices, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            PaperExchangeError: exchange_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )


class PaperExchangeServer:
    """uvicorn serving the exchange's app from a daemon thread."""

    def __init__(self, exchange: PaperExchange) -> None:
        self.exchange = exchange
        self.base_url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0) -> str:
        """Listen on host:port (0 picks a free port) and return the base URL, e.g. `http://127.0.0.1:50123`."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(build_app(self.exchange), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="paper-exchange", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the paper exchange did not start on {host}:{port}")
            time.sleep(0.01)
        self.base_url = f"http://{host}:{sock.getsockname()[1]}"
        return self.base_url

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving (the exchange keeps its state; `exchange.close()` stops its postbacks)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> PaperExchangeServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
