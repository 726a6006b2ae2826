"""The paper exchange's margin: an order blocks its notional; funds less blocked and held is what is left."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.paper.book import WORKING, ZERO
from brokers.paper.errors import margin_error
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.paper.book import PaperAccount, PaperOrder
    from trading.model.instrument import Instrument


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class Margin:
    """Every account's funds (`funds`, or one account's own) against what its orders and positions need.

    It reads the exchange's live `prices` and `instruments` (the same mappings the exchange keeps).
    """

    def __init__(
        self,
        funds: Decimal | None,
        prices: Mapping[InstrumentRef, Decimal],
        instruments: Mapping[InstrumentRef, Instrument],
    ) -> None:
        self.funds = funds
        self._own: dict[str, Decimal] = {}
        self._prices = prices
        self._instruments = instruments

    def set_funds(self, user_id: str, funds: Decimal | None) -> None:
        """One account's margin (None: the exchange-wide `funds`)."""
        if funds is None:
            self._own.pop(user_id, None)
        else:
            self._own[user_id] = funds

    def available(self, account: PaperAccount) -> Decimal | None:
        """Margin left: funds less what working orders block and open positions hold (None: unlimited)."""
        funds = self._own.get(account.user_id, self.funds)
        if funds is None:
            return None
        working = [o for o in account.orders.values() if o.status in WORKING]
        blocked = sum((self.required(o, o.quantity - o.filled_quantity) for o in working), ZERO)
        open_positions = [p for p in account.positions.values() if p.buy_quantity != p.sell_quantity]
        held = sum((abs(p.buy_value - p.sell_value) for p in open_positions), ZERO)
        return funds - blocked - held

    def required(self, order: PaperOrder | dict[str, Any], quantity: int) -> Decimal:
        """An order's margin on the paper exchange: its notional at its limit (or the last price)."""
        terms: dict[str, Any] = order if isinstance(order, dict) else vars(order)
        ref = InstrumentRef(str(terms["exchange"]), str(terms["tradingsymbol"]))
        price = terms["price"] or terms["trigger_price"] or self._prices.get(ref) or ZERO
        return Decimal(price) * quantity * self._instruments[ref].multiplier

    def check(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> None:
        """Refuse an order needing more than the account has left, with Kite's MarginException."""
        available = self.available(account)
        if available is None:
            return
        ticket = {**terms, "exchange": instrument.exchange, "tradingsymbol": instrument.tradingsymbol}
        required = self.required(ticket, terms["quantity"])
        if required > available:
            raise margin_error(
                f"Insufficient funds. Required margin is {_money(required)} "
                f"but available margin is {_money(available)}."
            )
