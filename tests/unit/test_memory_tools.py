"""`basketgraph dev`'s memory tools, each in a fresh interpreter: the malloc arena cap and the opt-in trace."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CAP = "from local.malloc_arenas import limit_arenas; print(limit_arenas())"
TRACE = "import time; from local.memory_trace import start_if_asked; start_if_asked(); time.sleep(1.5)"


def run(code: str, **environment: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_ARENA_MAX", "BASKETGRAPH_MEMORY"))}
    done = subprocess.run(  # noqa: S603 - this interpreter, on code written here
        [sys.executable, "-c", code], env=base | environment, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_the_arenas_are_capped_unless_the_operator_set_them() -> None:
    assert run(CAP) == "True"  # glibc (this machine's and the Lambda runtime's)
    assert run(CAP, MALLOC_ARENA_MAX="4") == "False"


def test_the_trace_writes_a_line_per_interval_with_rss_malloc_and_what_grew(tmp_path: Path) -> None:
    run(TRACE, BASKETGRAPH_MEMORY_TRACE=str(tmp_path / "trace"), BASKETGRAPH_MEMORY_TRACE_EVERY="0.4")
    (trace,) = (tmp_path / "trace").iterdir()
    lines = trace.read_text().splitlines()
    assert len(lines) >= 2
    assert all("VmRSS" in line and "malloc in use" in line and "grown:" in line for line in lines)
