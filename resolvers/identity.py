"""Who is calling: the Cognito `sub` AppSync puts in the event. Every resolver is scoped to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trading.errors import Unauthorized
from trading.ids import OwnerId

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.graphql_appsync.router import Router


def identity(router: Router) -> dict[str, Any]:
    event = router.current_event
    found = event.raw_event.get("identity") if event is not None else None
    return found if isinstance(found, dict) else {}


def caller(router: Router) -> OwnerId:
    sub = identity(router).get("sub")
    if not sub:
        raise Unauthorized("this operation needs a signed-in user (a Cognito user pool token)")
    return OwnerId(str(sub))
