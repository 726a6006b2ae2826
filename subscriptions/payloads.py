"""What a stream record means to subscribers: order changes, fills and basket status changes as live events
(P&L is the engine's)."""

from __future__ import annotations

from typing import Any

from schema import shapes
from store.items.attributes import deserialize
from store.items.basket import basket_of
from store.items.fill import booked_fill_of
from store.items.order import order_of
from trading.ids import OwnerId
from trading.ports import LiveEvent

# An order change worth telling a subscriber about: anything but bookkeeping (e.g. fill counters
# are told through onFill and come with the next status change anyway).
ORDER_FIELDS = (
    "status",
    "statusMessage",
    "brokerOrderId",
    "filledQuantity",
    "filledValue",
    # a modification's terms
    "orderType",
    "quantity",
    "price",
    "triggerPrice",
    "validity",
    "marketProtection",
)


def item_type(image: dict[str, Any] | None) -> str | None:
    return image.get("type", {}).get("S") if image else None


def order_event(record: dict[str, Any]) -> LiveEvent | None:
    """publishOrderUpdate for a new order or a change of its status, message, broker id or fills."""
    change = record.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if record.get("eventName") == "REMOVE" or item_type(new) != "Order":
        return None
    if old and all(new.get(f) == old.get(f) for f in ORDER_FIELDS):
        return None
    order = order_of(new)
    return LiveEvent(
        kind="order",
        event_id=f"order:{record['eventID']}",
        owner=order.owner,
        basket_id=order.basket_id,
        payload={"order": shapes.order(order)},
    )


BASKET_FIELDS = ("status", "statusMessage")


def basket_event(record: dict[str, Any]) -> LiveEvent | None:
    """publishBasketUpdate for a new basket or a change of its status or status message (edits are not told)."""
    change = record.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if record.get("eventName") == "REMOVE" or item_type(new) != "Basket":
        return None
    if old and all(new.get(f) == old.get(f) for f in BASKET_FIELDS):
        return None
    basket = basket_of(new)
    return LiveEvent(
        kind="basket",
        event_id=f"basket:{record['eventID']}",
        owner=basket.owner,
        basket_id=basket.id,
        payload={
            "status": basket.status.value,
            "statusMessage": basket.status_message,
            "version": basket.version,
            "updatedAt": shapes.timestamp(basket.updated_at),
        },
    )


def fill_event(record: dict[str, Any]) -> LiveEvent | None:
    """publishFill for a fill written for the first time."""
    new = record.get("dynamodb", {}).get("NewImage")
    if record.get("eventName") != "INSERT" or item_type(new) != "Fill":
        return None
    booked = booked_fill_of(new)
    return LiveEvent(
        kind="fill",
        event_id=f"fill:{record['eventID']}",
        owner=OwnerId(deserialize(new)["owner"]),
        basket_id=booked.basket_id,
        payload={"fill": shapes.fill(booked)},
    )
