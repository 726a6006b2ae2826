"""What a resolver reaches the adapters through: the composition the handler is running the event with."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from trading.clock import IST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

    from composition.runtime import Composition
    from trading.ports import AccountPorts, Ports

# Per thread, not powertools' app context: that dict is shared by every thread and cleared after each event,
# and the local stack runs events of several instances at once in one process.
_current: ContextVar[Composition] = ContextVar("composition")


@contextmanager
def running_with(composed: Composition) -> Iterator[None]:
    """Resolve the events inside the block with `composed`."""
    token = _current.set(composed)
    try:
        yield
    finally:
        _current.reset(token)


def ports() -> Ports:
    return _current.get().ports


def accounts() -> AccountPorts:
    return _current.get().accounts


def trading_day() -> date:
    """Today in IST by the composition's clock: the day positions' day figures (Kite's day/overnight) are of."""
    return ports().clock.now().astimezone(IST).date()


def composition() -> Composition:
    return _current.get()
