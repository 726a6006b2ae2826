"""Static-IP egress for the functions that send order requests (SEBI's 2026 rule: orders only from an IP the
user registered with the broker).

A VPC per stage: public subnets holding NAT gateway(s), each with an Elastic IP allocated here (so the IP is
the stack's, survives NAT replacement, and is a stack output), and private subnets whose default route goes
through them. The order-sending functions run in the private subnets; DynamoDB is reached through a gateway
endpoint (no NAT charge), everything else (the broker, SSM, AppSync) through the NAT, so from the EIPs.

One EIP by default; `secondary=True` adds a second NAT gateway and EIP in a second AZ (Kite takes a primary
and a secondary IP). Each AZ's private subnet routes through its own NAT, so with a secondary both IPs must be
registered with the broker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

if TYPE_CHECKING:
    from infra.stages import Stage


class EgressConstruct(Construct):
    """The VPC, its NAT gateways and Elastic IPs, and the security group order-sending functions use."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, secondary: bool = False) -> None:
        super().__init__(scope, construct_id)
        count = 2 if secondary else 1
        self.ips = [ec2.CfnEIP(self, f"Ip{n + 1}", domain="vpc") for n in range(count)]
        for n, ip in enumerate(self.ips):
            ip.apply_removal_policy(stage.removal_policy)  # prod keeps the IPs users registered
            ip.tags.set_tag("Name", f"{stage.prefix}-order-egress-{'primary' if n == 0 else 'secondary'}")
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=stage.log_retention, removal_policy=stage.removal_policy)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=count,
            nat_gateway_provider=ec2.NatProvider.gateway(eip_allocation_ids=[ip.attr_allocation_id for ip in self.ips]),
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26),
                ec2.SubnetConfiguration(name="orders", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
            ],
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
        self.security_group = ec2.SecurityGroup(
            self,
            "Functions",
            vpc=self.vpc,
            description="order-sending Lambdas: outbound only (brokers, AWS APIs)",
            allow_all_outbound=True,
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def addresses(self) -> list[str]:
        """The Elastic IPs' addresses (tokens until deploy): what users register with their broker."""
        return [ip.attr_public_ip for ip in self.ips]
