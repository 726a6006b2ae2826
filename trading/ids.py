"""Distinct id types, so an order id can never be passed where a trade id belongs."""

from __future__ import annotations

import secrets
import time
from typing import NewType

OwnerId = NewType("OwnerId", str)
BasketId = NewType("BasketId", str)
StrategyId = NewType("StrategyId", str)
LegId = NewType("LegId", str)
OrderId = NewType("OrderId", str)
BrokerOrderId = NewType("BrokerOrderId", str)
TradeId = NewType("TradeId", str)
ClientRequestId = NewType("ClientRequestId", str)


def new_id() -> str:
    """A 20-character, time-ordered, lowercase alphanumeric id (fits Kite's 20-char order tag)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(4)}"
