"""Turn AppSync arguments (JSON) into domain values; anything malformed is a ValidationError."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from trading.errors import ValidationError
from trading.model import MAX_LEGS, OrderType, PartialFailurePolicy, Product, RiskLimits, Schedule, Side
from trading.model.account import BrokerName
from trading.model.leg_risk import (
    NO_LEG_RISK,
    Basis,
    CombinedBasis,
    LegRisk,
    Level,
    ReEntry,
    StopLossMode,
    StrategyRisk,
    Trail,
)
from trading.model.protection import MarketProtection
from trading.rules.pre_trade import check_lots
from trading.usecases.baskets import LegInput

E = TypeVar("E", bound=enum.Enum)
MAX_DECIMAL_CHARS = 32
MAX_INTEGER_DIGITS = 12
MAX_FRACTION_DIGITS = 4  # two beyond a 0.05 tick's precision; the tick and paise rules refuse the rest
PLAIN_DECIMAL = re.compile(rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?", re.ASCII)
UNTEXT = frozenset({"Cs", "Cc"})  # lone surrogates (not Unicode text; nothing can store them) and control characters


def decimal_or_none(value: Any, what: str) -> Decimal | None:
    """A plain ASCII decimal ("318.65", "-5"): no exponent, no underscores, no other scripts' digits, at most
    MAX_INTEGER_DIGITS before the point and MAX_FRACTION_DIGITS after it (the rules bound the value further)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DECIMAL_CHARS or not PLAIN_DECIMAL.fullmatch(value):
        shown = str(value)[:20].encode("ascii", "backslashreplace").decode()
        raise ValidationError(
            f'{what} must be a plain decimal like "123.45" (ASCII digits, at most {MAX_INTEGER_DIGITS} before'
            f" the point and {MAX_FRACTION_DIGITS} after), got {shown!r}"
        )
    try:
        return Decimal(value)
    except InvalidOperation:  # the pattern admits only what Decimal reads; kept for safety
        raise ValidationError(f'{what} must be a decimal number like "123.45"') from None


def member(kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ValidationError(f"{what} must be one of {choices}") from None


def integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an integer")
    return value


def text(value: Any, what: str, max_length: int = 200) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string")
    if len(value) > max_length:
        raise ValidationError(f"{what} is {len(value)} characters long; at most {max_length} allowed")
    if any(unicodedata.category(c) in UNTEXT for c in value):
        raise ValidationError(f"{what} must be valid Unicode text without control characters")
    return value


def lots(value: Any) -> int:
    """A leg's lots, bounded before anything else about the leg is looked at."""
    count = integer(value, "lots")
    check_lots(count)
    return count


def counted_strategies(strategies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A basket input's strategies, their legs counted (at most MAX_LEGS in all) before any leg is read."""
    if len(strategies) > MAX_LEGS or sum(len(s.get("legs") or []) for s in strategies) > MAX_LEGS:
        raise ValidationError(f"a basket holds at most {MAX_LEGS} legs")
    return strategies


def leg_inputs(legs: list[dict[str, Any]]) -> list[LegInput]:
    """A strategy's legs, counted (at most MAX_LEGS) before any is read."""
    if len(legs) > MAX_LEGS:
        raise ValidationError(f"a basket holds at most {MAX_LEGS} legs")
    return [leg_input(leg) for leg in legs]


def time_of_day(value: Any, what: str) -> time | None:
    if value is None:
        return None
    try:
        hours, minutes = text(value, what, 5).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValidationError(f"{what} must be a time of day HH:MM (IST), got {str(value)[:10]!r}") from None


def leg_input(raw: dict[str, Any]) -> LegInput:
    return LegInput(
        exchange=text(raw.get("exchange"), "exchange", 10),
        tradingsymbol=text(raw.get("tradingsymbol"), "tradingsymbol", 50),
        side=member(Side, raw.get("side"), "side"),
        lots=lots(raw.get("lots")),
        order_type=member(OrderType, raw.get("orderType", "MARKET"), "orderType"),
        product=member(Product, raw.get("product", "NRML"), "product"),
        price=decimal_or_none(raw.get("price"), "price"),
        trigger_price=decimal_or_none(raw.get("triggerPrice"), "triggerPrice"),
        market_protection=market_protection(raw.get("marketProtection")),
        risk=leg_risk(raw.get("risk")),
    )


def leg_risk(raw: dict[str, Any] | None) -> LegRisk:
    """A leg's managed exit as given (the rules check it against the leg in `build_leg`)."""
    if raw is None:
        return NO_LEG_RISK
    trail, re_entry = raw.get("trail"), raw.get("reEntry")
    return LegRisk(
        stop_loss=level(raw.get("stopLoss"), "risk.stopLoss"),
        target=level(raw.get("target"), "risk.target"),
        trail=Trail(_required(trail, "step", "risk.trail"), _required(trail, "offset", "risk.trail"))
        if trail
        else None,
        move_to_cost_at=level(raw.get("moveToCostAt"), "risk.moveToCostAt"),
        re_entry=ReEntry(
            integer(re_entry.get("times"), "risk.reEntry.times"),
            time_of_day(re_entry.get("until"), "risk.reEntry.until"),
        )
        if re_entry
        else None,
        stop_loss_mode=member(StopLossMode, raw.get("stopLossMode") or "MANAGED", "risk.stopLossMode"),
    )


def strategy_risk(raw: dict[str, Any] | None) -> StrategyRisk | None:
    """A strategy's combined stop-loss and target as given (the rules check them against its legs)."""
    if raw is None:
        return None
    return StrategyRisk(
        member(CombinedBasis, raw.get("basis"), "strategy risk.basis"),
        decimal_or_none(raw.get("stopLoss"), "strategy risk.stopLoss"),
        decimal_or_none(raw.get("target"), "strategy risk.target"),
    )


def level(raw: dict[str, Any] | None, what: str) -> Level | None:
    if raw is None:
        return None
    return Level(member(Basis, raw.get("basis"), f"{what}.basis"), _required(raw, "value", what))


def _required(raw: dict[str, Any], name: str, what: str) -> Decimal:
    value = decimal_or_none(raw.get(name), f"{what}.{name}")
    if value is None:
        raise ValidationError(f"{what}.{name} is required")
    return value


def market_protection(value: Any) -> MarketProtection:
    """ "AUTO" (or absent) or a percentage string 0 < p <= 100."""
    return MarketProtection.parse(None if value is None else text(value, "marketProtection", 20))


def risk_limits(raw: dict[str, Any] | None) -> RiskLimits | None:
    if raw is None:
        return None
    return RiskLimits(
        max_loss=decimal_or_none(raw.get("maxLoss"), "risk.maxLoss"),
        target=decimal_or_none(raw.get("target"), "risk.target"),
    )


def broker_name(value: Any) -> str | None:
    """A `BrokerName` as the adapter name orders carry ("kite", "paper", ...); None when not given."""
    return None if value is None else BrokerName.of(value).key


def partial_failure_policy(value: Any) -> PartialFailurePolicy | None:
    return None if value is None else member(PartialFailurePolicy, value, "onPartialFailure")


def schedule(raw: dict[str, Any] | None) -> Schedule | None:
    if raw is None:
        return None
    return Schedule(
        entry_at=time_of_day(raw.get("entryAt"), "schedule.entryAt"),
        exit_at=time_of_day(raw.get("exitAt"), "schedule.exitAt"),
    )
