"""Run a `PaperExchange` over real HTTP on a background thread (tests, the local stack)."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from types import TracebackType

    from brokers.paper.exchange import PaperExchange


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
        config = uvicorn.Config(self.exchange.app, log_level="warning", lifespan="off", access_log=False)
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
