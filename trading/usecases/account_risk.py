"""Account-level risk: daily limits, the kill switch, and the lock that exits every LIVE basket and refuses new orders.

An account is the user's account at one broker; its baskets are theirs whose orders go to that broker.
Locking is a versioned save of the account's record, so of every caller that sees a limit reached at
once (stream batches, replays, concurrent handlers) one locks; every basket is then exited through the
one exit loop (`exits.exit_basket`), each once by its own versioned save and clientRequestId.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from trading.errors import BrokerNotConnected, Conflict, DomainError, NotFound, ValidationError
from trading.model import BasketStatus
from trading.model.account_risk import Halt, HaltKind
from trading.rules.account_limits import check_account_limits, day_breach, next_trading_day_start, trading_day
from trading.usecases.execution import ExecutionPorts
from trading.usecases.exits import exit_basket
from trading.valuation import pnl_of

if TYPE_CHECKING:
    from datetime import date, datetime

    from trading.ids import BasketId, OwnerId
    from trading.model import Basket
    from trading.model.account_risk import AccountLimits, AccountRisk
    from trading.ports import AccountRiskBook, MarkSource
    from trading.rules.calendar import MarketCalendar

log = logging.getLogger(__name__)

MAX_REASON = 200
ATTEMPTS = 5
PAGE = 100
ACTIVE = (BasketStatus.EXECUTING, BasketStatus.LIVE, BasketStatus.EXITING)
BY_SYSTEM = {
    HaltKind.DAILY_LOSS_LIMIT: "system: daily loss limit",
    HaltKind.DAILY_PROFIT_TARGET: "system: daily profit target",
}


class AccountRiskPorts(ExecutionPorts, Protocol):
    @property
    def marks(self) -> MarkSource: ...
    @property
    def calendar(self) -> MarketCalendar: ...


@dataclass(frozen=True)
class DayPnl:
    """The account's P&L of the trading day (exact): every basket active today, at the latest marks."""

    day: date
    pnl: Fraction
    realised: Fraction
    baskets: int


@dataclass(frozen=True)
class AccountRiskReport:
    risk: AccountRisk
    day_pnl: DayPnl
    halt: Halt | None  # the lock in force now
    orders_today: int


def _book(ports: AccountRiskPorts) -> AccountRiskBook:
    if ports.account_risk is None:
        raise ValidationError("account limits are not available on this deployment")
    return ports.account_risk


def broker_of(ports: AccountRiskPorts, basket: Basket) -> str | None:
    """The account (broker adapter name) a basket's orders go to; None when its broker is not available."""
    if basket.broker:
        return basket.broker.lower()
    try:
        return ports.brokers.for_owner(basket.owner, None).name
    except BrokerNotConnected:
        return None


def counts_today(basket: Basket, day: date) -> bool:
    """A basket's P&L counts in the account's day while it runs, and on the day it finished."""
    if basket.status in ACTIVE:
        return True
    return basket.status is not BasketStatus.DRAFT and trading_day(basket.updated_at) == day


def account_baskets(ports: AccountRiskPorts, owner: OwnerId, broker: str) -> list[Basket]:
    """The owner's baskets at `broker` (one Query per page of the owner's baskets)."""
    found: list[Basket] = []
    token: str | None = None
    while True:
        page = ports.baskets.list(owner, PAGE, token)
        found.extend(b for b in page.items if broker_of(ports, b) == broker)
        token = page.next_token
        if not token:
            return found


def basket_day_pnls(ports: AccountRiskPorts, owner: OwnerId, broker: str, now: datetime) -> dict[BasketId, Fraction]:
    """Each of the account's baskets active today, at its P&L at the latest marks (what the stream watch warms from)."""
    day = trading_day(now)
    return {
        basket.id: pnl_of(ports.marks, basket.id, ports.baskets.view(owner, basket.id).positions).pnl
        for basket in account_baskets(ports, owner, broker)
        if counts_today(basket, day)
    }


def day_pnl(ports: AccountRiskPorts, owner: OwnerId, broker: str, now: datetime) -> DayPnl:
    """The account's P&L today: the sum over its baskets active today of their P&L at the latest marks."""
    day = trading_day(now)
    pnl = Fraction(0)
    realised = Fraction(0)
    counted = 0
    for basket in account_baskets(ports, owner, broker):
        if not counts_today(basket, day):
            continue
        report = pnl_of(ports.marks, basket.id, ports.baskets.view(owner, basket.id).positions)
        pnl, realised, counted = pnl + report.pnl, realised + report.realised, counted + 1
    return DayPnl(day, pnl, realised, counted)


def account_risk_report(ports: AccountRiskPorts, owner: OwnerId, broker: str) -> AccountRiskReport:
    """The account's limits, its P&L and orders today, the lock in force and its history."""
    risk = _book(ports).get(owner, broker)
    now = ports.clock.now()
    today = day_pnl(ports, owner, broker, now)
    return AccountRiskReport(risk, today, risk.halted_at(now), risk.orders_on(today.day))


def basket_account_report(
    ports: AccountRiskPorts, owner: OwnerId, basket_broker: str | None
) -> AccountRiskReport | None:
    """The report of the account a basket trades through (None: no account limits here, or no broker session)."""
    if ports.account_risk is None:
        return None
    try:
        broker = ports.brokers.for_owner(owner, basket_broker).name
    except BrokerNotConnected:
        return None
    return account_risk_report(ports, owner, broker)


def set_account_limits(ports: AccountRiskPorts, owner: OwnerId, broker: str, limits: AccountLimits) -> AccountRisk:
    """Replace the account's daily limits (checked first: bad input writes nothing); recorded with who and when.

    Raises
    ------
    ValidationError
        A limit out of bounds.
    """
    check_account_limits(limits)
    book = _book(ports)
    for _ in range(ATTEMPTS):
        risk = book.get(owner, broker)
        changed = risk.with_limits(limits, owner, ports.clock.now())
        try:
            book.save(changed, risk.version)
            return book.get(owner, broker)
        except Conflict:
            continue
    raise Conflict(f"your {broker.upper()} account's limits kept changing; retry")


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip() or "kill switch engaged"
    if len(text) > MAX_REASON or not text.isprintable():
        raise ValidationError(f"reason must be at most {MAX_REASON} printable characters")
    return text


def kill_switch(ports: AccountRiskPorts, owner: OwnerId, broker: str, reason: str | None) -> AccountRiskReport:
    """Lock the account until resetKillSwitch, then cancel every working order and square off every LIVE basket.

    Engaging it again (a retry) locks nothing new and exits what is still LIVE.
    """
    text = check_reason(reason)
    book = _book(ports)
    for _ in range(ATTEMPTS):
        risk = book.get(owner, broker)
        if risk.halt is not None and risk.halt.kind is HaltKind.KILL_SWITCH:
            break
        now = ports.clock.now()
        try:
            book.save(risk.locked(Halt(HaltKind.KILL_SWITCH, text, owner, now, None)), risk.version)
            break
        except Conflict:
            continue
    else:
        raise Conflict(f"your {broker.upper()} account kept changing; engage the kill switch again")
    exit_everything(ports, owner, broker)
    return account_risk_report(ports, owner, broker)


def reset_kill_switch(ports: AccountRiskPorts, owner: OwnerId, broker: str) -> AccountRiskReport:
    """Lift the kill switch. A daily limit the day's P&L is still past keeps the account locked to the next day.

    Raises
    ------
    Conflict
        The kill switch is not engaged (a daily limit's lock lifts by itself at the next trading day).
    """
    book = _book(ports)
    for _ in range(ATTEMPTS):
        risk = book.get(owner, broker)
        now = ports.clock.now()
        if risk.halt is None or risk.halt.kind is not HaltKind.KILL_SWITCH:
            halt = risk.halted_at(now)
            why = "" if halt is None else f"; the account is locked by the {halt.kind} until {halt.until}"
            raise Conflict(f"the kill switch of your {broker.upper()} account is not engaged{why}")
        reset = risk.reset(owner, now)
        breach = day_breach(risk.limits, day_pnl(ports, owner, broker, now).pnl)
        if breach is not None:
            reset = reset.locked(_limit_halt(ports, breach, now))
        try:
            book.save(reset, risk.version)
            break
        except Conflict:
            continue
    else:
        raise Conflict(f"your {broker.upper()} account kept changing; reset the kill switch again")
    return account_risk_report(ports, owner, broker)


def _limit_halt(ports: AccountRiskPorts, breach: tuple[HaltKind, str], now: datetime) -> Halt:
    kind, reason = breach
    return Halt(kind, reason, BY_SYSTEM[kind], now, next_trading_day_start(ports.calendar, now))


def enforce_limits(ports: AccountRiskPorts, owner: OwnerId, broker: str) -> Halt | None:
    """Lock the account if its day's P&L (read from the store now) reached a daily limit, and exit every LIVE
    basket of a locked account. Returns the lock in force (None: the account trades on).

    However often and concurrently it runs, the account is locked once (a versioned save) and each basket
    is exited once.
    """
    book = _book(ports)
    for _ in range(ATTEMPTS):
        risk = book.get(owner, broker)
        now = ports.clock.now()
        halt = risk.halted_at(now)
        if halt is not None:
            break
        limits = risk.limits
        if limits.daily_loss_limit is None and limits.daily_profit_target is None:
            return None
        breach = day_breach(limits, day_pnl(ports, owner, broker, now).pnl)
        if breach is None:
            return None
        halt = _limit_halt(ports, breach, now)
        try:
            book.save(risk.locked(halt), risk.version)
            log.warning("account %s/%s locked: %s", owner, broker, halt.reason)
            break
        except Conflict:  # another handler locked it (or the limits changed): look again
            continue
    else:
        return None
    exit_everything(ports, owner, broker)
    return halt


def exit_everything(ports: AccountRiskPorts, owner: OwnerId, broker: str) -> list[Basket]:
    """Exit every LIVE basket of the account through the exit loop (working orders cancelled, positions squared
    off with protected MARKET orders); one basket failing does not stop the others. Returns those it exited."""
    halt = _book(ports).get(owner, broker).halt
    reason = "account locked" if halt is None else f"{halt.reason}; exited by the account's lock"
    since = 0 if halt is None else int(halt.at.timestamp())  # each lock exits a basket once
    exited: list[Basket] = []
    for basket in account_baskets(ports, owner, broker):
        if basket.status is not BasketStatus.LIVE:
            continue
        try:
            exit_basket(ports, owner, basket.id, f"halt-{basket.id}-{since}", reason=reason, only_live=True)
            exited.append(basket)
        except (Conflict, NotFound) as exc:
            log.info("basket %s not exited by the account lock: %s", basket.id, exc.message)
        except DomainError as exc:
            log.error("basket %s could not be exited by the account lock: %s", basket.id, exc.message)
    return exited
