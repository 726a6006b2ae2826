"""Deployment stages: what differs between dev, staging and prod (chosen with `-c stage=...`)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

REGION = "ap-south-1"
DEFAULT_STAGE = "dev"


@dataclass(frozen=True)
class Stage:
    """Names, retention and removal for one stage; every construct takes it."""

    name: str
    removal_policy: RemovalPolicy
    point_in_time_recovery: bool
    log_retention: logs.RetentionDays
    tracing: bool
    """X-Ray on the Lambdas and AppSync, and AppSync field-level logging of every field (ALL)."""
    deletion_protection: bool

    @property
    def stack_name(self) -> str:
        return f"Basketgraph-{self.name}"

    @property
    def prefix(self) -> str:
        """Resource names start with it: `basketgraph-dev-...`."""
        return f"basketgraph-{self.name}"

    @property
    def secrets_prefix(self) -> str:
        """SSM path of broker secrets: `/basketgraph/<stage>/brokers/<sub>/...` (env SECRETS_PREFIX)."""
        return f"/basketgraph/{self.name}/brokers"

    @property
    def retain_data(self) -> bool:
        return self.removal_policy == RemovalPolicy.RETAIN


STAGES: dict[str, Stage] = {
    "dev": Stage(
        name="dev",
        removal_policy=RemovalPolicy.DESTROY,
        point_in_time_recovery=False,
        log_retention=logs.RetentionDays.ONE_WEEK,
        tracing=True,
        deletion_protection=False,
    ),
    "staging": Stage(
        name="staging",
        removal_policy=RemovalPolicy.DESTROY,
        point_in_time_recovery=True,
        log_retention=logs.RetentionDays.ONE_MONTH,
        tracing=True,
        deletion_protection=False,
    ),
    "prod": Stage(
        name="prod",
        removal_policy=RemovalPolicy.RETAIN,
        point_in_time_recovery=True,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        tracing=False,
        deletion_protection=True,
    ),
}


def stage_named(name: str | None) -> Stage:
    """The stage for `-c stage=<name>` (dev when not given); an unknown name is an error, not a new stage."""
    chosen = name or DEFAULT_STAGE
    if chosen not in STAGES:
        raise ValueError(f"unknown stage {chosen!r}: use one of {', '.join(STAGES)} (-c stage=...)")
    return STAGES[chosen]
