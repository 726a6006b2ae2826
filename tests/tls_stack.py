"""`basketgraph dev --tls` in its own process, as a developer starts it (two LocalStacks in one process share the
installed composition), for the tests whose clients need https:// and wss:// (Amplify v6 always opens wss://)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[1]


@dataclass
class TlsStack:
    """`basketgraph dev --tls` in its own process, as a developer starts it."""

    url: str
    ca_file: Path

    def add_user(self, username: str) -> dict[str, str]:
        users = f"{self.url}/local/users"
        reply = requests.post(users, json={"username": username}, verify=str(self.ca_file), timeout=60)
        reply.raise_for_status()
        return dict(reply.json())

    def basket(self, basket_id: str, token: str) -> dict[str, Any]:
        query = "query B($id: ID!) { basket(id: $id) { status orders { id status quantity filledQuantity } } }"
        reply = requests.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": {"id": basket_id}},
            headers={"Authorization": token},
            verify=str(self.ca_file),
            timeout=60,
        )
        return dict(reply.json()["data"]["basket"])


def _answers(stack: TlsStack) -> bool:
    try:
        requests.get(f"{stack.url}/dashboard/config.json", verify=str(stack.ca_file), timeout=10)
    except requests.ConnectionError:
        return False
    return True


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsStack]:
    state = tmp_path_factory.mktemp("tls-state")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "local.cli", "--state-dir", str(state), "dev", "--tls", "--port", str(port)]
    log = (state / "dev.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)  # noqa: S603
    try:
        deadline = time.monotonic() + 180
        while not (state / "stack.json").exists():
            assert process.poll() is None, (state / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack did not start"
            time.sleep(0.2)
        info = json.loads((state / "stack.json").read_text())
        stack = TlsStack(url=info["url"], ca_file=Path(info["ca"]))
        while not _answers(stack):  # stack.json is written as the stack starts; it serves a little later
            assert process.poll() is None, (state / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack did not start serving"
            time.sleep(0.2)
        yield stack
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
