"""Market protection: how far from the last price a MARKET or SL-M order may fill (SEBI's 2026 algo rules)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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

    @classmethod
    def parse(cls, text: str | None) -> MarketProtection:
        """`None` or "AUTO": automatic; else a percentage as a decimal string ("2.5")."""
        if text is None or text.strip().upper() == "AUTO":
            return AUTOMATIC
        try:
            percent = Decimal(text.strip())
        except InvalidOperation:
            raise ValidationError(
                f'market protection must be "AUTO" or a percentage above 0 up to 100, got {text[:20]!r}'
            ) from None
        return cls(percent)

    @property
    def automatic(self) -> bool:
        return self.percent is None

    def __str__(self) -> str:
        return "AUTO" if self.percent is None else str(self.percent)


AUTOMATIC = MarketProtection()
