"""The stream's account watch over the fakes: a running total per account from basket snapshots, the lock asked
for once the total reaches the daily loss limit, and nothing locked when the store disagrees with the hint."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from subscriptions.account_risk import AccountWatch
from tests.builders import NIFTY_CALL, NIFTY_PUT, OWNER
from tests.fakes import Fakes
from tests.unit.usecases.given import a_live_basket
from trading.model import BasketStatus
from trading.model.account_risk import AccountLimits, HaltKind
from trading.pnl_engine import BasketPnlSnapshot
from trading.usecases.account_risk import set_account_limits

if TYPE_CHECKING:
    from trading.ids import BasketId

LOSING = {NIFTY_CALL: Decimal("100.05"), NIFTY_PUT: Decimal("108.35")}  # -1950.00 a straddle


def snapshot(basket_id: BasketId, pnl: int) -> BasketPnlSnapshot:
    return BasketPnlSnapshot(basket_id, OWNER, Fraction(pnl), Fraction(0), Fraction(pnl), (), None)


def test_the_watch_sums_an_accounts_baskets_and_locks_once_the_total_reaches_the_limit() -> None:
    # Given two LIVE baskets, unmarked (P&L 0 each in the store), and a daily loss limit of 3000.00
    fakes = Fakes()
    first, second = a_live_basket(fakes), a_live_basket(fakes)
    set_account_limits(fakes.ports, OWNER, "paper", AccountLimits(daily_loss_limit=Decimal("3000.00")))
    watch = AccountWatch(lambda: fakes.ports)
    # When the first basket's P&L is -1950: the account is within its limit
    assert watch.check(snapshot(first.id, -1950)) is False
    assert fakes.account_risk.get(OWNER, "paper").halt is None
    # When the second's is -1950 too (and the store's marks agree): -3900 together
    fakes.marks.prices = dict(LOSING)
    assert watch.check(snapshot(second.id, -1950)) is True
    # Then the account is locked by the daily loss limit and both baskets are exiting
    halt = fakes.account_risk.get(OWNER, "paper").halt
    assert halt is not None
    assert halt.kind is HaltKind.DAILY_LOSS_LIMIT
    assert {fakes.baskets.get(OWNER, b.id).status for b in (first, second)} == {BasketStatus.EXITING}


def test_a_hint_the_store_does_not_bear_out_locks_nothing() -> None:
    # Given a LIVE basket at P&L 0 in the store and a daily loss limit of 1000.00
    fakes = Fakes()
    live = a_live_basket(fakes)
    set_account_limits(fakes.ports, OWNER, "paper", AccountLimits(daily_loss_limit=Decimal("1000.00")))
    watch = AccountWatch(lambda: fakes.ports)
    # When a snapshot says -5000 but the store's marks say otherwise
    assert watch.check(snapshot(live.id, -5000)) is False
    # Then nothing is locked or exited
    assert fakes.account_risk.get(OWNER, "paper").halt is None
    assert fakes.baskets.get(OWNER, live.id).status is BasketStatus.LIVE
