"""The CDK app: `npx cdk synth|deploy -c stage=dev|staging|prod` (dev by default), ap-south-1.

Context: `stage`, `bundleDir` (the directory `python -m infra.bundle` wrote, default `build/bundle`),
`kiteApiKey` (the Kite Connect app's public key; empty by default), `feedInstruments` (what the market-data
feed follows, e.g. `NSE:INFY,NFO:NIFTY26DEC26000CE`; without it the feed service is scaled to zero),
`secondaryEgressIp` (`true`: a second NAT gateway and Elastic IP for order requests; one by default).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # `python infra/app.py`: import from the repository, not from infra/
    # (infra/secrets.py would otherwise shadow the standard library's `secrets`)
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.api import ApiConstruct
from infra.auth import AuthConstruct
from infra.bundle import DEFAULT_OUT, LAMBDA_DIR
from infra.egress import EgressConstruct
from infra.feed import FeedConstruct
from infra.functions import FunctionsConstruct
from infra.observability import ObservabilityConstruct
from infra.schedules import SchedulesConstruct
from infra.secrets import SecretsConstruct
from infra.stages import REGION, Stage, stage_named
from infra.streams import StreamsConstruct
from infra.tables import TablesConstruct

if TYPE_CHECKING:
    from constructs import Construct

TABLE_NAME_OUTPUT = "TableName"
GRAPHQL_URL_OUTPUT = "GraphQLUrl"
USER_POOL_ID_OUTPUT = "UserPoolId"
USER_POOL_CLIENT_ID_OUTPUT = "UserPoolClientId"
POSTBACK_URL_OUTPUT = "PostbackUrl"
ALARM_TOPIC_OUTPUT = "AlarmTopicArn"
STREAM_DLQ_OUTPUT = "StreamDeadLetterQueueUrl"
SECRETS_PREFIX_OUTPUT = "SecretsPrefix"
EGRESS_IP_OUTPUTS = ("OrderEgressIpPrimary", "OrderEgressIpSecondary")  # register these with the broker


class BundleMissing(RuntimeError):
    """The Lambda bundle was not built: run `make bundle` (python -m infra.bundle) first."""


class BasketgraphStack(cdk.Stack):
    """Everything one stage needs, one construct per concern."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        bundle_dir: Path,
        kite_api_key: str = "",
        feed_instruments: str = "",
        secondary_egress_ip: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code_dir = bundle_dir / LAMBDA_DIR
        if not code_dir.is_dir() or not (bundle_dir / "Dockerfile").is_file():
            raise BundleMissing(f"no Lambda bundle in {bundle_dir}: run `make bundle` (python -m infra.bundle) first")
        self.stage = stage
        cdk.Tags.of(self).add("project", "basketgraph")
        cdk.Tags.of(self).add("stage", stage.name)

        self.tables = TablesConstruct(self, "Tables", stage=stage)
        table = self.tables.table
        self.auth = AuthConstruct(self, "Auth", stage=stage)
        self.secrets = SecretsConstruct(self, "Secrets", stage=stage)
        self.egress = EgressConstruct(self, "Egress", stage=stage, secondary=secondary_egress_ip)
        self.functions = FunctionsConstruct(
            self, "Functions", stage=stage, code_dir=code_dir, table=table, secrets=self.secrets, egress=self.egress
        )
        self.functions.grant_user_listing(self.auth.user_pool)
        for function in self.functions.functions.values():
            function.add_environment("KITE_API_KEY", kite_api_key)
        self.api = ApiConstruct(
            self, "Api", stage=stage, user_pool=self.auth.user_pool, resolver=self.functions.resolver, table=table
        )
        self.functions.stream.add_environment("APPSYNC_URL", self.api.api.graphql_url)
        self.api.grant_publish(self.functions.stream)
        self.streams = StreamsConstruct(self, "Streams", stage=stage, table=table, handler=self.functions.stream)
        self.schedules = SchedulesConstruct(
            self,
            "Schedules",
            stage=stage,
            target=self.functions.scheduler,
            reconcile=self.functions.reconcile,
            instruments=self.functions.instruments,
            manager=self.functions.resolver,
        )
        self.feed = FeedConstruct(
            self,
            "Feed",
            stage=stage,
            image_dir=bundle_dir,
            table=table,
            secrets=self.secrets,
            kite_api_key=kite_api_key,
            instruments=feed_instruments,
        )
        self.observability = ObservabilityConstruct(
            self,
            "Observability",
            stage=stage,
            functions=self.functions.functions,
            stream_function=self.functions.stream,
            dead_letters=self.streams.dead_letters,
            api=self.api.api,
        )

        cdk.CfnOutput(self, TABLE_NAME_OUTPUT, value=table.table_name)
        cdk.CfnOutput(self, GRAPHQL_URL_OUTPUT, value=self.api.api.graphql_url)
        cdk.CfnOutput(self, USER_POOL_ID_OUTPUT, value=self.auth.user_pool.user_pool_id)
        cdk.CfnOutput(self, USER_POOL_CLIENT_ID_OUTPUT, value=self.auth.client.user_pool_client_id)
        cdk.CfnOutput(self, POSTBACK_URL_OUTPUT, value=self.functions.postback_url.url)
        cdk.CfnOutput(self, ALARM_TOPIC_OUTPUT, value=self.observability.topic.topic_arn)
        cdk.CfnOutput(self, STREAM_DLQ_OUTPUT, value=self.streams.dead_letters.queue_url)
        cdk.CfnOutput(self, SECRETS_PREFIX_OUTPUT, value=self.secrets.prefix)
        for output, address in zip(EGRESS_IP_OUTPUTS, self.egress.addresses, strict=False):
            cdk.CfnOutput(
                self,
                output,
                value=address,
                description="Static IP order requests leave from; register it with the broker",
            )


def build(app: cdk.App, stage_name: str | None = None, bundle_dir: Path | None = None) -> BasketgraphStack:
    """Add the stage's stack to `app` (stage and bundle from the arguments, else from context), with cdk-nag."""
    stage = stage_named(stage_name or app.node.try_get_context("stage"))
    bundle = bundle_dir or Path(app.node.try_get_context("bundleDir") or DEFAULT_OUT)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=REGION)
    stack = BasketgraphStack(
        app,
        stage.stack_name,
        stage=stage,
        bundle_dir=bundle,
        kite_api_key=app.node.try_get_context("kiteApiKey") or "",
        feed_instruments=app.node.try_get_context("feedInstruments") or "",
        secondary_egress_ip=str(app.node.try_get_context("secondaryEgressIp") or "").lower() == "true",
        env=env,
        description=f"basketgraph {stage.name}: AppSync + Lambda + DynamoDB + Cognito, market feed, schedules",
        termination_protection=stage.retain_data,
    )
    cdk.Validations.of(stack).add_plugins(AwsSolutionsChecks(stack, verbose=True))
    return stack


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
