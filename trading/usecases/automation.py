"""Automation: exits on a risk limit, scheduled entries and exits, and the 15:15 IST MIS square-off."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from trading.clock import IST
from trading.errors import Conflict, DomainError, NotFound, TradingHalted
from trading.model import BasketStatus, Product
from trading.ports import ScheduledAction
from trading.rules.calendar import is_stale
from trading.rules.limits import limit_breach
from trading.usecases.execution import ExecutionPorts, execute_basket
from trading.usecases.exits import ExitPorts, exit_basket
from trading.valuation import pnl_of

if TYPE_CHECKING:
    from datetime import date, datetime

    from trading.ids import BasketId, OwnerId
    from trading.ports import MarkSource
    from trading.usecases.idempotency import Execution

log = logging.getLogger(__name__)


class LimitPorts(ExitPorts, Protocol):
    @property
    def marks(self) -> MarkSource: ...


# Schedules and the square-off act through execution and exits only.
AutomationPorts = ExecutionPorts


def exit_on_limit(ports: LimitPorts, owner: OwnerId, basket_id: BasketId) -> Execution | None:
    """Exit a LIVE basket whose P&L (from the store, at the latest marks) reached its max loss or target.

    Exactly once however often it is called, concurrently or not: the exit's clientRequestId is the
    basket's own and the basket's versioned save admits one exit. Returns None when nothing was done.
    """
    view = ports.baskets.view(owner, basket_id)
    basket = view.basket
    if basket.status is not BasketStatus.LIVE or (basket.risk.max_loss is None and basket.risk.target is None):
        return None
    reason = limit_breach(basket.risk, pnl_of(ports.marks, basket_id, view.positions).pnl)
    if reason is None:
        return None
    try:
        return exit_basket(ports, owner, basket_id, f"limit-exit-{basket_id}", reason=reason, only_live=True)
    except Conflict as exc:
        log.info("limit exit of basket %s not needed: %s", basket_id, exc.message)
        return None


def run_scheduled(
    ports: AutomationPorts,
    action: ScheduledAction,
    owner: OwnerId,
    basket_id: BasketId,
    scheduled_at: datetime | None = None,
) -> Execution | None:
    """Carry out a basket's scheduled entry, exit or MIS square-off; None when it no longer applies.

    A repeat (timers deliver at least once) finds the first run's result by its clientRequestId.

    Raises
    ------
    NotFound
        The basket is not the owner's.
    """
    now = ports.clock.now()
    when = scheduled_at or now
    if is_stale(when, now):
        log.warning("scheduled %s of basket %s is stale (due %s); skipped", action, basket_id, when.isoformat())
        return None
    basket = ports.baskets.get(owner, basket_id)
    local = when.astimezone(IST)
    try:
        if action is ScheduledAction.ENTRY:
            if basket.status is not BasketStatus.DRAFT:
                return None
            return execute_basket(ports, owner, basket_id, f"scheduled-entry-{basket_id}")
        if action is ScheduledAction.EXIT:
            reason = f"scheduled exit at {local:%H:%M} IST"
            return exit_basket(ports, owner, basket_id, f"scheduled-exit-{basket_id}", reason=reason, only_live=True)
        return square_off(ports, owner, basket_id, local.date())
    except Conflict as exc:
        log.info("scheduled %s of basket %s not needed: %s", action, basket_id, exc.message)
        return None
    except TradingHalted as exc:  # the account is locked: a scheduled entry waits for no one
        log.warning("scheduled %s of basket %s refused: %s", action, basket_id, exc.message)
        return None


def square_off(ports: AutomationPorts, owner: OwnerId, basket_id: BasketId, day: date) -> Execution | None:
    """Square off the basket's open MIS (intraday) positions; others stay open. None when it has none."""
    view = ports.baskets.view(owner, basket_id)
    if view.basket.status not in (BasketStatus.LIVE, BasketStatus.FAILED):
        return None  # an EXITING basket's exit orders are already on their way
    if not any(p.net_quantity and p.key.product is Product.MIS for p in view.positions):
        return None
    return exit_basket(
        ports,
        owner,
        basket_id,
        f"squareoff-{basket_id}-{day:%Y%m%d}",
        reason="MIS positions squared off at 15:15 IST",
        products=frozenset({Product.MIS}),
    )


def square_off_all(ports: AutomationPorts, day: date) -> list[BasketId]:
    """The 15:15 IST square-off: every basket of every user with an MIS position opened on `day` (IST).

    Returns the baskets it squared off; one failing basket does not stop the others.
    """
    if not ports.calendar.is_trading_day(day):
        return []
    baskets = {(p.owner, p.key.basket_id) for p in ports.orders.intraday_positions(day) if p.net_quantity}
    done: list[BasketId] = []
    for owner, basket_id in sorted(baskets):
        try:
            if square_off(ports, owner, basket_id, day) is not None:
                done.append(basket_id)
        except (Conflict, NotFound) as exc:
            log.info("square-off of basket %s skipped: %s", basket_id, exc.message)
        except DomainError as exc:
            log.error("square-off of basket %s failed: %s", basket_id, exc.message)
    return done
