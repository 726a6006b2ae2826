"""IST comes from the tzdata package when the machine has no tz database (as on the Lambda runtime)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from trading import clock


def test_ist_loads_without_a_system_tz_database() -> None:
    # Given no system tz database at all
    zoneinfo.reset_tzpath([])
    try:
        # When India's zone is loaded afresh
        ist = zoneinfo.ZoneInfo.no_cache("Asia/Kolkata")
        # Then it is the one the domain uses: UTC+05:30, all year
        for month in (1, 7):
            assert datetime(2026, month, 1, tzinfo=UTC).astimezone(ist).utcoffset() == timedelta(hours=5, minutes=30)
        assert clock.IST.key == ist.key
    finally:
        zoneinfo.reset_tzpath()
