"""The stream handler's composition: the publisher, the P&L feed (cold starts included), the risk and leg watches."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composition.runtime import Composition
    from subscriptions.handler import Live
    from trading.ports import Ports, Publisher


def stream_live(composed: Composition, publisher: Publisher | None = None, *, wait_for_stragglers: bool = True) -> Live:
    """What the stream Lambda composes, and the local stack with its own publisher.

    `publisher` defaults to AppSync over IAM at the settings' `appsync_url`. A Lambda waits out the
    coalescing interval (`wait_for_stragglers`); a long-lived process drains P&L on a timer instead.
    """
    from subscriptions.account_risk import AccountWatch
    from subscriptions.handler import Live
    from subscriptions.legs import LegWatch
    from subscriptions.pnl import PnlFeed
    from subscriptions.publishers import AppSyncPublisher
    from subscriptions.risk import RiskWatch
    from trading.clock import SystemClock
    from trading.pnl_engine import PnlEngine

    settings = composed.settings
    if publisher is None:
        if not settings.appsync_url:
            raise RuntimeError("APPSYNC_URL is not set")
        publisher = AppSyncPublisher(settings.appsync_url, settings.aws_region)
    pnl = PnlFeed(
        PnlEngine(),
        SystemClock(),
        wait_for_stragglers=wait_for_stragglers,
        positions_of=composed.store.orders.positions_of_instrument,
    )

    def ports() -> Ports:
        return composed.ports

    return Live(
        publisher=publisher,
        pnl=pnl,
        risk=RiskWatch(ports),
        accounts=AccountWatch(ports),
        legs=LegWatch(ports, pnl),
    )
