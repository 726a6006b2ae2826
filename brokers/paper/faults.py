"""The fault knobs tests turn: late order replies and held postbacks (a receiver that is down)."""

from __future__ import annotations

from typing import Any


class Faults:
    """What the exchange does wrong on purpose; nothing by default."""

    def __init__(self) -> None:
        self.reply_delay = 0.0  # seconds every order placement reply is held back after booking
        self._held: list[dict[str, Any]] | None = None

    def hold_postbacks(self) -> None:
        """Keep postbacks instead of sending them, as if the receiver were down."""
        self._held = []

    def resume_postbacks(self) -> list[dict[str, Any]]:
        """Send postbacks again; returns the ones held meanwhile (they are not sent)."""
        held, self._held = self._held or [], None
        return held

    def held(self, payload: dict[str, Any]) -> bool:
        """Keep `payload` if postbacks are held; False when it should be sent."""
        if self._held is None:
            return False
        self._held.append(payload)
        return True
