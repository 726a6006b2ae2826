"""The paper exchange's book on disk: accounts (orders, trades, positions), sessions, funds, id counters, prices.

A real exchange does not forget an order it acknowledged, so neither does this one: the book is written before
the reply of any request that changed it (or read it) leaves the exchange, with group commit: the changes
made while one write is under way share the next (the exchange's lock does this, `exchange._BookLock`).
Price ticks that fill nothing are not written; the prices saved are those of the last change (the stack
resumes its market from the marks in DynamoDB anyway). The book is a pickle of the exchange's own
dataclasses, read and written only by the local exchange in its own state directory; each order is pickled
apart and again only once it changed (`BookCodec`), since the orders are most of a book and it keeps every
order of the day. How the bytes reach the
disk (atomically, fsynced) is the `BookFile` the exchange is given: the local stack's
`local.atomic_file.AtomicFile`, its one atomic file write.
"""

from __future__ import annotations

import io
import pickle
import threading
from typing import Any, Protocol

from brokers.paper.book import PaperOrder

VERSION = 2  # 2: each order pickled apart (and only when it changed); 1: the whole book in one pickle
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class BookFile(Protocol):
    """Where the book is kept: a file replaced whole, so a crash leaves the old book or the new one."""

    def read(self) -> bytes | None:
        """The file's bytes; None when there is none."""
        ...

    def replace(self, data: bytes) -> None:
        """Replace the file with `data`, durably, before returning."""
        ...


def _fingerprint(order: PaperOrder) -> tuple[Any, ...]:
    """What an order's pickle depends on, cheap to compare (no Python-level walk of its fields): its fields'
    values, and the length of its history, the one container it holds, which only ever grows (every state
    change appends to it; `tests/integration/test_paper_exchange_book_file.py` checks no other field is a container)."""
    return (len(order.history), *vars(order).values())


class _OrdersApart(pickle.Pickler):
    """Pickles the book with each order as a reference (`_saved_order` of its id), collecting the orders."""

    def __init__(self, out: io.BytesIO) -> None:
        super().__init__(out, protocol=_PROTOCOL)
        self.orders: dict[str, PaperOrder] = {}

    def reducer_override(self, obj: Any) -> Any:  # pickle's hook: not called for builtin containers and scalars
        if type(obj) is not PaperOrder:
            return NotImplemented
        known = self.orders.setdefault(obj.order_id, obj)
        return (_saved_order, (obj.order_id,)) if known is obj else NotImplemented


_loading = threading.local()  # the orders of the book being read (`BookCodec.loads`)


def _saved_order(order_id: str) -> PaperOrder:
    """An order of the book being read: unpickled the first time it is referred to, the same object after."""
    orders: dict[str, PaperOrder] = _loading.orders
    if order_id not in orders:
        orders[order_id] = pickle.loads(_loading.blobs[order_id])  # noqa: S301 - our own file
    return orders[order_id]


class BookCodec:
    """The book file's contents, and back. Every order is pickled apart, once per change to it (cached by
    `_fingerprint`), so writing the book after one change costs little more than pickling what changed: the
    orders are most of a book, and it holds every order of the day."""

    def __init__(self) -> None:
        self._orders: dict[str, tuple[tuple[Any, ...], bytes]] = {}

    def dumps(self, state: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        pickler = _OrdersApart(out)
        pickler.dump(state)
        orders: dict[str, bytes] = {}
        cache: dict[str, tuple[tuple[Any, ...], bytes]] = {}
        for order_id, order in pickler.orders.items():
            fingerprint = _fingerprint(order)
            cached = self._orders.get(order_id)
            if cached is None or cached[0] != fingerprint:
                cached = (fingerprint, pickle.dumps(order, protocol=_PROTOCOL))  # an order refers to no order
            cache[order_id] = cached
            orders[order_id] = cached[1]
        self._orders = cache
        return pickle.dumps({"version": VERSION, "orders": orders, "book": out.getvalue()}, protocol=_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> dict[str, Any] | None:
        """The book in `data`, or None when it is of another version."""
        saved = pickle.loads(data)  # noqa: S301 - our own file, written by BookCodec in our state directory
        if not isinstance(saved, dict):
            return None
        if saved.get("version") == 1:
            return saved  # the whole book in one pickle, as written before version 2
        if saved.get("version") != VERSION:
            return None
        _loading.blobs, _loading.orders = saved["orders"], {}
        try:
            state = pickle.loads(saved["book"])  # noqa: S301 - as above
        finally:
            _loading.blobs = _loading.orders = None
        return state if isinstance(state, dict) else None


def load_book(file: BookFile) -> dict[str, Any] | None:
    """The saved book, or None when there is none (or it is of another version)."""
    data = file.read()
    return None if data is None else BookCodec.loads(data)
