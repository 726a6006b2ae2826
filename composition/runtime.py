"""The process's composition: every adapter built once from one `Settings`, and the cached per-process bootstrap."""

from __future__ import annotations

import copy
import functools
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from composition.aws import AwsClients
from composition.settings import Settings

if TYPE_CHECKING:
    from brokers.secrets import SsmSecretStore
    from store import DynamoStore
    from store.schedules import EventBridgeScheduler
    from trading.ports import AccountPorts, Clock, Ports
    from trading.rules.calendar import MarketCalendar
    from trading.rules.holidays import Closures


class Composition:
    """The adapters of one deployment, each made on first use: the domain's ports, the broker accounts."""

    def __init__(self, settings: Settings, clients: AwsClients | None = None, clock: Clock | None = None) -> None:
        from trading.clock import SystemClock

        self.settings = settings
        self.aws = clients or AwsClients(settings)
        # the use cases' clock: the system's; the local stack may start on another day (a practice session)
        self.clock: Clock = clock or SystemClock()

    @cached_property
    def store(self) -> DynamoStore:
        from store import connect

        return connect(self.settings.table_name, self.aws.dynamodb, delivery_ttl=self.settings.delivery_ttl_seconds)

    @cached_property
    def secrets(self) -> SsmSecretStore:
        from brokers.secrets import SsmSecretStore

        return SsmSecretStore(self.aws.client("ssm"), self.settings.secrets_prefix, self.settings.secrets_kms_key_id)

    @property
    def calendar(self) -> MarketCalendar:
        from trading.rules import holidays
        from trading.rules.calendar import MarketCalendar

        settings = self.settings
        if settings.always_open:
            return MarketCalendar(always_open=True)
        shipped = holidays.decode(settings.market_calendar) if settings.market_calendar else _shipped_closures()
        return MarketCalendar.of(
            shipped, settings.holidays, holidays.parse_special_sessions(settings.market_special_sessions)
        )

    @property
    def scheduler(self) -> EventBridgeScheduler | None:
        """Basket schedules on EventBridge Scheduler; None when the settings name no schedule group."""
        from store.schedules import EventBridgeScheduler

        settings = self.settings
        if not settings.schedule_group:
            return None
        if not settings.scheduler_role_arn or not settings.schedule_target_arn:
            raise RuntimeError("a schedule group needs SCHEDULER_ROLE_ARN and SCHEDULE_TARGET_ARN")
        client = self.aws.client("scheduler")
        return EventBridgeScheduler(
            client, settings.schedule_group, settings.scheduler_role_arn, settings.schedule_target_arn
        )

    @cached_property
    def ports(self) -> Ports:
        """What the use cases reach outside the domain."""
        from composition.brokers import account_brokers
        from trading.model.account import BrokerName
        from trading.ports import Ports
        from trading.usecases.accounts import mark_disconnected

        store = self.store
        brokers = account_brokers(self.settings, self.secrets, store.instruments, self.clock, store.marks)
        # a broker refusing a session marks the account DISCONNECTED (see brokers/registry.py)
        brokers.on_refused(
            lambda owner, broker, why: mark_disconnected(self.accounts, owner, BrokerName.of(broker), why)
        )
        return Ports(
            baskets=store.baskets,
            orders=store.orders,
            instruments=store.instruments,
            marks=store.marks,
            requests=store.requests,
            brokers=brokers,
            clock=self.clock,
            deliveries=store.deliveries,
            calendar=self.calendar,
            scheduler=self.scheduler,
            account_risk=store.account_risk,
            leg_risks=store.leg_risks,
        )

    @cached_property
    def accounts(self) -> AccountPorts:
        """Broker accounts over the same brokers as `ports`."""
        from brokers.registry import AccountBrokers
        from composition.brokers import account_ports
        from store.accounts import DynamoBrokerAccounts

        brokers = self.ports.brokers
        if not isinstance(brokers, AccountBrokers):
            raise TypeError("accounts need the deployment's AccountBrokers")
        accounts = DynamoBrokerAccounts(self.aws.dynamodb, self.settings.table_name)
        return account_ports(self.settings, accounts, self.secrets, brokers, self.clock, self.aws.client("ssm"))

    def with_ports(self, ports: Ports) -> Composition:
        """The same composition over other ports (tests: a closed market, a fixed clock)."""
        other = copy.copy(self)
        other.__dict__["ports"] = ports
        return other


@functools.cache
def _shipped_closures() -> Closures:
    from trading.rules.holidays import shipped_closures

    return shipped_closures()


_process: Composition | None = None
_process_lock = threading.Lock()


def install(settings: Settings, clock: Clock | None = None) -> Composition:
    """Compose this process from `settings` rather than from its environment.

    The local stack does this once: its Lambdas run in its own process, as the same handlers, and
    find the stack's settings here as a Lambda finds its function's environment.
    """
    global _process
    with _process_lock:
        _process = Composition(settings, clock=clock)
        return _process


def bootstrap() -> Composition:
    """The process's composition: the installed one, else one from the environment (parsed once)."""
    global _process
    with _process_lock:
        if _process is None:
            _process = Composition(Settings())
        return _process
