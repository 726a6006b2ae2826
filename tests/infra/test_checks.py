"""cfn-lint on every synthesized template; cdk-nag (AwsSolutions) in the app with a reason per acknowledgment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from infra.nag import acknowledge

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized


def test_cfn_lint_passes_on_every_stage(stages: dict[str, Synthesized]) -> None:
    files = [str(s.template_file) for s in stages.values()]
    result = subprocess.run(  # noqa: S603 - our own interpreter and files
        [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", "W3005", "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_nag_ran_and_left_no_unacknowledged_finding(
    stages: dict[str, Synthesized], cloud_assembly_dir: Path
) -> None:
    # The stages fixture synthesized with the AwsSolutions plugin; a failing plugin would have raised.
    report = json.loads((cloud_assembly_dir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("conclusion") != "success"] == []
    for synth in stages.values():
        acknowledged = _acknowledgments(synth)
        assert acknowledged, "the stacks acknowledge findings, so the plugin saw them"
        assert all(reason.strip() for _, reason in acknowledged)


def _acknowledgments(synth: Synthesized) -> list[tuple[str, str]]:
    found = []
    for construct in synth.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.extend(entry.data.items())  # {"Annotation::<finding id>": reason}
    return found


def test_an_unacknowledged_wildcard_fails_synthesis(tmp_path: Path) -> None:
    # Given a stack with the same checks and a role granting every action
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Wildcard", env=cdk.Environment(region="ap-south-1"))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:*"], resources=["*"]))
    cdk.Validations.of(stack).add_plugins(AwsSolutionsChecks(stack))
    # When it is synthesized, then cdk-nag refuses it
    with pytest.raises(RuntimeError, match="AwsSolutions-IAM5"):
        app.synth()


def test_an_acknowledgment_needs_a_reason() -> None:
    stack = cdk.Stack(cdk.App(), "Reasons")
    with pytest.raises(ValueError, match="reason"):
        acknowledge(stack, "  ", "AwsSolutions-L1")


def test_no_stack_carries_an_error_annotation(stages: dict[str, Synthesized]) -> None:
    from aws_cdk.assertions import Annotations, Match

    for synth in stages.values():
        assert Annotations.from_stack(synth.stack).find_error("*", Match.any_value()) == []
