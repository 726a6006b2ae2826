"""A `basketgraph dev` process for benchmarks: started on a free port over a state directory, its users, the
CPU and peak memory of it and its Lambda execution environments (read from /proc), and a Ctrl-C stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.waiting import wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Every descendant process of `pid` (the Lambda environments, the exchange's helpers if any)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            direct = [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in direct:
            found += [child, *children(child)]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = _stat(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


@dataclass
class DevStack:
    process: subprocess.Popen[bytes]
    url: str
    state: Path

    @classmethod
    def start(cls, state: Path, *options: str) -> DevStack:
        """`basketgraph dev` with `options` (e.g. `--still-market`, `--lambda-environments 0`), serving."""
        port = free_port()
        log = (state / "dev.log").open("wb")  # its log (and its Lambdas') go to a file: a pipe nobody reads blocks
        command = [sys.executable, "-m", "local.cli", "--state-dir", str(state), "dev", "--log-level", "warning"]
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [*command, "--port", str(port), *options], stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the stack ended; see {state / 'dev.log'}")
            try:
                return requests.get(f"{url}/health", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(serving, timeout=180, interval=0.2)
        return cls(process, url, state)

    def user(self, name: str) -> dict[str, str]:
        reply = requests.post(f"{self.url}/local/users", json={"username": name}, timeout=120)
        reply.raise_for_status()
        return dict(reply.json())

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def cpu_seconds(self) -> float:
        """CPU used so far by the stack and every live descendant (the environments live as long as it)."""
        return sum(cpu_seconds(pid) for pid in self.pids())

    def peak_rss_mib(self) -> tuple[float, float]:
        """VmHWM of the stack process, and the largest of its descendants'."""
        others = [peak_rss_mib(pid) for pid in children(self.process.pid)]
        return peak_rss_mib(self.process.pid), max(others, default=0.0)

    def stop(self) -> tuple[float, list[int]]:
        """Ctrl-C; the seconds until it exited, and the descendants still running after it."""
        descendants = children(self.process.pid)
        start = time.monotonic()
        os.kill(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        took = time.monotonic() - start
        time.sleep(0.5)
        return took, [pid for pid in descendants if Path(f"/proc/{pid}").exists() and not _zombie(pid)]


def _zombie(pid: int) -> bool:
    try:
        return _stat(pid)[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def gql_session(url: str, token: str) -> Any:
    """A `gql(query, variables) -> data` over one keep-alive session; GraphQL errors raise."""
    session = requests.Session()
    session.headers["Authorization"] = token

    def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = session.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=120).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return dict(body["data"])

    return gql
