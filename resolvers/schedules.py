"""The scheduler Lambda: EventBridge Scheduler (locally `local.scheduler.LocalScheduler`) calls `handler`.

Events: `{"action": "entry"|"exit"|"squareoff", "ownerId", "basketId", "scheduledAt"}`. A `squareoff`
without a basket squares off every MIS position of every user (the 15:15 IST schedule on trading days).
Timers deliver at least once; every action is idempotent by a clientRequestId derived from the basket.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from composition.runtime import bootstrap
from trading.clock import IST
from trading.errors import BrokerUnavailable, DomainError, RateLimited, ValidationError
from trading.ids import BasketId, OwnerId
from trading.ports import ScheduledAction
from trading.rules.calendar import is_stale
from trading.usecases import automation

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trading.ports import Ports

logger = Logger(service="basketgraph-schedules")


def _scheduled_at(event: dict[str, Any]) -> datetime | None:
    text = event.get("scheduledAt")
    if not text or text.startswith("<"):
        return None
    at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValidationError(f"scheduledAt {text!r} has no timezone")
    return at.astimezone(UTC)


def _id(event: dict[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ValidationError(f"{name} must be a string of 1-64 characters")
    return value


def run(ports: Ports, event: dict[str, Any]) -> dict[str, Any]:
    """Carry out one scheduled event; returns what was done (the handler's answer)."""
    try:
        action = ScheduledAction(str(event.get("action")))
    except ValueError:
        raise ValidationError("action must be one of entry, exit, squareoff") from None
    scheduled_at = _scheduled_at(event)
    owner, basket_id = _id(event, "ownerId"), _id(event, "basketId")
    if action is ScheduledAction.SQUARE_OFF and basket_id is None:
        now = ports.clock.now()
        when = scheduled_at or now
        if is_stale(when, now):
            logger.warning("stale square-off skipped", extra={"scheduledAt": when.isoformat()})
            return {"action": action.value, "baskets": []}
        done = automation.square_off_all(ports, when.astimezone(IST).date())
        return {"action": action.value, "baskets": list(done)}
    if owner is None or basket_id is None:
        raise ValidationError(f"a {action.value} needs ownerId and basketId")
    execution = automation.run_scheduled(ports, action, OwnerId(owner), BasketId(basket_id), scheduled_at)
    if execution is None:
        return {"action": action.value, "basketId": basket_id, "orderIds": []}
    return {
        "action": action.value,
        "basketId": basket_id,
        "status": execution.view.basket.status.value,
        "orderIds": [o.id for o in execution.orders],
    }


def make_handler(ports: Callable[[], Ports]) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The scheduler Lambda over the ports `ports()` returns."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return answer(ports(), event)

    return handle


def answer(ports: Ports, event: dict[str, Any]) -> dict[str, Any]:
    """Run the event. A refused one is logged and answered (retrying cannot help); a broker that is
    unreachable or rate-limiting raises, so the scheduler's retry policy tries again (safely: idempotent)."""
    try:
        result = run(ports, event)
    except (BrokerUnavailable, RateLimited):
        raise
    except DomainError as exc:
        logger.warning("scheduled event refused", extra={"error_type": exc.error_type, "error": exc.message})
        return {"error": {"type": exc.error_type, "message": exc.message}}
    logger.info("scheduled event done", extra=result)
    return result


handler = make_handler(lambda: bootstrap().ports)
