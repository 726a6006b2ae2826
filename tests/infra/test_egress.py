"""Static-IP egress (issue 15): in every stage the order-sending functions run in private subnets behind NAT
gateways with Elastic IPs, the other functions in no VPC, and the IPs are stack outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import EGRESS_IP_OUTPUTS, build
from infra.functions import ORDER_SENDERS, SPECS
from infra.stages import STAGES

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Synthesized

NOT_SENDING = sorted(set(SPECS) - set(ORDER_SENDERS))


def functions_by_name(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"].get("FunctionName", logical): r["Properties"]
        for logical, r in raw["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }


def of_type(raw: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical: r["Properties"] for logical, r in raw["Resources"].items() if r["Type"] == kind}


def nat_routed_subnets(raw: dict[str, Any]) -> dict[str, str]:
    """Subnet logical id -> the NAT gateway its default route goes through."""
    nat_tables = {
        route["RouteTableId"]["Ref"]: route["NatGatewayId"]["Ref"]
        for route in of_type(raw, "AWS::EC2::Route").values()
        if route.get("DestinationCidrBlock") == "0.0.0.0/0" and "NatGatewayId" in route
    }
    return {
        assoc["SubnetId"]["Ref"]: nat_tables[assoc["RouteTableId"]["Ref"]]
        for assoc in of_type(raw, "AWS::EC2::SubnetRouteTableAssociation").values()
        if assoc["RouteTableId"]["Ref"] in nat_tables
    }


def nat_ips(raw: dict[str, Any]) -> dict[str, str]:
    """NAT gateway logical id -> the logical id of the Elastic IP it holds."""
    return {
        logical: nat["AllocationId"]["Fn::GetAtt"][0]
        for logical, nat in of_type(raw, "AWS::EC2::NatGateway").items()
        if nat["AllocationId"]["Fn::GetAtt"][1] == "AllocationId"
    }


@pytest.mark.parametrize("stage", sorted(STAGES))
class TestEveryStage:
    def test_order_senders_run_in_private_subnets_behind_nat_with_an_elastic_ip(
        self, stages: dict[str, Synthesized], stage: str
    ) -> None:
        raw = stages[stage].raw
        functions = functions_by_name(raw)
        routed = nat_routed_subnets(raw)
        ips = nat_ips(raw)
        eips = of_type(raw, "AWS::EC2::EIP")
        for name in ORDER_SENDERS:
            config = functions[f"{STAGES[stage].prefix}-{name}"].get("VpcConfig")
            assert config, f"{name} sends orders but has no VPC config"
            subnets = [s["Ref"] for s in config["SubnetIds"]]
            assert subnets
            # every subnet it may run in egresses through a NAT gateway holding one of this stack's EIPs
            assert all(ips[routed[s]] in eips for s in subnets), name
            assert config["SecurityGroupIds"]

    def test_functions_that_send_no_orders_are_in_no_vpc(self, stages: dict[str, Synthesized], stage: str) -> None:
        functions = functions_by_name(stages[stage].raw)
        ours = {f"{STAGES[stage].prefix}-{name}" for name in ORDER_SENDERS}
        others = {name: props for name, props in functions.items() if name not in ours}
        assert {f"{STAGES[stage].prefix}-{name}" for name in NOT_SENDING} <= set(others)
        assert {name: props.get("VpcConfig") for name, props in others.items() if props.get("VpcConfig")} == {}

    def test_one_elastic_ip_by_default_and_it_is_an_output(self, stages: dict[str, Synthesized], stage: str) -> None:
        synth = stages[stage]
        eips = of_type(synth.raw, "AWS::EC2::EIP")
        assert len(eips) == 1
        assert len(of_type(synth.raw, "AWS::EC2::NatGateway")) == 1
        (eip,) = eips
        synth.template.has_output(EGRESS_IP_OUTPUTS[0], {"Value": {"Fn::GetAtt": [eip, "PublicIp"]}})
        assert EGRESS_IP_OUTPUTS[1] not in synth.raw["Outputs"]

    def test_prod_keeps_its_ips_on_delete(self, stages: dict[str, Synthesized], stage: str) -> None:
        policies = {
            r.get("DeletionPolicy") for r in stages[stage].raw["Resources"].values() if r["Type"] == "AWS::EC2::EIP"
        }
        assert policies == ({"Retain"} if STAGES[stage].retain_data else {"Delete"})


def test_a_secondary_ip_adds_a_second_nat_gateway_and_output(bundle_dir: Path, tmp_path: Path) -> None:
    # Given the dev stage with -c secondaryEgressIp=true
    app = cdk.App(outdir=str(tmp_path), context={"secondaryEgressIp": "true"})
    stack = build(app, "dev", bundle_dir)
    raw = app.synth().get_stack_by_name(stack.stack_name).template
    template = Template.from_json(raw)
    # Then two EIPs on two NAT gateways, each AZ's private subnet behind its own, and both IPs are outputs
    eips = sorted(of_type(raw, "AWS::EC2::EIP"))
    assert len(eips) == 2
    assert sorted(nat_ips(raw).values()) == eips
    assert len(set(nat_routed_subnets(raw).values())) == 2
    for output, eip in zip(EGRESS_IP_OUTPUTS, eips, strict=True):
        template.has_output(output, {"Value": {"Fn::GetAtt": [eip, "PublicIp"]}})
