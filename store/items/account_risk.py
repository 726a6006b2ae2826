"""The account-risk item: one per (owner, broker) in the user's partition, `ACCOUNT#{owner}` / `RISK#{broker}`.

Limits, the lock (`halt*`: `haltUntil` is a UTC timestamp, or UNTIL_RESET for the kill switch, so "locked at
now" is the condition `haltUntil > :now` on text), the lock's history, and the day's order count
(`ordersDay`, `ordersToday`) that placements take with a conditional update.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.accounts import account_partition
from store.items.attributes import deserialize, parse_timestamp, serialize, timestamp
from trading.ids import OwnerId
from trading.model.account_risk import AccountLimits, AccountRisk, Halt, HaltKind, RiskEvent, RiskEventKind

if TYPE_CHECKING:
    from store.items.attributes import Item

ITEM_TYPE = "AccountRisk"
SK_PREFIX = "RISK#"
UNTIL_RESET = "UNTIL_RESET"  # sorts after every timestamp: a kill switch is locked at any `now`


def account_risk_key(owner: str, broker: str) -> Item:
    return serialize({"PK": account_partition(owner), "SK": f"{SK_PREFIX}{broker}"})


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _event(event: RiskEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "reason": event.reason,
        "by": event.by,
        "at": timestamp(event.at),
        "halt": None if event.halt is None else event.halt.value,
    }


def risk_values(risk: AccountRisk) -> dict[str, Any]:
    """The attributes a save writes (never the order count, which placements update on their own)."""
    halt = risk.halt
    return {
        "type": ITEM_TYPE,
        "owner": risk.owner,
        "broker": risk.broker,
        "dailyLossLimit": _amount(risk.limits.daily_loss_limit),
        "dailyProfitTarget": _amount(risk.limits.daily_profit_target),
        "maxOrdersPerDay": risk.limits.max_orders_per_day,
        "haltKind": None if halt is None else halt.kind.value,
        "haltReason": None if halt is None else halt.reason,
        "haltBy": None if halt is None else halt.by,
        "haltAt": None if halt is None else timestamp(halt.at),
        "haltUntil": None if halt is None else (UNTIL_RESET if halt.until is None else timestamp(halt.until)),
        "history": [_event(e) for e in risk.history],
        "updatedAt": None if risk.updated_at is None else timestamp(risk.updated_at),
    }


def account_risk_of(item: Item) -> AccountRisk:
    values = deserialize(item)

    def amount(name: str) -> Decimal | None:
        return None if values.get(name) is None else Decimal(values[name])

    halt = None
    if values.get("haltKind"):
        until = values["haltUntil"]
        halt = Halt(
            kind=HaltKind(values["haltKind"]),
            reason=values["haltReason"],
            by=values["haltBy"],
            at=parse_timestamp(values["haltAt"]),
            until=None if until == UNTIL_RESET else parse_timestamp(until),
        )
    history = tuple(
        RiskEvent(
            kind=RiskEventKind(e["kind"]),
            reason=e["reason"],
            by=e["by"],
            at=parse_timestamp(e["at"]),
            halt=None if e.get("halt") is None else HaltKind(e["halt"]),
        )
        for e in values.get("history", [])
    )
    cap = values.get("maxOrdersPerDay")
    return AccountRisk(
        owner=OwnerId(values["owner"]),
        broker=values["broker"],
        limits=AccountLimits(amount("dailyLossLimit"), amount("dailyProfitTarget"), None if cap is None else int(cap)),
        halt=halt,
        history=history,
        orders_day=None if values.get("ordersDay") is None else date.fromisoformat(values["ordersDay"]),
        orders_today=int(values.get("ordersToday", 0)),
        version=int(values.get("version", 0)),
        updated_at=None if values.get("updatedAt") is None else parse_timestamp(values["updatedAt"]),
    )
