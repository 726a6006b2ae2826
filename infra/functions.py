"""The Lambdas: resolver, stream, postback, scheduler, reconcile and instruments, one code asset (the bundle).

Python 3.12 on arm64, Powertools settings in the environment, a log group each with the stage's
retention, and a role each that holds only what that function does (granted by the other constructs).
The functions that send order requests (`ORDER_SENDERS`) run in the egress VPC's private subnets, so brokers
see them come from the stage's Elastic IPs; the others stay outside any VPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.tables import READ_ACTIONS, WRITE_ACTIONS, grant_table
from store.items.keys import INSTRUMENT_PARTITION_PREFIX
from trading.rules.holidays import encode, shipped_closures

if TYPE_CHECKING:
    from pathlib import Path

    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_dynamodb as dynamodb

    from infra.egress import EgressConstruct
    from infra.secrets import SecretsConstruct
    from infra.stages import Stage

RESOLVER_HANDLER = "resolvers.handler.handler"
STREAM_HANDLER = "subscriptions.handler.handler"
POSTBACK_HANDLER = "resolvers.postback.handler"
SCHEDULER_HANDLER = "resolvers.schedules.handler"
RECONCILE_HANDLER = "resolvers.reconcile.handler"
INSTRUMENTS_HANDLER = "resolvers.instruments.handler"
METRICS_NAMESPACE = "Basketgraph"
# What places, modifies or cancels orders: the resolver (placeOrder, executeBasket, cancel, exitBasket), the
# stream handler (risk exits), the postback handler (an exit continues on each finished order) and the
# scheduler (entry, exit, the 15:15 square-off). Reconcile only reads order books and trades.
ORDER_SENDERS = ("resolver", "stream", "postback", "scheduler")
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    service: str
    memory_mb: int
    timeout: Duration
    description: str


SPECS = {
    "resolver": FunctionSpec(
        "resolver",
        RESOLVER_HANDLER,
        "basketgraph-resolvers",
        1024,
        Duration.seconds(29),
        "AppSync resolvers (every Lambda-resolved field)",
    ),
    "stream": FunctionSpec(
        "stream",
        STREAM_HANDLER,
        "basketgraph-streams",
        512,
        Duration.seconds(60),
        "DynamoDB stream -> publish mutations (orders, fills, P&L)",
    ),
    "postback": FunctionSpec(
        "postback", POSTBACK_HANDLER, "basketgraph-postbacks", 512, Duration.seconds(15), "Kite postbacks (checksum)"
    ),
    "scheduler": FunctionSpec(
        "scheduler",
        SCHEDULER_HANDLER,
        "basketgraph-schedules",
        1024,
        Duration.minutes(5),
        "Basket entry/exit times and the 15:15 IST MIS square-off",
    ),
    "reconcile": FunctionSpec(
        "reconcile",
        RECONCILE_HANDLER,
        "basketgraph-reconcile",
        1024,
        Duration.minutes(3),
        "Broker order books and trades vs ours; repairs missed postbacks",
    ),
    # ~90,000 rows streamed in batches of 25 items: a few minutes at most, a small steady memory
    "instruments": FunctionSpec(
        "instruments",
        INSTRUMENTS_HANDLER,
        "basketgraph-instruments",
        512,
        Duration.minutes(10),
        "Kite's instrument dump into the instrument master, each weekday before the open",
    ),
}
# The functions that act for users: they read and write trading state and the users' broker secrets.
TRADING_FUNCTIONS = ("resolver", "stream", "postback", "scheduler", "reconcile")


def market_calendar() -> str:
    """The exchanges' holidays as the Lambdas' `MARKET_CALENDAR` (see `trading.rules.holidays.encode`)."""
    return encode(shipped_closures())


class FunctionsConstruct(Construct):
    """Builds every function from `SPECS`; `functions[name]` and the attributes below are the results."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        code_dir: Path,
        table: dynamodb.TableV2,
        secrets: SecretsConstruct,
        egress: EgressConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(code_dir))
        common = {
            "STAGE": stage.name,
            "TABLE_NAME": table.table_name,
            "SECRETS_PREFIX": secrets.prefix,
            "SECRETS_KMS_KEY_ID": secrets.key.key_arn,
            "KITE_API_SECRET_PARAMETER": secrets.kite_app_secret_path,
            "BROKER": "kite",
            "MARKET_HOURS": "nse",
            # the shipped holiday files (trading/rules/holidays/), per segment: the deployed calendar is on view
            # in each function's configuration and changes with a deploy, as the code does
            "MARKET_CALENDAR": market_calendar(),
            "MARKET_SPECIAL_SESSIONS": Stack.of(self).node.try_get_context("marketSpecialSessions") or "",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_TRACE_DISABLED": "false" if stage.tracing else "true",
        }
        self.functions: dict[str, lambda_.Function] = {}
        for key, spec in SPECS.items():
            log_group = logs.LogGroup(
                self,
                f"{spec.name.title()}Logs",
                log_group_name=f"/aws/lambda/{stage.prefix}-{spec.name}",
                retention=stage.log_retention,
                removal_policy=stage.removal_policy,
            )
            role = iam.Role(
                self,
                f"{spec.name.title()}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"basketgraph {stage.name} {spec.name} Lambda",
            )
            # Instead of AWSLambdaBasicExecutionRole (any log group): only this function's own.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                )
            )
            sends_orders = key in ORDER_SENDERS
            self.functions[key] = lambda_.Function(
                self,
                spec.name.title(),
                function_name=f"{stage.prefix}-{spec.name}",
                description=spec.description,
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=lambda_.Architecture.ARM_64,
                handler=spec.handler,
                code=code,
                memory_size=spec.memory_mb,
                timeout=spec.timeout,
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE if stage.tracing else lambda_.Tracing.DISABLED,
                environment={**common, "POWERTOOLS_SERVICE_NAME": spec.service},
                vpc=egress.vpc if sends_orders else None,
                vpc_subnets=egress.subnets if sends_orders else None,
                security_groups=[egress.security_group] if sends_orders else None,
            )
            if sends_orders:
                acknowledge(
                    role,
                    "AWS's managed policy for Lambda ENIs (ec2:Create/Describe/DeleteNetworkInterface): the function "
                    "must run in the VPC to send orders from the stage's static IPs; the actions take no resource ARN.",
                    f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{VPC_ACCESS_POLICY}]",
                )
            acknowledge(
                self.functions[key],
                "Pinned to Python 3.12: the bundle's wheels are built for it and CI tests on it.",
                "AwsSolutions-L1",
            )
            if stage.tracing:
                acknowledge(
                    role,
                    "X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN (tracing is on in non-prod).",
                    "AwsSolutions-IAM5[Resource::*]",
                )
        self.resolver = self.functions["resolver"]
        self.stream = self.functions["stream"]
        self.postback = self.functions["postback"]
        self.scheduler = self.functions["scheduler"]
        self.reconcile = self.functions["reconcile"]
        self.instruments = self.functions["instruments"]

        # Every trading function changes trading state through the domain (the stream one exits baskets past
        # their risk limits); none may Scan, create or delete tables.
        for key in TRADING_FUNCTIONS:
            grant_table(table, self.functions[key], (*READ_ACTIONS, *WRITE_ACTIONS))
        # The instrument refresh only writes instrument items (their partitions start INSTRUMENT#), and no secret.
        self.instruments.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:BatchWriteItem", "dynamodb:PutItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{INSTRUMENT_PARTITION_PREFIX}*"]}},
            )
        )
        # The resolver stores access tokens after a broker login; the others only read them.
        secrets.grant_users(self.resolver, write=True)
        for key in ("stream", "postback", "scheduler", "reconcile"):
            secrets.grant_users(self.functions[key])
        # Each reads the deployment's Kite app secret (one parameter, read-only).
        for key in TRADING_FUNCTIONS:
            secrets.grant(self.functions[key], secrets.kite_app_secret_path)
        for key in TRADING_FUNCTIONS:
            acknowledge(
                self.functions[key].role,  # type: ignore[arg-type]
                "Broker secrets are one SSM subtree per user (<prefix>/<sub>/...); the function acts for "
                "whichever user calls, so it reads this stage's prefix and nothing outside it.",
                f"AwsSolutions-IAM5[Resource::{secrets.nag_parameter_arn(secrets.prefix + '/*')}]",
            )

        self.postback_url = self.postback.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)

    def grant_user_listing(self, user_pool: cognito.IUserPool) -> None:
        """Reconciliation walks every user of the pool (USER_POOL_ID, cognito-idp:ListUsers on it only)."""
        self.reconcile.add_environment("USER_POOL_ID", user_pool.user_pool_id)
        self.reconcile.add_to_role_policy(
            iam.PolicyStatement(actions=["cognito-idp:ListUsers"], resources=[user_pool.user_pool_arn])
        )
