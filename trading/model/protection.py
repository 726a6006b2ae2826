"""Market protection: how far from the last price a MARKET or SL-M order may fill (SEBI's 2026 algo rules)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trading.errors import ValidationError

MAX_PROTECTION_PERCENT = Decimal(100)


@dataclass(frozen=True)
class MarketProtection:
    """Automatic (`percent` None: the broker's own table) or a percentage 0 < p ≤ 100 of the last price."""

    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.percent is not None and not (self.percent.is_finite() and 0 < self.percent <= MAX_PROTECTION_PERCENT):
            raise ValidationError(
                f"market protection must be a percentage above 0 and at most 100 (or automatic), got {self.percent}"
            )

    @property
    def automatic(self) -> bool:
        return self.percent is None

    def __str__(self) -> str:
        return "AUTO" if self.percent is None else f"{self.percent}%"


AUTOMATIC = MarketProtection()
