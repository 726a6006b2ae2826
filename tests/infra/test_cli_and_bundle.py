"""The pinned CDK CLI synthesizes offline (no AWS credentials, no Docker); the bundle command's output."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import bundle

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_pinned_cli_synthesizes_prod_offline_without_credentials_or_docker(
    tmp_path: Path, bundle_dir: Path
) -> None:
    # Given no AWS credentials or profile, and a `docker` that records being called
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    called = tmp_path / "docker-was-called"
    docker = fake_bin / "docker"
    docker.write_text(f"#!/bin/sh\ntouch {called}\nexit 1\n")
    docker.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        PATH=f"{fake_bin}:{env['PATH']}",
        CDK_DOCKER=str(docker),
        HOME=str(tmp_path),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_CLI_TELEMETRY="true",
        AWS_EC2_METADATA_DISABLED="true",
    )
    out = tmp_path / "cdk.out"
    # When the README's synth command runs through the pinned CLI (cdk.json runs `python -m infra.app`)
    result = subprocess.run(  # noqa: S603 - the project's pinned CLI
        [str(CDK), "synth", "-c", "stage=prod", "-c", f"bundleDir={bundle_dir}", "-o", str(out), "--no-notices", "-q"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Then the prod stack's template is written, and Docker was never needed
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    template = json.loads((out / "Basketgraph-prod.template.json").read_text())
    assert any(r["Type"] == "AWS::AppSync::GraphQLApi" for r in template["Resources"].values())
    assert not called.exists()
    assets = json.loads((out / "Basketgraph-prod.assets.json").read_text())
    (image,) = assets["dockerImages"].values()
    assert (out / image["source"]["directory"] / "Dockerfile").is_file()


def test_packages_only_bundle_holds_our_packages_and_nothing_local(tmp_path: Path) -> None:
    code = bundle.build(tmp_path / "b", dependencies=False)
    top = {p.name for p in code.iterdir()}
    assert top == set(bundle.PACKAGES)
    assert (code / "schema" / "schema.graphql").read_text() == (REPO / "schema" / "schema.graphql").read_text()
    assert (code / "resolvers" / "handler.py").is_file()
    assert not list(code.rglob("__pycache__"))
    # The paper exchange is the local stack's: no Lambda ships it
    assert (code / "brokers" / "kite" / "broker.py").is_file()
    assert not (code / "brokers" / "paper").exists()
    dockerfile = (tmp_path / "b" / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "brokers.kite.feed"]' in dockerfile
    assert "COPY lambda /app" in dockerfile
    # Reproducible: the same sources give the same files
    assert _digest(code) == _digest(bundle.build(tmp_path / "again", dependencies=False))


def test_the_lock_pins_every_requirement_and_leaves_out_what_lambda_provides() -> None:
    locked = bundle.locked_requirements()
    names = {line.split("==")[0].lower().replace("_", "-") for line in locked}
    assert all("==" in line for line in locked)
    assert {"aws-lambda-powertools", "kiteconnect", "pydantic", "pydantic-settings", "gql"} <= names
    assert not names & {"boto3", "botocore", "s3transfer", "moto", "strawberry-graphql", "aws-cdk-lib", "pytest"}


@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real bundle: Lambda-platform wheels from the package index (what `make bundle` does)."""
    out = tmp_path_factory.mktemp("full-bundle")
    bundle.build(out)
    return out / bundle.LAMBDA_DIR


def test_full_bundle_has_arm64_wheels_and_no_cdk_moto_strawberry_or_tests(full_bundle: Path) -> None:
    top = {p.name for p in full_bundle.iterdir()}
    assert {
        "aws_lambda_powertools",
        "kiteconnect",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "tzdata",  # IST without the runtime's tz database
        "gql",
        "graphql",
    } <= top
    assert set(bundle.PACKAGES) <= top
    assert not top & {"boto3", "botocore", *bundle.FORBIDDEN}
    binaries = list(full_bundle.rglob("*.so"))
    assert binaries
    assert all("x86_64" not in b.name for b in binaries)
    assert any("aarch64" in b.name for b in binaries)
    assert not [p for p in full_bundle.rglob("*") if p.is_dir() and p.name in ("__pycache__", "tests", "test")]
    size = bundle.size_of(full_bundle)
    assert size < 100_000_000, f"{size / 1e6:.1f} MB"


def test_the_bundle_command_prints_its_size(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "infra.bundle", "--packages-only", "--out", str(tmp_path / "b")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "MB unzipped" in result.stdout
    assert str(tmp_path / "b" / "lambda") in result.stdout


ENTRYPOINTS = {
    "resolvers.handler": "handler",
    "subscriptions.handler": "handler",
    "resolvers.postback": "handler",
    "resolvers.schedules": "handler",
    "resolvers.reconcile": "handler",
    "brokers.kite.feed": "main",
}


def test_every_entrypoint_imports_from_the_locked_dependencies_alone(tmp_path: Path) -> None:
    # Given the same pins installed for this interpreter, plus boto3 (which the Lambda runtime provides)
    code = bundle.build(tmp_path / "host", for_lambda=False)
    present = {m: f for m, f in ENTRYPOINTS.items() if (code / (m.replace(".", "/") + ".py")).is_file()}
    assert {"resolvers.handler", "subscriptions.handler", "resolvers.postback"} <= set(present)
    # When each entrypoint is imported by a bare interpreter (no site-packages) from the bundle alone
    script = "\n".join(
        [
            "import importlib, sys",
            f"sys.path.insert(0, {str(code)!r})",
            *(f"assert callable(importlib.import_module({m!r}).{f})" for m, f in present.items()),
            "leaked = [n for n in sys.modules if n.split('.')[0] in ('moto', 'strawberry', 'aws_cdk', 'local')]",
            "leaked += [n for n in sys.modules if n.startswith('brokers.paper')]",
            "assert not leaked, leaked",
            "print('imported')",
        ]
    )
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "ap-south-1", "APPSYNC_URL": "https://example.invalid"}
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, env=env, check=False
    )
    # Then nothing is missing from the lock, and nothing from the local stack is pulled in
    assert result.returncode == 0, result.stderr[-3000:]
    assert "imported" in result.stdout


def test_no_entrypoint_imports_the_paper_exchange_or_the_local_stack() -> None:
    # Given a fresh interpreter on this checkout / When it imports every Lambda and feed entrypoint
    script = "\n".join(
        [
            "import importlib, sys",
            *(f"importlib.import_module({m!r})" for m in ENTRYPOINTS),
            "leaked = [n for n in sys.modules if n.startswith('brokers.paper') or n.split('.')[0] == 'local']",
            "assert not leaked, leaked",
            "print('clean')",
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "ap-south-1"}
    env.setdefault("APPSYNC_URL", "https://example.invalid")
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    # Then the bundle, which leaves brokers/paper out, misses nothing they need
    assert result.returncode == 0, result.stderr[-3000:]
    assert "clean" in result.stdout
