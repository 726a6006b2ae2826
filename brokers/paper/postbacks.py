"""Kite's postbacks: the signed body of an order change, delivered in order from one background thread."""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import requests

from brokers.paper.book import plain_json

if TYPE_CHECKING:
    from brokers.paper.book import PaperOrder

log = logging.getLogger(__name__)


def postback_body(order: PaperOrder, state: dict[str, Any], api_secret: str) -> dict[str, Any]:
    """An order state in Kite's postback shape, signed as Kite signs it (JSON numbers, as on the wire)."""
    checksum = hashlib.sha256(f"{order.order_id}{state['order_timestamp']}{api_secret}".encode())
    body: dict[str, Any] = plain_json(
        {
            "user_id": order.placed_by,
            "unfilled_quantity": state["pending_quantity"],
            "app_id": 0,
            "checksum": checksum.hexdigest(),
            **state,
        }
    )
    return body


class PostbackSender:
    """POSTs JSON bodies to one URL, one at a time in the order given; retries, then logs and moves on."""

    def __init__(
        self, url: str, *, attempts: int = 4, backoff: float = 0.2, timeout: float = 5.0, verify: str | bool = True
    ) -> None:
        """`verify`: a CA bundle to trust for an https URL (the local stack's own CA under `--tls`)."""
        self.url = url
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = timeout
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._idle = threading.Condition()
        self._unsent = 0
        self._http = requests.Session()
        self._verify = verify  # per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`
        self._thread = threading.Thread(target=self._run, name="paper-postbacks", daemon=True)
        self._thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        """Queue one postback; returns at once."""
        with self._idle:
            self._unsent += 1
        self._queue.put(json.dumps(payload).encode())

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued postback was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._unsent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the queued postbacks."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._http.close()

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            try:
                self._deliver(body)
            finally:
                with self._idle:
                    self._unsent -= 1
                    self._idle.notify_all()

    def _deliver(self, body: bytes) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                reply = self._http.post(
                    self.url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=self._timeout,
                    verify=self._verify,
                )
                if reply.ok:
                    return
                problem = f"HTTP {reply.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            if attempt < self._attempts:
                time.sleep(self._backoff * 2 ** (attempt - 1))
        log.warning("postback to %s failed after %d attempts (%s); dropped", self.url, self._attempts, problem)
