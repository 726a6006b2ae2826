"""Synthesize every stage once per session (one app, three stacks) from a packages-only bundle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra import bundle
from infra.app import BasketgraphStack, build
from infra.stages import STAGES

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Synthesized:
    stack: BasketgraphStack
    template: Template
    raw: dict[str, Any]
    template_file: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.raw["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our packages and the feed's Dockerfile, without third-party wheels (enough to synthesize)."""
    out = tmp_path_factory.mktemp("bundle")
    bundle.build(out, dependencies=False)
    return out


@pytest.fixture(scope="session")
def cloud_assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk.out")


@pytest.fixture(scope="session")
def stages(bundle_dir: Path, cloud_assembly_dir: Path) -> dict[str, Synthesized]:
    """dev, staging and prod, synthesized in one app with cdk-nag's AwsSolutions checks on.

    `app.synth()` raises when cdk-nag reports an unacknowledged error, so getting here means none.
    """
    app = cdk.App(outdir=str(cloud_assembly_dir))
    stacks = {name: build(app, name, bundle_dir) for name in STAGES}
    assembly = app.synth()
    synthesized = {}
    for name, stack in stacks.items():
        artifact = assembly.get_stack_by_name(stack.stack_name)
        raw = artifact.template
        synthesized[name] = Synthesized(
            stack=stack,
            template=Template.from_json(raw),
            raw=json.loads(json.dumps(raw)),
            template_file=cloud_assembly_dir / artifact.template_file,
        )
    return synthesized


@pytest.fixture(scope="session")
def dev(stages: dict[str, Synthesized]) -> Synthesized:
    return stages["dev"]


@pytest.fixture(scope="session")
def prod(stages: dict[str, Synthesized]) -> Synthesized:
    return stages["prod"]
