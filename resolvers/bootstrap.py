"""The composition root of the resolver Lambda (and of the local stack, which calls the same handler)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from trading.rules.calendar import MarketCalendar

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trading.ports import AccountPorts, Ports


def market_calendar_from_env() -> MarketCalendar:
    holidays = frozenset(
        date.fromisoformat(day.strip()) for day in os.environ.get("MARKET_HOLIDAYS", "").split(",") if day.strip()
    )
    return MarketCalendar(holidays=holidays, always_open=os.environ.get("MARKET_HOURS", "nse") == "always")


_override: Ports | None = None


@contextmanager
def use(ports: Ports) -> Iterator[Ports]:
    """Run the handlers with other ports (tests: a closed market, a fixed clock, fakes)."""
    global _override
    previous, _override = _override, ports
    try:
        yield ports
    finally:
        _override = previous


@cache
def _session() -> Any:
    return boto3.session.Session()


@cache
def dynamodb() -> Any:
    """The process's DynamoDB client (tests hook its events to count requests)."""
    return _session().client("dynamodb")


def bootstrap() -> Ports:
    return _override if _override is not None else _bootstrap()


@cache
def accounts() -> AccountPorts:
    """Broker accounts over the same brokers as `bootstrap()`.

    SECRETS_PREFIX, SECRETS_KMS_KEY_ID (the secret store); the brokers offered: see brokers/deployment.py.
    """
    from brokers.deployment import account_ports
    from brokers.registry import AccountBrokers
    from brokers.secrets import SsmSecretStore
    from store.accounts import DynamoBrokerAccounts
    from trading.clock import SystemClock

    brokers = _bootstrap().brokers
    if not isinstance(brokers, AccountBrokers):
        raise TypeError("accounts() needs the deployment's AccountBrokers")
    table = os.environ.get("TABLE_NAME", "Trading")
    secrets = SsmSecretStore(_session().client("ssm"))
    return account_ports(DynamoBrokerAccounts(dynamodb(), table), secrets, brokers, SystemClock())


@cache
def _bootstrap() -> Ports:
    """Build every adapter once per process from the environment.

    TABLE_NAME, BROKER (kite|paper), KITE_API_KEY, KITE_ROOT, MARKET_HOURS (nse|always), MARKET_HOLIDAYS,
    SCHEDULE_GROUP, SCHEDULER_ROLE_ARN, SCHEDULE_TARGET_ARN (basket schedules; none without a group);
    endpoints follow boto3's own AWS_ENDPOINT_URL_<SERVICE> variables, so the local stack
    needs no other code path.
    """
    from brokers.deployment import account_brokers
    from brokers.secrets import SsmSecretStore
    from store import connect
    from store.schedules import EventBridgeScheduler
    from trading.clock import SystemClock
    from trading.model.account import BrokerName
    from trading.ports import Ports
    from trading.usecases.accounts import mark_disconnected

    store = connect(os.environ.get("TABLE_NAME", "Trading"), dynamodb())
    brokers = account_brokers(SsmSecretStore(_session().client("ssm")), store.instruments, SystemClock())
    # a broker refusing a session marks the account DISCONNECTED (see brokers/registry.py)
    brokers.on_refused(lambda owner, broker, why: mark_disconnected(accounts(), owner, BrokerName.of(broker), why))
    return Ports(
        baskets=store.baskets,
        orders=store.orders,
        instruments=store.instruments,
        marks=store.marks,
        requests=store.requests,
        brokers=brokers,
        clock=SystemClock(),
        deliveries=store.deliveries,
        calendar=market_calendar_from_env(),
        scheduler=EventBridgeScheduler.from_env(_session().client("scheduler")),
    )
