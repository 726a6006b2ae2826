"""Turn AppSync arguments (JSON) into domain values; anything malformed is a ValidationError."""

from __future__ import annotations

import enum
import unicodedata
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from trading.errors import ValidationError
from trading.model import OrderType, PartialFailurePolicy, Product, RiskLimits, Schedule, Side
from trading.model.account import BrokerName
from trading.usecases.baskets import LegInput

E = TypeVar("E", bound=enum.Enum)
MAX_DECIMAL_CHARS = 32
UNTEXT = frozenset({"Cs", "Cc"})  # lone surrogates (not Unicode text; nothing can store them) and control characters


def decimal_or_none(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_DECIMAL_CHARS:
        raise ValidationError(f"{what} is too long to be an amount")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f'{what} must be a decimal number like "123.45", got {text[:20]!r}') from None
    if not number.is_finite():
        raise ValidationError(f"{what} must be a finite number")
    return number


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
        lots=integer(raw.get("lots"), "lots"),
        order_type=member(OrderType, raw.get("orderType", "MARKET"), "orderType"),
        product=member(Product, raw.get("product", "NRML"), "product"),
        price=decimal_or_none(raw.get("price"), "price"),
        trigger_price=decimal_or_none(raw.get("triggerPrice"), "triggerPrice"),
    )


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
