"""Kite's login rules: when an access token Kite issued stops working."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from trading.clock import IST

KITE_TOKEN_EXPIRY = time(6, 0)  # Kite access tokens die at 06:00 IST the next morning


def kite_token_expiry(issued_at: datetime) -> datetime:
    """The next 06:00 IST after `issued_at`: when Kite invalidates every access token."""
    local = issued_at.astimezone(IST)
    expiry = datetime.combine(local.date(), KITE_TOKEN_EXPIRY, IST)
    if expiry <= local:
        expiry += timedelta(days=1)
    return expiry
