"""DynamoDB attribute typing: serialize/deserialize, sortable timestamps, clock times and decimals."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from collections.abc import Mapping

Item = dict[str, Any]
"""A DynamoDB-typed item or key, e.g. {"PK": {"S": "BASKET#1"}}."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(values: Mapping[str, Any]) -> Item:
    """Type plain values for DynamoDB, leaving out None (absent attributes, never NULL)."""
    return {k: _serializer.serialize(v) for k, v in compact(values).items()}


def typed(value: Any) -> dict[str, Any]:
    """One value typed for DynamoDB, e.g. {"S": "OPEN"}."""
    return dict(_serializer.serialize(value))


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values of a DynamoDB-typed item (numbers come back as Decimal)."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` without its None entries, nested maps included."""
    return {k: compact(v) if isinstance(v, dict) else v for k, v in values.items() if v is not None}


def timestamp(at: datetime) -> str:
    """A fixed-width ISO-8601 UTC string, so timestamps sort as text.

    Raises
    ------
    ValueError
        `at` is naive: the domain only deals in aware datetimes.
    """
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}; pass an aware (UTC) datetime")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from `timestamp` text."""
    return datetime.fromisoformat(text).astimezone(UTC)


def clock_text(at: time | None) -> str | None:
    """A time of day as "HH:MM" (None stays None)."""
    return None if at is None else at.strftime("%H:%M")


def parse_clock(text: str | None) -> time | None:
    """The time of day of `clock_text` text (None stays None)."""
    return None if text is None else time.fromisoformat(text)


def decimal_or_none(value: Any) -> Decimal | None:
    """A stored number as Decimal; None when the attribute is absent."""
    return None if value is None else Decimal(value)
