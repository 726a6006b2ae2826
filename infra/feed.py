"""The market-data feed: one small Fargate task (arm64) running `python -m brokers.kite.feed`.

Its image is built by `cdk deploy` from the bundle directory (`Dockerfile` + `lambda/`); synth only
stages that directory, so synth needs no Docker. The task runs in public subnets with no NAT gateway
(outbound only: Kite's WebSocket, SSM; DynamoDB through a gateway endpoint) and no inbound rule.
It runs one task when `feedInstruments` names what to follow, and none otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.tables import grant_table

if TYPE_CHECKING:
    from pathlib import Path

    from aws_cdk import aws_dynamodb as dynamodb

    from infra.secrets import SecretsConstruct
    from infra.stages import Stage

FEED_COMMAND = ["python", "-m", "brokers.kite.feed"]
FEED_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem")


class FeedConstruct(Construct):
    """VPC (public subnets, DynamoDB gateway endpoint, rejected-traffic flow logs), cluster, task, service."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        image_dir: Path,
        table: dynamodb.TableV2,
        secrets: SecretsConstruct,
        kite_api_key: str,
        instruments: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=stage.log_retention, removal_policy=stage.removal_policy)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
            },
            flow_logs={
                "Rejected": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, cluster_name=f"{stage.prefix}-feed")
        self.task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=256,
            memory_limit_mib=512,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/basketgraph/{stage.name}/feed",
            retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        self.container = self.task.add_container(
            "Feed",
            image=ecs.ContainerImage.from_asset(str(image_dir), platform=ecr_assets.Platform.LINUX_ARM64),
            command=FEED_COMMAND,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="feed", log_group=log_group),
            environment={
                "STAGE": stage.name,
                "TABLE_NAME": table.table_name,
                "KITE_API_KEY": kite_api_key,
                "FEED_SECRET_PATH": secrets.feed_token_path,
                "FEED_INSTRUMENTS": instruments,
                "POWERTOOLS_SERVICE_NAME": "basketgraph-feed",
            },
            readonly_root_filesystem=True,
        )
        grant_table(table, self.task.task_role, FEED_TABLE_ACTIONS)
        secrets.grant(self.task.task_role, secrets.feed_token_path)
        self.security_group = ec2.SecurityGroup(
            self, "Egress", vpc=self.vpc, description="feed: outbound only", allow_all_outbound=True
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task,
            # Nothing to follow (or no token yet) means nothing to run: deploy with -c feedInstruments=...
            desired_count=1 if instruments else 0,
            min_healthy_percent=0,
            max_healthy_percent=100,
            assign_public_ip=True,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
        acknowledge(
            self.task,
            "The environment holds names only (table, SSM path, the app's public API key); the access "
            "token is read from SSM at start.",
            "AwsSolutions-ECS2",
        )
        acknowledge(
            self.cluster,
            "One task: Container Insights would cost more than the service; its logs and the alarms cover it.",
            "AwsSolutions-ECS4",
        )
        acknowledge(
            self.task,
            "The execution role's ecr:GetAuthorizationToken takes no resource ARN (AWS requires '*').",
            "AwsSolutions-IAM5[Resource::*]",
        )
