"""Optimistic versions: the caller's expected version checked, and the bump before a conditional save."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trading.errors import Conflict

if TYPE_CHECKING:
    from trading.model import Basket, Order


def bump(obj: Basket | Order) -> int:
    """Advance the version for a conditional save; returns the version the store must still hold."""
    expected = obj.version
    obj.version += 1
    return expected


def check_version(basket: Basket, expected_version: int) -> None:
    if basket.version != expected_version:
        raise Conflict(
            f"basket {basket.id} is at version {basket.version}, not {expected_version}; re-read it and retry"
        )
