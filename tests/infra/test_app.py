"""The app refuses what it cannot deploy: an unknown stage, a missing bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
import pytest

from infra.app import BundleMissing, build
from infra.stages import DEFAULT_STAGE, stage_named

if TYPE_CHECKING:
    from pathlib import Path


def test_an_unknown_stage_is_an_error_not_a_new_stack(bundle_dir: Path) -> None:
    app = cdk.App(context={"stage": "qa"})
    with pytest.raises(ValueError, match="unknown stage 'qa'"):
        build(app, bundle_dir=bundle_dir)
    assert app.node.children == []


def test_the_stage_comes_from_context_and_defaults_to_dev() -> None:
    assert DEFAULT_STAGE == "dev"
    assert stage_named(None).name == "dev"
    assert stage_named("prod").retain_data is True
    assert stage_named("dev").retain_data is False


def test_a_missing_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(BundleMissing, match="make bundle"):
        build(cdk.App(), "dev", tmp_path / "nothing-here")
