"""Account-level risk types: an account's daily limits, its P&L and orders today, its lock and the lock's history."""

from __future__ import annotations

import strawberry

import schema.accounts  # noqa: F401  # declares BrokerName's GraphQL enum before this module uses it
from schema.aws import AWSDate, AWSDateTime
from trading.model import account_risk
from trading.model.account import BrokerName

RUPEES = 'Rupees as a decimal string, 2 places (e.g. "-1250.50")'

strawberry.enum(
    account_risk.HaltKind,
    description="Why an account is locked: DAILY_LOSS_LIMIT or DAILY_PROFIT_TARGET (until the next trading day), "
    "KILL_SWITCH (until resetKillSwitch)",
)
strawberry.enum(account_risk.RiskEventKind, description="LOCKED, RESET (the kill switch), LIMITS_SET")


@strawberry.type(description="An account's limits per trading day (IST), across all its baskets")
class AccountLimits:
    daily_loss_limit: str | None = strawberry.field(description=RUPEES + "; the day's loss that locks the account")
    daily_profit_target: str | None = strawberry.field(description=RUPEES + "; the day's profit that locks it")
    max_orders_per_day: int | None = strawberry.field(
        description="Orders (each slice counts) placeOrder and executeBasket may send a day; exits never count"
    )


@strawberry.type(description="The lock in force: no new orders until `until` (null: until resetKillSwitch)")
class TradingHalt:
    kind: account_risk.HaltKind
    reason: str
    by: str = strawberry.field(description='Who: your user id, or "system: daily loss limit"')
    at: AWSDateTime
    until: AWSDateTime | None


@strawberry.type(description="One change of the account's lock or limits: who, when and why")
class RiskEvent:
    kind: account_risk.RiskEventKind
    reason: str
    by: str
    at: AWSDateTime
    halt: account_risk.HaltKind | None


@strawberry.type(description="An account's limits, today's P&L and orders, how close each limit is, and its lock")
class AccountRisk:
    broker: BrokerName
    limits: AccountLimits
    trading_day: AWSDate = strawberry.field(description="The IST trading day the figures are of")
    day_pnl: str = strawberry.field(
        description=RUPEES + "; realised + unrealised of every basket of the account active today"
    )
    day_realised: str = strawberry.field(description=RUPEES)
    day_unrealised: str = strawberry.field(description=RUPEES)
    baskets_counted: int
    orders_today: int
    loss_remaining: str | None = strawberry.field(description=RUPEES + "; more loss before the daily loss limit")
    target_remaining: str | None = strawberry.field(description=RUPEES + "; more profit before the daily target")
    orders_remaining: int | None
    locked: bool
    halt: TradingHalt | None
    history: list[RiskEvent] = strawberry.field(description="The latest 50 events, oldest first")
    version: int


@strawberry.input(description="The account's daily limits; an omitted limit is removed")
class AccountLimitsInput:
    broker: BrokerName
    daily_loss_limit: str | None = strawberry.field(default=None, description='Rupees, positive, e.g. "5000.00"')
    daily_profit_target: str | None = strawberry.field(default=None, description='Rupees, positive, e.g. "8000"')
    max_orders_per_day: int | None = None
