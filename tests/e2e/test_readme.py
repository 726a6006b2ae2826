"""The README runs as written: every shell, GraphQL and Python block, in order, against a stack started the way
`make dev` starts it (`basketgraph dev`, as a process of its own). A block the test cannot run says why in a
`<!-- readme-test: skip (reason) -->` line just above it. The only rewrite is the port (the README's 4000 becomes
a free one) and the README's placeholders (`<id>`, `<your me.id>`) filled from earlier answers.

`BASKETGRAPH_README=/path/to/copy.md pytest tests/e2e/test_readme.py` runs a copy instead (a broken snippet in it
must fail this test).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport

from tests.graphql_client import graphql

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
README = Path(os.environ.get("BASKETGRAPH_README", ROOT / "README.md"))
RUNNABLE = {"bash", "graphql", "python"}
BLOCK = re.compile(
    r"(?:<!-- readme-test: skip \((?P<why>.*?)\) -->\n)?^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.DOTALL | re.M
)
STARTUP_SECONDS = 240
STEP_SECONDS = 120


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    line: int
    skip: str | None

    def __str__(self) -> str:
        return f"README line {self.line} ({self.lang} block)"


def readme_blocks(text: str) -> list[Block]:
    return [
        Block(m["lang"], m["body"], text.count("\n", 0, m.start("body")), m["why"])
        for m in BLOCK.finditer(text)
        if m["lang"]
    ]


def operations(document: str) -> list[str]:
    """The top-level operations of a GraphQL block (split where the braces balance)."""
    found: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(document):
        if char == "{":
            if depth == 0:
                start = _operation_start(document, i)
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                found.append(document[start : i + 1].strip())
    return found


def _operation_start(document: str, brace: int) -> int:
    """Where the operation owning the top-level `{` at `brace` begins (its `query`/`mutation`/… keyword)."""
    keyword = max(document.rfind(word, 0, brace) for word in ("query", "mutation", "subscription"))
    previous_end = document.rfind("}", 0, brace)
    return keyword if keyword > previous_end else brace


@dataclass
class Stack:
    url: str
    host: str
    token: str
    cwd: Path
    output: list[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def readme_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`basketgraph dev` in a scratch directory holding `.venv` (the README's commands say `.venv/bin/…`)."""
    cwd = tmp_path_factory.mktemp("readme")
    (cwd / ".venv").symlink_to(Path(sys.prefix))
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own entrypoint
        [str(cwd / ".venv/bin/basketgraph"), "dev", "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not any("Ctrl-C stops the stack" in line for line in output):
            assert process.poll() is None, "basketgraph dev exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "no banner from basketgraph dev:\n" + "".join(output)
            time.sleep(0.2)
        lines = [line.strip() for line in output]
        token = next(line for line in lines[lines.index("") :] if line.count(".") == 2 and len(line) > 100)
        yield Stack(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", token, cwd, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _on_port(text: str, stack: Stack) -> str:
    return text.replace("127.0.0.1:4000", stack.host).replace("localhost:4000", stack.host)


def test_every_block_is_runnable_or_says_why_not() -> None:
    blocks = readme_blocks(README.read_text())
    assert len(blocks) >= 8, blocks
    for block in blocks:
        if block.skip is None:
            assert block.lang in RUNNABLE, f"{block}: add a `readme-test: skip (why)` line or make it runnable"
            assert ":4000" not in block.body.replace("127.0.0.1:4000", "").replace("localhost:4000", ""), block
        else:
            assert len(block.skip) > 10, f"{block}: say why it is not run"
    assert {b.lang for b in blocks if b.skip is None} == RUNNABLE


def test_the_readme_runs_as_written(readme_stack: Stack) -> None:
    ran: dict[str, int] = {}
    filled: dict[str, str] = {}
    for block in readme_blocks(README.read_text()):
        if block.skip is not None:
            continue
        body = _on_port(block.body, readme_stack)
        if block.lang == "bash":
            _run_shell(block, body, readme_stack)
        elif block.lang == "python":
            _run_python(block, body, readme_stack)
        else:
            for operation in operations(body):
                _run_graphql(block, operation, readme_stack, filled)
        ran[block.lang] = ran.get(block.lang, 0) + 1
    assert set(ran) == RUNNABLE, ran


def _env(stack: Stack) -> dict[str, str]:
    return {**os.environ, "TOKEN": stack.token}


def _run_shell(block: Block, body: str, stack: Stack) -> None:
    result = subprocess.run(  # noqa: S603 - the README's own commands
        ["bash", "-euo", "pipefail", "-c", body],  # noqa: S607
        cwd=stack.cwd,
        env=_env(stack),
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
        check=False,
    )
    shown = f"{block} failed ({result.returncode}):\n{body}\n--- out\n{result.stdout}\n--- err\n{result.stderr}"
    assert result.returncode == 0, shown
    assert '"errors"' not in result.stdout, shown
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            json.loads(line)  # a curl answer is JSON, not an HTML error page


def _run_python(block: Block, body: str, stack: Stack) -> None:
    script = stack.cwd / f"readme_line_{block.line}.py"
    script.write_text(body)
    result = subprocess.run(  # noqa: S603 - the README's own snippet
        [sys.executable, str(script)],
        cwd=stack.cwd,
        env=_env(stack),
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{block} failed:\n{body}\n--- out\n{result.stdout}\n--- err\n{result.stderr}"
    assert result.stdout.strip(), f"{block} printed nothing"


def _fill_placeholders(block: Block, operation: str, filled: dict[str, str]) -> str:
    for placeholder in re.findall(r"<[^<>\s][^<>]*>", operation):
        assert placeholder in filled, f"{block}: nothing earlier in the README gives {placeholder}"
        operation = operation.replace(placeholder, filled[placeholder])
    return operation


def _run_graphql(block: Block, operation: str, stack: Stack, filled: dict[str, str]) -> None:
    if "<your me.id>" not in filled:
        me = graphql(stack, stack.token, "{ me { id } }")
        filled["<your me.id>"] = me["data"]["me"]["id"]
    text = _fill_placeholders(block, operation, filled)
    if text.lstrip().startswith("subscription"):
        event = asyncio.run(_first_event(stack, text))
        assert event, f"{block}: no event for\n{text}"
        return
    answer = graphql(stack, stack.token, text)
    assert not answer.get("errors"), f"{block}:\n{text}\n{answer}"
    created = answer["data"].get("createBasket")
    if created:
        filled["<id>"] = created["id"]


async def _first_event(stack: Stack, subscription: str) -> dict[str, Any]:
    transport = AppSyncWebsocketsTransport(
        url=f"ws://{stack.host}/graphql", auth=AppSyncJWTAuthentication(host=stack.host, jwt=stack.token)
    )
    async with Client(transport=transport) as session:
        async with asyncio.timeout(STEP_SECONDS):
            async for event in session.subscribe(gql(subscription)):
                return dict(event)
    return {}
