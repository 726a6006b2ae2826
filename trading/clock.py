"""Time for the domain: India's zone for market rules, and the Clock port's system clock (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")  # market rules, sessions and schedules; stored times are UTC


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
