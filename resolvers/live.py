"""Live updates: the IAM-only publish mutations and the subscription authorizers."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import ports
from resolvers.identity import caller, identity
from trading.errors import Unauthorized, ValidationError
from trading.ids import BasketId

router = Router()


class AlreadyDelivered(ValidationError):
    """A retried publish of an event subscribers already received; nothing is delivered again."""

    error_type = "AlreadyDelivered"


def _publish(eventId: str, ownerId: str, basketId: str, payload: str) -> dict[str, Any]:
    """Echo the event (AppSync fans the result out to subscribers) unless it was delivered before."""
    who = identity(router)
    if who.get("sub") or not (who.get("userArn") or who.get("accountId")):
        raise Unauthorized("publish mutations are for the stream handler's IAM role only")
    try:
        body = json.loads(payload) if isinstance(payload, str) else payload
    except ValueError:
        raise ValidationError("payload must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValidationError("payload must be a JSON object")
    event_id = args.text(eventId, "eventId", 200)
    if not ports().deliveries.first(event_id):
        raise AlreadyDelivered(f"event {event_id} was already delivered")
    return {**body, "eventId": event_id, "ownerId": ownerId, "basketId": basketId}


router.resolver(type_name="Mutation", field_name="publishOrderUpdate")(_publish)
router.resolver(type_name="Mutation", field_name="publishFill")(_publish)
router.resolver(type_name="Mutation", field_name="publishPnl")(_publish)
router.resolver(type_name="Mutation", field_name="publishBasketUpdate")(_publish)
router.resolver(type_name="Mutation", field_name="publishRiskState")(_publish)


def _authorize(ownerId: str, basketId: str | None = None) -> None:
    """A subscription starts only for the caller's own events (and an existing basket of theirs)."""
    owner = caller(router)
    if ownerId != owner:
        raise Unauthorized("you can subscribe only to your own events: pass ownerId = me.id")
    if basketId is not None:
        ports().baskets.get(owner, BasketId(args.text(basketId, "basketId", 40)))


router.resolver(type_name="Subscription", field_name="onOrderUpdate")(_authorize)
router.resolver(type_name="Subscription", field_name="onFill")(_authorize)
router.resolver(type_name="Subscription", field_name="onPnl")(_authorize)
router.resolver(type_name="Subscription", field_name="onBasketUpdate")(_authorize)
router.resolver(type_name="Subscription", field_name="onRiskState")(_authorize)
