"""Account-level risk: the account's limits and lock (accountRisk), setAccountLimits, killSwitch, resetKillSwitch."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import ports
from resolvers.identity import caller
from schema.shapes import timestamp
from trading.errors import ValidationError
from trading.model.account import BrokerName
from trading.model.account_risk import AccountLimits
from trading.money import shown_pnl, to_paise
from trading.usecases import account_risk as use_cases

if TYPE_CHECKING:
    from trading.model.account_risk import Halt
    from trading.usecases.account_risk import AccountRiskReport

router = Router()


def _account(value: Any) -> str:
    return BrokerName.of(value).key


def _rupees(value: Decimal | None) -> str | None:
    return None if value is None else str(to_paise(value))


def _remaining(limit: Decimal | None, pnl: Decimal) -> str | None:
    """How far `pnl` (a loss negative) still is from the loss `limit`; never below zero."""
    return None if limit is None else str(to_paise(max(limit + pnl, Decimal(0))))


def _halt(halt: Halt | None) -> dict[str, Any] | None:
    if halt is None:
        return None
    until = None if halt.until is None else timestamp(halt.until)
    return {"kind": halt.kind.value, "reason": halt.reason, "by": halt.by, "at": timestamp(halt.at), "until": until}


def report_shape(report: AccountRiskReport) -> dict[str, Any]:
    risk, day = report.risk, report.day_pnl
    limits = risk.limits
    pnl, realised, unrealised = shown_pnl(day.pnl, day.realised)
    cap = limits.max_orders_per_day
    return {
        "broker": BrokerName.of(risk.broker).value,
        "limits": {
            "dailyLossLimit": _rupees(limits.daily_loss_limit),
            "dailyProfitTarget": _rupees(limits.daily_profit_target),
            "maxOrdersPerDay": cap,
        },
        "tradingDay": day.day.isoformat(),
        "dayPnl": str(pnl),
        "dayRealised": str(realised),
        "dayUnrealised": str(unrealised),
        "basketsCounted": day.baskets,
        "ordersToday": report.orders_today,
        "lossRemaining": _remaining(limits.daily_loss_limit, pnl),
        "targetRemaining": _remaining(limits.daily_profit_target, -pnl),
        "ordersRemaining": None if cap is None else max(cap - report.orders_today, 0),
        "locked": report.halt is not None,
        "halt": _halt(report.halt),
        "history": [
            {
                "kind": e.kind.value,
                "reason": e.reason,
                "by": e.by,
                "at": timestamp(e.at),
                "halt": None if e.halt is None else e.halt.value,
            }
            for e in risk.history
        ],
        "version": risk.version,
    }


@router.resolver(type_name="Query", field_name="accountRisk")
def account_risk(broker: str) -> dict[str, Any]:
    owner = caller(router)
    return report_shape(use_cases.account_risk_report(ports(), owner, _account(broker)))


@router.resolver(type_name="Mutation", field_name="setAccountLimits")
def set_account_limits(input: dict[str, Any]) -> dict[str, Any]:
    owner, broker = caller(router), _account(input.get("broker"))
    cap = input.get("maxOrdersPerDay")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int)):
        raise ValidationError("maxOrdersPerDay must be a whole number")
    limits = AccountLimits(
        daily_loss_limit=args.decimal_or_none(input.get("dailyLossLimit"), "dailyLossLimit"),
        daily_profit_target=args.decimal_or_none(input.get("dailyProfitTarget"), "dailyProfitTarget"),
        max_orders_per_day=cap,
    )
    use_cases.set_account_limits(ports(), owner, broker, limits)
    return report_shape(use_cases.account_risk_report(ports(), owner, broker))


@router.resolver(type_name="Mutation", field_name="killSwitch")
def kill_switch(broker: str, reason: str | None = None) -> dict[str, Any]:
    reason = None if reason is None else args.text(reason, "reason", use_cases.MAX_REASON)
    return report_shape(use_cases.kill_switch(ports(), caller(router), _account(broker), reason))


@router.resolver(type_name="Mutation", field_name="resetKillSwitch")
def reset_kill_switch(broker: str) -> dict[str, Any]:
    return report_shape(use_cases.reset_kill_switch(ports(), caller(router), _account(broker)))
