"""The paper exchange's KiteTicker-compatible WebSocket: binary ltp/quote/full packets and text order updates.

Packets follow Kite's streaming format (big-endian; prices in paise, i.e. x100, for NSE/NFO/BSE/MCX;
x10^7 for currency): a frame is a 2-byte packet count, then each packet as a 2-byte length and its bytes.
`kiteconnect.KiteTicker(api_key, access_token, root="ws://host:port")` connects to `/` and decodes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

MODE_LTP, MODE_QUOTE, MODE_FULL = "ltp", "quote", "full"
MODES = (MODE_LTP, MODE_QUOTE, MODE_FULL)
DEPTH_LEVELS = 5
# The segment is the low byte of an instrument token; a few segments scale prices differently.
_CDS, _BCD, _NCO = 3, 6, 7


def price_divisor(token: int) -> int:
    segment = token & 0xFF
    if segment == _CDS:
        return 10_000_000
    if segment in (_BCD, _NCO):
        return 10_000
    return 100


def _scaled(token: int, price: Decimal) -> int:
    return int((price * price_divisor(token)).to_integral_value(ROUND_HALF_EVEN))


@dataclass(frozen=True)
class DepthLevel:
    price: Decimal
    quantity: int
    orders: int


@dataclass(frozen=True)
class Tick:
    """What a ticker packet carries about one instrument (the fields of Kite's `full` mode)."""

    token: int
    last_price: Decimal
    last_quantity: int = 0
    average_price: Decimal = Decimal(0)
    volume: int = 0
    buy_quantity: int = 0
    sell_quantity: int = 0
    open: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    low: Decimal = Decimal(0)
    close: Decimal = Decimal(0)
    last_trade_time: int = 0  # epoch seconds
    oi: int = 0
    oi_day_high: int = 0
    oi_day_low: int = 0
    timestamp: int = 0  # epoch seconds
    bids: tuple[DepthLevel, ...] = ()
    asks: tuple[DepthLevel, ...] = ()


def encode_packet(tick: Tick, mode: str) -> bytes:
    """One instrument's packet in `mode`: 8 bytes (ltp), 44 (quote) or 184 (full)."""
    token = tick.token
    ltp = struct.pack(">II", token, _scaled(token, tick.last_price))
    if mode == MODE_LTP:
        return ltp
    quote = ltp + struct.pack(
        ">IIIIIIIII",
        tick.last_quantity,
        _scaled(token, tick.average_price),
        tick.volume,
        tick.buy_quantity,
        tick.sell_quantity,
        _scaled(token, tick.open),
        _scaled(token, tick.high),
        _scaled(token, tick.low),
        _scaled(token, tick.close),
    )
    if mode == MODE_QUOTE:
        return quote
    full = quote + struct.pack(
        ">IIIII", tick.last_trade_time, tick.oi, tick.oi_day_high, tick.oi_day_low, tick.timestamp
    )
    for side in (tick.bids, tick.asks):
        levels = list(side[:DEPTH_LEVELS]) + [DepthLevel(Decimal(0), 0, 0)] * (DEPTH_LEVELS - len(side))
        for level in levels:
            full += struct.pack(">IIHxx", level.quantity, _scaled(token, level.price), level.orders)
    return full


def encode_frame(packets: Iterable[bytes]) -> bytes:
    """Packets as one binary WebSocket message."""
    chunks = list(packets)
    body = b"".join(struct.pack(">H", len(p)) + p for p in chunks)
    return struct.pack(">H", len(chunks)) + body


@dataclass(eq=False)
class _Connection:
    user_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[bytes | str] = field(default_factory=asyncio.Queue)
    modes: dict[int, str] = field(default_factory=dict)

    def push(self, message: bytes | str) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, message)


class TickerHub:
    """The open ticker connections, their subscriptions, and fan-out from any thread."""

    def __init__(self, snapshot: Callable[[int], Tick | None]) -> None:
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def publish_ticks(self, ticks: Iterable[Tick]) -> None:
        """Send each subscriber the ticks of the instruments it follows, in its mode."""
        by_token = {t.token: t for t in ticks}
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            packets = [
                encode_packet(by_token[token], mode) for token, mode in connection.modes.items() if token in by_token
            ]
            if packets:
                connection.push(encode_frame(packets))

    def publish_order(self, user_id: str, payload: dict[str, Any]) -> None:
        """An order update as Kite's text message, to the account's own connections only."""
        message = json.dumps({"type": "order", "id": "", "data": payload})
        with self._lock:
            connections = [c for c in self._connections if c.user_id == user_id]
        for connection in connections:
            connection.push(message)

    async def serve(self, websocket: WebSocket, user_id: str) -> None:
        """Run one accepted connection until the client goes away."""
        connection = _Connection(user_id, asyncio.get_running_loop())
        with self._lock:
            self._connections.add(connection)
        sender = asyncio.create_task(self._send(websocket, connection))
        try:
            while True:
                text = await websocket.receive_text()
                self._command(connection, text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            with self._lock:
                self._connections.discard(connection)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    @staticmethod
    async def _send(websocket: WebSocket, connection: _Connection) -> None:
        while True:
            message = await connection.queue.get()
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)

    def _command(self, connection: _Connection, text: str) -> None:
        """Kite's client messages: subscribe, unsubscribe, mode. Malformed ones are ignored, as Kite does."""
        try:
            message = json.loads(text)
            action, value = message["a"], message["v"]
            if action == "mode":
                mode, tokens = value[0], [int(t) for t in value[1]]
            else:
                mode, tokens = MODE_QUOTE, [int(t) for t in value]
        except (ValueError, KeyError, TypeError, IndexError):
            log.info("ignoring a malformed ticker message: %.200s", text)
            return
        if action == "unsubscribe":
            for token in tokens:
                connection.modes.pop(token, None)
            return
        if action not in ("subscribe", "mode") or mode not in MODES:
            return
        for token in tokens:
            if action == "subscribe":
                connection.modes.setdefault(token, mode)
            else:
                connection.modes[token] = mode
        # A subscriber gets the current state at once rather than waiting for the next trade.
        packets = []
        for token in tokens:
            tick = self._snapshot(token)
            if tick is not None:
                packets.append(encode_packet(tick, connection.modes[token]))
        if packets:
            connection.push(encode_frame(packets))
