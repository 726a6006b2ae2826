"""The paper exchange's book on disk: accounts (orders, trades, positions), sessions, funds, id counters, prices.

A real exchange does not forget an order it acknowledged, so neither does this one: the book is written
(atomically, fsynced) before the reply of any request that changed it leaves the exchange lock. Price
ticks that fill nothing are not written; the prices saved are those of the last change (the stack resumes
its market from the marks in DynamoDB anyway). The file is a pickle of the exchange's own dataclasses,
written and read only by the local exchange in its own state directory.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

VERSION = 1


def save_book(path: Path, state: dict[str, Any]) -> None:
    """Replace `path` with `state` so a crash leaves the old book or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump({"version": VERSION, **state}, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            os.fdatasync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_book(path: Path) -> dict[str, Any] | None:
    """The saved book, or None when there is none (or it is of another version)."""
    try:
        with path.open("rb") as saved:
            state = pickle.load(saved)  # noqa: S301 - our own file, written by save_book in our state directory
    except FileNotFoundError:
        return None
    return state if isinstance(state, dict) and state.get("version") == VERSION else None
