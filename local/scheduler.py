"""EventBridge Scheduler's firing, locally: due schedules of the group (in moto) go to the scheduler Lambda.

The resolver creates schedules through the production adapter (`store.schedules.EventBridgeScheduler`)
against moto; this runner does what AWS does with them: at each schedule's `at(...)` time (in its
timezone) it invokes `resolvers.schedules.handler` with the target input, `<aws.scheduler.scheduled-time>`
filled in, and deletes the schedule after it ran. It also plays the recurring 15:15 IST MIS square-off
that infra deploys on AWS, on trading days of the market calendar. The clock is injectable, and `tick(now)`
runs one round, so tests never wait for real time.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from local.lambda_context import LambdaContext
from store.schedules import SCHEDULED_TIME
from trading.clock import IST
from trading.rules.calendar import MIS_SQUARE_OFF, is_stale

if TYPE_CHECKING:
    from trading.ports import Clock
    from trading.rules.calendar import MarketCalendar

log = logging.getLogger("basketgraph.local.scheduler")

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
DEFAULT_INTERVAL_SECONDS = 1.0

SchedulesHandler = Callable[[dict[str, Any], Any], Any]


def _iso(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def due_time(schedule: dict[str, Any]) -> datetime | None:
    """When a one-time schedule fires (aware), from `at(...)` and its timezone; None for other expressions."""
    match = _AT.match(schedule.get("ScheduleExpression", ""))
    if match is None:
        return None
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


class LocalScheduler:
    """Polls one schedule group and fires what is due through the scheduler handler."""

    def __init__(
        self,
        client: Any,
        group: str,
        handler: SchedulesHandler,
        clock: Clock,
        calendar: MarketCalendar,
        interval: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self._client = client
        self._group = group
        self._handler = handler
        self._clock = clock
        self._calendar = calendar
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one round at a time (the thread and a test's tick)
        self._squared_off: set[str] = set()

    def ensure_group(self) -> None:
        """Create the schedule group (infra does it on AWS)."""
        groups = self._client.list_schedule_groups().get("ScheduleGroups", [])
        if all(g.get("Name") != self._group for g in groups):
            self._client.create_schedule_group(Name=self._group)

    def tick(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire every schedule due at `now` (default: the clock) and the day's square-off; returns the events sent."""
        now = now or self._clock.now()
        with self._lock:
            fired = [event for event in (self._fire(name, now) for name in self._names()) if event is not None]
            square_off = self._square_off(now)
            if square_off is not None:
                self._invoke(square_off)
                fired.append(square_off)
        return fired

    def _names(self) -> list[str]:
        names: list[str] = []
        for page in self._client.get_paginator("list_schedules").paginate(GroupName=self._group):
            names.extend(s["Name"] for s in page.get("Schedules", []))
        return names

    def _fire(self, name: str, now: datetime) -> dict[str, Any] | None:
        try:
            schedule = self._client.get_schedule(GroupName=self._group, Name=name)
        except self._client.exceptions.ResourceNotFoundException:
            return None  # deleted meanwhile (the basket's schedule was cleared)
        at = due_time(schedule)
        if at is None or at > now or schedule.get("State") == "DISABLED":
            return None
        event: dict[str, Any] = json.loads(schedule["Target"]["Input"].replace(SCHEDULED_TIME, _iso(at)))
        self._invoke(event)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self._client.delete_schedule(GroupName=self._group, Name=name)
        return event

    def _square_off(self, now: datetime) -> dict[str, Any] | None:
        """The day's 15:15 IST square-off, once, on a trading day, if it is due and not long overdue."""
        today = now.astimezone(IST).date()
        due = datetime.combine(today, MIS_SQUARE_OFF, IST)
        # one staleness rule with the scheduler Lambda: a square-off found too late is skipped, as a late timer is
        if not due <= now or is_stale(due, now) or not self._calendar.is_trading_day(today):
            return None
        if today.isoformat() in self._squared_off:
            return None
        self._squared_off.add(today.isoformat())
        return {"action": "squareoff", "scheduledAt": _iso(due)}

    def _invoke(self, event: dict[str, Any]) -> None:
        try:
            self._handler(event, LambdaContext("basketgraph-schedules"))
        except Exception:  # as the scheduler's retries would: logged, and the next schedules still run
            log.exception("scheduled event failed: %s", event)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self._interval):
                try:
                    self.tick()
                except Exception:
                    log.exception("scheduler round failed")

        self._thread = threading.Thread(target=loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
