"""Cold import of the resolver Lambda's module next to a baseline of boto3 + powertools, in one run.

    python -m bench.cold_import [--runs 15]

Each sample is a fresh interpreter (a Lambda cold start imports once); samples alternate between the
two so machine noise hits both alike. Goal: handler / baseline <= 1.25.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TIMER = "import time; t = time.perf_counter(); {imports}; print(time.perf_counter() - t)"
BASELINE = (
    "import boto3; from aws_lambda_powertools.event_handler import AppSyncResolver; "
    "from aws_lambda_powertools import Logger"
)
HANDLER = "import resolvers.handler"


def sample(imports: str) -> float:
    out = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", TIMER.format(imports=imports)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    sample(HANDLER)  # warm the OS file cache and .pyc files; every timed run is still a new interpreter
    sample(BASELINE)
    baseline, handler = [], []
    for _ in range(runs):
        baseline.append(sample(BASELINE))
        handler.append(sample(HANDLER))
    b, h = statistics.median(baseline), statistics.median(handler)
    print(f"cold import, median of {runs} fresh interpreters each")
    print(f"  baseline (boto3 + powertools AppSyncResolver + Logger): {b * 1000:7.1f} ms")
    print(f"  resolvers.handler:                                      {h * 1000:7.1f} ms")
    print(f"  ratio handler / baseline:                               {h / b:7.2f}  (goal <= 1.25)")


if __name__ == "__main__":
    main()
