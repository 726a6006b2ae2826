"""The delivery marker: one item per published event id, so a retried batch publishes it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.items.attributes import serialize
from store.items.keys import event_key

if TYPE_CHECKING:
    from store.items.attributes import Item


def delivery_item(event_id: str, *, expires_at: int) -> Item:
    """The marker of `event_id`, expiring at `expires_at` (epoch seconds)."""
    return serialize({**event_key(event_id), "type": "Delivery", "expiresAt": expires_at})
