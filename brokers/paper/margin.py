"""The paper exchange's margin: the model (`span.py`) over an account's positions, working orders and new orders.

Funds less what positions and working orders block together is what is left; an order is refused when what it
adds to that exceeds it, and `/margins/basket` quotes the same numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.paper import span
from brokers.paper.book import WORKING, ZERO
from brokers.paper.charges import charges, summed
from brokers.paper.errors import input_error, margin_error
from brokers.paper.span import Components, Exposure
from trading.model import InstrumentRef
from trading.money import to_places

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.paper.book import PaperAccount
    from trading.model.instrument import Instrument

UNLIMITED = Decimal(10**12)  # what an account without a funds limit reports as available


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def kite_margin(parts: Components, ticket: Mapping[str, Any] | None = None, costs: Any = None) -> dict[str, Any]:
    """Margin components in Kite's shape (basket_margins.json, order_margins.json)."""
    row: dict[str, Any] = {
        "type": "equity" if ticket else "",
        "tradingsymbol": ticket["tradingsymbol"] if ticket else "",
        "exchange": ticket["exchange"] if ticket else "",
        "span": parts.span,
        "exposure": parts.exposure,
        "option_premium": parts.option_premium,
        "additional": 0,
        "bo": 0,
        "cash": 0,
        "var": parts.var,
        "pnl": {"realised": 0, "unrealised": 0},
        "leverage": 1 if ticket else 0,
        "charges": costs if costs is not None else summed([]),
        "total": parts.total,
    }
    return row


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

    def _funds(self, account: PaperAccount) -> Decimal | None:
        return self._own.get(account.user_id, self.funds)

    def held(self, account: PaperAccount) -> list[Exposure]:
        """What the account carries: its open positions (at their average) and working orders (as if filled)."""
        carried = [
            Exposure(
                self._instruments[InstrumentRef(p.exchange, p.tradingsymbol)],
                p.book.net_quantity,
                to_places(p.book.average, 4),
                p.product,
            )
            for p in account.positions.values()
            if p.book.net_quantity
        ]
        working = [o for o in account.orders.values() if o.status in WORKING]
        return carried + [self.exposure(vars(o), o.quantity - o.filled_quantity) for o in working]

    def exposure(self, terms: Mapping[str, Any], quantity: int | None = None) -> Exposure:
        """An order's terms (Kite's fields) as an exposure at its limit, trigger, or the last price."""
        ref = InstrumentRef(str(terms["exchange"]), str(terms["tradingsymbol"]))
        instrument = self._instruments.get(ref)
        if instrument is None:
            raise input_error(f"Unknown instrument {ref}.")
        units = int(terms["quantity"]) if quantity is None else quantity
        price = terms.get("price") or terms.get("trigger_price") or self._prices.get(ref) or ZERO
        signed = units if terms["transaction_type"] == "BUY" else -units
        return Exposure(instrument, signed, Decimal(str(price)), str(terms.get("product") or "NRML"))

    def available(self, account: PaperAccount) -> Decimal | None:
        """Margin left: funds less what positions and working orders block together (None: unlimited)."""
        funds = self._funds(account)
        if funds is None:
            return None
        return funds - span.final(self.held(account)).total

    def required(self, account: PaperAccount, orders: list[Exposure], *, consider_positions: bool = True) -> Decimal:
        """What the orders add to what the account blocks (with its positions and working orders), never below 0."""
        if not consider_positions:
            return span.final(orders).total
        held = self.held(account)
        return max(ZERO, span.final(held + orders).total - span.final(held).total)

    def check(self, account: PaperAccount, instrument: Instrument, terms: dict[str, Any]) -> None:
        """Refuse an order needing more than the account has left, with Kite's MarginException."""
        available = self.available(account)
        if available is None:
            return
        ticket = {**terms, "exchange": instrument.exchange, "tradingsymbol": instrument.tradingsymbol}
        required = self.required(account, [self.exposure(ticket)])
        if required > available:
            raise margin_error(
                f"Insufficient funds. Required margin is {_money(required)} "
                f"but available margin is {_money(available)}."
            )

    def order_margins(self, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`POST /margins/orders`: each order's margin alone, with its charges (order_margins.json)."""
        return [self._order_row(ticket) for ticket in tickets]

    def basket(self, account: PaperAccount, tickets: list[dict[str, Any]], consider_positions: bool) -> dict[str, Any]:
        """`POST /margins/basket`: initial (summed), final (offset, positions considered), each order (Kite's shape)."""
        legs = [self.exposure(t) for t in tickets]
        rows = [self._order_row(t) for t in tickets]
        together = span.final(legs)
        if consider_positions:
            held = self.held(account)
            before, after = span.final(held), span.final(held + legs)
            together = Components(
                span=after.span - before.span,
                exposure=after.exposure - before.exposure,
                option_premium=after.option_premium - before.option_premium,
                var=after.var - before.var,
            )
            if together.total < 0:
                together = Components()
        return {
            "initial": kite_margin(span.initial(legs)),
            "final": kite_margin(together),
            "orders": rows,
            "charges": summed([row["charges"] for row in rows]),
        }

    def contract_note(self, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`POST /charges/orders`: each order's charges at its average price (virtual_contract_note.json)."""
        notes = []
        for ticket in tickets:
            leg = self.exposure(ticket)
            fields = ("transaction_type", "tradingsymbol", "exchange", "variety", "product", "order_type", "quantity")
            notes.append(
                {
                    **{name: ticket.get(name) for name in fields},
                    "price": leg.price,
                    "charges": charges(
                        leg.instrument, str(ticket["transaction_type"]), abs(leg.quantity), leg.price, leg.product
                    ),
                }
            )
        return notes

    def segment(self, account: PaperAccount) -> dict[str, Any]:
        """`GET /user/margins/{segment}` (margins.json): funds, what is blocked, what is left (one pool for both)."""
        funds = self._funds(account)
        used = span.final(self.held(account))
        cash = UNLIMITED if funds is None else funds
        net = cash - used.total
        return {
            "enabled": True,
            "net": net,
            "available": {
                "adhoc_margin": 0,
                "cash": cash,
                "opening_balance": cash,
                "live_balance": net,
                "collateral": 0,
                "intraday_payin": 0,
            },
            "utilised": {
                "debits": used.total,
                "exposure": used.exposure,
                "m2m_realised": 0,
                "m2m_unrealised": 0,
                "option_premium": used.option_premium,
                "payout": 0,
                "span": used.span,
                "holding_sales": 0,
                "turnover": 0,
                "liquid_collateral": 0,
                "stock_collateral": 0,
                "delivery": used.var,
            },
        }

    def _order_row(self, ticket: Mapping[str, Any]) -> dict[str, Any]:
        leg = self.exposure(ticket)
        cost = charges(leg.instrument, str(ticket["transaction_type"]), abs(leg.quantity), leg.price, leg.product)
        return kite_margin(span.alone(leg), ticket, cost)
