"""The paper exchange's book on disk: accounts (orders, trades, positions), sessions, funds, id counters, prices.

A real exchange does not forget an order it acknowledged, so neither does this one: the book is written before
the reply of any request that changed it (or read it) leaves the exchange, with group commit: the changes
made while one write is under way share the next (the exchange's lock does this, `exchange._BookLock`).
Price ticks that fill nothing are not written; the prices saved are those of the last change (the stack
resumes its market from the marks in DynamoDB anyway). The book is a pickle of the exchange's own
dataclasses, read and written only by the local exchange in its own state directory. How the bytes reach the
disk (atomically, fsynced) is the `BookFile` the exchange is given: the local stack's
`local.atomic_file.AtomicFile`, its one atomic file write.
"""

from __future__ import annotations

import pickle
from typing import Any, Protocol

VERSION = 1


class BookFile(Protocol):
    """Where the book is kept: a file replaced whole, so a crash leaves the old book or the new one."""

    def read(self) -> bytes | None:
        """The file's bytes; None when there is none."""
        ...

    def replace(self, data: bytes) -> None:
        """Replace the file with `data`, durably, before returning."""
        ...


def book_bytes(state: dict[str, Any]) -> bytes:
    """The book file's contents for `state` (what `BookFile.replace` is given)."""
    return pickle.dumps({"version": VERSION, **state}, protocol=pickle.HIGHEST_PROTOCOL)


def load_book(file: BookFile) -> dict[str, Any] | None:
    """The saved book, or None when there is none (or it is of another version)."""
    data = file.read()
    if data is None:
        return None
    state = pickle.loads(data)  # noqa: S301 - our own file, written by save_book in our state directory
    return state if isinstance(state, dict) and state.get("version") == VERSION else None
