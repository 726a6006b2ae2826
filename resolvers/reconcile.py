"""The reconciliation Lambda: every few minutes in market hours, bring orders in line with the broker.

Event: `{}` (every user of the pool), `{"ownerId": ...}` or `{"ownerIds": [...]}`. Users are listed from
the Cognito user pool of the settings' `user_pool_id` (the local stack's own pool locally); a user without a broker
session is skipped. Returns the totals; one user's failure does not stop the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from composition.runtime import bootstrap
from trading.errors import BrokerNotConnected, DomainError
from trading.ids import OwnerId
from trading.usecases.reconciliation import Reconciliation, reconcile_owner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from composition.runtime import Composition
    from trading.ports import Ports

logger = Logger(service="basketgraph-reconcile")


def pool_users(cognito: Any, pool_id: str) -> Iterator[OwnerId]:
    """The `sub` of every user in the pool (pages of 60)."""
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id, AttributesToGet=["sub"]):
        for user in page["Users"]:
            sub = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), None)
            if sub:
                yield OwnerId(sub)


def _owners(composed: Composition, event: dict[str, Any]) -> list[OwnerId]:
    if event.get("ownerIds"):
        return [OwnerId(str(o)) for o in event["ownerIds"]]
    if event.get("ownerId"):
        return [OwnerId(str(event["ownerId"]))]
    pool_id = composed.settings.user_pool_id
    if not pool_id:
        raise RuntimeError("USER_POOL_ID is not set; pass ownerId(s) in the event")
    return list(pool_users(composed.aws.client("cognito-idp"), pool_id))


def reconcile(ports: Ports, owners: list[OwnerId]) -> dict[str, Any]:
    """Reconcile each owner in turn; returns the totals and how many owners were skipped or failed."""
    total, skipped, failed = Reconciliation(), 0, 0
    for owner in owners:
        try:
            total.add(reconcile_owner(ports, owner))
        except BrokerNotConnected:
            skipped += 1
        except DomainError as exc:
            failed += 1
            logger.warning("reconciliation failed", extra={"owner": owner, "error_type": exc.error_type})
    result = {
        "owners": len(owners),
        "skipped": skipped,
        "failed": failed,
        "checked": total.checked,
        "updated": total.updated,
        "fills": total.fills,
        "adopted": total.adopted,
        "abandoned": total.abandoned,
        "exits": total.exits,
        "problems": total.problems[:20],
    }
    if total.updated or total.fills or total.adopted or total.abandoned or total.exits:
        logger.info("reconciliation repaired orders", extra=result)
    return result


def make_handler(compose: Callable[[], Composition]) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The reconciliation Lambda over the composition `compose()` returns."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        composed = compose()
        return reconcile(composed.ports, _owners(composed, event or {}))

    return handle


handler = make_handler(bootstrap)
