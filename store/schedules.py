"""`trading.ports.Scheduler` on EventBridge Scheduler: one one-time schedule per basket and action.

Each schedule fires `at(...)` in IST, invokes the scheduler Lambda (`resolvers.schedules.handler`) with
`{"action", "ownerId", "basketId", "scheduledAt"}` (EventBridge fills in `<aws.scheduler.scheduled-time>`),
and deletes itself afterwards. The local stack runs the same adapter against moto and fires due
schedules with `local.scheduler.LocalScheduler`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from store.errors import error_code
from trading.clock import IST
from trading.ports import job_name

if TYPE_CHECKING:
    from trading.ids import BasketId
    from trading.ports import ScheduledAction, ScheduledJob

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
TIMEZONE = IST.key  # EventBridge Scheduler names zones as the tz database does
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "ConflictException"
# A late timer is useless for trading: give up after five minutes (the handler also refuses stale ones).
RETRY_POLICY = {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}


def job_input(job: ScheduledJob) -> str:
    """The target input of a job's schedule (what the scheduler Lambda receives)."""
    event = {"action": job.action.value, "ownerId": job.owner, "basketId": job.basket_id, "scheduledAt": SCHEDULED_TIME}
    return json.dumps(event, separators=(",", ":"))


class EventBridgeScheduler:
    """Schedules in one group, each invoking `target_arn` as `role_arn`."""

    def __init__(self, client: Any, group: str, role_arn: str, target_arn: str) -> None:
        self._client = client
        self._group = group
        self._role_arn = role_arn
        self._target_arn = target_arn

    def put(self, job: ScheduledJob) -> None:
        """Create the job's schedule, or replace the one of the same name."""
        request = {
            "Name": job.name,
            "GroupName": self._group,
            "ScheduleExpression": f"at({job.at.astimezone(IST):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": TIMEZONE,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": job_input(job),
                "RetryPolicy": RETRY_POLICY,
            },
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
        }
        try:
            self._client.create_schedule(**request)
        except ClientError as exc:
            if error_code(exc) != EXISTS:
                raise
            self._client.update_schedule(**request)

    def cancel(self, action: ScheduledAction, basket_id: BasketId) -> None:
        """Delete the basket's schedule for `action`; one that is gone already is fine."""
        try:
            self._client.delete_schedule(Name=job_name(action, basket_id), GroupName=self._group)
        except ClientError as exc:
            if error_code(exc) != NOT_FOUND:
                raise
