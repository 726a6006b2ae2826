"""The composition root of the resolver Lambda (and of the local stack, which calls the same handler)."""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from trading.risk import MarketCalendar

if TYPE_CHECKING:
    from trading.services import Ports


def market_calendar_from_env() -> MarketCalendar:
    holidays = frozenset(
        date.fromisoformat(day.strip())
        for day in os.environ.get("MARKET_HOLIDAYS", "").split(",")
        if day.strip()
    )
    return MarketCalendar(holidays=holidays, always_open=os.environ.get("MARKET_HOURS", "nse") == "always")


@cache
def bootstrap() -> Ports:
    """Build every adapter once per process from the environment.

    TABLE_NAME, BROKER (kite|paper), KITE_API_KEY, KITE_ROOT, MARKET_HOURS (nse|always), MARKET_HOLIDAYS;
    endpoints follow boto3's own AWS_ENDPOINT_URL_<SERVICE> variables, so the local stack
    needs no other code path.
    """
    import boto3
    from brokers.kite.accounts import KiteBrokers, SsmSecretStore
    from store.repositories import connect

    from trading.ports import SystemClock
    from trading.services import Ports

    session = boto3.session.Session()
    store = connect(os.environ.get("TABLE_NAME", "Trading"), session.client("dynamodb"))
    brokers = KiteBrokers(
        api_key=os.environ.get("KITE_API_KEY", ""),
        root=os.environ.get("KITE_ROOT", "https://api.kite.trade"),
        name=os.environ.get("BROKER", "kite"),
        secrets=SsmSecretStore(session.client("ssm")),
    )
    return Ports(
        baskets=store.baskets,
        orders=store.orders,
        instruments=store.instruments,
        marks=store.marks,
        requests=store.requests,
        brokers=brokers,
        clock=SystemClock(),
        calendar=market_calendar_from_env(),
    )
