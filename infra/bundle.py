"""Build the Lambda code asset without Docker: `python -m infra.bundle` (or `make bundle`).

The bundle directory (default `build/bundle`) holds:

- `lambda/`: our packages (composition, trading, store, schema, resolvers, subscriptions, brokers but not the
  paper exchange) and their third-party dependencies, installed by pip as wheels for the Lambda platform (Python 3.12,
  manylinux2014 aarch64), pinned by `infra/lambda.lock`. boto3/botocore come from the Lambda runtime.
- `Dockerfile`: the feed service's image (`python -m brokers.kite.feed`), built from `lambda/` by
  `cdk deploy` (synth only stages the directory).

Same inputs, same files: pinned versions, no bytecode, sorted copies, test folders of third-party
packages dropped.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "bundle"
LOCK_FILE = Path(__file__).with_name("lambda.lock")
LAMBDA_DIR = "lambda"

# Our packages the Lambdas and the feed import; never local/, infra/, tests/ or bench/.
PACKAGES = ("composition", "trading", "store", "schema", "resolvers", "subscriptions", "brokers")
PACKAGE_DATA = {".py", ".graphql", ".js", ".json", ".csv"}
# Folders of those packages that only the local stack and the tests run (a test checks no Lambda imports them).
LOCAL_ONLY = (Path("brokers", "paper"),)
# What must never be inside (a test checks): the CDK, the local stack's libraries, test tooling.
FORBIDDEN = ("aws_cdk", "cdk_nag", "constructs", "jsii", "moto", "strawberry", "pytest", "uvicorn", "local", "tests")

PIP_PLATFORM = (
    "--platform",
    "manylinux2014_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
)
FEED_BASE_IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"
DOCKERFILE = f"""\
# The market-data feed service (Fargate, arm64): KiteTicker -> throttled marks in DynamoDB.
# Built by `cdk deploy` from the bundle `python -m infra.bundle` wrote; synth only stages it.
FROM --platform=linux/arm64 {FEED_BASE_IMAGE}
# Lambda provides boto3; the container installs the version the project is tested with.
RUN pip install --no-cache-dir {{boto3}}
COPY {LAMBDA_DIR} /app
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1
USER 1000
CMD ["python", "-m", "brokers.kite.feed"]
"""


def locked_requirements(lock: Path = LOCK_FILE) -> list[str]:
    """The pinned third-party requirements (`name==version`), comments and blanks dropped."""
    lines = (line.split("#", 1)[0].strip() for line in lock.read_text().splitlines())
    return [line for line in lines if line]


def boto3_pin() -> str:
    from importlib.metadata import version

    return f"boto3=={version('boto3')}"


def _copy_packages(target: Path) -> None:
    for package in PACKAGES:
        for source in sorted((ROOT / package).rglob("*")):
            relative = source.relative_to(ROOT)
            if any(relative.is_relative_to(folder) for folder in LOCAL_ONLY) or "__pycache__" in source.parts:
                continue
            if source.is_file() and source.suffix in PACKAGE_DATA:
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)


def _prune(target: Path) -> None:
    """Drop what a Lambda never runs: console scripts, bytecode, third-party test suites."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for folder in sorted(target.rglob("*"), reverse=True):
        droppable = folder.name in ("__pycache__", "test", "tests")
        if droppable and folder.is_dir() and folder.relative_to(target).parts[0] not in PACKAGES:
            shutil.rmtree(folder, ignore_errors=True)


def runtime_provided() -> list[str]:
    """What the Lambda runtime brings (boto3 and its own dependencies), pinned to this environment's versions."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("boto3", "botocore", "s3transfer")]


def install_dependencies(target: Path, requirements: list[str], *, for_lambda: bool = True) -> None:
    """pip-install `requirements` as wheels into `target` (no sdists, no bytecode), for the Lambda
    platform, or with `for_lambda=False` for this interpreter (to import the handlers here)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-deps",
        *(PIP_PLATFORM if for_lambda else ("--only-binary=:all:",)),
        "--target",
        str(target),
        *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, pinned requirements


def size_of(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def build(out: Path = DEFAULT_OUT, *, dependencies: bool = True, for_lambda: bool = True) -> Path:
    """Write the bundle to `out` (replacing it) and return the Lambda code directory.

    Parameters
    ----------
    out
        The bundle directory; `out/lambda` is the Lambda asset, `out/Dockerfile` the feed image.
    dependencies
        False copies only our packages (fast, offline; enough to synthesize, not to run).
    for_lambda
        False installs the same pins for this interpreter's platform, plus what the Lambda runtime
        provides (boto3): a bundle the tests can import the handlers from.
    """
    code = out / LAMBDA_DIR
    shutil.rmtree(out, ignore_errors=True)
    code.mkdir(parents=True)
    if dependencies:
        extra = [] if for_lambda else runtime_provided()
        install_dependencies(code, locked_requirements() + extra, for_lambda=for_lambda)
        _prune(code)
    _copy_packages(code)
    (out / "Dockerfile").write_text(DOCKERFILE.format(boto3=boto3_pin()))
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"bundle directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--packages-only", action="store_true", help="copy our packages only, no third-party wheels (synth tests)"
    )
    options = parser.parse_args(argv)
    code = build(options.out, dependencies=not options.packages_only)
    size = size_of(code)
    files = sum(1 for path in code.rglob("*") if path.is_file())
    print(f"bundle: {code} {files} files, {size / 1_000_000:.1f} MB unzipped (Lambda limit 250 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
