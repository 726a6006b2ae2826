"""An opt-in memory trace of `basketgraph dev` for long sessions (what grows in `bench.soak`); off unless asked.

`BASKETGRAPH_MEMORY_TRACE=DIR` writes, every `BASKETGRAPH_MEMORY_TRACE_EVERY` seconds (default 60), a line to
DIR/memory-<pid>.txt: VmRSS, glibc malloc's bytes in use and free in its arenas, Python's allocated blocks,
and the object types whose count grew most since the start (`gc.get_objects()`, which leaves out what the
stack froze at start: a short pause per line, no cost between). Optional, for short runs:
`BASKETGRAPH_MEMORY_TRACE_FRAMES=N` runs `tracemalloc` with N frames and adds the allocations that grew most
since the line before, by traceback (slows the stack several times);
`BASKETGRAPH_MEMORY_TRACE_HOLDERS=Item,StreamRecord` adds who refers to a few objects of those types (it
unfreezes the start-up objects to search them); `BASKETGRAPH_MEMORY_TRACE_COLLECT=1` runs a full collection
before each line.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from local.malloc_arenas import libc

TOP = 20


def start_if_asked() -> None:
    directory = os.environ.get("BASKETGRAPH_MEMORY_TRACE")
    if not directory:
        return
    every = float(os.environ.get("BASKETGRAPH_MEMORY_TRACE_EVERY", "60"))
    frames = int(os.environ.get("BASKETGRAPH_MEMORY_TRACE_FRAMES", "0"))
    if frames:
        tracemalloc.start(frames)
    threading.Thread(target=_trace, args=(Path(directory), every), daemon=True, name="memory-trace").start()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keep")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2]


def _malloc() -> str:
    """glibc's view: bytes in use, free inside its arenas (fragmentation) and in mmapped chunks."""
    try:
        mallinfo2 = libc().mallinfo2
        mallinfo2.restype = _MallInfo2
        info = mallinfo2()
    except (OSError, AttributeError):
        return ""
    mib = 2**20
    return (
        f"  malloc in use {info.uordblks / mib:6.1f} free {info.fordblks / mib:6.1f}"
        f" arenas {info.arena / mib:6.1f} mmapped {info.hblkhd / mib:6.1f} MiB"
    )


def _counts() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def _holders(type_name: str, samples: int = 4) -> str:
    """Who refers to a few of the oldest `type_name` objects, two levels up."""
    everything = [o for o in gc.get_objects() if type(o).__qualname__ == type_name]
    # spread over the generations (the youngest come first and are often held only by running frames)
    found = everything[:: max(1, len(everything) // samples)][-samples:]
    del everything
    out = []
    for o in found:
        chain = []
        for r in gc.get_referrers(o)[:4]:
            if r is found:
                continue
            ups = [type(u).__qualname__ for u in gc.get_referrers(r)[:4] if u is not found]
            chain.append(f"{type(r).__qualname__}{_describe(r)} <- {ups}")
        out.append(f"\n    {type_name} held by: " + "; ".join(chain))
    del found
    return "".join(out)


def _describe(o: object) -> str:
    if isinstance(o, dict):
        return f"(keys {list(o)[:6]})"
    if isinstance(o, list):
        return f"(len {len(o)})"
    if type(o).__name__ == "frame":
        return f"({o.f_code.co_filename}:{o.f_lineno} {o.f_code.co_name})"  # type: ignore[attr-defined]
    return ""


def _trace(directory: Path, every: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"memory-{os.getpid()}.txt"
    began = time.monotonic()
    first_counts = _counts()
    previous: Any = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    while True:
        time.sleep(every)
        collected = gc.collect() if os.environ.get("BASKETGRAPH_MEMORY_TRACE_COLLECT") else 0
        counts = _counts()
        grown = sorted(((counts[k] - first_counts.get(k, 0), k) for k in counts), reverse=True)[:TOP]
        line = (
            f"{(time.monotonic() - began) / 60:6.1f} min  VmRSS {_rss_kib() / 1024:7.1f} MiB"
            f"{_malloc()}  blocks {sys.getallocatedblocks():9d}  objects {sum(counts.values()):9d}  grown: "
            + ", ".join(f"{name} {n:+d}" for n, name in grown if n > 0)
            + f"  (gc collected {collected})"
        )
        watched = os.environ.get("BASKETGRAPH_MEMORY_TRACE_HOLDERS", "").split(",")
        if any(watched):
            gc.unfreeze()  # the stack freezes its start-up objects; their referrers must be searchable
        line += "".join(_holders(name) for name in watched if name)
        with out.open("a") as f:
            f.write(line + "\n")
            if previous is not None:
                snapshot = tracemalloc.take_snapshot()
                stats = snapshot.compare_to(previous, "traceback")[:TOP]
                previous = snapshot
                traced = tracemalloc.get_traced_memory()[0] / 2**20
                f.write(f"  tracemalloc: {traced:.1f} MiB traced; since the last line:\n")
                for s in stats:
                    f.write(f"  {s.size_diff / 2**20:+.2f} MiB ({s.count_diff:+d})\n    ")
                    f.write("\n    ".join(s.traceback.format()) + "\n")
