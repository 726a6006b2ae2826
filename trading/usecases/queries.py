"""Reads: a user's baskets and orders a page at a time, instrument search, a basket's P&L."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from trading.errors import ValidationError
from trading.model.instrument import EXCHANGES
from trading.valuation import pnl_of

if TYPE_CHECKING:
    from trading.ids import BasketId, OwnerId
    from trading.model import Basket, BookedFill, Order, OrderStatus
    from trading.model.instrument import Instrument
    from trading.ports import Baskets, Instruments, MarkSource, Orders, Page
    from trading.valuation import PnlReport

MAX_PAGE = 100


class BasketReadPorts(Protocol):
    @property
    def baskets(self) -> Baskets: ...


class OrderReadPorts(BasketReadPorts, Protocol):
    @property
    def orders(self) -> Orders: ...


class InstrumentReadPorts(Protocol):
    @property
    def instruments(self) -> Instruments: ...


class PnlPorts(BasketReadPorts, Protocol):
    @property
    def marks(self) -> MarkSource: ...


def list_baskets(ports: BasketReadPorts, owner: OwnerId, limit: int, next_token: str | None) -> Page[Basket]:
    return ports.baskets.list(owner, _limit(limit), next_token)


def list_orders(
    ports: OrderReadPorts,
    owner: OwnerId,
    limit: int,
    next_token: str | None,
    basket_id: BasketId | None = None,
    status: OrderStatus | None = None,
) -> Page[Order]:
    """One page of the owner's orders; a basket that is not the owner's is NotFound, as one that does not exist."""
    limit = _limit(limit)
    if basket_id is not None:
        ports.baskets.get(owner, basket_id)
    return ports.orders.list(owner, limit, next_token, basket_id, status)


def list_fills(
    ports: OrderReadPorts, owner: OwnerId, basket_id: BasketId, limit: int, next_token: str | None
) -> Page[BookedFill]:
    """The basket's trade book, a page at a time; another user's basket is NotFound, as one that does not exist."""
    ports.baskets.get(owner, basket_id)
    return ports.orders.fills(owner, basket_id, _limit(limit), next_token)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit


def search_instruments(ports: InstrumentReadPorts, text: str, exchange: str | None, limit: int) -> list[Instrument]:
    text = text.strip().upper()
    if not text or len(text) > 50:
        raise ValidationError("search must be 1-50 characters, e.g. NIFTY or RELIANCE")
    if exchange is not None:
        exchange = exchange.strip().upper()
        if exchange not in EXCHANGES:
            raise ValidationError(f"exchange must be one of {', '.join(EXCHANGES)}")
    return ports.instruments.search(text, exchange, _limit(limit))


def basket_pnl(ports: PnlPorts, owner: OwnerId, basket_id: BasketId) -> PnlReport:
    """P&L of every position of the basket at the latest marks, and their total."""
    positions = ports.baskets.view(owner, basket_id).positions
    report = pnl_of(ports.marks, basket_id, positions)
    # as of the latest mark or fill it reflects, as onPnl's asOf (so a page can order a query among events)
    marked = ports.marks.marked_at(list({p.key.instrument for p in positions}))
    times = [t for t in (marked, *(f.filled_at for p in positions for f in p.fills)) if t is not None]
    return replace(report, as_of=max(times, default=None))
