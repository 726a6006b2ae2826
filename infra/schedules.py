"""EventBridge Scheduler: a group for per-basket entry/exit schedules (the resolver creates them),
the 15:15 IST MIS square-off, the reconciliation job during market hours and the instrument master's refresh
before the open, all in Asia/Kolkata.

Cron fires Monday to Friday; exchange holidays are the handlers' business: the market calendar, which the
functions carry in MARKET_CALENDAR from the shipped holiday files (see functions.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.nag import acknowledge

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

    from infra.stages import Stage

TIMEZONE = "Asia/Kolkata"
SQUARE_OFF_CRON = "cron(15 15 ? * MON-FRI *)"
RECONCILE_CRON = "cron(0/5 9-15 ? * MON-FRI *)"
# Kite regenerates its instrument dump early each morning; 08:30 IST leaves half an hour before the pre-open.
INSTRUMENTS_CRON = "cron(30 8 ? * MON-FRI *)"
SQUARE_OFF_EVENT = {"action": "squareoff"}
INSTRUMENTS_EVENT = {"action": "refreshInstruments"}
RECONCILE_EVENT: dict[str, str] = {}  # every user of the pool


class SchedulesConstruct(Construct):
    """The schedule group and invoke role; `manager` (the resolver) may manage schedules in the group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        target: lambda_.IFunction,
        reconcile: lambda_.IFunction,
        instruments: lambda_.IFunction,
        manager: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=f"{stage.prefix}-baskets")
        self.role = iam.Role(
            self,
            "InvokeRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler invokes the scheduler, reconcile and instruments Lambdas",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[target.function_arn, reconcile.function_arn, instruments.function_arn],
            )
        )
        self.square_off = self._schedule(
            "SquareOff", "MIS square-off, 15:15 IST on weekdays", SQUARE_OFF_CRON, target, SQUARE_OFF_EVENT
        )
        self.reconcile = self._schedule(
            "Reconcile",
            "Reconcile broker orders every 5 minutes in market hours",
            RECONCILE_CRON,
            reconcile,
            RECONCILE_EVENT,
        )
        self.instruments = self._schedule(
            "Instruments",
            "Load Kite's instrument dump, 08:30 IST on weekdays (before the 09:00 pre-open)",
            INSTRUMENTS_CRON,
            instruments,
            INSTRUMENTS_EVENT,
        )

        # The resolver creates and removes one-off entry/exit schedules for baskets, inside this group only.
        schedules_arn = Stack.of(self).format_arn(
            service="scheduler", resource="schedule", resource_name=f"{self.group.name}/*"
        )
        manager.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                ],
                resources=[schedules_arn],
            )
        )
        manager.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        acknowledge(
            manager.role,  # type: ignore[arg-type]
            "The resolver manages one-off entry/exit schedules per basket, only inside this stage's group.",
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:{Stack.of(self).region}:<AWS::AccountId>"
            f":schedule/{self.group.name}/*]",
        )
        manager.add_environment("SCHEDULE_GROUP", str(self.group.name))
        manager.add_environment("SCHEDULER_ROLE_ARN", self.role.role_arn)
        manager.add_environment("SCHEDULE_TARGET_ARN", target.function_arn)
        manager.add_environment("SCHEDULE_TIMEZONE", TIMEZONE)

    def _schedule(
        self, construct_id: str, description: str, cron: str, target: lambda_.IFunction, event: dict[str, str]
    ) -> scheduler.CfnSchedule:
        schedule = scheduler.CfnSchedule(
            self,
            construct_id,
            description=description,
            group_name=self.group.name,
            schedule_expression=cron,
            schedule_expression_timezone=TIMEZONE,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=target.function_arn,
                role_arn=self.role.role_arn,
                input=json.dumps(event),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=300, maximum_retry_attempts=2
                ),
            ),
        )
        schedule.node.add_dependency(self.group)
        return schedule
