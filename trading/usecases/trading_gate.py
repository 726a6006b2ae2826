"""The gate every new order passes: refused while its account is locked or past its daily order cap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from trading.errors import BrokerNotConnected, Conflict
from trading.rules.account_limits import check_order_room, trading_day

if TYPE_CHECKING:
    from trading.ids import OwnerId
    from trading.ports import AccountRiskBook, Brokers, Clock


class GatePorts(Protocol):
    @property
    def account_risk(self) -> AccountRiskBook | None: ...
    @property
    def brokers(self) -> Brokers: ...
    @property
    def clock(self) -> Clock: ...


def refuse_if_halted(ports: GatePorts, owner: OwnerId, basket_broker: str | None) -> None:
    """Refuse at once, before any other check, a request for a locked account (a read; the count is `admit_orders`).

    Raises
    ------
    TradingHalted
        The basket's account is locked: why, by whom, until when.
    """
    if ports.account_risk is None:
        return
    try:
        broker = ports.brokers.for_owner(owner, basket_broker).name
    except BrokerNotConnected:
        return  # the request is refused further on, naming the broker
    ports.account_risk.get(owner, broker).check_open(ports.clock.now())


def admit_orders(ports: GatePorts, owner: OwnerId, broker: str, count: int) -> None:
    """Count `count` new orders (slices each count) against the account's day, or refuse them; exits never come here.

    The count and the lock are checked and the count taken in one conditional write, so neither concurrent
    placements nor a kill switch engaged meanwhile let an order past.

    Raises
    ------
    TradingHalted
        The account is locked (why, by whom, until when) or its daily order cap would be passed.
    """
    book = ports.account_risk
    if book is None:
        return
    now = ports.clock.now()
    day = trading_day(now)
    for _ in range(2):
        risk = book.get(owner, broker)
        risk.check_open(now)
        check_order_room(risk, day, count)
        if book.reserve_orders(owner, broker, day, count, risk.limits.max_orders_per_day, now):
            return
    raise Conflict(f"your {broker.upper()} account's order count kept changing; retry")
